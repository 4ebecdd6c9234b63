// Copyright 2026 The handoff Authors.
//
// handoffd's calls across a step of the wall clock: the client's deadline
// is kept as what was left of it (GatewayCore::ClientDeadline), so a step
// neither expires the calls in flight nor lengthens them. A binary of its
// own, since the step (tests/util/stepped_wall_clock.h) is the process's.

#include <atomic>

#include "dispatch/clock.h"
#include "dispatch/context.h"
#include "gtest/gtest.h"
#include "tests/integration/server/server_fixture.h"
#include "tests/util/stepped_wall_clock.h"

namespace handoff::testing {
namespace {

class WallClockStepServerTest : public ServerTest {
 protected:
  void TearDown() override {
    ResetWallClock();
    ServerTest::TearDown();
  }
};

// A call that began before the wall clock stepped an hour forward is still
// running after it, and is answered OK when its handler finishes: the
// deadline timer, woken for another deadline, does not take the step for
// the passing of this call's 30 s.
TEST_F(WallClockStepServerTest, ACallInFlightOutlivesAStepForwardOfTheWallClock) {
  std::unique_ptr<AsyncCall<v1::CallRequest, v1::CallReply>> call =
      StartBlocked(absl::Seconds(30));
  ASSERT_TRUE(StepWallClock(absl::Hours(1)));
  // Every context's deadline is on the one timer thread: one due at once
  // makes it run through all that are due.
  auto [soon, cancel_soon] =
      WithTimeout(Context::Background(), absl::Milliseconds(1));
  soon.Done().Recv();
  cancel_soon();
  // Bounded: a handler that already gave up takes no release.
  bool released = false;
  auto [limit, cancel_limit] = WithTimeout(Context::Background(), absl::Seconds(20));
  Select(OnSend(release_, std::monostate{}, [&] { released = true; }),
         OnDone(limit, [] {}));
  cancel_limit();
  EXPECT_TRUE(released) << "the handler was no longer waiting to be released";
  grpc::Status s = call->Wait();
  EXPECT_TRUE(s.ok()) << s.error_code() << ": " << s.error_message();
}

// A call that starts after the wall clock stepped an hour back keeps its
// whole deadline, no less and no more: the client's deadline is taken as
// what is left of it on gRPC's monotonic clock, not read against the
// stepped wall clock. Its handler sees what is left of it.
TEST_F(WallClockStepServerTest, ACallStartedAfterAStepBackKeepsItsWholeDeadline) {
  std::atomic<int64_t> left_ms{-1};
  ASSERT_TRUE(registry_.Register("deadline_left", [&](const HandlerCall& call)
                                     -> absl::StatusOr<std::string> {
    left_ms = absl::ToInt64Milliseconds(call.ctx.Deadline() - MonotonicNow());
    return std::string();
  }).ok());
  ASSERT_TRUE(StepWallClock(-absl::Hours(1)));
  v1::CallReply reply;
  grpc::Status s = CallHandler("deadline_left", &reply, "", absl::Seconds(10));
  ASSERT_TRUE(s.ok()) << s.error_code() << ": " << s.error_message();
  // Less the time the call took to reach its handler.
  EXPECT_GT(left_ms.load(), 5'000) << "cut short";
  EXPECT_LE(left_ms.load(), 10'000) << "lengthened by the step";
}

// Calls capped at 300 ms by the server, whatever their clients allow: a
// deadline only handoffd's timer enforces.
class CappedWallClockStepServerTest : public WallClockStepServerTest {
  void Configure(ServerConfig& c) override {
    c.max_deadline = absl::Milliseconds(300);
    c.default_deadline = absl::Milliseconds(300);
  }
};

// A step back: a call capped at 300 ms is answered DEADLINE_EXCEEDED at
// about 300 ms, not an hour later.
TEST_F(CappedWallClockStepServerTest, ACallInFlightEndsAtItsDeadlineAfterAStepBack) {
  std::unique_ptr<AsyncCall<v1::CallRequest, v1::CallReply>> call =
      StartBlocked(absl::Seconds(30));
  ASSERT_TRUE(StepWallClock(-absl::Hours(1)));
  grpc::Status s = call->Wait();
  EXPECT_EQ(s.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED)
      << s.error_message();
  EXPECT_EQ(s.error_message(),
            "context deadline exceeded; the client's deadline was cut to --max_deadline, 300ms");
}

}  // namespace
}  // namespace handoff::testing
