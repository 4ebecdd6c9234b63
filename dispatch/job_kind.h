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
// at the mean of the jobs of no kind (Job::kind). A kind's jobs that do
// declare their cost are counted at that plus what the kind's declared runs
// cost past it (overhead()), by the same rules, so that a kind that
// declares too little weighs only on its own jobs' count there too.
//
// Thread-safe: the workers that run the kind's jobs update it, admission
// reads it on any thread.

#ifndef HANDOFF_DISPATCH_JOB_KIND_H_
#define HANDOFF_DISPATCH_JOB_KIND_H_

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <optional>

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
  absl::Duration cost() const { return absl::Nanoseconds(cost_.ns()); }

  // Counts one run that cost `cost` (clamped to >= 0). The dispatcher calls
  // it after each run of the kind that declared no cost; a caller may seed
  // a kind with it, and the seed then counts as its first run.
  void Learn(absl::Duration cost) { cost_.Add(absl::ToInt64Nanoseconds(cost)); }

  // What a run of this kind that declared its cost (Job::declared_cost) has
  // recently cost its worker past that declaration; nullopt until one such
  // run ended. Admission counts the kind's declared jobs with this overhead,
  // not the one measured on the declared jobs of no kind: a handler that
  // declares less than it takes would otherwise raise what every declared
  // job counts at, up to twice its declaration (OverheadOf), and under load
  // a pool of Work calls would turn half of them away.
  std::optional<absl::Duration> overhead() const {
    if (!overhead_.learned()) return std::nullopt;
    return absl::Nanoseconds(overhead_.ns());
  }

  // Counts one declared run that cost `overhead` past its declaration
  // (clamped to >= 0). The dispatcher calls it after each such run.
  void LearnOverhead(absl::Duration overhead) {
    overhead_.Add(absl::ToInt64Nanoseconds(overhead));
  }

 private:
  // A CostMean that every worker running the kind folds its runs into.
  class SharedMean {
   public:
    int64_t ns() const { return mean_ns_.load(std::memory_order_relaxed); }
    bool learned() const { return runs_.load(std::memory_order_relaxed) > 0; }

    void Add(int64_t sample_ns) {
      const int64_t sample = std::max<int64_t>(sample_ns, 0);
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

  SharedMean cost_;
  SharedMean overhead_;
};

}  // namespace handoff

#endif  // HANDOFF_DISPATCH_JOB_KIND_H_
