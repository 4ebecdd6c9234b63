// Copyright 2026 The handoff Authors.
//
// LogSiteLimiter: what a flood from one place in gRPC's source may write.

#include "server/grpc_log.h"

#include <optional>

#include "gtest/gtest.h"

namespace handoff {
namespace {

const absl::Time kStart = absl::FromUnixSeconds(1'800'000'000);

TEST(LogSiteLimiterTest, ASiteWritesItsBurstThenNothingUntilItsWindowEnds) {
  LogSiteLimiter limiter(3, absl::Minutes(1));
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(limiter.Admit("call.cc", 1211, kStart + absl::Seconds(i)), 0) << i;
  }
  for (int i = 3; i < 10; ++i) {
    EXPECT_EQ(limiter.Admit("call.cc", 1211, kStart + absl::Seconds(i)), std::nullopt) << i;
  }
  EXPECT_EQ(limiter.Admit("call.cc", 1211, kStart + absl::Seconds(59)), std::nullopt);
}

TEST(LogSiteLimiterTest, TheFirstLineOfTheNextWindowSaysHowManyWereLeftOut) {
  LogSiteLimiter limiter(2, absl::Minutes(1));
  for (int i = 0; i < 7; ++i) (void)limiter.Admit("call.cc", 1211, kStart);
  EXPECT_EQ(limiter.Admit("call.cc", 1211, kStart + absl::Minutes(1)), 5);
  // Counted once: the next line has nothing left out before it.
  EXPECT_EQ(limiter.Admit("call.cc", 1211, kStart + absl::Minutes(1)), 0);
  EXPECT_EQ(limiter.Admit("call.cc", 1211, kStart + absl::Minutes(1)), std::nullopt);
}

TEST(LogSiteLimiterTest, EachFileAndLineHasItsOwnBudget) {
  LogSiteLimiter limiter(1, absl::Minutes(1));
  EXPECT_EQ(limiter.Admit("call.cc", 1211, kStart), 0);
  EXPECT_EQ(limiter.Admit("call.cc", 1211, kStart), std::nullopt);
  EXPECT_EQ(limiter.Admit("call.cc", 1212, kStart), 0);
  EXPECT_EQ(limiter.Admit("ssl_transport_security.cc", 1211, kStart), 0);
}

TEST(LogSiteLimiterTest, AWindowOpensAtTheFirstLineAfterTheLastOneEnded) {
  LogSiteLimiter limiter(1, absl::Minutes(1));
  EXPECT_EQ(limiter.Admit("call.cc", 1, kStart), 0);
  // Quiet for an hour: the next line opens a window of its own, and the
  // one after it, 59 s later, is still in that window.
  EXPECT_EQ(limiter.Admit("call.cc", 1, kStart + absl::Hours(1)), 0);
  EXPECT_EQ(limiter.Admit("call.cc", 1, kStart + absl::Hours(1) + absl::Seconds(59)),
            std::nullopt);
  EXPECT_EQ(limiter.Admit("call.cc", 1, kStart + absl::Hours(1) + absl::Seconds(60)), 1);
}

}  // namespace
}  // namespace handoff
