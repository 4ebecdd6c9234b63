// Copyright 2026 The handoff Authors.
//
// A step of the wall clock moves no deadline (clock.h). The steps are
// tests/util/stepped_wall_clock.h's.

#include <chrono>

#include "absl/time/clock.h"
#include "dispatch/chan.h"
#include "dispatch/clock.h"
#include "dispatch/context.h"
#include "dispatch/dispatcher.h"
#include "gtest/gtest.h"
#include "tests/util/stepped_wall_clock.h"
#include "tests/util/wait_until.h"

namespace handoff {
namespace {

using testing::WaitUntil;

class WallClockStepTest : public ::testing::Test {
 protected:
  void Step(absl::Duration d) { ASSERT_TRUE(testing::StepWallClock(d)); }
  void TearDown() override { testing::ResetWallClock(); }
};

TEST_F(WallClockStepTest, MonotonicNowDoesNotStepWithTheWallClock) {
  const absl::Time before = MonotonicNow();
  Step(absl::Hours(1));
  EXPECT_LT(MonotonicNow() - before, absl::Minutes(1));
  Step(-absl::Hours(2));
  EXPECT_GE(MonotonicNow(), before);
}

TEST_F(WallClockStepTest, FromWallClockKeepsWhatIsLeft) {
  Step(absl::Hours(1));
  const absl::Duration left =
      FromWallClock(absl::Now() + absl::Seconds(30)) - MonotonicNow();
  EXPECT_GT(left, absl::Seconds(29));
  // Abseil's absl::Now() is extrapolated between kernel readings, to within
  // microseconds.
  EXPECT_LE(left, absl::Seconds(30) + absl::Milliseconds(1));
  EXPECT_EQ(FromWallClock(absl::InfiniteFuture()), absl::InfiniteFuture());
}

TEST(SteadyAfterTest, SaturatesWhereAddingWouldOverflow) {
  using Clock = std::chrono::steady_clock;
  EXPECT_EQ(SteadyAfter(absl::InfiniteDuration()), Clock::time_point::max());
  EXPECT_EQ(SteadyAfter(absl::Hours(1e7)), Clock::time_point::max());
  const Clock::time_point before = Clock::now();
  const Clock::time_point second = SteadyAfter(absl::Seconds(1));
  EXPECT_GE(second, before + std::chrono::seconds(1));
  EXPECT_LT(second, Clock::now() + std::chrono::seconds(2));
  const Clock::time_point past = SteadyAfter(-absl::Seconds(1));
  EXPECT_LE(past, Clock::now());
}

// A step forward of an hour, with a 60 s context in flight: the context stays
// live, the dispatcher admits and runs its job, and the timer, woken for
// another deadline, does not take the step for the passing of this one.
TEST_F(WallClockStepTest, AStepForwardDoesNotExpireAContextInFlight) {
  auto [ctx, cancel] = WithTimeout(Context::Background(), absl::Seconds(60));
  Step(absl::Hours(1));
  EXPECT_FALSE(ctx.IsDone());

  Dispatcher d({.workers = 1, .queue_depth = 4});
  Chan<int> ran(1);
  Job job;
  job.ctx = ctx;
  job.expected_run = absl::Milliseconds(1);
  job.run = [ran](const RunInfo&) { ran.TrySend(1).IgnoreError(); };
  ASSERT_TRUE(d.TrySubmit(std::move(job)).ok());
  EXPECT_EQ(ran.Recv(), 1);
  EXPECT_EQ(d.Stats().expired, 0);

  auto [soon, cancel_soon] =
      WithTimeout(Context::Background(), absl::Milliseconds(1));
  soon.Done().Recv();  // the timer thread has run through what is due
  EXPECT_FALSE(ctx.IsDone()) << ctx.Err();
  cancel_soon();
  cancel();
}

// A step back of an hour, with a 50 ms context in flight: it is done about
// 50 ms later, not an hour and 50 ms.
TEST_F(WallClockStepTest, AStepBackDoesNotKeepAContextAlivePastItsTimeout) {
  auto [ctx, cancel] = WithTimeout(Context::Background(), absl::Milliseconds(50));
  Step(-absl::Hours(1));
  EXPECT_TRUE(WaitUntil([&] { return ctx.IsDone(); }, absl::Seconds(20)));
  EXPECT_TRUE(absl::IsDeadlineExceeded(ctx.Err())) << ctx.Err();
  cancel();
}

}  // namespace
}  // namespace handoff
