// Copyright 2026 The handoff Authors.
//
// GatewayCore::CancelIsDeadline: which client cancels count as the deadline.

#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "server/gateway_core.h"

namespace handoff {
namespace {

const absl::Time kStart = absl::FromUnixSeconds(1'000'000);

TEST(CancelIsDeadlineTest,
     ACancelWithinATenthOfTheCallsTimeOfItsDeadlineIsTheDeadline) {
  const absl::Time deadline = kStart + absl::Milliseconds(500);  // skew 50 ms
  EXPECT_TRUE(GatewayCore::CancelIsDeadline(kStart, deadline,
                                            deadline - absl::Milliseconds(50)));
  EXPECT_TRUE(GatewayCore::CancelIsDeadline(kStart, deadline,
                                            deadline - absl::Milliseconds(1)));
  EXPECT_FALSE(GatewayCore::CancelIsDeadline(
      kStart, deadline, deadline - absl::Milliseconds(51)));
  EXPECT_FALSE(GatewayCore::CancelIsDeadline(kStart, deadline, kStart));
}

TEST(CancelIsDeadlineTest, TheSkewIsAtLeastOneAndAtMostAHundredMilliseconds) {
  const absl::Time shortest = kStart + absl::Milliseconds(2);
  EXPECT_TRUE(GatewayCore::CancelIsDeadline(kStart, shortest,
                                            shortest - absl::Milliseconds(1)));
  const absl::Time longest = kStart + absl::Seconds(60);
  EXPECT_TRUE(GatewayCore::CancelIsDeadline(kStart, longest,
                                            longest - absl::Milliseconds(100)));
  EXPECT_FALSE(GatewayCore::CancelIsDeadline(
      kStart, longest, longest - absl::Milliseconds(101)));
}

TEST(CancelIsDeadlineTest, WithoutADeadlineACancelIsACancel) {
  EXPECT_FALSE(GatewayCore::CancelIsDeadline(kStart, absl::InfiniteFuture(),
                                             kStart + absl::Hours(1000)));
}

}  // namespace
}  // namespace handoff
