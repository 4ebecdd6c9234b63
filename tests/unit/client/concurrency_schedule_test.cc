// ghz's --concurrency-schedule: how many slots a run has open, and when each
// opens and closes.
#include "client/load/concurrency_schedule.h"

#include <gtest/gtest.h>

#include "absl/strings/match.h"

namespace handoff::load {
namespace {

constexpr int64_t kSecond = 1'000'000'000;

LoadOptions Step(int start, int step, int end, absl::Duration width) {
  LoadOptions o;
  o.total = 1000;
  o.concurrency_schedule = LoadSchedule::kStep;
  o.concurrency_start = start;
  o.concurrency_step = step;
  o.concurrency_end = end;
  o.concurrency_step_duration = width;
  return o;
}

ConcurrencySchedule MakeOk(const LoadOptions& o) {
  auto made = ConcurrencySchedule::Make(o);
  EXPECT_TRUE(made.ok()) << made.status();
  return made.ok() ? *made : ConcurrencySchedule::Constant(1);
}

std::string Error(const LoadOptions& o) {
  auto made = ConcurrencySchedule::Make(o);
  EXPECT_FALSE(made.ok());
  return made.ok() ? "" : std::string(made.status().message());
}

TEST(ConcurrencyScheduleTest, ConstHasMinusCSlotsOpenThroughout) {
  LoadOptions o;
  o.concurrency = 7;
  const ConcurrencySchedule s = MakeOk(o);
  EXPECT_EQ(s.slots(), 7);
  for (int k = 0; k < 7; ++k) {
    EXPECT_EQ(s.OpensAt(k), 0);
    EXPECT_EQ(s.ClosesAt(k), ConcurrencySchedule::kNever);
  }
}

TEST(ConcurrencyScheduleTest, AStepUpOpensEachStepsSlotsAtItsStartAndStopsAtTheEnd) {
  // 2, 5, 8, then 10 (the end, not 11) from 3 s on.
  const ConcurrencySchedule s = MakeOk(Step(2, 3, 10, absl::Seconds(1)));
  EXPECT_EQ(s.slots(), 10);
  EXPECT_EQ(s.OpensAt(0), 0);
  EXPECT_EQ(s.OpensAt(1), 0);
  EXPECT_EQ(s.OpensAt(2), 1 * kSecond);
  EXPECT_EQ(s.OpensAt(4), 1 * kSecond);
  EXPECT_EQ(s.OpensAt(5), 2 * kSecond);
  EXPECT_EQ(s.OpensAt(8), 3 * kSecond);
  EXPECT_EQ(s.OpensAt(9), 3 * kSecond);
  EXPECT_EQ(s.ClosesAt(9), ConcurrencySchedule::kNever);
}

TEST(ConcurrencyScheduleTest, AStepDownClosesSlotsAndKeepsOneOpen) {
  // 10, 6, 2, then 1: a falling count never goes below one slot.
  const ConcurrencySchedule s = MakeOk(Step(10, -4, 0, absl::Milliseconds(500)));
  EXPECT_EQ(s.slots(), 10);
  EXPECT_EQ(s.OpensAt(9), 0);
  EXPECT_EQ(s.ClosesAt(9), kSecond / 2);
  EXPECT_EQ(s.ClosesAt(6), kSecond / 2);
  EXPECT_EQ(s.ClosesAt(5), kSecond);
  EXPECT_EQ(s.ClosesAt(2), kSecond);
  EXPECT_EQ(s.ClosesAt(1), 3 * kSecond / 2);
  EXPECT_EQ(s.ClosesAt(0), ConcurrencySchedule::kNever);
}

TEST(ConcurrencyScheduleTest, ALineStepsEverySecond) {
  LoadOptions o = Step(20, 2, 26, absl::ZeroDuration());
  o.concurrency_schedule = LoadSchedule::kLine;
  const ConcurrencySchedule s = MakeOk(o);
  EXPECT_EQ(s.slots(), 26);
  EXPECT_EQ(s.OpensAt(19), 0);
  EXPECT_EQ(s.OpensAt(20), kSecond);
  EXPECT_EQ(s.OpensAt(25), 3 * kSecond);
}

TEST(ConcurrencyScheduleTest, MaxDurationOrTheRunsLengthStopsTheRamp) {
  LoadOptions o = Step(1, 1, 0, absl::Seconds(1));
  o.concurrency_max_duration = absl::Milliseconds(2500);  // steps at 0, 1 and 2 s
  EXPECT_EQ(MakeOk(o).slots(), 3);
  LoadOptions timed = Step(1, 1, 0, absl::Seconds(1));
  timed.duration = absl::Seconds(4);  // -z: steps at 0 to 3 s
  EXPECT_EQ(MakeOk(timed).slots(), 4);
}

TEST(ConcurrencyScheduleTest, MaxDurationWithAnEndJumpsToItAtTheNextStepAsGhzDoes) {
  // 1, 2, 3 slots at 0, 1 and 2 s; the ramp ends at 2.5 s, and at the next
  // step, 3 s, the count goes to --concurrency-end, 10.
  LoadOptions o = Step(1, 1, 10, absl::Seconds(1));
  o.concurrency_max_duration = absl::Milliseconds(2500);
  const ConcurrencySchedule s = MakeOk(o);
  EXPECT_EQ(s.slots(), 10);
  EXPECT_EQ(s.OpensAt(2), 2 * kSecond);
  EXPECT_EQ(s.OpensAt(3), 3 * kSecond);
  EXPECT_EQ(s.OpensAt(9), 3 * kSecond);
  // Falling: 8, 6 slots, then down to 2 at once.
  LoadOptions falling = Step(8, -2, 2, absl::Seconds(1));
  falling.concurrency_max_duration = absl::Milliseconds(1500);
  const ConcurrencySchedule f = MakeOk(falling);
  EXPECT_EQ(f.ClosesAt(6), kSecond);
  EXPECT_EQ(f.ClosesAt(5), 2 * kSecond);
  EXPECT_EQ(f.ClosesAt(2), 2 * kSecond);
  EXPECT_EQ(f.ClosesAt(1), ConcurrencySchedule::kNever);
}

TEST(ConcurrencyScheduleTest, BadSchedulesAreRefusedNamingTheFlag) {
  EXPECT_EQ(Error(Step(0, 1, 5, absl::Seconds(1))),
            "--concurrency-schedule=step needs --concurrency-start above 0");
  EXPECT_EQ(Error(Step(1, 0, 5, absl::Seconds(1))),
            "--concurrency-schedule=step needs a --concurrency-step other than 0");
  EXPECT_EQ(Error(Step(1, 1, 5, absl::ZeroDuration())),
            "--concurrency-schedule=step needs --concurrency-step-duration");
  EXPECT_EQ(Error(Step(5, 1, 2, absl::Seconds(1))),
            "--concurrency-schedule=step: --concurrency-end 2 is behind --concurrency-start 5 "
            "for a --concurrency-step of 1");
  EXPECT_TRUE(absl::StartsWith(Error(Step(1, 1, 0, absl::Seconds(1))),
                               "--concurrency-schedule=step rises without end"));
  EXPECT_TRUE(absl::StrContains(Error(Step(1, 5000, 20000, absl::Seconds(1))),
                                "reaches 10001 slots; handoff load runs at most 10000"));
  LoadOptions stray;
  stray.concurrency_start = 5;
  EXPECT_TRUE(absl::EndsWith(Error(stray), "shape --concurrency-schedule=step or line"));
}

}  // namespace
}  // namespace handoff::load
