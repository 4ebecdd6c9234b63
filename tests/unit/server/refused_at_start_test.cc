// Copyright 2026 The handoff Authors.
//
// A job refused at its start because its call was already answered
// (JobStartHeaders::JobStarting false: the call's deadline or cancel
// answered it after the worker's last check, before the job began) never
// ran, and is counted as a job dropped unrun is: in
// handoff_jobs_expired_in_queue_total, not as a run. So is one whose
// deadline passed after that check (GatewayCore::StartedLate).

#include <optional>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "dispatch/chan.h"
#include "dispatch/clock.h"
#include "dispatch/context.h"
#include "dispatch/dispatcher.h"
#include "dispatch/job_not_run.h"
#include "grpcpp/support/server_callback.h"
#include "gtest/gtest.h"
#include "server/config.h"
#include "server/gateway_core.h"
#include "server/handler_registry.h"
#include "server/job_start_headers.h"
#include "server/reply_job.h"
#include "server/work.h"

namespace handoff {
namespace {

// A unary reactor bound to no call: its Finish is kept by gRPC until a
// call would bind it, which none does.
class UnboundReactor : public grpc::ServerUnaryReactor {
 public:
  void OnDone() override {}
};

// A gateway core over one worker.
class RefusedAtStartTest : public ::testing::Test {
 protected:
  static DispatcherOptions OneWorker() {
    DispatcherOptions options;
    options.workers = 1;
    return options;
  }

  // Runs `job` on this thread as its worker would, and returns the status
  // it threw in a JobNotRun; OK if it ran instead.
  static absl::Status RunExpectingJobNotRun(Job& job) {
    try {
      job.run(RunInfo{job.ctx, 0, absl::ZeroDuration()});
    } catch (JobNotRun& not_run) {
      return std::move(not_run).why();
    }
    return absl::OkStatus();
  }

  ServerConfig config;
  Dispatcher dispatcher{OneWorker()};
  HandlerRegistry registry;
  GatewayCore core{config, dispatcher, registry};
};

TEST_F(RefusedAtStartTest, AWorkJobWhoseCallWasAnsweredAsItStartsIsCountedUnrunNotRun) {
  // The call is answered (its deadline, its client's cancel) just after the
  // worker's last check of the job's Context: the Context the worker saw
  // was live, and the job's start finds the call answered.
  UnboundReactor reactor;
  JobStartHeaders headers(&reactor);
  headers.Finish(grpc::Status(grpc::StatusCode::DEADLINE_EXCEEDED, "the call's deadline"));

  auto [ctx, cancel] = WithTimeout(Context::Background(), absl::Seconds(30));
  v1::WorkRequest req;
  Chan<Outcome<v1::WorkReply>> out(1);
  SubmitReplyJob<v1::WorkReply>(
      core, ctx, WorkCost(req, core.work_counters()),
      [&req, counters = &core.work_counters(), &headers](const RunInfo& info) {
        return RunWork(req, info.ctx, info.worker, info.queued, *counters,
                       [&headers] { return headers.JobStarting(); });
      },
      [out](Outcome<v1::WorkReply> o) { out.TrySend(std::move(o)).IgnoreError(); });
  std::optional<Outcome<v1::WorkReply>> got = out.Recv();
  ASSERT_TRUE(got.has_value());
  EXPECT_TRUE(absl::IsCancelled(got->status)) << got->status;
  EXPECT_FALSE(headers.started());
  dispatcher.Stop();  // the worker's counts are in once its threads are joined
  cancel();

  const DispatcherStats stats = dispatcher.Stats();
  EXPECT_EQ(stats.completed, 0) << "a job that never ran was counted as run";
  EXPECT_EQ(stats.expired, 1) << "a job that never ran is counted as dropped unrun";
  EXPECT_EQ(stats.failed, 0);
  const WorkCounters& work = core.work_counters();
  EXPECT_EQ(work.started.load(), 0);
  EXPECT_EQ(work.completed.load(), 0);
  EXPECT_EQ(work.stopped_early.load(), 0);
  EXPECT_EQ(work.skipped.load(), 0);
}

// The moment StartedLate is for cannot be timed from outside: the deadline
// passes between the dispatcher's check and the job's start. So the job is
// run here by hand, as its worker would, with a deadline already past.
TEST_F(RefusedAtStartTest, AJobWhoseDeadlinePassedAfterTheWorkersCheckThrowsJobNotRun) {
  auto [ctx, cancel] =
      WithDeadline(Context::Background(), MonotonicNow() - absl::Milliseconds(1));
  bool body_ran = false;
  Chan<Outcome<v1::WorkReply>> out(1);
  Job job = ReplyJob<v1::WorkReply>(
      core, ctx, JobCost{},
      [&body_ran](const RunInfo&) -> absl::StatusOr<v1::WorkReply> {
        body_ran = true;
        return v1::WorkReply();
      },
      [out](Outcome<v1::WorkReply> o) { out.TrySend(std::move(o)).IgnoreError(); });

  absl::Status why = RunExpectingJobNotRun(job);
  EXPECT_FALSE(why.ok()) << "a job that starts past its deadline ran as a job";
  EXPECT_FALSE(body_ran);
  EXPECT_TRUE(absl::IsDeadlineExceeded(why)) << why;
  EXPECT_EQ(core.metrics().started_after_deadline.load(), 1);
  EXPECT_FALSE(out.TryRecv().ok()) << "answered by the run, not by on_error";

  // The worker hands JobNotRun's status to on_error: that is the answer.
  job.on_error(std::move(why));
  absl::StatusOr<Outcome<v1::WorkReply>> got = out.TryRecv();
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_TRUE(absl::IsDeadlineExceeded(got->status)) << got->status;
  cancel();
}

// The worker found enough of the deadline left for a Work's cpu_us and
// RunWork, a moment later, too little: the job is the worker's skip all the
// same, answered as the worker answers one (DEADLINE_EXCEEDED "skipped: ...",
// SkippedByWorker, which names the server's deadline where it was the
// server's) and counted once in handoff_work_jobs_skipped_total. That
// moment cannot be timed from outside, so the job is run here by hand, as
// its worker would, with less of its deadline left than its cpu_us.
TEST_F(RefusedAtStartTest, AWorkThatFindsTooLittleTimeLeftAsItStartsIsTheWorkersSkip) {
  auto [ctx, cancel] = WithTimeout(Context::Background(), absl::Seconds(30));
  v1::WorkRequest req;
  req.set_cpu_us(kMaxCpuUs);
  auto [late, cancel_late] = WithTimeout(ctx, absl::Seconds(1));  // under its 10 s
  Chan<Outcome<v1::WorkReply>> out(1);
  WorkCounters& counters = core.work_counters();
  Job job = ReplyJob<v1::WorkReply>(
      core, late, WorkCost(req, counters),
      [&req, &counters](const RunInfo& info) {
        return RunWork(req, info.ctx, info.worker, info.queued, counters, [] { return true; });
      },
      [out](Outcome<v1::WorkReply> o) { out.TrySend(std::move(o)).IgnoreError(); });

  absl::Status why = RunExpectingJobNotRun(job);
  EXPECT_FALSE(why.ok()) << "a Work with too little time left ran";
  // As its worker does with JobNotRun's status.
  job.on_error(std::move(why));
  absl::StatusOr<Outcome<v1::WorkReply>> got = out.TryRecv();
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_TRUE(SkippedByWorker(got->status)) << got->status;
  EXPECT_EQ(counters.skipped.load(), 1) << "a skip is counted once";
  EXPECT_EQ(counters.started.load(), 0);
  cancel_late();
  cancel();
}

// What only a started call's answer carries (UnaryCall's retry pushback)
// is decided inside Finish, as the call closes to jobs: a job either
// started before it, and the answer carries it, or finds the call answered
// and does not run.
TEST(JobStartHeadersTest, FinishRunsItsIfStartedStepOnlyForACallWhoseJobStarted) {
  UnboundReactor unstarted_call;
  JobStartHeaders unstarted(&unstarted_call);
  bool ran = false;
  unstarted.Finish(grpc::Status(grpc::StatusCode::UNAVAILABLE, "drained"), [&] { ran = true; });
  EXPECT_FALSE(ran) << "no job had started";
  EXPECT_FALSE(unstarted.JobStarting()) << "a job after the answer must not run";

  UnboundReactor started_call;
  JobStartHeaders started(&started_call);
  ASSERT_TRUE(started.JobStarting());
  started.Finish(grpc::Status(grpc::StatusCode::UNAVAILABLE, "drained"), [&] { ran = true; });
  EXPECT_TRUE(ran) << "the job had started";
}

}  // namespace
}  // namespace handoff
