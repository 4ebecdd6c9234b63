// The slot sets both engines keep: slots not yet opened by the concurrency
// schedule, and --async's spare and waiting slots.
#include "client/load/slot_sets.h"

#include <gtest/gtest.h>

namespace handoff::load {
namespace {

struct FakeSlot {
  int index = 0;
};

constexpr int64_t kStart = 1'000'000'000;
constexpr int64_t kSecond = 1'000'000'000;

// Slots 0 and 1 at once, then one more a second up to 4 (a line schedule).
LoadOptions Rising(bool count_bounded) {
  LoadOptions o;
  o.concurrency_schedule = LoadSchedule::kLine;
  o.concurrency_start = 2;
  o.concurrency_step = 1;
  o.concurrency_end = 4;
  o.total = 100;
  if (!count_bounded) o.duration = absl::Seconds(60);
  return o;
}

TEST(ClosedSlotsTest, KeepsTheClosedSlotsAndGivesThemOutAsTheyOpen) {
  CallSchedule schedule(Rising(/*count_bounded=*/false), kStart);
  ClosedSlots<FakeSlot> closed(&schedule);
  FakeSlot s0{0}, s1{1}, s2{2}, s3{3};
  const std::vector<FakeSlot*> open = closed.SplitOpen({&s3, &s0, &s2, &s1}, kStart);
  EXPECT_EQ(open, (std::vector<FakeSlot*>{&s0, &s1}));
  EXPECT_FALSE(closed.empty());
  EXPECT_EQ(closed.WakeAt(kStart), kStart + kSecond) << "-z run: no polling";
  EXPECT_TRUE(closed.TakeOpen(kStart + kSecond - 1).empty());
  EXPECT_EQ(closed.TakeOpen(kStart + kSecond), (std::vector<FakeSlot*>{&s2}));
  EXPECT_EQ(closed.WakeAt(kStart + kSecond), kStart + 2 * kSecond);
  EXPECT_EQ(closed.TakeAll(), (std::vector<FakeSlot*>{&s3}));
  EXPECT_TRUE(closed.empty());
}

TEST(ClosedSlotsTest, AnNRunLooksAgainSoonerThanTheNextOpening) {
  CallSchedule schedule(Rising(/*count_bounded=*/true), kStart);
  ClosedSlots<FakeSlot> closed(&schedule);
  FakeSlot s3{3};
  EXPECT_TRUE(closed.SplitOpen({&s3}, kStart).empty());
  EXPECT_EQ(closed.WakeAt(kStart), kStart + ClosedSlots<FakeSlot>::kPollNs)
      << "its calls may run out first";
}

TEST(AsyncSlotsTest, SpareSlotsAreReusedAndPastTheCapASuccessorWaitsForRoom) {
  AsyncSlots<FakeSlot> async;
  EXPECT_EQ(async.TakeSpare(), nullptr);
  std::vector<FakeSlot> successors(AsyncSlots<FakeSlot>::kMaxCalls + 1);
  for (int64_t i = 0; i < AsyncSlots<FakeSlot>::kMaxCalls; ++i) {
    ASSERT_TRUE(async.Begin(&successors[static_cast<size_t>(i)])) << i;
  }
  FakeSlot& over = successors.back();
  EXPECT_FALSE(async.Begin(&over)) << "one call past the cap";
  FakeSlot ended;
  EXPECT_EQ(async.End(&ended), &over) << "room again: the waiting successor goes on";
  EXPECT_EQ(async.TakeSpare(), &ended);
  EXPECT_EQ(async.TakeSpare(), nullptr);
  EXPECT_EQ(async.End(&ended), nullptr) << "nobody else is waiting";
  EXPECT_TRUE(async.Begin(&over)) << "one below the cap: room for one";
  FakeSlot another;
  EXPECT_FALSE(async.Begin(&another)) << "past the cap again";
  EXPECT_EQ(async.TakeParked(), (std::vector<FakeSlot*>{&another}));
  EXPECT_TRUE(async.TakeParked().empty());
}

}  // namespace
}  // namespace handoff::load
