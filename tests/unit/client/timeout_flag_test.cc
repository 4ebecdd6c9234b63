// TimeoutFlag: the CLI's --timeout, read as `handoff load -t` reads its own.
#include "client/cli/timeout_flag.h"

#include <gtest/gtest.h>

#include <string>

#include "absl/strings/match.h"

namespace handoff::cli {
namespace {

absl::Duration Parsed(absl::string_view text) {
  TimeoutFlag t;
  std::string error;
  EXPECT_TRUE(AbslParseFlag(text, &t, &error)) << text << ": " << error;
  return t.value;
}

std::string Refusal(absl::string_view text) {
  TimeoutFlag t;
  std::string error;
  EXPECT_FALSE(AbslParseFlag(text, &t, &error)) << text;
  return error;
}

TEST(TimeoutFlagTest, TakesDurationsAndBareSeconds) {
  EXPECT_EQ(Parsed("200ms"), absl::Milliseconds(200));
  EXPECT_EQ(Parsed("1m30s"), absl::Seconds(90));
  EXPECT_EQ(Parsed("20"), absl::Seconds(20));
  EXPECT_EQ(Parsed("0.5"), absl::Milliseconds(500));
}

TEST(TimeoutFlagTest, ZeroAndInfMeanNoDeadline) {
  for (const char* text : {"0", "0s", "0.0", "0ms", "0e5", "inf", "+inf"}) {
    EXPECT_EQ(Parsed(text), absl::InfiniteDuration()) << text;
  }
}

TEST(TimeoutFlagTest, WhatItPrintsForHelpParsesBack) {
  for (absl::Duration d : {absl::Seconds(10), absl::Milliseconds(1500),
                           absl::InfiniteDuration()}) {
    EXPECT_EQ(Parsed(AbslUnparseFlag(TimeoutFlag{d})), d);
  }
}

TEST(TimeoutFlagTest, EachRefusalSaysWhy) {
  EXPECT_EQ(Refusal("-1s"), "a timeout cannot be negative; 0 or inf is no deadline");
  EXPECT_EQ(Refusal("3000000h"),
            "longer than 2562047h, Go's longest duration; 0 or inf is no deadline");
  // Under a nanosecond; rounded to 0, the first three would have meant no
  // deadline at all.
  for (const char* text : {"0.1ns", "1e-12", "0.0000000001", "0.5ns", "5e-10"}) {
    EXPECT_EQ(Refusal(text), "shorter than 1ns; 0 or inf is no deadline") << text;
  }
  for (const char* text : {"soon", "10 s", ""}) {
    EXPECT_TRUE(absl::StartsWith(Refusal(text), "not a duration: write a number and a unit"))
        << text;
  }
}

}  // namespace
}  // namespace handoff::cli
