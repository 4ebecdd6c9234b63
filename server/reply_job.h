// Copyright 2026 The handoff Authors.
//
// SubmitReplyJob: a call's job as every Gateway method submits it — the
// worker's half of seeds/002's request/response. The job runs `body` on a
// worker and hands what it returns to the call as an Outcome; whatever keeps
// the body from running is handed over the same way, so a call waits for one
// thing whichever way its job ends:
//
//   admitted, reached a worker in time  deliver(Outcome{body(info)})
//   reached a worker past its deadline  deliver(DEADLINE_EXCEEDED), not run:
//   (or with less left than its         the dispatcher's pre-run check drops
//   expected_run)                       it (counted expired, and, for too
//                                       little left, in cost.skipped if set)
//   deadline passed just after that     deliver(DEADLINE_EXCEEDED), not run:
//   check (GatewayCore::StartedLate)    the job throws JobNotRun, so it is
//                                       counted expired too, not as a run
//   body threw JobNotRun as it began    deliver(its status), not run: the
//   (its call already answered)         dispatcher counts it expired
//   body threw                          deliver(INTERNAL); the worker goes on
//   cancelled or expired in the queue   deliver(the dispatcher's status)
//   refused (queue full, stopping)      deliver(the refusal)
//
// `deliver` is called exactly once, on whichever thread decided. It must not
// block: make it a TrySend on a channel with room for every outcome it will
// get, so that a worker never waits for a call that has already gone. It is
// copied into the job twice (the run and the error path), so keep it small —
// a channel handle and an index.

#ifndef HANDOFF_SERVER_REPLY_JOB_H_
#define HANDOFF_SERVER_REPLY_JOB_H_

#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "dispatch/context.h"
#include "dispatch/dispatcher.h"
#include "dispatch/job_not_run.h"
#include "server/gateway_core.h"
#include "server/job_cost.h"

namespace handoff {

// How a job ended, as its call receives it. `reply` is set only if `status`
// is OK.
template <typename Reply>
struct Outcome {
  absl::Status status;
  Reply reply;
};

// `deliver` of a job that did not run: its status, and no reply.
template <typename Reply, typename Deliver>
auto FailWith(Deliver deliver) {
  return [deliver = std::move(deliver)](absl::Status s) {
    deliver(Outcome<Reply>{std::move(s), Reply()});
  };
}

// The job SubmitReplyJob submits, for a test to run by hand: its run and
// on_error deliver as the table above says.
template <typename Reply, typename Body, typename Deliver>
Job ReplyJob(GatewayCore& core, Context ctx, JobCost cost, Body body,
             Deliver deliver) {
  Job job;
  job.ctx = std::move(ctx);
  job.expected_run = cost.expected_run;
  job.declared_cost = cost.declared;
  job.kind = std::move(cost.kind);
  GatewayCore* c = &core;
  job.run = [c, deliver, body = std::move(body)](const RunInfo& info) mutable {
    if (c->StartedLate(info)) {
      // Not a run: the worker counts it as the pre-run check's drops, and
      // its on_error delivers this.
      throw JobNotRun(
          absl::DeadlineExceededError("deadline passed before the job started"));
    }
    Outcome<Reply> out;
    absl::StatusOr<Reply> r = body(info);
    if (r.ok()) {
      out.reply = std::move(*r);
    } else {
      out.status = std::move(r).status();
    }
    deliver(std::move(out));
  };
  auto fail = FailWith<Reply>(deliver);
  // AnyInvocable holds two pointers in place and allocates for more: a
  // unary call's `deliver` is its reply channel's handle, two pointers, and
  // one capture more would cost every Echo two allocations (on_error and
  // the refusal callback).
  if (cost.skipped == nullptr) {
    job.on_error = std::move(fail);
  } else {
    // A worker's skip (SkippedByWorker) is seen only here, and counted by
    // the jobs that ask for it (Work's), which are few and long enough that
    // the larger callable's allocation does not tell.
    job.on_error = [fail = std::move(fail), skipped = cost.skipped](absl::Status s) mutable {
      if (SkippedByWorker(s)) skipped->fetch_add(1, std::memory_order_relaxed);
      fail(std::move(s));
    };
  }
  return job;
}

// body: (const RunInfo&) -> absl::StatusOr<Reply>, run on a worker with
// `ctx`. `cost` is what is known of the job's cost (job_cost.h). The job
// owns `body`, and so whatever it captured: the call may finish (and free
// its request) while the job is still queued.
template <typename Reply, typename Body, typename Deliver>
void SubmitReplyJob(GatewayCore& core, Context ctx, JobCost cost, Body body,
                    Deliver deliver) {
  // As many copies of `deliver` as one job with its refusal needs: each
  // is a reference count's increment.
  Job job = ReplyJob<Reply>(core, std::move(ctx), std::move(cost), std::move(body), deliver);
  core.Submit(std::move(job), FailWith<Reply>(std::move(deliver)));
}

}  // namespace handoff

#endif  // HANDOFF_SERVER_REPLY_JOB_H_
