// Copyright 2026 The handoff Authors.
//
// JobKind: the mean cost of one kind of job, learned from its runs on any
// number of workers at once.

#include "dispatch/job_kind.h"

#include <cstdint>
#include <atomic>
#include <thread>
#include <vector>

#include "absl/time/time.h"
#include "gtest/gtest.h"

namespace handoff {
namespace {

TEST(JobKindTest, ItCostsNothingUntilARunTeachesItAndTakesTheFirstRunWhole) {
  JobKind kind;
  EXPECT_EQ(kind.cost(), absl::ZeroDuration());
  kind.Learn(absl::Milliseconds(3));
  EXPECT_EQ(kind.cost(), absl::Milliseconds(3));
}

// `kind` after `runs` runs that each cost `cost`.
void LearnRuns(JobKind& kind, int runs, absl::Duration cost) {
  for (int i = 0; i < runs; ++i) kind.Learn(cost);
}

// The first runs are averaged plainly: a slow first run (a handler that
// connects on its first call) weighs an eighth after eight runs. Weighted
// 1/8 from the second run on, 100 ms then seven runs of 10 us left a mean of
// 39 ms, and a busy pool refused cheap calls on it for dozens of runs.
TEST(JobKindTest, ASlowFirstRunIsAveragedAwayOverTheFirstEight) {
  JobKind kind;
  kind.Learn(absl::Milliseconds(100));
  kind.Learn(absl::Microseconds(10));
  EXPECT_EQ(kind.cost(), absl::Microseconds(50005));
  LearnRuns(kind, 6, absl::Microseconds(10));
  // (100 ms + 7 x 10 us) / 8, to the rounding of each step.
  EXPECT_GE(kind.cost(), absl::Microseconds(12508));
  EXPECT_LE(kind.cost(), absl::Microseconds(12509));
  // From then on a run weighs 1/8.
  const int64_t before = absl::ToInt64Nanoseconds(kind.cost());
  kind.Learn(absl::Microseconds(10));
  EXPECT_EQ(kind.cost(), absl::Nanoseconds(before + (10'000 - before) / 8));
}

// One run far longer than the kind's others moves its mean by at most 3/8:
// counted as four times the mean, weighted 1/8.
TEST(JobKindTest, OneOddRunMovesTheMeanOnlyBoundedly) {
  JobKind kind;
  LearnRuns(kind, 8, absl::Milliseconds(8));
  kind.Learn(absl::Seconds(10));
  EXPECT_EQ(kind.cost(), absl::Milliseconds(11));
  // A real change of cost lifts it with every run.
  for (int i = 0; i < 100; ++i) kind.Learn(absl::Seconds(1));
  EXPECT_GT(kind.cost(), absl::Milliseconds(990));
  EXPECT_LE(kind.cost(), absl::Seconds(1));
}

// The clock may step back during a run; a negative cost must not make the
// mean negative (admission would then estimate negative waits).
TEST(JobKindTest, ANegativeCostCountsAsNone) {
  JobKind kind;
  kind.Learn(absl::Milliseconds(8));
  kind.Learn(-absl::Seconds(1));
  EXPECT_EQ(kind.cost(), absl::Milliseconds(4));
}

// A kind may be seeded with any cost. Past a quarter of int64's range, four
// times the mean overflowed: the clip wrapped negative, and a longer run
// brought the mean down.
TEST(JobKindTest, AHugeMeanStillRisesWithALongerRun) {
  JobKind kind;
  const int64_t huge = int64_t{1} << 62;
  kind.Learn(absl::Nanoseconds(huge));
  kind.Learn(absl::Nanoseconds(huge + huge / 2));
  EXPECT_GT(kind.cost(), absl::Nanoseconds(huge));
}

// A kind seeded with a tiny cost still follows its runs, both ways: an
// eighth of the gap under 8 ns rounded to nothing, and a mean of 1 or 2 ns
// never rose. It never falls to 0, which would mean no mean at all.
TEST(JobKindTest, ATinyMeanStillFollowsItsRuns) {
  JobKind rising;
  rising.Learn(absl::Nanoseconds(1));
  for (int i = 0; i < 40; ++i) rising.Learn(absl::Microseconds(1));
  EXPECT_GT(rising.cost(), absl::Nanoseconds(900));

  JobKind falling;
  LearnRuns(falling, 8, absl::Nanoseconds(7));
  falling.Learn(absl::Nanoseconds(2));
  EXPECT_EQ(falling.cost(), absl::Nanoseconds(6));
  for (int i = 0; i < 10; ++i) falling.Learn(absl::ZeroDuration());
  EXPECT_EQ(falling.cost(), absl::Nanoseconds(1));
}

// Workers that run the kind's jobs at once each fold their runs in, and
// none is lost to another's update. Runs of equal cost fold in the same
// whatever their order, so the mean after all of them is known exactly (past
// the first eight, each weighted by its place). The workers start together,
// so that their updates overlap.
TEST(JobKindTest, NoRunIsLostWhenWorkersLearnAtOnce) {
  constexpr int kWorkers = 2;
  constexpr int kRuns = 140;  // each; from 2^62 ns, all of them leave ~270 ns
  const absl::Duration start = absl::Nanoseconds(int64_t{1} << 62);
  JobKind kind, alone;
  LearnRuns(kind, 8, start);
  LearnRuns(alone, 8, start);
  for (int i = 0; i < kWorkers * kRuns; ++i) alone.Learn(absl::ZeroDuration());
  std::atomic<int> ready{0};
  std::vector<std::thread> workers;
  for (int w = 0; w < kWorkers; ++w) {
    workers.emplace_back([&kind, &ready] {
      // Spun, not slept: a thread woken from a wait would start its runs
      // after the other had finished its own.
      ready.fetch_add(1);
      while (ready.load() < kWorkers) {
      }
      for (int i = 0; i < kRuns; ++i) kind.Learn(absl::ZeroDuration());
    });
  }
  for (std::thread& t : workers) t.join();
  EXPECT_EQ(kind.cost(), alone.cost());
  // Far from where one run fewer or more would leave it.
  EXPECT_GT(alone.cost(), absl::Nanoseconds(100));
}

}  // namespace
}  // namespace handoff
