// Copyright 2026 The handoff Authors.
//
// CallReactor: the life of one unary Gateway call, the same for every method
// — started and counted when gRPC calls the method, given its Context (the
// client's deadline, capped; see GatewayCore::CallContext), answered once,
// and freed when gRPC is done with it.
//
//   method called  CallStarted, ctx := CallContext(the client's deadline)
//   OnCancel       cancel ctx (the client left, or the deadline passed); a
//                  cancel at the client's deadline, or past the Context's,
//                  counts as that deadline
//   Complete(s)    s as GatewayCore::Answer has it (late is late, OK or not, a
//                  cut-off job's CANCELLED is UNAVAILABLE; a DEADLINE_EXCEEDED
//                  names the flag that set the deadline, if the client did
//                  not); Finish — exactly once
//   OnDone         record the call by method and code: what Complete
//                  answered, unless gRPC ended the call before that answer
//                  went out (its deadline timer, or the client's cancel, won
//                  the race: the client never saw it, OK or a failure), then
//                  DEADLINE_EXCEEDED or CANCELLED, the latter counted and
//                  logged as the client's cancel, not as a handler's own
//                  CANCELLED, which is its answer; cancel ctx (stops a
//                  job still running for a call already answered, frees the
//                  deadline's timer); CallDone; delete
//
// A subclass decides what to answer and when, and calls Complete once.

#ifndef HANDOFF_SERVER_CALL_REACTOR_H_
#define HANDOFF_SERVER_CALL_REACTOR_H_

#include <atomic>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "dispatch/context.h"
#include "grpcpp/server_context.h"
#include "grpcpp/support/byte_buffer.h"
#include "grpcpp/support/server_callback.h"
#include "server/gateway_core.h"
#include "server/job_start_headers.h"
#include "server/metrics.h"

namespace handoff {

class CallReactor : public grpc::ServerUnaryReactor {
 public:
  const Context& ctx() const { return ctx_; }

  void OnCancel() override;
  void OnDone() override;

  // If gRPC ran the method without a request message, answers the call and
  // returns true. gRPC 1.51 runs a raw method (ByteBuffer in) even when no
  // message came: the client cancelled, or its deadline passed, before
  // sending one, or, breaking the protocol, it ended its side without one.
  // Which of these it was is known only once gRPC is done with the call, so
  // the call is answered INTERNAL now (a client that left never sees it)
  // and recorded at OnDone: CANCELLED or DEADLINE_EXCEEDED if it was
  // cancelled, as any call cancelled while it waits is. Else a client's
  // cancel would show in the metrics and the access log as a server error.
  bool RejectedForWantOfRequest(const grpc::ByteBuffer& raw);

  // OnDone and OnCancel only cancel a Context, count and free: they never
  // block, so gRPC may run them on whichever thread completes the call. If
  // not, it hands each OnDone to its executor thread: a wakeup and a context
  // switch per call, about 6 us of handoffd's CPU per Echo (perf, -c 50 -m 1).
  // gRPC 1.51 marks this hook "not API"; `override` makes its removal a
  // compile error, not a silent slowdown.
  bool InternalInlineable() override { return true; }
  // Only for a call with HeadersAtJobStart: its answer waits for this.
  void OnSendInitialMetadataDone(bool ok) override;

  // For a call whose jobs have effects a second run would repeat (Work,
  // Batch, Call): the call's JobStartHeaders (job_start_headers.h), made at
  // the first call, for each job's body to call JobStarting on as it
  // starts, and to return unrun if that says no. Sending the headers then
  // commits the call for gRPC's retry. Complete finishes the call through
  // it. Call before the first job is submitted, on the method's thread.
  // Echo never calls it, and pays nothing for it: it has nothing a second
  // run would repeat.
  const std::shared_ptr<JobStartHeaders>& HeadersAtJobStart();
  // Whether a job given HeadersAtJobStart has started.
  bool JobStarted() const { return start_headers_ != nullptr && start_headers_->started(); }

 protected:
  CallReactor(GatewayCore& core, Method method, grpc::CallbackServerContext& call);

  // Answers the call with `s`. Call it exactly once.
  // `refuse_retry_if_ran_late`: an answer given after the call's Context
  // ended (the drain timeout's UNAVAILABLE, above all, a code clients retry)
  // to a call whose job had started (HeadersAtJobStart) also carries gRFC
  // A6's server pushback `grpc-retry-pushback-ms: -1` (RefuseRetry), for a
  // client that retries despite the headers. Whether the job started is
  // decided as the answer closes the call to jobs (JobStartHeaders::Finish):
  // read before, a job could start after the reading and its call be
  // answered without the trailer.
  void Complete(absl::Status s, bool refuse_retry_if_ran_late = false);

  // Tells gRPC's retry not to make the call again (retry_pushback.h), for
  // an answer another attempt would only repeat, or one given after a job
  // with effects has run. Call before Complete, whose Finish sends it.
  void RefuseRetry();

  // A status the deadline is why of (GatewayCore::DeadlineIsWhy: the
  // dispatcher's refusals judged by it, "overloaded" among them, or a
  // DEADLINE_EXCEEDED once it has passed) whose deadline was the server's,
  // not the client's (none set: --default_deadline; one past
  // --max_deadline: cut to it), with that said: a client that set no
  // deadline, or a longer one, was told only of "the deadline", and a Work
  // at the cap on cpu_us, sent without a deadline, can never run at the
  // defaults. Any other status is returned as it is. Complete applies it to
  // the call's status; a Batch to its items' too.
  absl::Status NamingTheServersDeadline(absl::Status s) const;

  GatewayCore& core_;

 private:
  const Method method_;
  // RefuseRetry's trailer, and whether gRPC ended the call.
  grpc::CallbackServerContext& call_;
  std::string peer_;  // GatewayCore::PeerForLog
  const absl::Time start_;
  Context ctx_;
  CancelFunc cancel_;
  const absl::Time client_deadline_;  // GatewayCore::ClientDeadline
  std::shared_ptr<JobStartHeaders> start_headers_;  // HeadersAtJobStart
  // gRPC's cancel was a deadline passing (the client's, GatewayCore::
  // CancelIsDeadline, or ctx_'s before its timer marked it): Complete
  // reports CANCELLED as DEADLINE_EXCEEDED.
  std::atomic<bool> cancel_was_deadline_{false};
  // RejectedForWantOfRequest answered: OnDone records the call. Atomic,
  // as OnCancel reads it too (gRPC runs it after the method has returned).
  std::atomic<bool> record_at_done_{false};
  // What Complete answered, and when, for OnDone to record: only once gRPC
  // is done with the call is it known whether the client got that answer.
  // Written before Finish, read at OnDone, which gRPC runs after it.
  absl::Status answered_;
  absl::Duration answered_after_;
};

}  // namespace handoff

#endif  // HANDOFF_SERVER_CALL_REACTOR_H_
