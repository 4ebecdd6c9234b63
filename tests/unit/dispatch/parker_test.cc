// Copyright 2026 The handoff Authors.
//
// The parker: a thread is released exactly when readied, and its spin
// budget learns from how long its waits were.

#include "dispatch/internal/parker.h"

#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdint>
#include <initializer_list>
#include <thread>

#include "dispatch/internal/chan_lock.h"
#include "gtest/gtest.h"
#include "tests/unit/dispatch/test_util.h"

namespace handoff::internal {
namespace {

SpinBudget AfterWaits(std::initializer_list<int64_t> waits) {
  SpinBudget b;
  for (int64_t w : waits) b.Waited(w);
  return b;
}

// Fills the budget's whole window with waits of `w`.
void WaitAlike(SpinBudget& b, int64_t w) {
  for (int i = 0; i < SpinBudget::kWindow; ++i) b.Waited(w);
}

SpinBudget AfterSteadyWaits(int64_t w) {
  SpinBudget b;
  WaitAlike(b, w);
  return b;
}

TEST(SpinBudgetTest, ShortWaitsSetTheBudgetToTwiceTheirMedian) {
  const int64_t w = SpinBudget::kMaxNs / 4;
  SpinBudget b = AfterSteadyWaits(w);
  EXPECT_EQ(b.get(), 2 * w);
}

// The case that learning from hits and misses alone gets wrong: waits longer
// than the budget, but short enough to spin for, must raise it.
TEST(SpinBudgetTest, WaitsLongerThanTheBudgetButWorthSpinningForRaiseIt) {
  SpinBudget b = AfterWaits({-1, -1, -1, -1, -1, -1, -1, -1});
  ASSERT_EQ(b.get(), SpinBudget::kMinNs);
  WaitAlike(b, SpinBudget::kMaxNs / 2);
  EXPECT_EQ(b.get(), SpinBudget::kMaxNs);
}

// A worker whose jobs arrive at random: most waits are too long to catch, so
// the few short ones must not make it spin.
TEST(SpinBudgetTest, MostlyLongWaitsMeanNoSpinningDespiteSomeShortOnes) {
  const int64_t kLong = SpinBudget::kMaxNs + 1, kShort = 1000;
  SpinBudget b = AfterWaits({kShort, kLong, kLong, kShort, kLong, kShort, kLong, kLong});
  EXPECT_EQ(b.get(), SpinBudget::kMinNs);
}

TEST(SpinBudgetTest, OneOddWaitDoesNotMoveIt) {
  const int64_t w = 4000;
  SpinBudget b = AfterSteadyWaits(w);
  b.Waited(-1);
  EXPECT_EQ(b.get(), 2 * w);
  b.Waited(0);
  EXPECT_EQ(b.get(), 2 * w);
}

// The median comes from a hand-written sorting network: every order of the
// same eight waits must give the same budget, twice the upper median.
TEST(SpinBudgetTest, TheBudgetIsTwiceTheUpperMedianInAnyOrder) {
  std::array<int64_t, 8> waits = {1000, 1100, 1200, 1300,
                                   1400, 1500, 1600, 1700};
  int permutations = 0;
  do {
    SpinBudget b;
    for (int64_t w : waits) b.Waited(w);
    ASSERT_EQ(b.get(), 2 * 1400) << "after permutation " << permutations;
    ++permutations;
  } while (std::next_permutation(waits.begin(), waits.end()));
  EXPECT_EQ(permutations, 40320);
}

TEST(SpinBudgetTest, TheBudgetStaysWithinItsBounds) {
  EXPECT_EQ(AfterWaits({0, 0, 0, 0, 0, 0, 0, 0}).get(), SpinBudget::kMinNs);
  const int64_t w = SpinBudget::kMaxNs - 1;
  EXPECT_EQ(AfterSteadyWaits(w).get(), SpinBudget::kMaxNs);
}

// A sleep relay: each wait one futex wake long, longer than kMaxNs, alike.
constexpr int64_t kRelayWait = SpinBudget::kMaxNs + SpinBudget::kMaxNs / 2;

TEST(SpinBudgetTest, AWaitRightAfterWakingASleeperSpinsThroughAlikeLongWaits) {
  SpinBudget b = AfterSteadyWaits(kRelayWait);
  ASSERT_EQ(b.get(), SpinBudget::kMinNs);
  b.WokeSleeper();
  EXPECT_EQ(b.ForThisWait(), kRelayWait + kRelayWait / 4);
}

TEST(SpinBudgetTest, OnlyTheNextWaitGetsTheLongerBudget) {
  SpinBudget b = AfterSteadyWaits(kRelayWait);
  b.WokeSleeper();
  ASSERT_GT(b.ForThisWait(), SpinBudget::kMaxNs);
  EXPECT_EQ(b.ForThisWait(), SpinBudget::kMinNs);
}

// A worker fed at a steady rate: alike long waits, but not after a wake of
// its own, so it sleeps rather than spin through every gap.
TEST(SpinBudgetTest, AlikeLongWaitsAloneDoNotMakeAThreadSpin) {
  SpinBudget b = AfterSteadyWaits(kRelayWait);
  EXPECT_EQ(b.ForThisWait(), SpinBudget::kMinNs);
}

TEST(SpinBudgetTest, ScatteredLongWaitsGetNoLongerSpinAfterAWake) {
  const int64_t w = kRelayWait;
  SpinBudget b = AfterWaits({w / 2, w, 3 * w, w, w / 3, 2 * w, w, 4 * w});
  b.WokeSleeper();
  EXPECT_EQ(b.ForThisWait(), SpinBudget::kMinNs);
}

TEST(SpinBudgetTest, WaitsTooLongToSpinThroughStillSleepAfterAWake) {
  const int64_t w = SpinBudget::kMaxAfterWakeNs;
  SpinBudget b = AfterSteadyWaits(w);
  b.WokeSleeper();
  EXPECT_EQ(b.ForThisWait(), SpinBudget::kMinNs);
}

// Short waits already spin; a wake does not shorten that.
TEST(SpinBudgetTest, AWakeNeverShortensTheBudget) {
  const int64_t w = 4000;
  SpinBudget b = AfterSteadyWaits(w);
  b.WokeSleeper();
  EXPECT_EQ(b.ForThisWait(), 2 * w);
}

// Two threads handing work back and forth, each answering in about a
// microsecond: a hiccup several times that must not put the waiter to sleep.
TEST(SpinBudgetTest, AWaitRightAfterAHandoffToARunningPeerRidesOutAHiccup) {
  const int64_t w = 1000;
  SpinBudget b = AfterSteadyWaits(w);
  ASSERT_EQ(b.get(), 2 * w);
  b.ReadiedRunner();
  EXPECT_EQ(b.ForThisWait(), SpinBudget::kMaxNs);
  EXPECT_EQ(b.ForThisWait(), 2 * w) << "only the wait right after the handoff";
}

// A worker whose jobs arrive at random: its short waits scatter, and a
// handoff of its own says nothing about when the next job comes.
TEST(SpinBudgetTest, ScatteredShortWaitsKeepTheirBudgetAfterAHandoff) {
  SpinBudget b = AfterWaits({500, 4000, 1000, 9000, 700, 12000, 2000, 3000});
  ASSERT_EQ(b.get(), 2 * 3000);
  b.ReadiedRunner();
  EXPECT_EQ(b.ForThisWait(), 2 * 3000);
}

TEST(SpinBudgetTest, LongWaitsGetNoLongerSpinAfterAHandoff) {
  SpinBudget b = AfterSteadyWaits(kRelayWait);
  b.ReadiedRunner();
  EXPECT_EQ(b.ForThisWait(), SpinBudget::kMinNs);
}

TEST(ThreadParkerTest, ReadyBeforeParkReturnsAtOnce) {
  ThreadParker p;
  p.Ready();
  // Parked on a thread of its own, so that a Park that missed the Ready
  // fails the test instead of hanging it.
  std::atomic<bool> returned{false};
  std::thread parked([&] {
    p.Park();
    returned.store(true);
  });
  const bool in_time = handoff::testing::WaitUntil([&] { return returned.load(); });
  if (!in_time) p.Ready();  // let the thread go, to join it
  parked.join();
  EXPECT_TRUE(in_time) << "Park() missed a Ready() made before it";
}

// Whether the waiter catches it spinning or asleep, what the readier wrote
// before Ready() is visible after Park().
TEST(ThreadParkerTest, ParkReturnsOnlyAfterReadyAndSeesItsWrites) {
  for (int round = 0; round < 200; ++round) {
    ThreadParker p;
    int value = 0;
    std::atomic<bool> parked_soon{false};
    std::thread readier([&] {
      while (!parked_soon.load()) std::this_thread::yield();
      value = round + 1;
      p.Ready();
    });
    parked_soon.store(true);
    p.Park();
    EXPECT_EQ(value, round + 1);
    readier.join();
  }
}

// Fills this thread's window with waits of `w` and clears any mark left by
// an earlier Ready().
void LearnWaitsOf(int64_t w) {
  SpinBudget& mine = SpinBudget::ForThisThread();
  WaitAlike(mine, w);
  mine.ForThisWait();
}

TEST(ThreadParkerTest, ReadyingASleeperGivesTheReadierTheAfterWakeBudget) {
  LearnWaitsOf(kRelayWait);
  ThreadParker p;
  std::thread sleeper([&] { p.Park(); });
  // A new thread's budget is a microsecond: it goes to sleep soon.
  const bool slept = testing::WaitUntil([&] { return p.asleep(); });
  p.Ready();  // either way, so that the join cannot hang
  sleeper.join();
  ASSERT_TRUE(slept) << "the parked thread never went to sleep";
  EXPECT_EQ(SpinBudget::ForThisThread().ForThisWait(),
            kRelayWait + kRelayWait / 4);
}

// A thread that has not parked yet is running: readying it is a handoff.
TEST(ThreadParkerTest, ReadyingARunningThreadGivesTheReadierTheHandoffBudget) {
  LearnWaitsOf(1000);
  ThreadParker p;
  p.Ready();
  EXPECT_EQ(SpinBudget::ForThisThread().ForThisWait(), SpinBudget::kMaxNs);
  p.Park();  // returns at once
}

TEST(ThreadParkerTest, ReadyingARunningThreadIsNoWakeForTheRelayBudget) {
  LearnWaitsOf(kRelayWait);
  ThreadParker p;
  p.Ready();  // nobody has parked: there is no sleeper to wake
  EXPECT_EQ(SpinBudget::ForThisThread().ForThisWait(), SpinBudget::kMinNs);
  p.Park();  // returns at once
}

// The CPUs this process may use, read as SpinningCanHelp() reads them. CTest
// runs this file twice, as is and limited to one CPU (on_one_cpu.sh), so
// each branch below is taken in one of the runs.
int ProcessCpus() {
  cpu_set_t set;
  if (sched_getaffinity(getpid(), sizeof(set), &set) != 0) return -1;
  return CPU_COUNT(&set);
}

TEST(ThreadParkerTest, AWaitSpinsOnlyIfTheProcessMayUseAnotherCpu) {
  const int cpus = ProcessCpus();
  ASSERT_GT(cpus, 0);
  LearnWaitsOf(1000);
  const int64_t spin = ThreadParker::SpinNs(SpinBudget::ForThisThread());
  if (cpus > 1) {
    EXPECT_TRUE(SpinningCanHelp());
    EXPECT_EQ(spin, 2000);
  } else {
    EXPECT_FALSE(SpinningCanHelp());
    EXPECT_EQ(spin, 0) << "on one CPU the readier cannot run while we spin";
  }
}

// The channel lock follows the same rule: on one CPU the thread holding it
// cannot release it while a waiter spins.
TEST(ChanLockTest, AContendedLockSpinsOnlyIfTheProcessMayUseAnotherCpu) {
  const int cpus = ProcessCpus();
  ASSERT_GT(cpus, 0);
  if (cpus > 1) {
    EXPECT_GT(ChanLock::SpinsBeforeSleeping(), 0);
  } else {
    EXPECT_EQ(ChanLock::SpinsBeforeSleeping(), 0)
        << "on one CPU the holder cannot run while we spin";
  }
}

// Without a spin, the mark a Ready() left must still be used up by the next
// wait, or a later wait would get the longer budget it was meant for.
TEST(ThreadParkerTest, TheNextWaitUsesUpTheReadiedMarkWhetherOrNotItSpins) {
  LearnWaitsOf(1000);
  ThreadParker p;
  p.Ready();  // a handoff: the next wait may spin up to kMaxNs, if any
  ThreadParker::SpinNs(SpinBudget::ForThisThread());
  EXPECT_EQ(SpinBudget::ForThisThread().ForThisWait(), 2000);
  p.Park();  // returns at once
}

}  // namespace
}  // namespace handoff::internal
