// Copyright 2026 The handoff Authors.

#include "server/work.h"

#include <thread>

#include "absl/strings/match.h"
#include "dispatch/dispatcher.h"
#include "dispatch/job_not_run.h"
#include "gtest/gtest.h"
#include "tests/util/wait_until.h"

namespace handoff {
namespace {

TEST(WorkTest, ValidateNamesTheField) {
  v1::WorkRequest req;
  req.set_cpu_us(kMaxCpuUs);
  req.set_sleep_us(kMaxSleepUs);
  EXPECT_TRUE(ValidateWork(req).ok());
  req.set_cpu_us(kMaxCpuUs + 1);
  absl::Status s = ValidateWork(req);
  EXPECT_TRUE(absl::IsInvalidArgument(s));
  EXPECT_TRUE(absl::StartsWith(s.message(), "cpu_us")) << s;
  req.set_cpu_us(0);
  req.set_sleep_us(kMaxSleepUs + 1);
  s = ValidateWork(req);
  EXPECT_TRUE(absl::StartsWith(s.message(), "sleep_us")) << s;
}

TEST(WorkTest, ALiveContextLetsWorkSpendItsCpuAndSleepAndSaySo) {
  WorkCounters c;
  v1::WorkRequest req;
  req.set_cpu_us(3000);
  req.set_sleep_us(2000);
  req.set_payload("x");
  auto [ctx, cancel] = WithTimeout(Context::Background(), absl::Seconds(10));
  absl::StatusOr<v1::WorkReply> r =
      RunWork(req, ctx, 1, absl::Microseconds(7), c, [] { return true; });
  cancel();
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->payload(), "x");
  EXPECT_EQ(r->worker(), 1u);
  EXPECT_EQ(r->queued_us(), 7u);
  EXPECT_GE(r->cpu_us_done(), 3000u);
  EXPECT_GE(r->ran_us(), 5000u);
  EXPECT_EQ(c.started.load(), 1);
  EXPECT_EQ(c.completed.load(), 1);
}

TEST(WorkTest, CancelStopsTheCpuPhaseEarly) {
  WorkCounters c;
  v1::WorkRequest req;
  req.set_cpu_us(kMaxCpuUs);
  auto [ctx, cancel] = WithCancel(Context::Background());
  std::thread canceller([&, cancel = cancel] {
    // Cancelled either way, so that a Work that never starts fails the test
    // below rather than hanging it.
    EXPECT_TRUE(testing::WaitUntil([&] { return c.started.load() == 1; }));
    cancel();
  });
  const absl::Time start = absl::Now();
  absl::StatusOr<v1::WorkReply> r = RunWork(req, ctx, 0, {}, c, [] { return true; });
  canceller.join();
  EXPECT_TRUE(absl::IsCancelled(r.status())) << r.status();
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));
  EXPECT_EQ(c.stopped_early.load(), 1);
  EXPECT_EQ(c.completed.load(), 0);
}

TEST(WorkTest, DeadlineStopsTheSleepAtTheDeadline) {
  WorkCounters c;
  v1::WorkRequest req;
  req.set_sleep_us(kMaxSleepUs);
  auto [ctx, cancel] =
      WithTimeout(Context::Background(), absl::Milliseconds(100));
  const absl::Time start = absl::Now();
  absl::StatusOr<v1::WorkReply> r = RunWork(req, ctx, 0, {}, c, [] { return true; });
  cancel();
  EXPECT_TRUE(absl::IsDeadlineExceeded(r.status())) << r.status();
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));
  EXPECT_EQ(c.stopped_early.load(), 1);
}

// Skipped, the job is not run: it throws JobNotRun, so that its worker
// counts it as a job dropped unrun (expired), not as a run, with the
// worker's own "skipped: ...", which its job's on_error counts in
// `skipped` (RefusedAtStartTest.AWorkThatFindsTooLittleTimeLeftAsItStartsIsTheWorkersSkip).
TEST(WorkTest, SkipsAJobThatCannotFinishInTimeUnrun) {
  WorkCounters c;
  v1::WorkRequest req;
  req.set_cpu_us(1'000'000);
  auto [ctx, cancel] =
      WithTimeout(Context::Background(), absl::Milliseconds(100));
  absl::Status why;
  try {
    (void)RunWork(req, ctx, 0, {}, c, [] { return true; });
  } catch (JobNotRun& not_run) {
    why = std::move(not_run).why();
  }
  cancel();
  EXPECT_TRUE(SkippedByWorker(why)) << why;
  EXPECT_EQ(c.skipped.load(), 0) << "counted by the job's on_error, not twice";
  EXPECT_EQ(c.started.load(), 0);
}

}  // namespace
}  // namespace handoff
