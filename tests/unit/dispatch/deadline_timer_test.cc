// Copyright 2026 The handoff Authors.
//
// The deadline queue behind every Context: timers fire in deadline order, a
// cancelled timer never fires, and none is lost.

#include "dispatch/internal/deadline_timer.h"

#include <memory>
#include <mutex>
#include <random>
#include <vector>

#include "dispatch/clock.h"
#include "dispatch/chan.h"
#include "gtest/gtest.h"

namespace handoff::internal {
namespace {

TEST(DeadlineTimerTest, FiresInDeadlineOrderAndNeverAfterCancel) {
  constexpr int kTimers = 2000;
  std::mt19937 rng(42);
  std::uniform_int_distribution<int> offset_us(0, 50000);
  // Every cancel below must come before the timer thread can take the timer:
  // one that is already due may have been taken (see the header). So the
  // thread is held inside a first timer's callback until the setup is done,
  // however long a loaded machine takes over it; the timers that fell due
  // meanwhile then fire together, the rest later.
  Chan<int> holding(1);
  Chan<int> release(1);
  DeadlineTimer gate(MonotonicNow(), [&] {
    holding.Send(1).IgnoreError();
    release.Recv();
  });
  ASSERT_TRUE(holding.Recv().has_value());
  absl::Time base = MonotonicNow() + absl::Milliseconds(20);

  std::mutex mu;
  std::vector<absl::Time> fired;  // in firing order
  std::vector<int> fired_ids;
  std::vector<absl::Time> fired_at;  // on the clock deadlines are set on
  Chan<int> done(kTimers);
  std::vector<std::unique_ptr<DeadlineTimer>> timers(kTimers);
  std::vector<absl::Time> when(kTimers);
  std::vector<bool> cancelled(kTimers, false);
  for (int i = 0; i < kTimers; ++i) {
    when[i] = base + absl::Microseconds(offset_us(rng));
    timers[i] = std::make_unique<DeadlineTimer>(when[i], [&, i] {
      {
        std::lock_guard<std::mutex> l(mu);
        fired_at.push_back(MonotonicNow());
        fired.push_back(when[i]);
        fired_ids.push_back(i);
      }
      ASSERT_TRUE(done.Send(int(i)).ok());
    });
    if (rng() % 2 == 0) {  // cancel half, some right away, some by destroying
      cancelled[i] = true;
      if (rng() % 2) {
        timers[i]->Cancel();
      } else {
        timers[i].reset();
      }
    }
  }
  ASSERT_TRUE(release.Send(1).ok());
  int expected = 0;
  for (bool c : cancelled) expected += !c;
  for (int n = 0; n < expected; ++n) ASSERT_TRUE(done.Recv().has_value());
  std::lock_guard<std::mutex> l(mu);
  ASSERT_EQ(static_cast<int>(fired.size()), expected);
  for (size_t k = 1; k < fired.size(); ++k) {
    EXPECT_LE(fired[k - 1], fired[k]) << "fired out of deadline order at " << k;
  }
  for (int id : fired_ids) EXPECT_FALSE(cancelled[id]) << "timer " << id;
  // Each at or after its deadline, as read when it fired: read after all had
  // fired, only the last ones could have been caught firing early.
  for (size_t k = 0; k < fired.size(); ++k) {
    EXPECT_GE(fired_at[k], fired[k]) << "timer " << fired_ids[k] << " fired early";
  }
}

TEST(DeadlineTimerTest, AnEarlierDeadlineAddedLaterStillFiresFirst) {
  Chan<int> order(2);
  DeadlineTimer late(MonotonicNow() + absl::Seconds(30),
                     [&] { order.Send(2).IgnoreError(); });
  DeadlineTimer soon(MonotonicNow() + absl::Milliseconds(1),
                     [&] { order.Send(1).IgnoreError(); });
  EXPECT_EQ(order.Recv(), 1);  // re-armed for the new earliest deadline
  late.Cancel();
}

}  // namespace
}  // namespace handoff::internal
