// Copyright 2026 The handoff Authors.
//
// CostMean: one worker's running estimate of what one kind of job costs it,
// and the pool-wide figure admission reads, published from it.
//
// Each worker keeps its own exponentially weighted mean (weight 1/8 per
// run) on its own thread, and copies it to a shared atomic only when the two
// differ by more than an eighth, or every kPublishEvery runs: admission reads
// the shared figure on every submission, and a line written by every run of
// every worker would move between the cores on each of them.
//
// Two rules keep one odd run from doing lasting harm:
//  - a sample counts as at most kOutlierFactor times the mean, so that one
//    job far longer than the rest (a 2 s Work among 1 ms ones) moves the
//    mean by at most 3/8, while a real shift to longer jobs still lifts it
//    by that much with each run (1 ms to 2 s in about 25 runs);
//  - a worker with no mean yet starts from the pool's, as if that were its
//    history: with idle workers served as a stack, a worker may first run in
//    a burst, long after the others, and one long first job counted in full
//    was once that worker's whole mean, published, refusing short jobs for
//    dozens of its runs. Only the pool's very first sample is taken whole.
//
// Not thread-safe: each instance belongs to one worker thread. The published
// atomic is shared; it is written with relaxed stores, since admission
// needs a recent figure, not one ordered with anything else.

#ifndef HANDOFF_DISPATCH_INTERNAL_COST_MEAN_H_
#define HANDOFF_DISPATCH_INTERNAL_COST_MEAN_H_

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <limits>

namespace handoff::internal {

class CostMean {
 public:
  static constexpr int kPublishEvery = 8;
  static constexpr int64_t kOutlierFactor = 4;

  // The most runs a mean stands for: each run after them weighs 1/kWindow.
  static constexpr int kWindow = 8;

  // The mean `mean_ns` (>= 0) of `runs` runs, after one more that cost
  // `sample_ns` (>= 0): the sample clipped to kOutlierFactor times the
  // mean, weighted 1/(runs + 1) up to 1/kWindow; taken whole if there is no
  // mean yet (0). So the first kWindow runs are averaged plainly: a slow
  // first run (a handler that connects on its first call) is a half of the
  // mean after the second and an eighth after the eighth, where weighted
  // 1/8 from the second on it was still 39% of it after the eighth, and
  // the cheap calls behind a busy pool were refused for dozens of runs. The
  // clip saturates: a JobKind may be seeded with any cost, and a mean past
  // a quarter of the range would overflow it. A step is at least 1 ns
  // toward the sample, else a mean under 8 ns would never move (an eighth
  // of the gap rounds to nothing; a kind seeded with 1 ns stayed there
  // whatever its runs cost); it stops at 1 ns on the way down, since 0
  // means no mean.
  static int64_t Next(int64_t mean_ns, int64_t sample_ns, int runs = kWindow) {
    if (mean_ns == 0) return sample_ns;
    constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
    const int64_t clip =
        mean_ns > kMax / kOutlierFactor ? kMax : kOutlierFactor * mean_ns;
    const int64_t sample = std::min(sample_ns, clip);
    int64_t step = (sample - mean_ns) / std::clamp(runs + 1, 2, kWindow);
    if (step == 0 && sample > mean_ns) step = 1;
    if (step == 0 && sample < mean_ns && mean_ns > 1) step = -1;
    return mean_ns + step;
  }

  // Counts one run that cost `sample_ns` (>= 0), and publishes the mean to
  // `pool` if it has moved far enough from what `pool` holds.
  void Add(int64_t sample_ns, std::atomic<int64_t>& pool) {
    const int64_t published = pool.load(std::memory_order_relaxed);
    if (mean_ns_ == 0) mean_ns_ = published;
    mean_ns_ = Next(mean_ns_, sample_ns);
    if (published != 0 && ++unpublished_ < kPublishEvery &&
        std::abs(mean_ns_ - published) <= published / 8) {
      return;
    }
    pool.store(mean_ns_, std::memory_order_relaxed);
    unpublished_ = 0;
  }

 private:
  int64_t mean_ns_ = 0;
  int unpublished_ = 0;  // runs since the mean was last published
};

}  // namespace handoff::internal

#endif  // HANDOFF_DISPATCH_INTERNAL_COST_MEAN_H_
