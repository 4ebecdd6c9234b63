// Copyright 2026 The handoff Authors.
//
// The parker: a thread is released exactly when readied, and its spin
// budget learns from how long its waits were.

#include "dispatch/internal/parker.h"

#include <atomic>
#include <thread>

#include "gtest/gtest.h"

namespace handoff::internal {
namespace {

TEST(SpinBudgetTest, AShortWaitRaisesTheBudgetAtOnceToTwiceItsLength) {
  SpinBudget b;
  b.Waited(SpinBudget::kMaxNs / 4);
  EXPECT_EQ(b.get(), SpinBudget::kMaxNs / 2);
}

TEST(SpinBudgetTest, ShorterWaitsLetItDecaySlowly) {
  SpinBudget b;
  b.Waited(SpinBudget::kMaxNs / 2);
  ASSERT_EQ(b.get(), SpinBudget::kMaxNs);
  b.Waited(0);
  // A quarter of the way down to the floor, not all of it: one quick answer
  // says little about the next.
  EXPECT_EQ(b.get(), SpinBudget::kMaxNs - (SpinBudget::kMaxNs - SpinBudget::kMinNs) / 4);
  for (int i = 0; i < 100; ++i) b.Waited(0);
  EXPECT_GE(b.get(), SpinBudget::kMinNs);
  EXPECT_LT(b.get(), SpinBudget::kMinNs + 4);  // integer steps stop short
}

// The case that learning from hits and misses alone gets wrong: a wait
// longer than the budget but short enough to spin for must raise it.
TEST(SpinBudgetTest, AWaitLongerThanTheBudgetButWorthSpinningForRaisesIt) {
  SpinBudget b;
  for (int i = 0; i < 20; ++i) b.Waited(-1);
  ASSERT_EQ(b.get(), SpinBudget::kMinNs);
  b.Waited(SpinBudget::kMaxNs / 2);
  EXPECT_EQ(b.get(), SpinBudget::kMaxNs);
}

TEST(SpinBudgetTest, AnUnknownOrTooLongWaitHalvesItDownToTheFloor) {
  SpinBudget b;
  b.Waited(SpinBudget::kMaxNs / 2);
  b.Waited(SpinBudget::kMaxNs + 1);
  EXPECT_EQ(b.get(), SpinBudget::kMaxNs / 2);
  b.Waited(-1);
  EXPECT_EQ(b.get(), SpinBudget::kMaxNs / 4);
  for (int i = 0; i < 64; ++i) b.Waited(-1);
  EXPECT_EQ(b.get(), SpinBudget::kMinNs);
}

TEST(ThreadParkerTest, ReadyBeforeParkReturnsAtOnce) {
  ThreadParker p;
  p.Ready();
  p.Park();
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

}  // namespace
}  // namespace handoff::internal
