// Copyright 2026 The handoff Authors.
//
// GatewayCore::Answer: what a call is answered with, given its outcome, its
// Context and the time.

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "dispatch/dispatcher.h"
#include "gtest/gtest.h"
#include "server/config.h"
#include "server/gateway_core.h"
#include "server/handler_registry.h"

namespace handoff {
namespace {

class AnswerTest : public ::testing::Test {
 protected:
  ServerConfig config_;
  Dispatcher dispatcher_{DispatcherOptions{}};
  HandlerRegistry registry_;
  GatewayCore core_{config_, dispatcher_, registry_};
};

// A reply can win the call's select after the deadline, before the timer
// (which may lag) marks the Context done. The client has stopped waiting:
// it is late, not OK, and counted so.
TEST_F(AnswerTest, AnOkOutcomeAtOrPastTheDeadlineIsDeadlineExceeded) {
  auto [ctx, cancel] = core_.CallContext(absl::InfiniteFuture());  // --default_deadline
  const absl::Time deadline = ctx.Deadline();
  ASSERT_LT(deadline, absl::InfiniteFuture());
  EXPECT_TRUE(core_.Answer(absl::OkStatus(), ctx, deadline - absl::Nanoseconds(1)).ok());
  EXPECT_EQ(core_.Answer(absl::OkStatus(), ctx, deadline).code(),
            absl::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(core_.Answer(absl::OkStatus(), ctx, deadline + absl::Seconds(1)).code(),
            absl::StatusCode::kDeadlineExceeded);
  cancel();
}

// So is a failure that comes at or past the deadline: a client whose deadline
// it was had DEADLINE_EXCEEDED from its own timer by then, and what is counted
// and logged is what the client got. A handler's late failure was answered,
// counted and logged as its own code. Before the deadline it stays what it is.
TEST_F(AnswerTest, AFailedOutcomeAtOrPastTheDeadlineIsDeadlineExceeded) {
  auto [ctx, cancel] = core_.CallContext(absl::InfiniteFuture());  // --default_deadline
  const absl::Time deadline = ctx.Deadline();
  EXPECT_EQ(core_.Answer(absl::InvalidArgumentError("x"), ctx,
                         deadline - absl::Nanoseconds(1)).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(core_.Answer(absl::CancelledError("mine"), ctx,
                         deadline - absl::Nanoseconds(1)).code(),
            absl::StatusCode::kCancelled);
  for (const absl::Status& late :
       {absl::InvalidArgumentError("x"), absl::UnavailableError("upstream down"),
        absl::InternalError("x"), absl::CancelledError("mine")}) {
    const absl::Status s = core_.Answer(late, ctx, deadline);
    EXPECT_EQ(s.code(), absl::StatusCode::kDeadlineExceeded) << late;
    EXPECT_EQ(core_.Answer(late, ctx, deadline + absl::Seconds(1)).code(),
              absl::StatusCode::kDeadlineExceeded)
        << late;
  }
  // A DEADLINE_EXCEEDED of the handler's own, late, keeps its words.
  EXPECT_EQ(core_.Answer(absl::DeadlineExceededError("upstream timed out"), ctx, deadline),
            absl::DeadlineExceededError("upstream timed out"));
  cancel();
}

// A job that sees its Context cancelled returns the Context's error. After
// the drain timeout's CancelAll() that is UNAVAILABLE (retry elsewhere),
// whichever case of the call's select wins: the reply can, before the
// Context's Done() closes.
TEST_F(AnswerTest, ACancelledOutcomeOfACallCutOffByTheDrainIsUnavailable) {
  auto [ctx, cancel] = core_.CallContext(absl::InfiniteFuture());
  const absl::Time now = ctx.Deadline() - absl::Seconds(1);
  // Not done: a handler's own CANCELLED is its answer.
  EXPECT_EQ(core_.Answer(absl::CancelledError("mine"), ctx, now).code(),
            absl::StatusCode::kCancelled);
  core_.CancelAll();
  ASSERT_TRUE(ctx.IsDone());
  const absl::Status cut = core_.Answer(absl::CancelledError("context canceled"), ctx, now);
  EXPECT_EQ(cut.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(cut.message(), "server shutting down: the call outlasted --drain_timeout");
  EXPECT_EQ(core_.Answer(absl::InternalError("x"), ctx, now).code(),
            absl::StatusCode::kInternal);
  cancel();
}

// A call its client cancelled stays CANCELLED.
TEST_F(AnswerTest, ACancelledOutcomeOfACallItsClientCancelledStaysCancelled) {
  auto [ctx, cancel] = core_.CallContext(absl::InfiniteFuture());
  cancel();
  EXPECT_EQ(core_.Answer(absl::CancelledError("context canceled"), ctx,
                         ctx.Deadline() - absl::Seconds(1))
                .code(),
            absl::StatusCode::kCancelled);
}

}  // namespace
}  // namespace handoff
