// Copyright 2026 The handoff Authors.
//
// JobKind: jobs that cost about the same, whose cost admission learns from
// their runs (Job::kind).
//
// Admission counts every job ahead of a new one at what it will likely cost
// a worker. A job that declares nothing (Job::declared_cost) is otherwise
// counted at the mean of all such jobs' runs, and one slow kind lifts that
// mean for every other: where a handler that takes a second a call ran
// first, or makes up much of the recent runs, a call of one that takes a
// microsecond counts as a slow one, and a cheap call with a tight deadline
// is refused for a queue that would have cleared in time. A submitter that knows its jobs' kinds (a server: one per method
// or handler) gives each kind its own mean, and a slow kind then weighs only
// on the count of its own jobs.
//
//   auto resize = std::make_shared<JobKind>();  // one for all its jobs
//   job.kind = resize;
//   ...
//   resize->cost();  // what a resize has recently cost a worker
//
// The mean follows CostMean's rules (cost_mean.h): a run weighs 1/8, and
// counts as at most four times the mean, so that one odd run among many
// does little harm; the kind's first eight runs are averaged plainly, so
// that a slow first one (a handler that sets itself up on its first call)
// soon weighs little. Jobs of one kind that differ widely in cost are
// better declared. Until the kind's first run ends it has no cost, and its
// jobs submitted meanwhile are counted, for as long as they wait and run,
// at the mean of the jobs of no kind (Job::kind).
//
// Thread-safe: the workers that run the kind's jobs update it, admission
// reads it on any thread.

#ifndef HANDOFF_DISPATCH_JOB_KIND_H_
#define HANDOFF_DISPATCH_JOB_KIND_H_

#include <algorithm>
#include <atomic>
#include <cstdint>

#include "absl/time/time.h"
#include "dispatch/internal/cost_mean.h"

namespace handoff {

class JobKind {
 public:
  JobKind() = default;
  JobKind(const JobKind&) = delete;
  JobKind& operator=(const JobKind&) = delete;

  // What a run of this kind has recently cost its worker, back to back (with
  // the bookkeeping around it, as the pool's mean is); zero until one ran.
  absl::Duration cost() const {
    return absl::Nanoseconds(mean_ns_.load(std::memory_order_relaxed));
  }

  // Counts one run that cost `cost` (clamped to >= 0). The dispatcher calls
  // it after each run of the kind; a caller may seed a kind with it, and the
  // seed then counts as its first run.
  void Learn(absl::Duration cost) {
    const int64_t sample = std::max<int64_t>(absl::ToInt64Nanoseconds(cost), 0);
    // Each of the first runs takes a place of its own, so that runs folded
    // in at once still weigh 1/1, 1/2, ...; after them the count is only
    // read: a run writes one atomic, the mean, as before.
    int runs = runs_.load(std::memory_order_relaxed);
    if (runs < internal::CostMean::kWindow) {
      runs = runs_.fetch_add(1, std::memory_order_relaxed);
    }
    int64_t mean = mean_ns_.load(std::memory_order_relaxed);
    // Workers that run the kind at once each fold their run in; relaxed,
    // since nothing else is published with the mean.
    while (!mean_ns_.compare_exchange_weak(
        mean, internal::CostMean::Next(mean, sample, runs), std::memory_order_relaxed)) {
    }
  }

 private:
  std::atomic<int64_t> mean_ns_{0};
  std::atomic<int> runs_{0};  // runs learned, counted up to about kWindow
};

}  // namespace handoff

#endif  // HANDOFF_DISPATCH_JOB_KIND_H_
