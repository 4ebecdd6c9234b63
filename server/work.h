// Copyright 2026 The handoff Authors.
//
// Work: the built-in job that models a backend call, cpu_us of busy CPU then
// sleep_us of waiting (what a real handler spends on an upstream or a disk).
//
// Both phases observe the call's Context and stop early when it is done: the
// CPU loop polls ctx.IsDone() every few microseconds, and the wait is a wait
// on a child context WithTimeout(ctx, sleep) — it ends at the timeout or at
// the caller's cancellation, whichever is first, and its timer is the shared
// deadline timer rather than a sleeping thread that cannot be interrupted.
//
// Shedding: a job whose remaining deadline is shorter than its cpu_us cannot
// finish in time, so it is answered DEADLINE_EXCEEDED at once instead of
// burning a worker on a reply nobody will read. (Under overload this is what
// keeps goodput up; see README, "Overload" under the runtime's semantics.)

#ifndef HANDOFF_SERVER_WORK_H_
#define HANDOFF_SERVER_WORK_H_

#include <atomic>
#include <cstdint>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "dispatch/context.h"
#include "handoff/v1/gateway.pb.h"
#include "server/job_cost.h"

namespace handoff {

inline constexpr uint32_t kMaxCpuUs = 10'000'000;
inline constexpr uint32_t kMaxSleepUs = 60'000'000;

// What Work did, for tests and /metrics. Every job that reaches RunWork, or
// that its worker skips for too little time left for its cpu_us (the
// dispatcher's pre-run check, before RunWork, or RunWork's own a moment
// later: either is counted by the job's on_error, and WorkCost points the
// job's JobCost::skipped here), ends in exactly one of: skipped, completed,
// stopped_early (started counts the last two). One whose deadline has
// passed, or whose call is gone, when a worker takes it is in none: the
// dispatcher counts it expired (so too if the call was answered just after
// the worker's check: RunWork throws JobNotRun).
struct WorkCounters {
  std::atomic<int64_t> started{0};
  std::atomic<int64_t> completed{0};
  std::atomic<int64_t> stopped_early{0};
  std::atomic<int64_t> skipped{0};
};

// What a Work job costs. It must run for its CPU to succeed (expected_run).
// Its sleep is left out of that: a job may run into its deadline and be
// stopped there (that is how a deadline reaches a running job), only not be
// started with too little time left for the work it cannot give back. It
// declares, for admission to count it by while it waits or runs ahead of
// others, what it will cost its worker at most: its CPU, then its wait.
// A worker that skips it for too little time left counts it in
// counters.skipped.
inline JobCost WorkCost(const v1::WorkRequest& req, WorkCounters& counters) {
  JobCost cost;
  cost.expected_run = absl::Microseconds(req.cpu_us());
  cost.declared = cost.expected_run + absl::Microseconds(req.sleep_us());
  cost.skipped = &counters.skipped;
  return cost;
}

// INVALID_ARGUMENT naming the field if cpu_us or sleep_us is over its cap.
absl::Status ValidateWork(const v1::WorkRequest& req);

// Runs one Work job on the calling (worker) thread. Returns the reply, or
// ctx.Err() if the call was cancelled or expired before the work finished.
// One with less of its deadline left than its cpu_us is skipped, as its
// worker skips one (it found more left a moment before): it throws
// JobNotRun (dispatch/job_not_run.h) with the worker's DEADLINE_EXCEEDED
// "skipped: ..." (SkippedError), unrun, and is counted in `skipped` where
// the worker's skips are, by its job's on_error (WorkCost's
// JobCost::skipped), not here. `starting` is called as the job
// starts, once the skip is ruled out and before it is counted started: the
// call's JobStartHeaders::JobStarting (job_start_headers.h), which sends the
// call's headers. If it returns false (the call is already being answered)
// the job throws JobNotRun (dispatch/job_not_run.h) with CANCELLED, unrun:
// counted in none of these counters, and by the dispatcher as expired.
absl::StatusOr<v1::WorkReply> RunWork(const v1::WorkRequest& req,
                                      const Context& ctx, int worker,
                                      absl::Duration queued,
                                      WorkCounters& counters,
                                      absl::FunctionRef<bool()> starting);

// Prometheus lines for the counters (appended to /metrics).
std::string RenderWorkCounters(const WorkCounters& c);

}  // namespace handoff

#endif  // HANDOFF_SERVER_WORK_H_
