// RateSchedule: when each call of a paced run is due, at one rate and on
// ghz's step and line ramps.
#include "client/load/rate_schedule.h"

#include <gtest/gtest.h>

namespace handoff::load {
namespace {

LoadOptions Ramp(LoadSchedule schedule, double start, double step, double end = 0) {
  LoadOptions o;
  o.total = 1'000'000;
  o.load_schedule = schedule;
  o.load_start = start;
  o.load_step = step;
  o.load_end = end;
  if (schedule == LoadSchedule::kStep) o.load_step_duration = absl::Seconds(1);
  return o;
}

TEST(RateScheduleTest, WithoutARateNothingIsPaced) {
  EXPECT_FALSE(RateSchedule(LoadOptions()).paced());
}

TEST(RateScheduleTest, OneRateSpacesTheCallsEvenly) {
  LoadOptions o;
  o.rps = 100;
  const RateSchedule s(o);
  ASSERT_TRUE(s.paced());
  EXPECT_DOUBLE_EQ(s.DueSeconds(0), 0);
  EXPECT_DOUBLE_EQ(s.DueSeconds(50), 0.5);
  EXPECT_DOUBLE_EQ(s.DueSeconds(1000), 10);
}

TEST(RateScheduleTest, AStepRampRisesEveryStepAndHoldsAtLoadEnd) {
  // 10 calls/s for a second, 20 for the next, then 30 for ever.
  const RateSchedule s(Ramp(LoadSchedule::kStep, 10, 10, 30));
  EXPECT_DOUBLE_EQ(s.DueSeconds(5), 0.5);
  EXPECT_DOUBLE_EQ(s.DueSeconds(10), 1.0);
  EXPECT_DOUBLE_EQ(s.DueSeconds(20), 1.5);
  EXPECT_DOUBLE_EQ(s.DueSeconds(30), 2.0);
  EXPECT_DOUBLE_EQ(s.DueSeconds(60), 3.0);
  EXPECT_DOUBLE_EQ(s.DueSeconds(330), 12.0);
}

TEST(RateScheduleTest, AStepOvershootingLoadEndStopsAtIt) {
  // 10, then 25 would pass 20: the second step runs at 20.
  const RateSchedule s(Ramp(LoadSchedule::kStep, 10, 15, 20));
  EXPECT_DOUBLE_EQ(s.DueSeconds(10), 1.0);
  EXPECT_DOUBLE_EQ(s.DueSeconds(30), 2.0);
}

TEST(RateScheduleTest, ALineStepsEverySecondWhateverTheStepDuration) {
  LoadOptions o = Ramp(LoadSchedule::kLine, 5, 5);
  o.load_step_duration = absl::Milliseconds(10);  // ignored, as in ghz
  const RateSchedule s(o);
  EXPECT_DOUBLE_EQ(s.DueSeconds(5), 1.0);    // 5 calls in the first second
  EXPECT_DOUBLE_EQ(s.DueSeconds(15), 2.0);   // 10 in the second
  EXPECT_DOUBLE_EQ(s.DueSeconds(30), 3.0);   // 15 in the third
}

TEST(RateScheduleTest, AFallingRampStopsAtLoadEnd) {
  // 40, 30, then 20 for ever.
  const RateSchedule s(Ramp(LoadSchedule::kStep, 40, -10, 20));
  EXPECT_DOUBLE_EQ(s.DueSeconds(40), 1.0);
  EXPECT_DOUBLE_EQ(s.DueSeconds(70), 2.0);
  EXPECT_DOUBLE_EQ(s.DueSeconds(110), 4.0);
}

TEST(RateScheduleTest, LoadMaxDurationEndsTheRampWhereGhzsPacerDoes) {
  // 10, 20, and at 2 s the ramp is over at the rate of the step that begins
  // then, 10 + 10 x 2 = 30, from then on: 20 calls more by 2.667 s.
  LoadOptions o = Ramp(LoadSchedule::kStep, 10, 10);
  o.load_max_duration = absl::Seconds(2);
  {
    const RateSchedule s(o);
    EXPECT_DOUBLE_EQ(s.DueSeconds(30), 2.0);
    EXPECT_DOUBLE_EQ(s.DueSeconds(50), 2.0 + 20.0 / 30);
    EXPECT_DOUBLE_EQ(s.DueSeconds(90), 2.0 + 60.0 / 30);
  }
  // Ended in the middle of a step, it keeps that step's rate.
  o.load_max_duration = absl::Milliseconds(2500);
  {
    const RateSchedule s(o);
    EXPECT_DOUBLE_EQ(s.DueSeconds(60), 3.0);
    EXPECT_DOUBLE_EQ(s.DueSeconds(90), 4.0);
  }
  // With --load-end, the rate goes to it at once, reached or not.
  o.load_max_duration = absl::Seconds(2);
  o.load_end = 100;
  {
    const RateSchedule s(o);
    EXPECT_DOUBLE_EQ(s.DueSeconds(30), 2.0);
    EXPECT_DOUBLE_EQ(s.DueSeconds(50), 2.0 + 20.0 / 100);
  }
  // Steps counted exactly: 0.3 s of 0.1 s steps is three of them.
  LoadOptions fine = Ramp(LoadSchedule::kStep, 10, 10);
  fine.load_step_duration = absl::Milliseconds(100);
  fine.load_max_duration = absl::Milliseconds(300);
  {
    const RateSchedule s(fine);
    // 1 + 2 + 3 calls in the three steps, then 40 calls/s.
    EXPECT_NEAR(s.DueSeconds(6), 0.3, 1e-9);
    EXPECT_NEAR(s.DueSeconds(10), 0.3 + 4.0 / 40, 1e-9);
  }
}

TEST(RateScheduleTest, AnEndlessRampIsLaidOutAsFarAsTheRunGoes) {
  // 1, 2, 3, 4 calls/s: ten calls fill the first four seconds; the rate
  // then stays at 4 rather than the ramp being laid out for ever.
  LoadOptions o = Ramp(LoadSchedule::kStep, 1, 1);
  o.total = 10;
  const RateSchedule s(o);
  EXPECT_DOUBLE_EQ(s.DueSeconds(9), 3.75);
  EXPECT_DOUBLE_EQ(s.DueSeconds(12), 4.5);
}

}  // namespace
}  // namespace handoff::load
