// Copyright 2026 The handoff Authors.
//
// A step of the wall clock moves no deadline (clock.h). The step is made
// here: this binary defines clock_gettime, which the shared Abseil and
// libstdc++ call through the PLT, and adds an offset to CLOCK_REALTIME's
// readings, as `date -s` or NTP's first sync would. CLOCK_MONOTONIC is left
// alone, as the kernel leaves it.

#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>

#include "absl/time/clock.h"
#include "dispatch/chan.h"
#include "dispatch/clock.h"
#include "dispatch/context.h"
#include "dispatch/dispatcher.h"
#include "gtest/gtest.h"
#include "tests/util/wait_until.h"

namespace {
std::atomic<int64_t> wall_offset_s{0};
}  // namespace

// Straight to the kernel: no dlsym, which a sanitizer's runtime may reach
// before it is ready, and no recursion into this definition.
extern "C" int clock_gettime(clockid_t id, struct timespec* ts) {
  const int r = static_cast<int>(syscall(SYS_clock_gettime, id, ts));
  if (r == 0 && id == CLOCK_REALTIME) {
    ts->tv_sec += wall_offset_s.load(std::memory_order_relaxed);
  }
  return r;
}

namespace handoff {
namespace {

using testing::WaitUntil;

class WallClockStepTest : public ::testing::Test {
 protected:
  void Step(absl::Duration d) {
    const absl::Time before = absl::Now();
    wall_offset_s.fetch_add(absl::ToInt64Seconds(d));
    // Abseil may extrapolate a reading it took a moment ago, for a few
    // milliseconds: wait until it has read the stepped clock.
    const absl::Duration slack = absl::Seconds(1);
    ASSERT_TRUE(WaitUntil([&] {
      const absl::Duration moved = absl::Now() - before;
      return moved > d - slack && moved < d + slack;
    }));
  }
  void TearDown() override { wall_offset_s.store(0); }
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
