// Copyright 2026 The handoff Authors.

#include "server/work.h"

#include <time.h>

#include "absl/strings/str_cat.h"
#include "dispatch/clock.h"
#include "dispatch/dispatcher.h"
#include "dispatch/job_not_run.h"

namespace handoff {
namespace {

// CPU time of this thread: Work's budget is CPU, not wall time, so that two
// workers sharing a core each still do cpu_us of work.
int64_t ThreadCpuNanos() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

// Burns CPU for about `nanos` of this thread's CPU time, polling ctx between
// short slices. Returns the CPU time spent; stops early if ctx is done.
int64_t Burn(int64_t nanos, const Context& ctx) {
  const int64_t start = ThreadCpuNanos();
  uint64_t x = static_cast<uint64_t>(start) | 1;
  int64_t spent = 0;
  while (spent < nanos) {
    // A few microseconds of dependent multiplies that the compiler cannot
    // fold, between checks of the clock and of ctx.
    for (int i = 0; i < 4096; ++i) x = x * 6364136223846793005ULL + 1;
    asm volatile("" : : "r"(x));
    spent = ThreadCpuNanos() - start;
    if (ctx.IsDone()) break;
  }
  return spent;
}

}  // namespace

absl::Status ValidateWork(const v1::WorkRequest& req) {
  if (req.cpu_us() > kMaxCpuUs) {
    return absl::InvalidArgumentError(absl::StrCat(
        "cpu_us: ", req.cpu_us(), " is over the cap of ", kMaxCpuUs));
  }
  if (req.sleep_us() > kMaxSleepUs) {
    return absl::InvalidArgumentError(absl::StrCat(
        "sleep_us: ", req.sleep_us(), " is over the cap of ", kMaxSleepUs));
  }
  return absl::OkStatus();
}

absl::StatusOr<v1::WorkReply> RunWork(const v1::WorkRequest& req,
                                      const Context& ctx, int worker,
                                      absl::Duration queued,
                                      WorkCounters& counters,
                                      absl::FunctionRef<bool()> starting) {
  const absl::Time start = MonotonicNow();
  const absl::Duration cpu = absl::Microseconds(req.cpu_us());
  if (const absl::Duration left = ctx.Deadline() - start; left < cpu) {
    // Unrun, and answered as the worker's own check of the time left would
    // have dropped it a moment before (the dispatcher counts it expired
    // either way). Not counted here: the worker's skip is counted in
    // `skipped` by the job's on_error (WorkCost, SubmitReplyJob), which
    // counts this one too, and a count here made two of it.
    throw JobNotRun(left > absl::ZeroDuration()
                        ? SkippedError(left, cpu)
                        : absl::DeadlineExceededError("context deadline exceeded"));
  }
  // Before the count: whoever sees a job counted started may count on its
  // call's headers having gone out.
  if (!starting()) {
    // Unrun: the worker counts it as it counts a job dropped in the queue.
    throw JobNotRun(absl::CancelledError("the call was answered before its job started"));
  }
  counters.started.fetch_add(1, std::memory_order_relaxed);

  int64_t cpu_done_ns = 0;
  if (req.cpu_us() > 0) cpu_done_ns = Burn(absl::ToInt64Nanoseconds(cpu), ctx);
  if (req.sleep_us() > 0 && !ctx.IsDone()) {
    auto [wait, cancel] = WithTimeout(ctx, absl::Microseconds(req.sleep_us()));
    wait.Done().Recv();  // closed at the timeout or when ctx is done
    cancel();
  }
  if (ctx.IsDone()) {
    counters.stopped_early.fetch_add(1, std::memory_order_relaxed);
    return ctx.Err();
  }
  counters.completed.fetch_add(1, std::memory_order_relaxed);

  v1::WorkReply reply;
  reply.set_payload(req.payload());
  reply.set_queued_us(static_cast<uint64_t>(absl::ToInt64Microseconds(queued)));
  reply.set_ran_us(
      static_cast<uint64_t>(absl::ToInt64Microseconds(MonotonicNow() - start)));
  reply.set_worker(static_cast<uint32_t>(worker));
  reply.set_cpu_us_done(static_cast<uint64_t>(cpu_done_ns / 1000));
  return reply;
}

std::string RenderWorkCounters(const WorkCounters& c) {
  std::string out;
  auto counter = [&out](const char* name, const char* help, int64_t v) {
    absl::StrAppend(&out, "# HELP ", name, " ", help, "\n# TYPE ", name,
                    " counter\n", name, " ", v, "\n");
  };
  counter("handoff_work_jobs_started_total", "Work jobs that began running.",
          c.started.load(std::memory_order_relaxed));
  counter("handoff_work_jobs_completed_total", "Work jobs that ran to the end.",
          c.completed.load(std::memory_order_relaxed));
  counter("handoff_work_jobs_stopped_early_total",
          "Work jobs stopped by cancellation or deadline while running.",
          c.stopped_early.load(std::memory_order_relaxed));
  counter("handoff_work_jobs_skipped_total",
          "Work jobs a worker did not start: less of their deadline was left "
          "than cpu_us (also in handoff_jobs_expired_in_queue_total).",
          c.skipped.load(std::memory_order_relaxed));
  return out;
}

}  // namespace handoff
