// ParseGoDuration: Go's duration syntax, and ghz's bare seconds.
#include "client/load/go_duration.h"

#include <gtest/gtest.h>

namespace handoff::load {
namespace {

TEST(GoDurationTest, TakesGoSyntaxAndTheMicroSign) {
  EXPECT_EQ(*ParseGoDuration("500ms"), absl::Milliseconds(500));
  EXPECT_EQ(*ParseGoDuration("1m30s"), absl::Seconds(90));
  EXPECT_EQ(*ParseGoDuration("1.5h"), absl::Minutes(90));
  EXPECT_EQ(*ParseGoDuration("250µs"), absl::Microseconds(250));
  EXPECT_EQ(*ParseGoDuration("250us"), absl::Microseconds(250));
  EXPECT_EQ(*ParseGoDuration("0s"), absl::ZeroDuration());
}

TEST(GoDurationTest, ABareNumberIsSeconds) {
  EXPECT_EQ(*ParseGoDuration("20"), absl::Seconds(20));
  EXPECT_EQ(*ParseGoDuration("0.25"), absl::Milliseconds(250));
  EXPECT_EQ(*ParseGoDuration("0"), absl::ZeroDuration());
}

TEST(GoDurationTest, NegativeIsRefusedAsSuch) {
  for (const char* text : {"-1s", "-1", "-0.5"}) {
    auto d = ParseGoDuration(text);
    EXPECT_EQ(d.status().code(), absl::StatusCode::kInvalidArgument) << text;
    EXPECT_EQ(d.status().message(), "negative") << text;
  }
}

TEST(GoDurationTest, TextThatIsNoDurationIsRefusedAsSuch) {
  for (const char* text : {"", "soon", "10 s", "10x", "nan", "s"}) {
    auto d = ParseGoDuration(text);
    EXPECT_EQ(d.status().code(), absl::StatusCode::kInvalidArgument) << text;
    EXPECT_EQ(d.status().message(), "not a duration") << text;
  }
}

TEST(GoDurationTest, PastGosLongestDurationIsOutOfRange) {
  EXPECT_EQ(*ParseGoDuration("2562047h"), absl::Hours(2562047));
  for (const char* text : {"2562048h", "3000000h", "1e300", "inf"}) {
    EXPECT_EQ(ParseGoDuration(text).status().code(), absl::StatusCode::kOutOfRange)
        << text;
  }
}

// As Go's time.Duration String() writes it, which ghz's influx tags take.
TEST(GoDurationStringTest, WritesAsGosDurationStringDoes) {
  EXPECT_EQ(GoDurationString(absl::ZeroDuration()), "0s");
  EXPECT_EQ(GoDurationString(absl::Nanoseconds(999)), "999ns");
  EXPECT_EQ(GoDurationString(absl::Microseconds(1)), "1µs");
  EXPECT_EQ(GoDurationString(absl::Nanoseconds(1500)), "1.5µs");
  EXPECT_EQ(GoDurationString(absl::Milliseconds(100)), "100ms");
  EXPECT_EQ(GoDurationString(absl::Microseconds(2250)), "2.25ms");
  EXPECT_EQ(GoDurationString(absl::Seconds(1)), "1s");
  EXPECT_EQ(GoDurationString(absl::Milliseconds(1500)), "1.5s");
  EXPECT_EQ(GoDurationString(absl::Minutes(1)), "1m0s");
  EXPECT_EQ(GoDurationString(absl::Seconds(90)), "1m30s");
  EXPECT_EQ(GoDurationString(absl::Hours(1)), "1h0m0s");
  EXPECT_EQ(GoDurationString(absl::Hours(2) + absl::Nanoseconds(1)), "2h0m0.000000001s");
  EXPECT_EQ(GoDurationString(-absl::Seconds(2)), "-2s");
}

}  // namespace

}  // namespace handoff::load
