// Copyright 2026 The handoff Authors.
//
// Dispatcher: jobs go only to idle workers, expired jobs never run, Stop()
// loses nothing, and the stats tell the truth.

#include "dispatch/dispatcher.h"

#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <iterator>
#include <map>
#include <memory>
#include <new>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "dispatch/clock.h"
#include "dispatch/internal/cpus.h"
#include "dispatch/select.h"
#include "gtest/gtest.h"
#include "tests/unit/dispatch/test_util.h"
#include "tests/util/threads.h"

namespace handoff {
namespace {

using internal::CpusOf;
using testing::WaitUntil;

// A job that reports that it started, then holds its worker until released.
Job BlockingJob(Chan<int> started, Chan<int> release, int id) {
  Job job;
  job.run = [started, release, id](const RunInfo&) {
    ASSERT_TRUE(started.Send(int(id)).ok());
    release.Recv();
  };
  return job;
}

// Closes `release` when a test ends, so that a failed assertion cannot leave a
// worker blocked and the Dispatcher's destructor waiting for it forever.
struct ReleaseAtExit {
  Chan<int> release;
  ~ReleaseAtExit() { release.Close().IgnoreError(); }
};

// A job that does nothing: what a refusal test submits.
Job NoopJob() {
  Job job;
  job.run = [](const RunInfo&) {};
  return job;
}

Job RecordingJob(Context ctx, std::shared_ptr<std::atomic<int>> ran,
                 Chan<absl::Status> errors) {
  Job job;
  job.ctx = std::move(ctx);
  job.run = [ran](const RunInfo&) { ++*ran; };
  job.on_error = [errors](absl::Status s) {
    ASSERT_TRUE(errors.Send(std::move(s)).ok());
  };
  return job;
}

TEST(DispatcherTest, RunsAJobAndReportsWhereAndHowLongItQueued) {
  Dispatcher d({.workers = 2, .queue_depth = 4});
  Chan<int> worker(1);
  Job job;
  job.run = [&](const RunInfo& info) {
    EXPECT_GE(info.queued, absl::ZeroDuration());
    ASSERT_TRUE(worker.Send(int(info.worker)).ok());
  };
  ASSERT_TRUE(d.TrySubmit(std::move(job)).ok());
  std::optional<int> w = worker.Recv();
  ASSERT_TRUE(w.has_value());
  EXPECT_TRUE(*w == 0 || *w == 1);
}

// Idle workers are served as a stack: a job goes to the worker that became
// idle last. So a caller that waits for each reply keeps one worker busy,
// instead of handing each job to the worker idle longest (and asleep).
TEST(DispatcherTest, AJobGoesToTheWorkerThatBecameIdleLast) {
  constexpr int kWorkers = 3;
  Dispatcher d({.workers = kWorkers, .queue_depth = 4});
  const Chan<const Chan<Job>*>& idle = internal::DispatcherAccess::Idle(d);
  Chan<int> ran(1);
  std::optional<int> first;
  for (int i = 0; i < 20; ++i) {
    // Every worker registered, the last job's worker last of all.
    ASSERT_TRUE(WaitUntil([&] { return idle.size() == kWorkers; }));
    Job job;
    job.run = [ran](const RunInfo& info) {
      ASSERT_TRUE(ran.Send(int(info.worker)).ok());
    };
    ASSERT_TRUE(d.TrySubmit(std::move(job)).ok());
    std::optional<int> worker = ran.Recv();
    ASSERT_TRUE(worker.has_value());
    if (!first.has_value()) first = worker;
    EXPECT_EQ(*worker, *first) << "job " << i;
  }
}

// With every worker busy, the next job waits in the queue: it goes only to a
// worker that is idle.
TEST(DispatcherTest, AJobGoesOnlyToAnIdleWorker) {
  Dispatcher d({.workers = 2, .queue_depth = 4});
  Chan<int> started(8), release(0);
  ReleaseAtExit release_at_exit{release};
  ASSERT_TRUE(d.TrySubmit(BlockingJob(started, release, 1)).ok());
  ASSERT_TRUE(d.TrySubmit(BlockingJob(started, release, 2)).ok());
  ASSERT_TRUE(started.Recv().has_value());
  ASSERT_TRUE(started.Recv().has_value());
  ASSERT_TRUE(d.TrySubmit(BlockingJob(started, release, 3)).ok());

  ASSERT_TRUE(WaitUntil([&] { return d.Stats().queued == 1; }));
  DispatcherStats s = d.Stats();
  EXPECT_EQ(s.busy, 2);
  EXPECT_EQ(s.idle, 0);
  EXPECT_TRUE(IsChannelEmpty(started.TryRecv().status()))
      << "job 3 started although no worker was idle";

  ASSERT_TRUE(release.Send(0).ok());  // frees one worker...
  EXPECT_EQ(started.Recv(), 3);       // ...which takes job 3
  ASSERT_TRUE(release.Send(0).ok());
  ASSERT_TRUE(release.Send(0).ok());
  d.Stop();
  EXPECT_EQ(d.Stats().completed, 3);
}

// A job whose deadline passes while it is queued is never run, is counted,
// and its owner hears why.
TEST(DispatcherTest, AJobThatExpiresInTheQueueNeverRuns) {
  // Admission is not under test (a stall before TrySubmit must not let it
  // refuse the job); the deadline is long enough to outlast one.
  Dispatcher d({.workers = 1, .queue_depth = 4, .shed_late_jobs = false});
  Chan<int> started(1), release(0);
  ReleaseAtExit release_at_exit{release};
  ASSERT_TRUE(d.TrySubmit(BlockingJob(started, release, 1)).ok());
  ASSERT_TRUE(started.Recv().has_value());

  auto ran = std::make_shared<std::atomic<int>>(0);
  Chan<absl::Status> errors(1);
  auto [ctx, cancel] = WithTimeout(Context::Background(), absl::Milliseconds(200));
  ASSERT_TRUE(d.TrySubmit(RecordingJob(ctx, ran, errors)).ok());
  // The dispatcher drops it at its deadline, while the worker is still busy.
  std::optional<absl::Status> why = errors.Recv();
  ASSERT_TRUE(why.has_value());
  EXPECT_TRUE(absl::IsDeadlineExceeded(*why)) << *why;
  EXPECT_EQ(d.Stats().expired, 1);

  ASSERT_TRUE(release.Send(0).ok());
  d.Stop();
  EXPECT_EQ(ran->load(), 0);
  EXPECT_EQ(d.Stats().completed, 1);
}

// The dispatcher watches only the context of the job it holds. Jobs queued
// behind that one are taken by a finishing worker itself (TakeQueuedJob),
// past the dispatcher: the worker's own pre-run check is all that stops
// those whose context ended meanwhile. Queues such jobs with `ctx` behind a
// held job on a blocked worker, lets `end(ctx)` end their context, then
// frees the worker: none may run, each must be reported with `code`.
void ExpectJobsQueuedBehindTheHeldJobNeverRun(
    Context ctx, absl::AnyInvocable<void(const Context&)> end,
    absl::StatusCode code) {
  // Admission is not under test: with the worker blocked, its estimate of
  // the wait could refuse a short deadline before the job is ever queued.
  Dispatcher d({.workers = 1, .queue_depth = 8, .shed_late_jobs = false});
  Chan<int> started(1), release(0);
  ReleaseAtExit release_at_exit{release};
  ASSERT_TRUE(d.TrySubmit(BlockingJob(started, release, 1)).ok());
  ASSERT_TRUE(started.Recv().has_value());
  Job held;
  held.run = [](const RunInfo&) {};
  ASSERT_TRUE(d.TrySubmit(std::move(held)).ok());
  // The dispatcher has taken `held` and waits for an idle worker with it.
  ASSERT_TRUE(testing::WaitForReceivers(internal::DispatcherAccess::Idle(d), 1));

  constexpr int kBehind = 4;
  auto ran = std::make_shared<std::atomic<int>>(0);
  Chan<absl::Status> errors(kBehind);
  for (int i = 0; i < kBehind; ++i) {
    ASSERT_TRUE(d.TrySubmit(RecordingJob(ctx, ran, errors)).ok());
  }
  end(ctx);
  ASSERT_TRUE(ctx.IsDone());
  ASSERT_TRUE(release.Send(0).ok());
  d.Stop();

  EXPECT_EQ(ran->load(), 0) << "ran jobs whose context had ended";
  // Stop() has returned, so every report has been sent.
  ASSERT_TRUE(errors.Close().ok());
  int reported = 0;
  while (std::optional<absl::Status> why = errors.Recv()) {
    ++reported;
    EXPECT_EQ(why->code(), code) << *why;
  }
  EXPECT_EQ(reported, kBehind) << "each dropped job's owner hears why";
  const DispatcherStats s = d.Stats();
  EXPECT_EQ(s.expired, kBehind);
  EXPECT_EQ(s.completed, 2) << "the blocking job and the held one";
}

TEST(DispatcherTest, AJobThatExpiresQueuedBehindTheHeldJobNeverRuns) {
  // Long enough that the jobs are queued before it passes, even under a
  // sanitizer on a loaded machine; the test waits for it, not a sleep.
  auto [ctx, cancel] = WithTimeout(Context::Background(), absl::Milliseconds(500));
  ExpectJobsQueuedBehindTheHeldJobNeverRun(
      ctx, [](const Context& c) { c.Done().Recv(); },  // the deadline passes
      absl::StatusCode::kDeadlineExceeded);
}

TEST(DispatcherTest, AJobCancelledQueuedBehindTheHeldJobNeverRuns) {
  auto [ctx, cancel] = WithCancel(Context::Background());
  ExpectJobsQueuedBehindTheHeldJobNeverRun(
      ctx, [cancel](const Context&) { cancel(); }, absl::StatusCode::kCancelled);
}

// Occupies the shared deadline timer thread (context.h: Done() callbacks of
// a context that expires run on it) until the returned channel is closed,
// so that no context's deadline fires meanwhile: a timer thread that lags,
// as one does behind a slow callback or on a loaded machine.
//
// If the test's thread loses its CPU for the 1 ms between making the
// context and AsyncSelect, the context is already done there, and
// AsyncSelect runs the callback at once, on the test's own thread: holding
// that thread would hang the test (it did, under TSan on a loaded machine).
// So the callback holds only another thread, and otherwise it is tried again.
Chan<int> BlockTheTimerThread() {
  const std::thread::id test_thread = std::this_thread::get_id();
  while (true) {
    Chan<bool> held(1);  // whether the timer thread is the one held
    Chan<int> unblock(0);
    auto [ctx, cancel] = WithTimeout(Context::Background(), absl::Milliseconds(1));
    AsyncSelect(OnDone(ctx, [held, unblock, test_thread] {
      const bool on_timer_thread = std::this_thread::get_id() != test_thread;
      (void)held.Send(on_timer_thread);
      if (on_timer_thread) unblock.Recv();  // until closed
    }));
    if (held.Recv().value_or(false)) return unblock;
  }
}

// A job whose deadline passes while it is queued never runs, even if the
// timer thread has not yet marked its context done: the worker compares the
// deadline with the clock itself.
TEST(DispatcherTest, AJobPastItsDeadlineNeverRunsThoughTheTimerLags) {
  Dispatcher d({.workers = 1, .queue_depth = 4, .shed_late_jobs = false});
  Chan<int> started(1), release(0);
  ReleaseAtExit release_at_exit{release};
  ASSERT_TRUE(d.TrySubmit(BlockingJob(started, release, 1)).ok());
  ASSERT_TRUE(started.Recv().has_value());

  ReleaseAtExit unblock_timer{BlockTheTimerThread()};
  auto ran = std::make_shared<std::atomic<int>>(0);
  Chan<absl::Status> errors(1);
  // Long enough to be submitted before it passes: a context whose deadline
  // has passed when it is made is done at once, on this thread (a 1 ms one
  // was, once, under ThreadSanitizer, and was refused at submission).
  auto [ctx, cancel] = WithTimeout(Context::Background(), absl::Milliseconds(100));
  ASSERT_TRUE(d.TrySubmit(RecordingJob(ctx, ran, errors)).ok());
  // Waits for the clock, not for another thread.
  ASSERT_TRUE(WaitUntil([&] { return MonotonicNow() > ctx.Deadline(); }));
  ASSERT_FALSE(ctx.IsDone()) << "the timer thread was meant to be blocked";
  ASSERT_TRUE(release.Send(0).ok());
  d.Stop();

  EXPECT_EQ(ran->load(), 0) << "ran a job whose deadline had passed";
  ASSERT_TRUE(errors.Close().ok());
  std::optional<absl::Status> why = errors.Recv();
  ASSERT_TRUE(why.has_value()) << "its owner never heard why";
  EXPECT_TRUE(absl::IsDeadlineExceeded(*why)) << *why;
  EXPECT_EQ(d.Stats().expired, 1);
  EXPECT_EQ(d.Stats().completed, 1);
}

TEST(DispatcherTest, ACancelledQueuedJobNeverRuns) {
  Dispatcher d({.workers = 1, .queue_depth = 4});
  Chan<int> started(1), release(0);
  ReleaseAtExit release_at_exit{release};
  ASSERT_TRUE(d.TrySubmit(BlockingJob(started, release, 1)).ok());
  ASSERT_TRUE(started.Recv().has_value());
  auto ran = std::make_shared<std::atomic<int>>(0);
  Chan<absl::Status> errors(1);
  auto [ctx, cancel] = WithCancel(Context::Background());
  ASSERT_TRUE(d.TrySubmit(RecordingJob(ctx, ran, errors)).ok());
  cancel();
  EXPECT_TRUE(absl::IsCancelled(*errors.Recv()));
  ASSERT_TRUE(release.Send(0).ok());
  d.Stop();
  EXPECT_EQ(ran->load(), 0);
}

// A job whose caller has already given up is refused at submission with
// its context's error, by each way of submitting (seeds/002: "Check if
// context is already cancelled"): never run, never accepted (its on_error
// is for accepted jobs), and counted neither as expired nor as a refusal
// for load.
TEST(DispatcherTest, AJobWhoseContextIsAlreadyDoneIsRefusedAtSubmission) {
  Dispatcher d({.workers = 1, .queue_depth = 4});
  auto ran = std::make_shared<std::atomic<int>>(0);
  Chan<absl::Status> errors(8);
  auto [cancelled, cancel] = WithCancel(Context::Background());
  cancel();
  auto [expired, cancel_expired] =
      WithDeadline(Context::Background(), MonotonicNow() - absl::Seconds(1));
  for (const Context& ctx : {cancelled, expired}) {
    bool (*is_its_error)(const absl::Status&) =
        ctx.Deadline() == absl::InfiniteFuture() ? absl::IsCancelled : absl::IsDeadlineExceeded;
    absl::Status s = d.TrySubmit(RecordingJob(ctx, ran, errors));
    EXPECT_TRUE(is_its_error(s)) << "TrySubmit: " << s;
    s = d.Submit(RecordingJob(ctx, ran, errors));
    EXPECT_TRUE(is_its_error(s)) << "Submit: " << s;
    Chan<absl::Status> admitted(1);
    d.AsyncSubmit(RecordingJob(ctx, ran, errors),
                  [admitted](absl::Status s) { ASSERT_TRUE(admitted.Send(s).ok()); });
    s = *admitted.Recv();
    EXPECT_TRUE(is_its_error(s)) << "AsyncSubmit: " << s;
  }
  d.Stop();
  EXPECT_EQ(ran->load(), 0);
  EXPECT_EQ(Select(OnRecv(errors, [] {}), OnDefault([] {})), 1)
      << "a refused job's on_error ran";
  const DispatcherStats stats = d.Stats();
  EXPECT_EQ(stats.expired, 0);
  EXPECT_EQ(stats.rejected(), 0);
  EXPECT_EQ(stats.completed, 0);
}

// A job without a run is refused at once by every way in, and the pool goes
// on: accepted, it crashed the worker that called the empty run, after its
// submitter had been told OK.
TEST(DispatcherTest, AJobWithoutARunIsRefusedAtSubmission) {
  Dispatcher d({.workers = 1, .queue_depth = 4});
  auto errors = std::make_shared<std::atomic<int>>(0);
  auto without_run = [errors] {
    Job job;
    job.on_error = [errors](absl::Status) { ++*errors; };
    return job;
  };
  absl::Status s = d.TrySubmit(without_run());
  EXPECT_TRUE(absl::IsInvalidArgument(s)) << "TrySubmit: " << s;
  EXPECT_NE(s.message().find("no run"), std::string_view::npos) << s;
  s = d.Submit(without_run());
  EXPECT_TRUE(absl::IsInvalidArgument(s)) << "Submit: " << s;
  Chan<absl::Status> admitted(1);
  d.AsyncSubmit(without_run(),
                [admitted](absl::Status s) { ASSERT_TRUE(admitted.Send(s).ok()); });
  s = *admitted.Recv();
  EXPECT_TRUE(absl::IsInvalidArgument(s)) << "AsyncSubmit: " << s;

  // The worker is still there to run the next job.
  Chan<int> ran(1);
  Job job;
  job.run = [ran](const RunInfo&) { ASSERT_TRUE(ran.Send(1).ok()); };
  ASSERT_TRUE(d.TrySubmit(std::move(job)).ok());
  EXPECT_EQ(ran.Recv(), 1);
  d.Stop();
  EXPECT_EQ(errors->load(), 0) << "a refused job's on_error ran";
  const DispatcherStats stats = d.Stats();
  EXPECT_EQ(stats.completed, 1);
  EXPECT_EQ(stats.failed, 0);
  EXPECT_EQ(stats.rejected(), 0);
  EXPECT_EQ(stats.queued, 0);
}

// A pool stopped from one of its own threads closes admission and goes on:
// from a job, Stop() waited for the dispatcher thread, which waited for that
// job's worker, for good; from an expired job's on_error, on the dispatcher
// thread, it threw from join() and ended the process. StopWithin, there,
// waited out its whole timeout for a thread that was itself, then blamed
// the job: it says at once that it cannot wait.
TEST(DispatcherTest, StopFromItsOwnThreadsClosesAdmissionAndReturns) {
  for (bool from_on_error : {false, true}) {
    SCOPED_TRACE(from_on_error ? "from on_error" : "from a run");
    Dispatcher d({.workers = 1, .queue_depth = 4, .shed_late_jobs = false});
    Chan<absl::Status> after_stop(1), stop_within(1);
    auto stop = [&d, after_stop, stop_within] {
      // An hour: the old wait for itself would outlast the test's timeout.
      ASSERT_TRUE(stop_within.Send(d.StopWithin(absl::Hours(1))).ok());
      d.Stop();
      ASSERT_TRUE(after_stop.Send(d.TrySubmit(NoopJob())).ok());
    };
    Chan<int> started(2), release(0);
    ReleaseAtExit release_at_exit{release};
    auto [ctx, cancel] = WithCancel(Context::Background());
    Job job;
    job.ctx = ctx;
    if (from_on_error) {
      // Held by the dispatcher thread behind a busy worker, cancelled there:
      // its on_error runs on the dispatcher thread.
      ASSERT_TRUE(d.TrySubmit(BlockingJob(started, release, 1)).ok());
      ASSERT_TRUE(started.Recv().has_value());
      job.run = [](const RunInfo&) { FAIL() << "ran after its cancel"; };
      job.on_error = [stop](absl::Status) { stop(); };
      ASSERT_TRUE(d.TrySubmit(std::move(job)).ok());
      ASSERT_TRUE(testing::WaitForReceivers(internal::DispatcherAccess::Idle(d), 1));
      cancel();
    } else {
      job.run = [stop](const RunInfo&) { stop(); };
      ASSERT_TRUE(d.TrySubmit(std::move(job)).ok());
    }
    const std::optional<absl::Status> within = stop_within.Recv();
    ASSERT_TRUE(within.has_value());
    EXPECT_TRUE(absl::IsFailedPrecondition(*within)) << *within;
    EXPECT_TRUE(absl::StrContains(within->message(), "own threads")) << *within;
    const std::optional<absl::Status> submitted_after = after_stop.Recv();
    ASSERT_TRUE(submitted_after.has_value());
    EXPECT_TRUE(absl::IsUnavailable(*submitted_after)) << *submitted_after;
    if (from_on_error) {
      ASSERT_TRUE(release.Send(0).ok());
    }
    d.Stop();  // from here: waits for every thread
    const DispatcherStats stats = d.Stats();
    EXPECT_EQ(stats.completed, 1);
    EXPECT_EQ(stats.expired, from_on_error ? 1 : 0);
  }
}

// Destroying a pool from inside it cannot wait for its threads, and going
// on would free what they run on: it used to end in std::terminate, with
// nothing said about why. It names the mistake.
TEST(DispatcherDeathTest, DestroyedFromItsOwnThreadItSaysSoAndAborts) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        auto* d = new Dispatcher({.workers = 1, .queue_depth = 1});
        Job job;
        job.ctx = Context::Background();
        job.run = [d](const RunInfo&) { delete d; };
        if (!d->TrySubmit(std::move(job)).ok()) std::exit(0);  // no death: fails
        Chan<int> never(0);
        never.Recv();  // the process ends on the worker
      },
      "destroyed from one of its own threads");
}

TEST(DispatcherTest, AFullQueueRejectsAtOnceAndAStoppedOneIsUnavailable) {
  Dispatcher d({.workers = 1, .queue_depth = 1});
  Chan<int> started(4), release(0);
  ReleaseAtExit release_at_exit{release};
  ASSERT_TRUE(d.TrySubmit(BlockingJob(started, release, 1)).ok());
  ASSERT_TRUE(started.Recv().has_value());
  // One job waits in the dispatcher's hand for a worker, one in the queue.
  ASSERT_TRUE(d.TrySubmit(BlockingJob(started, release, 2)).ok());
  Job third = BlockingJob(started, release, 3);
  ASSERT_TRUE(WaitUntil([&] { return d.TrySubmit(std::move(third)).ok(); }));
  const DispatcherStats before = d.Stats();
  Job extra = BlockingJob(started, release, 4);
  absl::Status s = d.TrySubmit(std::move(extra));
  EXPECT_TRUE(absl::IsResourceExhausted(s)) << s;
  EXPECT_FALSE(JudgedByTheDeadline(s)) << "a full queue is no deadline's doing: " << s;
  EXPECT_TRUE(extra.run != nullptr) << "a refused job must stay with its owner";
  const DispatcherStats after = d.Stats();
  EXPECT_EQ(after.rejected(), before.rejected() + 1);
  EXPECT_EQ(after.rejected_full, before.rejected_full + 1) << "counted as full";
  EXPECT_EQ(after.rejected_late, before.rejected_late);

  std::thread stopper([&] { d.Stop(); });
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(release.Send(0).ok());
  stopper.join();
  EXPECT_TRUE(absl::IsUnavailable(d.TrySubmit(std::move(extra))));
  EXPECT_EQ(d.Stats().completed, 3);
}

// Stop() with jobs still queued runs every accepted job: none lost, none run
// twice.
TEST(DispatcherTest, StopRunsEveryQueuedJob) {
  Dispatcher d({.workers = 2, .queue_depth = 64});
  Chan<int> started(64), release(0);
  ReleaseAtExit release_at_exit{release};
  for (int i = 0; i < 2; ++i) {
    ASSERT_TRUE(d.TrySubmit(BlockingJob(started, release, i)).ok());
  }
  ASSERT_TRUE(started.Recv().has_value());
  ASSERT_TRUE(started.Recv().has_value());
  std::vector<std::atomic<int>> runs(50);
  for (int i = 0; i < 50; ++i) {
    Job job;
    job.run = [&runs, i](const RunInfo&) { ++runs[i]; };
    ASSERT_TRUE(d.TrySubmit(std::move(job)).ok());
  }
  std::thread stopper([&] { d.Stop(); });
  ASSERT_TRUE(release.Send(0).ok());
  ASSERT_TRUE(release.Send(0).ok());
  stopper.join();
  for (int i = 0; i < 50; ++i) EXPECT_EQ(runs[i].load(), 1) << "job " << i;
  EXPECT_EQ(d.Stats().completed, 52);
  EXPECT_EQ(d.Stats().queued, 0);
}

// StopWithin drains like Stop() when the jobs end in time: every accepted
// job has run when it returns OK.
TEST(DispatcherTest, StopWithinRunsEveryQueuedJobAndSaysSo) {
  Dispatcher d({.workers = 2, .queue_depth = 64});
  std::vector<std::atomic<int>> runs(50);
  for (int i = 0; i < 50; ++i) {
    Job job;
    job.run = [&runs, i](const RunInfo&) { ++runs[i]; };
    ASSERT_TRUE(d.TrySubmit(std::move(job)).ok());
  }
  EXPECT_TRUE(d.StopWithin(absl::Seconds(60)).ok());
  for (int i = 0; i < 50; ++i) EXPECT_EQ(runs[i].load(), 1) << "job " << i;
  EXPECT_EQ(d.Stats().completed, 50);
  EXPECT_TRUE(absl::IsUnavailable(d.TrySubmit(NoopJob())));
}

// A timeout of 0 (--stop_grace=0) with no job running is a clean stop: the
// idle threads, on their way out, are waited for, not blamed as jobs that
// ignore their context.
TEST(DispatcherTest, StopWithinZeroWithEveryWorkerIdleIsOk) {
  Dispatcher d({.workers = 4, .queue_depth = 4});
  const absl::Status stop = d.StopWithin(absl::ZeroDuration());
  EXPECT_TRUE(stop.ok()) << stop;
  EXPECT_TRUE(absl::IsUnavailable(d.TrySubmit(NoopJob())));
}

// A timeout too long to add to the clock (as good as "for ever") waits like
// Stop(), rather than overflowing into the past and returning at once.
TEST(DispatcherTest, StopWithinAnHourTimesTenMillionWaitsForTheRunningJob) {
  Dispatcher d({.workers = 1, .queue_depth = 4});
  Chan<int> started(1), release(0);
  ReleaseAtExit release_at_exit{release};
  ASSERT_TRUE(d.TrySubmit(BlockingJob(started, release, 3)).ok());
  ASSERT_EQ(started.Recv(), 3);
  Chan<absl::Status> stopped(1);
  std::thread stopper([&] {
    stopped.Send(d.StopWithin(absl::Hours(1e7))).IgnoreError();
  });
  ASSERT_TRUE(release.Send(0).ok());
  std::optional<absl::Status> s = stopped.Recv();
  stopper.join();
  ASSERT_TRUE(s.has_value());
  EXPECT_TRUE(s->ok()) << *s;
  EXPECT_EQ(d.Stats().completed, 1);
}

// A job that ignores its cancellation cannot be stopped, but it must not
// hold its stopper hostage: StopWithin returns at its timeout naming the
// stuck worker, and the thread is joined once the job does return.
TEST(DispatcherTest, StopWithinReturnsAtItsTimeoutWhileAJobIgnoresItsContext) {
  auto [ctx, cancel] = WithCancel(Context::Background());
  Chan<int> started(1), release(0);
  ReleaseAtExit release_at_exit{release};
  auto d = std::make_unique<Dispatcher>(
      DispatcherOptions{.workers = 2, .queue_depth = 4});
  Job job = BlockingJob(started, release, 7);
  job.ctx = ctx;
  ASSERT_TRUE(d->TrySubmit(std::move(job)).ok());
  ASSERT_EQ(started.Recv(), 7);
  cancel();

  absl::Status stop = d->StopWithin(absl::Milliseconds(20));
  EXPECT_TRUE(absl::IsDeadlineExceeded(stop)) << stop;
  EXPECT_NE(stop.message().find("1 of 2 workers still running a job"),
            std::string_view::npos)
      << stop;
  EXPECT_TRUE(absl::IsUnavailable(d->TrySubmit(NoopJob())));

  ASSERT_TRUE(release.Send(0).ok());
  d.reset();  // joins the worker, now free
}

// In the busy regime a finishing worker takes queued jobs itself, which may
// pass the job the dispatcher already holds; but only kMaxOvertakes of them:
// no job runs more than kMaxOvertakes places later than FIFO order. With
// one worker the bound is exact (with more, each may add one, see
// dispatcher.h). Every held job after the first is taken while the worker
// is already pulling, which is where a count reserved before each take once
// let a job be overtaken 33 times under TSan (Dispatcher::TakeQueuedJob).
TEST(DispatcherTest, AQueuedJobIsOvertakenOnlyBoundedly) {
  const int kQueued = 3 * Dispatcher::kMaxOvertakes;
  Dispatcher d({.workers = 1, .queue_depth = kQueued});
  Chan<int> started(1), release(0);
  ReleaseAtExit release_at_exit{release};
  ASSERT_TRUE(d.TrySubmit(BlockingJob(started, release, -1)).ok());
  ASSERT_TRUE(started.Recv().has_value());
  Chan<int> order(kQueued);
  for (int i = 0; i < kQueued; ++i) {
    Job job;
    job.run = [order, i](const RunInfo&) { ASSERT_TRUE(order.Send(int(i)).ok()); };
    ASSERT_TRUE(d.TrySubmit(std::move(job)).ok());
  }
  // Job 0 is the dispatcher's, waiting for an idle worker.
  ASSERT_TRUE(testing::WaitForReceivers(internal::DispatcherAccess::Idle(d), 1));
  ASSERT_TRUE(release.Send(0).ok());
  for (int position = 0; position < kQueued; ++position) {
    std::optional<int> i = order.Recv();
    ASSERT_TRUE(i.has_value());
    if (*i == 0) {
      EXPECT_EQ(position, Dispatcher::kMaxOvertakes)
          << "the held job should run right after the overtakes it allows";
    }
    EXPECT_LE(position - *i, Dispatcher::kMaxOvertakes) << "job " << *i;
  }
  d.Stop();
  EXPECT_EQ(d.Stats().completed, kQueued + 1);
}

// 1,000,000 jobs submitted from 8 threads all complete exactly once.
TEST(DispatcherTest, MillionJobsFromEightThreadsCompleteExactlyOnce) {
  const int kThreads = 8;
  const int kJobs = 1000000 / testing::kScale;
  std::vector<std::atomic<uint8_t>> runs(kJobs);
  {
    Dispatcher d({.workers = 2, .queue_depth = 1024});
    std::vector<std::thread> submitters;
    for (int t = 0; t < kThreads; ++t) {
      submitters.emplace_back([&, t] {
        for (int i = t; i < kJobs; i += kThreads) {
          Job job;
          job.run = [&runs, i](const RunInfo&) { runs[i].fetch_add(1); };
          ASSERT_TRUE(d.Submit(std::move(job)).ok());
        }
      });
    }
    for (auto& s : submitters) s.join();
    d.Stop();
    EXPECT_EQ(d.Stats().completed, kJobs);
  }
  int wrong = 0;
  for (int i = 0; i < kJobs; ++i) wrong += runs[i].load() != 1;
  EXPECT_EQ(wrong, 0);
}

TEST(DispatcherTest, AThrowingJobFailsAloneAndTheWorkerGoesOn) {
  Dispatcher d({.workers = 1, .queue_depth = 4});
  Chan<absl::Status> errors(1);
  Job bad;
  bad.run = [](const RunInfo&) { throw std::runtime_error("boom"); };
  bad.on_error = [errors](absl::Status s) { ASSERT_TRUE(errors.Send(s).ok()); };
  ASSERT_TRUE(d.TrySubmit(std::move(bad)).ok());
  absl::Status why = *errors.Recv();
  EXPECT_TRUE(absl::IsInternal(why));
  EXPECT_NE(why.message().find("boom"), std::string_view::npos) << why;

  Chan<int> ok(1);
  Job good;
  good.run = [ok](const RunInfo& info) { ASSERT_TRUE(ok.Send(info.worker).ok()); };
  ASSERT_TRUE(d.TrySubmit(std::move(good)).ok());
  EXPECT_EQ(ok.Recv(), 0);  // the same (only) worker survived
  d.Stop();
  EXPECT_EQ(d.Stats().failed, 1);
  EXPECT_EQ(d.Stats().completed, 1);
}

// A run that finds at its start that it must not run after all (its call
// was answered just after the worker's check) is no run: counted expired,
// as a job dropped in the queue is, answered through on_error with its
// status, and the worker goes on.
TEST(DispatcherTest, AJobThatThrowsJobNotRunIsCountedExpiredNotCompleted) {
  Dispatcher d({.workers = 1, .queue_depth = 4});
  Chan<absl::Status> errors(1);
  Job unrun;
  unrun.run = [](const RunInfo&) { throw JobNotRun(absl::CancelledError("answered")); };
  unrun.on_error = [errors](absl::Status s) { ASSERT_TRUE(errors.Send(s).ok()); };
  ASSERT_TRUE(d.TrySubmit(std::move(unrun)).ok());
  absl::Status why = *errors.Recv();
  EXPECT_TRUE(absl::IsCancelled(why)) << why;
  EXPECT_EQ(why.message(), "answered");

  Chan<int> ok(1);
  Job good;
  good.run = [ok](const RunInfo& info) { ASSERT_TRUE(ok.Send(info.worker).ok()); };
  ASSERT_TRUE(d.TrySubmit(std::move(good)).ok());
  EXPECT_EQ(ok.Recv(), 0);
  d.Stop();
  EXPECT_EQ(d.Stats().expired, 1);
  EXPECT_EQ(d.Stats().completed, 1);
  EXPECT_EQ(d.Stats().failed, 0);
}

// Fills a dispatcher of one worker and an unbuffered queue: job 1 runs
// (until `release`), and the dispatcher holds job 2, waiting for that
// worker. A third submission has to wait for room.
void FillTheWorkerAndTheDispatcher(Dispatcher& d, Chan<int> started,
                                   Chan<int> release) {
  ASSERT_TRUE(d.Submit(BlockingJob(started, release, 1)).ok());
  ASSERT_TRUE(started.Recv().has_value());
  Job second = BlockingJob(started, release, 2);
  ASSERT_TRUE(WaitUntil([&] { return d.TrySubmit(std::move(second)).ok(); }));
}

// Submit waits for room in a select with the job's context.
TEST(DispatcherTest, SubmitWaitsForRoomUntilItsContextIsDone) {
  Dispatcher d({.workers = 1, .queue_depth = 0});
  Chan<int> started(1), release(0);
  ReleaseAtExit release_at_exit{release};
  ASSERT_NO_FATAL_FAILURE(FillTheWorkerAndTheDispatcher(d, started, release));
  auto [ctx, cancel] = WithTimeout(Context::Background(), absl::Milliseconds(20));
  Job third = BlockingJob(started, release, 3);
  third.ctx = ctx;
  absl::Status s = d.Submit(std::move(third));
  EXPECT_TRUE(absl::IsDeadlineExceeded(s)) << s;
  std::thread stopper([&] { d.Stop(); });
  ASSERT_TRUE(release.Send(0).ok());
  ASSERT_TRUE(release.Send(0).ok());
  stopper.join();
  EXPECT_EQ(d.Stats().completed, 2);
}

TEST(DispatcherTest, AsyncSubmitAdmitsWhenRoomAppearsWithoutBlocking) {
  Dispatcher d({.workers = 1, .queue_depth = 0});
  Chan<int> started(4), release(0);
  ReleaseAtExit release_at_exit{release};
  ASSERT_NO_FATAL_FAILURE(FillTheWorkerAndTheDispatcher(d, started, release));

  Chan<absl::Status> admitted(2);
  d.AsyncSubmit(BlockingJob(started, release, 3),
                [admitted](absl::Status s) { ASSERT_TRUE(admitted.Send(s).ok()); });
  auto [ctx, cancel] = WithCancel(Context::Background());
  Job fourth = BlockingJob(started, release, 4);
  fourth.ctx = ctx;
  d.AsyncSubmit(std::move(fourth),
                [admitted](absl::Status s) { ASSERT_TRUE(admitted.Send(s).ok()); });
  EXPECT_EQ(Select(OnRecv(admitted, [] {}), OnDefault([] {})), 1)
      << "admitted although the queue had no room";
  cancel();
  EXPECT_TRUE(absl::IsCancelled(*admitted.Recv()));  // 4 gave up
  ASSERT_TRUE(release.Send(0).ok());  // job 1 ends, 2 runs, 3 is admitted
  EXPECT_TRUE(admitted.Recv()->ok());
  std::thread stopper([&] { d.Stop(); });
  ASSERT_TRUE(release.Send(0).ok());
  ASSERT_TRUE(release.Send(0).ok());
  stopper.join();
  EXPECT_EQ(d.Stats().completed, 3);
}

// Stop() closes admission at once: a Submit or an AsyncSubmit still waiting
// for queue room then (queue_policy=wait during a drain) is refused
// UNAVAILABLE before the drain ends, and its job never runs, while the jobs
// already accepted still do.
TEST(DispatcherTest, ASubmissionWaitingForRoomWhenStopComesIsUnavailableAndNeverRuns) {
  Dispatcher d({.workers = 1, .queue_depth = 0});
  Chan<int> started(2), release(0);
  ReleaseAtExit release_at_exit{release};
  ASSERT_NO_FATAL_FAILURE(FillTheWorkerAndTheDispatcher(d, started, release));
  auto never_run = [] {
    Job job;
    job.run = [](const RunInfo&) { ADD_FAILURE() << "ran a job refused at Stop()"; };
    return job;
  };
  Chan<absl::Status> submitted(1), admitted(1);
  std::thread submitter([&] { ASSERT_TRUE(submitted.Send(d.Submit(never_run())).ok()); });
  d.AsyncSubmit(never_run(), [admitted](absl::Status s) {
    ASSERT_TRUE(admitted.Send(std::move(s)).ok());
  });
  ASSERT_TRUE(testing::WaitForSenders(internal::DispatcherAccess::Jobs(d), 2));
  EXPECT_EQ(d.Stats().queued, 3);  // the held job and the two waiting
  EXPECT_EQ(d.Stats().waiting, 2);  // not in the queue yet

  std::thread stopper([&] { d.Stop(); });
  // Both answered while jobs 1 and 2 still hold the worker and the
  // dispatcher: neither waits for the drain.
  std::optional<absl::Status> s = submitted.Recv();
  ASSERT_TRUE(s.has_value());
  EXPECT_TRUE(absl::IsUnavailable(*s)) << *s;
  std::optional<absl::Status> a = admitted.Recv();
  ASSERT_TRUE(a.has_value());
  EXPECT_TRUE(absl::IsUnavailable(*a)) << *a;
  submitter.join();

  ASSERT_TRUE(release.Send(0).ok());
  ASSERT_TRUE(release.Send(0).ok());
  stopper.join();
  DispatcherStats stats = d.Stats();
  EXPECT_EQ(stats.completed, 2);
  EXPECT_EQ(stats.queued, 0);
  EXPECT_EQ(stats.expired, 0);
}

// A Dispatcher built in storage of the test's own, so that the test can see
// whether anything writes to it once it has been destroyed.
struct DispatcherInPlace {
  static constexpr unsigned char kPoison = 0xA5;
  alignas(Dispatcher) unsigned char storage[sizeof(Dispatcher)];
  Dispatcher* d = nullptr;

  explicit DispatcherInPlace(const DispatcherOptions& options)
      : d(new (storage) Dispatcher(options)) {}
  ~DispatcherInPlace() { Destroy(); }
  // Destroys the Dispatcher and fills its storage with kPoison.
  void Destroy() {
    if (d == nullptr) return;
    d->~Dispatcher();
    d = nullptr;
    std::memset(storage, kPoison, sizeof storage);
  }
  bool Untouched() const {
    return std::count(std::begin(storage), std::end(storage), kPoison) ==
           static_cast<std::ptrdiff_t>(sizeof storage);
  }
};

// An AsyncSubmit waiting for room answers once its context ends, on the
// thread that ended it, which may get there only after Stop() has returned
// and the Dispatcher is gone. Here that thread is held up in another
// waiter's callback on the same Done() while the Dispatcher stops and is
// destroyed; then the AsyncSubmit's callback runs, and must not touch it.
TEST(DispatcherTest, AnAsyncSubmitCancelledAcrossStopLeavesTheDispatcherAlone) {
  DispatcherInPlace in_place({.workers = 1, .queue_depth = 0});
  Dispatcher& d = *in_place.d;
  Chan<int> started(2), release(0);
  ReleaseAtExit release_at_exit{release};
  ASSERT_NO_FATAL_FAILURE(FillTheWorkerAndTheDispatcher(d, started, release));

  auto [ctx, cancel] = WithCancel(Context::Background());
  Chan<int> entered(1), unblock(0);
  // First on ctx.Done(), so the cancelling thread wakes it first and stays
  // in it, with the AsyncSubmit below already claimed but not yet woken.
  AsyncSelect(OnDone(ctx, [entered, unblock] {
    ASSERT_TRUE(entered.Send(1).ok());
    unblock.Recv();  // until closed
  }));
  Chan<absl::Status> admitted(1);
  Job third;
  third.ctx = ctx;
  third.run = [](const RunInfo&) { FAIL() << "ran a job never admitted"; };
  d.AsyncSubmit(std::move(third), [admitted](absl::Status s) {
    ASSERT_TRUE(admitted.Send(std::move(s)).ok());
  });
  std::thread canceller([cancel = cancel] { cancel(); });
  ASSERT_TRUE(entered.Recv().has_value());

  std::thread stopper([&] { d.Stop(); });
  ASSERT_TRUE(release.Send(0).ok());
  ASSERT_TRUE(release.Send(0).ok());
  stopper.join();
  EXPECT_EQ(d.Stats().completed, 2);
  in_place.Destroy();

  ASSERT_TRUE(unblock.Close().ok());
  canceller.join();
  std::optional<absl::Status> s = admitted.Recv();
  ASSERT_TRUE(s.has_value());
  EXPECT_TRUE(absl::IsCancelled(*s)) << *s;
  EXPECT_TRUE(in_place.Untouched()) << "written to after it was destroyed";
}

// A job whose expected run alone is longer than the time left before its
// deadline can never succeed, however idle the pool: refused at once as
// DEADLINE_EXCEEDED, not RESOURCE_EXHAUSTED, which would tell the caller
// to back off and retry. Nor is it counted as shed for overload.
TEST(DispatcherTest, AJobWhoseRunAloneOutlastsItsDeadlineIsRefusedDeadlineExceeded) {
  Dispatcher d({.workers = 1, .queue_depth = 8});
  auto [ctx, cancel] = WithTimeout(Context::Background(), absl::Seconds(10));
  Job job;
  job.ctx = ctx;
  job.expected_run = absl::Minutes(1);
  job.run = [](const RunInfo&) { FAIL() << "ran a job that could not make it"; };
  absl::Status s = d.TrySubmit(std::move(job));
  EXPECT_TRUE(absl::IsDeadlineExceeded(s)) << s;
  EXPECT_NE(s.message().find("expected run"), std::string_view::npos) << s;
  EXPECT_TRUE(job.run != nullptr) << "a refused job must stay with its owner";
  const DispatcherStats stats = d.Stats();
  EXPECT_EQ(stats.rejected(), 0) << "not a refusal for want of capacity";
  EXPECT_EQ(stats.expired, 0) << "never accepted";
}

// Runs one job of about `cost` on an idle pool, so that admission has a
// measured cost per job to judge queue waits by, and waits for the worker to
// be idle again.
void TeachCost(Dispatcher& d, absl::Duration cost) {
  Chan<int> done(1);
  Job job;
  job.run = [done, cost](const RunInfo&) {
    absl::SleepFor(cost);  // the job's work, not synchronisation
    ASSERT_TRUE(done.Send(1).ok());
  };
  ASSERT_TRUE(d.TrySubmit(std::move(job)).ok());
  ASSERT_TRUE(done.Recv().has_value());
  ASSERT_TRUE(WaitUntil([&] { return d.Stats().idle == d.workers(); }));
}

// Holds the one worker of `d` with a job, queues one more behind it, and
// submits a job with `deadline` after them: what admission says of that job.
// The worker is released on return.
absl::Status AdmitBehindARunAndAJobAhead(Dispatcher& d, absl::Duration deadline) {
  Chan<int> started(1), release(0);
  ReleaseAtExit release_at_exit{release};
  EXPECT_TRUE(d.TrySubmit(BlockingJob(started, release, 1)).ok());
  EXPECT_TRUE(started.Recv().has_value());
  Job ahead;
  ahead.run = [](const RunInfo&) {};
  EXPECT_TRUE(d.TrySubmit(std::move(ahead)).ok());
  auto [ctx, cancel] = WithTimeout(Context::Background(), deadline);
  Job job;
  job.ctx = ctx;
  job.run = [](const RunInfo&) {};
  absl::Status s = d.TrySubmit(std::move(job));
  EXPECT_TRUE(release.Send(0).ok());
  return s;
}

Job Declaring(Job job, absl::Duration declared) {
  job.declared_cost = declared;
  return job;
}

Job OfKind(Job job, std::shared_ptr<JobKind> kind) {
  job.kind = std::move(kind);
  return job;
}

// Submits `n` short jobs, each with `deadline`, behind workers the test
// holds, and returns how many admission accepted, expecting all of them.
// Each answers on `done` once the workers are released: 1 if it ran, 0 if
// it expired (should this thread stall past the deadlines, the jobs still
// answer, so the test ends; admission is what it checks). Each starts as
// `make()` makes it (what it declares, its kind).
int SubmitShortJobsExpectingAll(Dispatcher& d, int n, absl::Duration deadline,
                                Chan<int> done,
                                const std::function<Job()>& make = [] { return Job(); }) {
  int admitted = 0;
  for (int i = 0; i < n; ++i) {
    auto [ctx, cancel] = WithTimeout(Context::Background(), deadline);
    Job job = make();
    job.ctx = ctx;
    job.run = [done](const RunInfo&) { done.TrySend(1).IgnoreError(); };
    job.on_error = [done](absl::Status) { done.TrySend(0).IgnoreError(); };
    absl::Status s = d.TrySubmit(std::move(job));
    EXPECT_TRUE(s.ok()) << "job " << i << ": " << s;
    if (s.ok()) ++admitted;
  }
  return admitted;
}

// With a worker idle and nothing queued, a job starts at once: admission must
// not charge it for queueing it will not do.
TEST(DispatcherTest, AnIdlePoolAdmitsAJobThatJustFitsItsDeadline) {
  Dispatcher d({.workers = 1, .queue_depth = 8});
  TeachCost(d, absl::Milliseconds(50));
  auto [ctx, cancel] = WithTimeout(Context::Background(), absl::Seconds(1));
  Job job;
  job.ctx = ctx;
  job.expected_run = absl::Milliseconds(500);
  job.run = [](const RunInfo&) {};
  EXPECT_TRUE(d.TrySubmit(std::move(job)).ok());
}

// A queued job may wait for the jobs ahead of it, the run in progress, and
// the jobs that may overtake it while the dispatcher holds it: admission
// counts all three, so that it refuses at once what would expire queued.
TEST(DispatcherTest, AdmissionCountsTheOvertakesAQueuedJobMayWaitFor) {
  Dispatcher d({.workers = 1, .queue_depth = 8});
  TeachCost(d, absl::Milliseconds(200));  // about 200 ms a job from now on
  // One job ahead, one that may overtake, one run in progress: about 600 ms.
  // The jobs ahead and the run alone would be about 400 ms. (Scaled so that
  // a stall of a loaded, sanitized test before TrySubmit does not use up the
  // deadline, which would be refused DEADLINE_EXCEEDED instead.)
  absl::Status s = AdmitBehindARunAndAJobAhead(d, absl::Milliseconds(480));
  // The queue, not the job itself, is why: overloaded, worth a retry.
  EXPECT_TRUE(absl::IsResourceExhausted(s)) << s;
  EXPECT_NE(s.message().find("deadline"), std::string_view::npos) << s;
  EXPECT_TRUE(JudgedByTheDeadline(s)) << s;
  const DispatcherStats stats = d.Stats();
  EXPECT_EQ(stats.rejected_late, 1) << "counted as refused by its deadline";
  EXPECT_EQ(stats.rejected_full, 0);
  EXPECT_EQ(stats.rejected(), 1);
}

// A refusal states its figures to the millisecond at these sizes, so that
// the refusals of one overload share a message (ghz and `handoff load` list
// errors by message), and rounded so that what it states still holds.
TEST(DispatcherTest, ARefusalStatesWholeMillisecondsThatStillAddUp) {
  Dispatcher d({.workers = 1, .queue_depth = 8});
  TeachCost(d, absl::Milliseconds(200));
  absl::Status s = AdmitBehindARunAndAJobAhead(d, absl::Milliseconds(480));
  ASSERT_TRUE(absl::IsResourceExhausted(s)) << s;
  // "overloaded: estimated queue wait W plus expected run R exceeds the L left ..."
  const std::vector<std::string> words = absl::StrSplit(s.message(), ' ');
  auto figure_after = [&words](const std::string& word) {
    auto at = std::find(words.begin(), words.end(), word);
    absl::Duration d = absl::InfiniteDuration();
    if (at == words.end() || std::next(at) == words.end() ||
        !absl::ParseDuration(*std::next(at), &d)) {
      ADD_FAILURE() << "no duration after '" << word << "'";
    }
    return d;
  };
  const absl::Duration wait = figure_after("wait");
  const absl::Duration run = figure_after("run");
  const absl::Duration left = figure_after("the");
  EXPECT_GT(wait + run, left) << s;
  EXPECT_EQ(wait, absl::Trunc(wait, absl::Milliseconds(1))) << s;
  EXPECT_EQ(left, absl::Trunc(left, absl::Milliseconds(1))) << s;
}

// One job far longer than the others (a 2 s Work among short ones) must not
// make admission refuse the short jobs after it as "overloaded".
TEST(DispatcherTest, OneLongJobDoesNotMakeAdmissionRefuseTheShortOnesAfterIt) {
  Dispatcher d({.workers = 1, .queue_depth = 16});
  TeachCost(d, absl::Milliseconds(5));
  TeachCost(d, absl::Seconds(2));  // counted as at most 4x the 5 ms
  Chan<int> started(1), release(0);
  ReleaseAtExit release_at_exit{release};
  ASSERT_TRUE(d.TrySubmit(BlockingJob(started, release, 1)).ok());
  ASSERT_TRUE(started.Recv().has_value());
  // Ten jobs queue behind the held worker. Had the 2 s run counted in full
  // (a mean of about 250 ms), the fifth on would be refused: four ahead,
  // four that may overtake and the run in progress, 2.25 s. Clipped, the
  // tenth is estimated at 19 means: within its 2 s unless a 5 ms job took a
  // loaded, sanitized run over 70 ms.
  Chan<int> done(10);
  const int admitted = SubmitShortJobsExpectingAll(d, 10, absl::Seconds(2), done);
  EXPECT_EQ(d.Stats().rejected(), 0);
  ASSERT_TRUE(release.Send(0).ok());
  for (int i = 0; i < admitted; ++i) ASSERT_TRUE(done.Recv().has_value());
}

// The same when the long job is the first a worker ever runs: a worker
// that has no history of its own yet (the pool serves idle workers as a
// stack, so some run only in a burst) judges its first run by what the
// pool's jobs cost, not as the whole of its own mean.
TEST(DispatcherTest, AWorkersFirstJobBeingLongDoesNotMakeAdmissionRefuseTheShortOnes) {
  Dispatcher d({.workers = 2, .queue_depth = 16});
  TeachCost(d, absl::Milliseconds(5));  // on the worker that registered last
  Chan<int> started(2), release(0);
  ReleaseAtExit release_at_exit{release};
  // That worker, again the newest idle one, is held; the other runs a long
  // job, its first.
  ASSERT_TRUE(d.TrySubmit(BlockingJob(started, release, 1)).ok());
  ASSERT_TRUE(started.Recv().has_value());
  Chan<int> long_done(1);
  Job long_job;
  long_job.run = [long_done](const RunInfo&) {
    absl::SleepFor(absl::Milliseconds(400));  // the job's work
    ASSERT_TRUE(long_done.Send(1).ok());
  };
  ASSERT_TRUE(d.TrySubmit(std::move(long_job)).ok());
  ASSERT_TRUE(long_done.Recv().has_value());
  ASSERT_TRUE(WaitUntil([&] { return d.Stats().idle == 1; }));
  ASSERT_TRUE(d.TrySubmit(BlockingJob(started, release, 2)).ok());
  ASSERT_TRUE(started.Recv().has_value());
  // Both workers held, ten jobs queue. Had the 400 ms run counted in full,
  // the third on would be refused: two ahead, two that may overtake, over
  // two workers, and the run in progress, 1.2 s.
  Chan<int> done(10);
  const int admitted = SubmitShortJobsExpectingAll(d, 10, absl::Seconds(1), done);
  EXPECT_EQ(d.Stats().rejected(), 0);
  ASSERT_TRUE(release.Send(0).ok());
  ASSERT_TRUE(release.Send(0).ok());
  for (int i = 0; i < admitted; ++i) ASSERT_TRUE(done.Recv().has_value());
}

// Teaches admission, without waiting for it, that a job like `job` cost its
// worker `cost`: runs it as worker 0 would, as if that worker had been free
// for it since `cost` ago. Only before the pool has run anything.
void TeachCostOf(Dispatcher& d, Job job, absl::Duration cost) {
  if (!job.run) job.run = [](const RunInfo&) {};
  job.submitted = MonotonicNow() - cost;
  internal::DispatcherAccess::CountAtSubmission(d, job);
  internal::DispatcherAccess::RunJob(d, job, 0, job.submitted);
}

// Jobs that declared their cost are counted by it, not by the mean of past
// runs. The mean learned from jobs that ran cannot see that the jobs now
// ahead are far shorter than the last ones: behind one long call, short
// jobs were each refused for the long one's cost, and, refused, could not
// run to bring the mean down (18 of 20 items of a Batch, batch after batch).
// Holds the one worker of `d` with a run that declared 1 ms, and submits
// twenty jobs that declare 1 ms each, with `deadline`, behind it, expecting
// admission to take them all; then lets them run. The last is estimated at
// about 40 ms (those ahead, as many that may overtake it, the run) if each
// is counted at what it declared. With `queued_first`, a job declaring that
// (and a deadline far off) is queued before the twenty.
void ExpectTwentyShortJobsAdmittedBehindAShortRun(
    Dispatcher& d, absl::Duration deadline,
    absl::Duration queued_first = absl::ZeroDuration()) {
  Chan<int> started(1), release(0);
  ReleaseAtExit release_at_exit{release};
  ASSERT_TRUE(d.TrySubmit(Declaring(BlockingJob(started, release, 1),
                                    absl::Milliseconds(1)))
                  .ok());
  ASSERT_TRUE(started.Recv().has_value());
  Chan<int> done(21);
  int admitted = 0;
  if (queued_first > absl::ZeroDuration()) {
    admitted = SubmitShortJobsExpectingAll(d, 1, absl::Minutes(1), done, [queued_first] {
      return Declaring(Job(), queued_first);
    });
  }
  admitted += SubmitShortJobsExpectingAll(
      d, 20, deadline, done, [] { return Declaring(Job(), absl::Milliseconds(1)); });
  EXPECT_EQ(d.Stats().rejected(), 0);
  ASSERT_TRUE(release.Send(0).ok());
  for (int i = 0; i < admitted; ++i) ASSERT_TRUE(done.Recv().has_value());
}

TEST(DispatcherTest, AdmissionCountsTheJobsAheadByWhatTheyDeclaredNotByTheMean) {
  Dispatcher d({.workers = 1, .queue_depth = 32});
  TeachCostOf(d, Job(), absl::Seconds(5));  // the mean: 5 s a job
  EXPECT_GE(d.Stats().undeclared_job_cost, absl::Seconds(5));
  // By the mean, the first would wait 5 s.
  ExpectTwentyShortJobsAdmittedBehindAShortRun(d, absl::Seconds(2));
}

// Holds the one worker of `d` with `held` (its run replaced by one that
// waits to be released; its other fields kept), and submits `probe` with
// `deadline` behind it: what admission says of the probe. The worker is
// released on return.
absl::Status AdmitBehind(Dispatcher& d, Job held, absl::Duration deadline,
                         Job probe = Job()) {
  Chan<int> started(1), release(0);
  ReleaseAtExit release_at_exit{release};
  held.run = [started, release](const RunInfo&) {
    ASSERT_TRUE(started.Send(1).ok());
    release.Recv();
  };
  if (absl::Status s = d.TrySubmit(std::move(held)); !s.ok()) {
    ADD_FAILURE() << "the held job was refused: " << s;
    return s;
  }
  EXPECT_TRUE(started.Recv().has_value());
  auto [ctx, cancel] = WithTimeout(Context::Background(), deadline);
  probe.ctx = ctx;
  if (!probe.run) probe.run = [](const RunInfo&) {};
  absl::Status s = d.TrySubmit(std::move(probe));
  EXPECT_TRUE(release.Send(0).ok());
  return s;
}

// And the other way: a run in progress that declared a long cost is counted
// at once, before any run has taught admission what jobs cost.
TEST(DispatcherTest, ARunThatDeclaredALongCostIsCountedBeforeAnyRunTaughtAMean) {
  Dispatcher d({.workers = 1, .queue_depth = 8});
  absl::Status s = AdmitBehind(d, Declaring(Job(), absl::Seconds(10)), absl::Seconds(2));
  EXPECT_TRUE(absl::IsResourceExhausted(s)) << s;
  EXPECT_EQ(d.Stats().rejected_late, 1);
  // A deadline past the declared run: admitted.
  s = AdmitBehind(d, Declaring(Job(), absl::Seconds(10)), absl::Seconds(30));
  EXPECT_TRUE(s.ok()) << s;
}

// Admission sums what the jobs ahead declared. In one sum of ns, 8,192 jobs
// at the 13 days a declaration counts for at most wrapped it negative, which
// counted as nothing: behind ten thousand of them, queued behind a held
// run, a job with an hour left was admitted.
TEST(DispatcherTest, ManyVeryLongJobsAheadDoNotWrapTheEstimatedWait) {
  constexpr int kQueued = 10'000;
  Dispatcher d({.workers = 1, .queue_depth = kQueued});
  Chan<int> started(1), release(0);
  ReleaseAtExit release_at_exit{release};
  ASSERT_TRUE(d.TrySubmit(BlockingJob(started, release, 1)).ok());
  ASSERT_TRUE(started.Recv().has_value());
  // No deadline: nothing refuses them, and each counts at the cap.
  for (int i = 0; i < kQueued; ++i) {
    Job job = Declaring(Job(), absl::Hours(24 * 30));
    job.run = [](const RunInfo&) {};
    ASSERT_TRUE(d.TrySubmit(std::move(job)).ok()) << "job " << i;
  }
  const double sum_ns = internal::DispatcherAccess::Queued(d).declared.SumNs();
  EXPECT_GT(sum_ns, 1e19) << "ten thousand jobs of 2^50 ns each";
  auto [ctx, cancel] = WithTimeout(Context::Background(), absl::Hours(1));
  Job probe;
  probe.ctx = ctx;
  probe.run = [](const RunInfo&) {};
  absl::Status s = d.TrySubmit(std::move(probe));
  EXPECT_TRUE(absl::IsResourceExhausted(s)) << s;
}

// A job stopped at its deadline costs no more than the time that deadline
// leaves it: a declaration past it is counted, while the job waits, only up
// to it. (A stream's Work of 30 s sleep, with the default 10 s a job, holds
// its worker 10 s.)
TEST(DispatcherTest, AQueuedJobsDeclaredCostCountsOnlyAsLongAsItsDeadlineLeavesIt) {
  Dispatcher d({.workers = 1, .queue_depth = 8});
  Chan<int> started(1), release(0);
  ReleaseAtExit release_at_exit{release};
  ASSERT_TRUE(d.TrySubmit(BlockingJob(started, release, 1)).ok());
  ASSERT_TRUE(started.Recv().has_value());
  auto [queued_ctx, cancel_queued] = WithTimeout(Context::Background(), absl::Seconds(3));
  Job queued = Declaring(Job(), absl::Hours(1));
  queued.ctx = queued_ctx;
  queued.run = [](const RunInfo&) {};
  ASSERT_TRUE(d.TrySubmit(std::move(queued)).ok());
  EXPECT_LE(internal::DispatcherAccess::Queued(d).declared.SumNs(),
            absl::ToDoubleNanoseconds(absl::Seconds(3)));
  // About 6 s: the queued job and as many that may overtake the probe.
  auto [ctx, cancel] = WithTimeout(Context::Background(), absl::Seconds(10));
  Job probe;
  probe.ctx = ctx;
  probe.run = [](const RunInfo&) {};
  absl::Status s = d.TrySubmit(std::move(probe));
  EXPECT_TRUE(s.ok()) << "counted the queued job's hour: " << s;
  ASSERT_TRUE(release.Send(0).ok());
}

// And while it runs, for no longer than what its deadline leaves it then,
// however long it waited to start.
TEST(DispatcherTest, ARunningJobIsCountedOnlyForWhatItsDeadlineLeavesIt) {
  Dispatcher d({.workers = 1, .queue_depth = 8});
  auto [ctx, cancel] = WithTimeout(Context::Background(), absl::Seconds(3));
  Job job = Declaring(Job(), absl::Hours(1));
  job.ctx = ctx;
  // As if it had waited an hour to start: counted at submission for the
  // hour it declared, which its deadline left it then.
  job.submitted = MonotonicNow() - absl::Hours(1);
  internal::DispatcherAccess::CountAtSubmission(d, job);
  ASSERT_EQ(job.counted_cost, absl::Hours(1));
  double counted = -1;
  job.run = [&d, &counted](const RunInfo&) {
    counted = internal::DispatcherAccess::RunningNs(d);
  };
  internal::DispatcherAccess::RunJob(d, job, 0, absl::InfinitePast());
  EXPECT_GT(counted, 0);
  EXPECT_LE(counted, absl::ToDoubleNanoseconds(absl::Seconds(3)));
  EXPECT_EQ(internal::DispatcherAccess::RunningNs(d), 0);
}

// A run past the end it is counted to is counted for as long again as it
// has overrun: a handler that ignores its context's end holds its worker,
// and counted at nothing once past its deadline, it let the calls behind it
// be admitted to expire in the queue instead of being refused at once.
TEST(DispatcherTest, ARunPastItsCountedEndIsCountedForAsLongAsItHasOverrun) {
  Dispatcher d({.workers = 1, .queue_depth = 8});
  auto [ctx, cancel] = WithTimeout(Context::Background(), absl::Seconds(10));
  Job job = Declaring(Job(), absl::Hours(1));
  job.ctx = ctx;
  job.submitted = MonotonicNow();
  internal::DispatcherAccess::CountAtSubmission(d, job);
  double before_end = -1, at_end = -1, overrun = -1;
  job.run = [&](const RunInfo&) {
    // Counted to its deadline, 10 s from now at most.
    const absl::Time end = ctx.Deadline();
    before_end = internal::DispatcherAccess::RunningNsAt(d, end - absl::Seconds(4));
    at_end = internal::DispatcherAccess::RunningNsAt(d, end);
    overrun = internal::DispatcherAccess::RunningNsAt(d, end + absl::Seconds(5));
  };
  internal::DispatcherAccess::RunJob(d, job, 0, absl::InfinitePast());
  const double second = absl::ToDoubleNanoseconds(absl::Seconds(1));
  EXPECT_NEAR(before_end, 4 * second, 0.1 * second);
  EXPECT_NEAR(at_end, 0, 0.1 * second);
  EXPECT_NEAR(overrun, 5 * second, 0.1 * second) << "a run 5 s past its end counted so";
}

// A declared job's run teaches admission what such jobs cost past their
// declaration, and leaves the mean of jobs that declare nothing alone: one
// 5 s Work must not make every Echo ahead count as 5 s.
TEST(DispatcherTest, ADeclaredRunDoesNotTeachTheMeanOfUndeclaredJobs) {
  Dispatcher d({.workers = 1, .queue_depth = 8});
  TeachCostOf(d, Declaring(Job(), absl::Seconds(5)), absl::Seconds(5));
  EXPECT_EQ(d.Stats().undeclared_job_cost, absl::ZeroDuration());
  absl::Status s = AdmitBehind(d, Job(), absl::Seconds(2));
  EXPECT_TRUE(s.ok()) << "an undeclared job counted at the declared one's cost: " << s;
}

TEST(DispatcherTest, WhatDeclaredJobsCostPastTheirDeclarationIsCountedToo) {
  Dispatcher d({.workers = 1, .queue_depth = 8});
  // Declared 10 s, cost 19 s: 9 s of overhead per declared job.
  TeachCostOf(d, Declaring(Job(), absl::Seconds(10)), absl::Seconds(19));
  EXPECT_GE(d.Stats().declared_job_overhead, absl::Seconds(9) - absl::Milliseconds(1));
  EXPECT_EQ(d.Stats().undeclared_job_cost, absl::ZeroDuration());
  absl::Status s = AdmitBehind(d, Declaring(Job(), absl::Seconds(10)), absl::Seconds(15),
                               Declaring(Job(), absl::Milliseconds(1)));
  EXPECT_TRUE(absl::IsResourceExhausted(s)) << "behind a run of about 19 s: " << s;
}

// A kind's declared runs teach its own overhead and leave the pool's alone:
// a handler that declared 10 s and took 19 s had every declared job of no
// kind (Work, Batch items) counted at up to twice its declaration, and
// under load half of them refused.
TEST(DispatcherTest, AKindThatDeclaresTooLittleRaisesOnlyItsOwnJobsOverhead) {
  Dispatcher d({.workers = 1, .queue_depth = 8});
  auto underdeclared = std::make_shared<JobKind>();
  EXPECT_EQ(underdeclared->overhead(), std::nullopt);
  TeachCostOf(d, Declaring(OfKind(Job(), underdeclared), absl::Seconds(10)),
              absl::Seconds(19));
  EXPECT_EQ(d.Stats().declared_job_overhead, absl::ZeroDuration())
      << "a kind's run taught the overhead of declared jobs of no kind";
  ASSERT_TRUE(underdeclared->overhead().has_value());
  EXPECT_GE(*underdeclared->overhead(), absl::Seconds(9) - absl::Milliseconds(1));
  EXPECT_EQ(underdeclared->cost(), absl::ZeroDuration()) << "a declared run taught the cost";
  absl::Status s = AdmitBehind(d, Declaring(Job(), absl::Seconds(10)), absl::Seconds(15),
                               Declaring(Job(), absl::Milliseconds(1)));
  EXPECT_TRUE(s.ok()) << "behind a run of no kind that declared 10 s: " << s;
  ASSERT_TRUE(WaitUntil([&] { return d.Stats().idle == 1; }));
  s = AdmitBehind(d, Declaring(OfKind(Job(), underdeclared), absl::Seconds(10)),
                  absl::Seconds(15), Declaring(Job(), absl::Milliseconds(1)));
  EXPECT_TRUE(absl::IsResourceExhausted(s)) << "behind a run of the kind, about 19 s: " << s;
}

// But a job's overhead is counted at no more than its declaration: what a
// run costs past its declaration grows with the run, and a long one's,
// counted in full for each short job ahead, got short jobs refused for a
// queue that would have cleared in time (on a loaded CI machine, a 600 ms
// Work overshot by 20 ms, and twenty 1 ms Batch items behind it were
// estimated at 420 ms, so the last of them were refused with 400 ms left).
TEST(DispatcherTest, ALongRunsOverheadIsNotChargedInFullToEachShortJob) {
  Dispatcher d({.workers = 1, .queue_depth = 32});
  TeachCostOf(d, Declaring(Job(), absl::Milliseconds(600)), absl::Milliseconds(620));
  EXPECT_GE(d.Stats().declared_job_overhead, absl::Milliseconds(19));
  // With the overhead capped, the last is estimated at about 80 ms (each job
  // at 2 ms); with 20 ms of overhead each, at over 800 ms.
  ExpectTwentyShortJobsAdmittedBehindAShortRun(d, absl::Milliseconds(200));
}

// Nor is a queued long job's: each queued job is counted at its own
// overhead. Bounded only by the queued declarations together, the 600 ms
// job's allowance of 20 ms was counted for each 1 ms job queued beside it,
// and the last twenty were estimated at over 2 s (1019 ms ahead, and as
// much again for those that may overtake), not at about 1.3 s.
TEST(DispatcherTest, AQueuedLongJobsOverheadIsNotChargedToEachShortJob) {
  Dispatcher d({.workers = 1, .queue_depth = 32});
  TeachCostOf(d, Declaring(Job(), absl::Milliseconds(600)), absl::Milliseconds(620));
  ASSERT_GE(d.Stats().declared_job_overhead, absl::Milliseconds(19));
  ExpectTwentyShortJobsAdmittedBehindAShortRun(d, absl::Milliseconds(1700),
                                               /*queued_first=*/absl::Milliseconds(600));
}

// Jobs that declare nothing but have a kind are counted at their kind's
// cost, which their runs teach, and not at the mean of all undeclared jobs:
// behind one slow handler's calls, a fast handler's calls were counted as
// slow ones, and with tight deadlines refused.
TEST(DispatcherTest, AJobIsCountedAtItsKindsCostNotAtTheMeanOfTheOthers) {
  Dispatcher d({.workers = 1, .queue_depth = 32});
  auto slow = std::make_shared<JobKind>();
  auto fast = std::make_shared<JobKind>();
  TeachCostOf(d, OfKind(Job(), slow), absl::Seconds(5));
  TeachCostOf(d, OfKind(Job(), fast), absl::Milliseconds(1));
  EXPECT_GE(slow->cost(), absl::Seconds(5));
  EXPECT_LT(fast->cost(), absl::Seconds(1));
  EXPECT_EQ(d.Stats().undeclared_job_cost, absl::ZeroDuration())
      << "a run of a kind taught the mean of the others";
  Chan<int> started(1), release(0);
  ReleaseAtExit release_at_exit{release};
  ASSERT_TRUE(d.TrySubmit(OfKind(BlockingJob(started, release, 1), fast)).ok());
  ASSERT_TRUE(started.Recv().has_value());
  // Twenty fast jobs queue behind the fast run: the last is estimated at
  // about 40 ms. Counted by one mean of both kinds' runs, over 4 s each.
  Chan<int> done(21);  // and the slow one's
  int admitted = SubmitShortJobsExpectingAll(d, 20, absl::Seconds(2), done,
                                             [&] { return OfKind(Job(), fast); });
  EXPECT_EQ(d.Stats().rejected(), 0);
  // One slow job queued: it counts for its kind's 5 s.
  auto [slow_ctx, cancel_slow] = WithTimeout(Context::Background(), absl::Minutes(1));
  Job slow_job = OfKind(Job(), slow);
  slow_job.ctx = slow_ctx;
  slow_job.run = [done](const RunInfo&) { done.TrySend(1).IgnoreError(); };
  slow_job.on_error = [done](absl::Status) { done.TrySend(0).IgnoreError(); };
  ASSERT_TRUE(d.TrySubmit(std::move(slow_job)).ok());
  ++admitted;
  auto [ctx, cancel] = WithTimeout(Context::Background(), absl::Seconds(2));
  Job probe = OfKind(Job(), fast);
  probe.ctx = ctx;
  probe.run = [](const RunInfo&) {};
  absl::Status s = d.TrySubmit(std::move(probe));
  EXPECT_TRUE(absl::IsResourceExhausted(s)) << "behind a job of a 5 s kind: " << s;
  ASSERT_TRUE(release.Send(0).ok());
  for (int i = 0; i < admitted; ++i) ASSERT_TRUE(done.Recv().has_value());
}

// A kind whose first run was slow (a handler that connects on its first
// call) is soon counted near what its runs cost since: its first eight runs
// are averaged plainly. Weighted 1/8 from the second run on, 10 s then seven
// 1 ms runs left the kind at 3.9 s, and behind one run of it a job with a
// 2 s deadline was refused.
TEST(DispatcherTest, AKindsSlowFirstRunIsSoonOutweighedByItsCheapOnes) {
  Dispatcher d({.workers = 1, .queue_depth = 8});
  auto kind = std::make_shared<JobKind>();
  TeachCostOf(d, OfKind(Job(), kind), absl::Seconds(10));
  for (int i = 0; i < 7; ++i) TeachCostOf(d, OfKind(Job(), kind), absl::Milliseconds(1));
  EXPECT_LT(kind->cost(), absl::Milliseconds(1300));
  absl::Status s =
      AdmitBehind(d, OfKind(Job(), kind), absl::Seconds(2), OfKind(Job(), kind));
  EXPECT_TRUE(s.ok()) << "behind a run of a kind of about 1.25 s: " << s;
}

// A kind's cost counts for its jobs while they run too, and a job that
// declares its cost is counted by that, whatever its kind, whose mean its
// run leaves alone.
TEST(DispatcherTest, ARunningJobIsCountedAtItsKindsCostUnlessItDeclaredOne) {
  Dispatcher d({.workers = 1, .queue_depth = 8});
  auto slow = std::make_shared<JobKind>();
  slow->Learn(absl::Seconds(10));
  absl::Status s = AdmitBehind(d, OfKind(Job(), slow), absl::Seconds(2));
  EXPECT_TRUE(absl::IsResourceExhausted(s)) << "behind a run of a 10 s kind: " << s;
  ASSERT_TRUE(WaitUntil([&] { return d.Stats().idle == 1; }));
  const absl::Duration before = slow->cost();
  s = AdmitBehind(d, Declaring(OfKind(Job(), slow), absl::Milliseconds(1)),
                  absl::Seconds(2));
  EXPECT_TRUE(s.ok()) << "a run that declared 1 ms counted at its kind's cost: " << s;
  ASSERT_TRUE(WaitUntil([&] { return d.Stats().idle == 1; }));
  EXPECT_EQ(slow->cost(), before) << "a declared run taught its kind";
}

// A job counted at a cost of its own: one it declared, or its kind's.
enum class OwnCost { kDeclared, kKinds };

class OwnCostTest : public ::testing::TestWithParam<OwnCost> {
 protected:
  // `job`, counted at `cost`: declaring it, or of a kind of its own that
  // costs that.
  Job Costing(Job job, absl::Duration cost) {
    if (GetParam() == OwnCost::kDeclared) return Declaring(std::move(job), cost);
    auto kind = std::make_shared<JobKind>();
    kind->Learn(cost);
    kinds_.push_back(kind);
    return OfKind(std::move(job), std::move(kind));
  }
  // Each kind made so far learns that its jobs cost far more: admission must
  // take off for a job the figure it counted the job at, not its kind's now.
  void ChangeEveryKindsCost() {
    for (const auto& kind : kinds_) kind->Learn(absl::Seconds(1));
  }
  const internal::DeclaredLoad& Counted(const internal::QueueLoad& queued) {
    return GetParam() == OwnCost::kDeclared ? queued.declared : queued.kind;
  }

 private:
  std::vector<std::shared_ptr<JobKind>> kinds_;
};

INSTANTIATE_TEST_SUITE_P(DeclaredOrOfAKind, OwnCostTest,
                         ::testing::Values(OwnCost::kDeclared, OwnCost::kKinds),
                         [](const ::testing::TestParamInfo<OwnCost>& info) {
                           return info.param == OwnCost::kDeclared ? "Declared"
                                                                   : "OfAKind";
                         });

// What admission counts of jobs at a cost of their own leaves with them by
// every way out of the queue and off a worker: handed out, taken by a
// finishing worker, expired while held, refused for a full queue, given up
// while waiting for room (Submit and AsyncSubmit), run. Else a few cancelled
// calls would count against every later one for good.
TEST_P(OwnCostTest, ItLeavesTheCountByEveryWayOutOfTheQueue) {
  Dispatcher d({.workers = 1, .queue_depth = 2});
  const internal::QueueLoad& queued = internal::DispatcherAccess::Queued(d);
  const internal::DeclaredLoad& counted = Counted(queued);
  const absl::Duration ms = absl::Milliseconds(1);
  Chan<int> started(3), release(0);
  ReleaseAtExit release_at_exit{release};
  ASSERT_TRUE(
      d.TrySubmit(Costing(BlockingJob(started, release, 1), absl::Seconds(7))).ok());
  ASSERT_TRUE(started.Recv().has_value());
  EXPECT_GT(internal::DispatcherAccess::RunningNs(d), 0);
  EXPECT_LE(internal::DispatcherAccess::RunningNs(d),
            absl::ToDoubleNanoseconds(absl::Seconds(7)));
  // The dispatcher holds the first, which expires there; two fill the queue.
  Chan<absl::Status> expired(1);
  auto [held_ctx, cancel_held] = WithCancel(Context::Background());
  Job held = Costing(NoopJob(), ms);
  held.ctx = held_ctx;
  held.run = [](const RunInfo&) { FAIL() << "ran after its cancel"; };
  held.on_error = [expired](absl::Status s) { ASSERT_TRUE(expired.Send(s).ok()); };
  ASSERT_TRUE(d.TrySubmit(std::move(held)).ok());
  ASSERT_TRUE(testing::WaitForReceivers(internal::DispatcherAccess::Idle(d), 1));
  for (int id : {2, 3}) {
    ASSERT_TRUE(d.TrySubmit(Costing(BlockingJob(started, release, id), 2 * ms)).ok());
  }
  EXPECT_TRUE(absl::IsResourceExhausted(d.TrySubmit(Costing(NoopJob(), 100 * ms))));
  // Two wait for room, and give up.
  auto [async_ctx, cancel_async] = WithCancel(Context::Background());
  Job async_job = Costing(NoopJob(), 11 * ms);
  async_job.ctx = async_ctx;
  Chan<absl::Status> async_outcome(1);
  d.AsyncSubmit(std::move(async_job), [async_outcome](absl::Status s) {
    ASSERT_TRUE(async_outcome.Send(s).ok());
  });
  Job sync_job = Costing(NoopJob(), 13 * ms);
  auto [sync_ctx, cancel_sync] = WithCancel(Context::Background());
  sync_job.ctx = sync_ctx;
  absl::Status sync_outcome;
  std::thread submitter([&] { sync_outcome = d.Submit(std::move(sync_job)); });
  ASSERT_TRUE(testing::WaitForSenders(internal::DispatcherAccess::Jobs(d), 2));
  EXPECT_EQ(queued.jobs.load(), 5);
  EXPECT_EQ(counted.jobs.load(), 5);
  EXPECT_EQ(counted.ns.load(), absl::ToInt64Nanoseconds(29 * ms));
  ChangeEveryKindsCost();
  cancel_async();
  EXPECT_TRUE(absl::IsCancelled(*async_outcome.Recv()));
  cancel_sync();
  submitter.join();
  EXPECT_TRUE(absl::IsCancelled(sync_outcome)) << sync_outcome;
  cancel_held();
  EXPECT_TRUE(absl::IsCancelled(*expired.Recv()));
  // The held run ends; 2 and 3 run, whichever way each reaches the worker.
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(release.Send(0).ok());
  for (int i = 0; i < 2; ++i) ASSERT_TRUE(started.Recv().has_value());
  ASSERT_TRUE(WaitUntil([&] { return d.Stats().idle == 1; }));
  EXPECT_EQ(d.Stats().completed, 3);
  EXPECT_EQ(queued.jobs.load(), 0);
  for (const internal::DeclaredLoad* load : {&queued.declared, &queued.kind}) {
    EXPECT_EQ(load->jobs.load(), 0);
    EXPECT_EQ(load->ns.load(), 0);
    EXPECT_EQ(load->long_units.load(), 0);
  }
  EXPECT_EQ(queued.withdrawn.load(), 0);
  EXPECT_EQ(internal::DispatcherAccess::RunningNs(d), 0);
}

// A test's holds on a one-worker Dispatcher: job A runs, held until
// released; B (live, counted at the mean, which is nothing yet) is the job
// the dispatcher holds while it waits for the worker. Jobs submitted after
// them stay in the queue, behind B, until A is released.
struct HeldPool {
  explicit HeldPool(Dispatcher& d) : d(d) {
    EXPECT_TRUE(d.TrySubmit(BlockingJob(started, release, 0)).ok());
    EXPECT_TRUE(started.Recv().has_value());
    Job b;
    b.run = [b_ran = b_ran](const RunInfo&) { ASSERT_TRUE(b_ran.Send(1).ok()); };
    EXPECT_TRUE(d.TrySubmit(std::move(b)).ok());
    EXPECT_TRUE(testing::WaitForReceivers(internal::DispatcherAccess::Idle(d), 1));
  }
  Dispatcher& d;
  Chan<int> started{1}, release{0}, b_ran{1};
  ReleaseAtExit release_at_exit{release};
};

// A job queued, counted at `cost`, on `ctx`, that must not run (its context
// is cancelled while it is queued); its on_error sends on `errors`.
Job MustNotRun(Job job, const Context& ctx, Chan<absl::Status> errors) {
  job.ctx = ctx;
  job.run = [](const RunInfo&) { FAIL() << "ran after its cancel"; };
  job.on_error = [errors](absl::Status s) { ASSERT_TRUE(errors.Send(s).ok()); };
  return job;
}

// README, "A job whose caller gives up while it is queued": with one worker
// busy, a cancelled Batch of four 2 s items still queued had a 3 s Work
// refused for an "estimated queue wait 16s". A job counted at a cost of its
// own of 1 ms or more (Dispatcher::kWithdrawOnCancelFromNs) stops counting
// at its cancel, by whichever way it was submitted, though it keeps its
// place in the queue until a worker drops it.
TEST_P(OwnCostTest, AJobCancelledWhileQueuedStopsCountingAtItsCancel) {
  Dispatcher d({.workers = 1, .queue_depth = 8});
  const internal::QueueLoad& queued = internal::DispatcherAccess::Queued(d);
  HeldPool pool(d);
  auto [batch, cancel_batch] = WithCancel(Context::Background());
  Chan<absl::Status> errors(4);
  const absl::Duration item = absl::Seconds(2);
  ASSERT_TRUE(d.TrySubmit(MustNotRun(Costing(Job(), item), batch, errors)).ok());
  ASSERT_TRUE(d.TrySubmit(MustNotRun(Costing(Job(), item), batch, errors)).ok());
  ASSERT_TRUE(d.Submit(MustNotRun(Costing(Job(), item), batch, errors)).ok());
  Chan<absl::Status> admitted(1);
  d.AsyncSubmit(MustNotRun(Costing(Job(), item), batch, errors),
                [admitted](absl::Status s) { ASSERT_TRUE(admitted.Send(s).ok()); });
  ASSERT_TRUE(admitted.Recv()->ok());
  EXPECT_EQ(d.Stats().queued, 5);

  Chan<int> work_ran(1);
  auto work = [&](const Context& ctx) {
    Job job = Costing(Job(), absl::Seconds(3));
    job.ctx = ctx;
    job.expected_run = absl::Seconds(3);
    job.run = [work_ran](const RunInfo&) { ASSERT_TRUE(work_ran.Send(1).ok()); };
    return job;
  };
  auto [deadline, cancel_deadline] = WithTimeout(Context::Background(), absl::Seconds(5));
  absl::Status s = d.TrySubmit(work(deadline));
  EXPECT_TRUE(absl::IsResourceExhausted(s)) << s;
  EXPECT_NE(s.message().find("estimated queue wait 16s"), absl::string_view::npos) << s;

  cancel_batch();  // the watches take the costs out here, on this thread
  EXPECT_EQ(queued.jobs.load(), 1) << "only B is still counted";
  EXPECT_EQ(Counted(queued).jobs.load(), 0);
  EXPECT_EQ(Counted(queued).SumNs(), 0);
  EXPECT_EQ(queued.withdrawn.load(), 4);
  EXPECT_EQ(d.Stats().queued, 5) << "the four hold their places until dropped";
  s = d.TrySubmit(work(deadline));
  ASSERT_TRUE(s.ok()) << "behind four cancelled jobs: " << s;
  EXPECT_EQ(d.Stats().rejected_late, 1);

  ASSERT_TRUE(pool.release.Send(0).ok());
  for (int i = 0; i < 4; ++i) EXPECT_TRUE(absl::IsCancelled(*errors.Recv()));
  EXPECT_TRUE(work_ran.Recv().has_value());
  EXPECT_TRUE(pool.b_ran.Recv().has_value());
  ASSERT_TRUE(WaitUntil([&] { return d.Stats().idle == 1; }));
  const DispatcherStats stats = d.Stats();
  EXPECT_EQ(stats.completed, 3);
  EXPECT_EQ(stats.expired, 4);
  EXPECT_EQ(stats.queued, 0);
  EXPECT_EQ(queued.jobs.load(), 0);
  EXPECT_EQ(queued.withdrawn.load(), 0);
  EXPECT_EQ(Counted(queued).jobs.load(), 0);
  EXPECT_EQ(Counted(queued).SumNs(), 0);
}

// A withdrawn job still holds its slot in the queue (a full queue refuses
// the next job) and Stop() drops it, with on_error once, like any job
// whose context ended while queued.
TEST_P(OwnCostTest, AWithdrawnJobHoldsItsSlotAndStopDropsItOnce) {
  Dispatcher d({.workers = 1, .queue_depth = 2});
  const internal::QueueLoad& queued = internal::DispatcherAccess::Queued(d);
  HeldPool pool(d);
  auto [ctx, cancel] = WithCancel(Context::Background());
  Chan<absl::Status> errors(4);
  for (int i = 0; i < 2; ++i) {
    ASSERT_TRUE(
        d.TrySubmit(MustNotRun(Costing(Job(), absl::Seconds(2)), ctx, errors)).ok());
  }
  cancel();
  EXPECT_EQ(queued.withdrawn.load(), 2);
  absl::Status s = d.TrySubmit(NoopJob());
  EXPECT_TRUE(absl::IsResourceExhausted(s)) << s;
  EXPECT_EQ(d.Stats().rejected_full, 1);

  std::thread stopper([&d] { d.Stop(); });
  ASSERT_TRUE(pool.release.Send(0).ok());
  stopper.join();
  ASSERT_TRUE(errors.Close().ok());
  int dropped = 0;
  for (std::optional<absl::Status> why = errors.Recv(); why; why = errors.Recv()) {
    EXPECT_TRUE(absl::IsCancelled(*why)) << *why;
    ++dropped;
  }
  EXPECT_EQ(dropped, 2);
  EXPECT_TRUE(pool.b_ran.Recv().has_value());
  EXPECT_EQ(d.Stats().expired, 2);
  EXPECT_EQ(d.Stats().completed, 2);
  EXPECT_EQ(d.Stats().queued, 0);
  EXPECT_EQ(queued.withdrawn.load(), 0);
  EXPECT_EQ(Counted(queued).jobs.load(), 0);
}

// A watched job's watch on its context lasts only while the job is queued:
// AsyncSelect cannot be withdrawn, and on the context alone it would have
// held the context, and itself, until the context ended, which for one
// nobody cancels and without a deadline is never (a leak under ASan).
TEST_P(OwnCostTest, AJobsWatchEndsWhenItLeavesTheQueue) {
  Dispatcher d({.workers = 1, .queue_depth = 8});
  HeldPool pool(d);
  auto [ctx, cancel] = WithCancel(Context::Background());  // never called
  Chan<int> ran(1);
  Job job = Costing(Job(), absl::Seconds(2));
  job.ctx = ctx;
  job.run = [ran](const RunInfo&) { ASSERT_TRUE(ran.Send(1).ok()); };
  ASSERT_TRUE(d.TrySubmit(std::move(job)).ok());
  EXPECT_EQ(testing::ParkedReceivers(ctx.Done()), 1u) << "the job's watch";
  ASSERT_TRUE(pool.release.Send(0).ok());
  EXPECT_TRUE(ran.Recv().has_value());
  // The take ended the watch before the run began.
  EXPECT_EQ(testing::ParkedReceivers(ctx.Done()), 0u);
  EXPECT_TRUE(pool.b_ran.Recv().has_value());
  ASSERT_TRUE(WaitUntil([&] { return d.Stats().idle == 1; }));
  EXPECT_EQ(internal::DispatcherAccess::Queued(d).jobs.load(), 0);
  EXPECT_EQ(Counted(internal::DispatcherAccess::Queued(d)).jobs.load(), 0);
}

// The cancel and the job's leaving the queue race for its cost: whichever
// comes first takes it out, the other nothing. Here they race on every
// way off the queue the pool has: the dispatcher's hand-out of the job it
// holds, or its drop when the job's context ends there, and the take of
// the next by the worker that finishes (with ThreadSanitizer watching).
TEST_P(OwnCostTest, ACancelRacingTheTakeTakesTheCostOutOnce) {
  Dispatcher d({.workers = 1, .queue_depth = 4});
  const internal::QueueLoad& queued = internal::DispatcherAccess::Queued(d);
  Chan<int> started(1), release(0), outcome(2);
  ReleaseAtExit release_at_exit{release};
  // Cancels on a thread of its own, as the worker takes: both are woken
  // by this thread's sends, in turn in either order. Says when its cancel
  // has returned: a cancel that won a claim may still be taking the cost
  // out when the jobs' outcomes are in.
  Chan<CancelFunc> to_cancel(0);
  Chan<int> cancelled(1);
  std::thread canceller([to_cancel, cancelled] {
    while (std::optional<CancelFunc> cancel = to_cancel.Recv()) {
      (*cancel)();
      ASSERT_TRUE(cancelled.Send(1).ok());
    }
  });
  struct CloseAtExit {
    Chan<CancelFunc> ch;
    std::thread& t;
    ~CloseAtExit() {
      ch.Close().IgnoreError();
      t.join();
    }
  } close_at_exit{to_cancel, canceller};
  const int kRounds = 400 / testing::kScale;
  int ran = 0;
  for (int round = 0; round < kRounds; ++round) {
    ASSERT_TRUE(d.TrySubmit(BlockingJob(started, release, round)).ok());
    ASSERT_TRUE(started.Recv().has_value());
    auto [ctx, cancel] = WithCancel(Context::Background());
    for (int i = 0; i < 2; ++i) {
      Job job = Costing(Job(), absl::Milliseconds(5));
      job.ctx = ctx;
      job.run = [outcome](const RunInfo&) { ASSERT_TRUE(outcome.Send(1).ok()); };
      job.on_error = [outcome](absl::Status) { ASSERT_TRUE(outcome.Send(0).ok()); };
      ASSERT_TRUE(d.TrySubmit(std::move(job)).ok());
    }
    if (round % 2 == 0) {
      ASSERT_TRUE(release.Send(0).ok());
      ASSERT_TRUE(to_cancel.Send(cancel).ok());
    } else {
      ASSERT_TRUE(to_cancel.Send(cancel).ok());
      ASSERT_TRUE(release.Send(0).ok());
    }
    for (int i = 0; i < 2; ++i) ran += *outcome.Recv();
    ASSERT_TRUE(cancelled.Recv().has_value());
    ASSERT_TRUE(WaitUntil([&] { return d.Stats().idle == 1; }));
    ASSERT_EQ(queued.jobs.load(), 0) << "round " << round;
    ASSERT_EQ(queued.withdrawn.load(), 0) << "round " << round;
    ASSERT_EQ(Counted(queued).jobs.load(), 0) << "round " << round;
    ASSERT_EQ(Counted(queued).SumNs(), 0) << "round " << round;
  }
  const DispatcherStats stats = d.Stats();
  EXPECT_EQ(stats.completed, kRounds + ran);
  EXPECT_EQ(stats.expired, 2 * kRounds - ran);
}

// A run is counted only for what is left of its cost. A job's reply leaves
// from inside its run, so the caller's next call can reach admission before
// the worker is back on `idle`; counted whole, the run that had just
// answered held that call off for its entire cost again (a Batch with 400 ms
// left was refused behind a 600 ms Work that had already replied).
TEST_P(OwnCostTest, ARunIsCountedOnlyForWhatIsLeftOfItsCost) {
  Dispatcher d({.workers = 1, .queue_depth = 8});
  const absl::Duration cost = absl::Seconds(1);
  Chan<int> started(1), release(0);
  ReleaseAtExit release_at_exit{release};
  ASSERT_TRUE(d.TrySubmit(Costing(BlockingJob(started, release, 1), cost)).ok());
  ASSERT_TRUE(started.Recv().has_value());
  // The run began before this, so its cost is spent by then.
  auto [spent, cancel_spent] = WithTimeout(Context::Background(), cost);
  auto probe = [&d](absl::Duration deadline) {
    auto [ctx, cancel] = WithTimeout(Context::Background(), deadline);
    Job job;
    job.ctx = ctx;
    job.run = [](const RunInfo&) {};
    return d.TrySubmit(std::move(job));
  };
  // Early in the run, most of it is still to come.
  absl::Status s = probe(absl::Milliseconds(100));
  EXPECT_TRUE(absl::IsResourceExhausted(s)) << "early in a 1 s run: " << s;
  Select(OnDone(spent, [] {}));
  // Nothing is left of its cost: it counts only for how far it has overrun
  // it, by the timer's lag in marking `spent` done.
  EXPECT_LT(internal::DispatcherAccess::RunningNs(d),
            absl::ToDoubleNanoseconds(absl::Milliseconds(100)));
  s = probe(absl::Milliseconds(500));
  EXPECT_TRUE(s.ok()) << "behind a run that has used its whole cost: " << s;
  ASSERT_TRUE(release.Send(0).ok());
}

// A job counted at less than Dispatcher::kWithdrawOnCancelFromNs is not
// watched: cancelled while queued, it counts until the dispatcher or a
// worker drops it, as every job did, and costs nothing more than a branch.
// One counted at exactly that is watched.
TEST(DispatcherTest, ACancelledJobUnderTheWithdrawalCostCountsUntilItIsDropped) {
  Dispatcher d({.workers = 1, .queue_depth = 8});
  const internal::QueueLoad& queued = internal::DispatcherAccess::Queued(d);
  HeldPool pool(d);
  const absl::Duration at = absl::Nanoseconds(Dispatcher::kWithdrawOnCancelFromNs);
  const absl::Duration under = at - absl::Nanoseconds(1);
  auto [ctx, cancel] = WithCancel(Context::Background());
  Chan<absl::Status> errors(4);
  for (absl::Duration cost : {under, under, at, at}) {
    ASSERT_TRUE(d.TrySubmit(MustNotRun(Declaring(Job(), cost), ctx, errors)).ok());
  }
  // None has run yet, so no overhead is counted on top: each at its own.
  EXPECT_EQ(queued.declared.SumNs(), absl::ToDoubleNanoseconds(2 * under + 2 * at));
  cancel();
  EXPECT_EQ(queued.jobs.load(), 3) << "B and the two under the threshold";
  EXPECT_EQ(queued.declared.jobs.load(), 2);
  EXPECT_EQ(queued.declared.SumNs(), absl::ToDoubleNanoseconds(2 * under));
  EXPECT_EQ(queued.withdrawn.load(), 2);
  EXPECT_EQ(d.Stats().queued, 5);
  ASSERT_TRUE(pool.release.Send(0).ok());
  for (int i = 0; i < 4; ++i) EXPECT_TRUE(absl::IsCancelled(*errors.Recv()));
  EXPECT_TRUE(pool.b_ran.Recv().has_value());
  ASSERT_TRUE(WaitUntil([&] { return d.Stats().idle == 1; }));
  EXPECT_EQ(d.Stats().expired, 4);
  EXPECT_EQ(d.Stats().queued, 0);
  EXPECT_EQ(queued.declared.jobs.load(), 0);
  EXPECT_EQ(queued.declared.SumNs(), 0);
  EXPECT_EQ(queued.withdrawn.load(), 0);
}

// TrySubmit leaves a job it refuses as the caller may submit it again. Its
// declaration, counted for at most the time its deadline leaves it, stays
// what the caller declared: lowered to the first context's time left, the
// job submitted again with a later deadline was counted at that, or at
// nothing if that deadline had passed.
TEST(DispatcherTest, AJobRefusedForAFullQueueKeepsItsDeclarationForTheNextTry) {
  Dispatcher d({.workers = 1, .queue_depth = 1});
  const internal::QueueLoad& queued = internal::DispatcherAccess::Queued(d);
  const auto& idle = internal::DispatcherAccess::Idle(d);
  Chan<int> started(3), release(0);
  ReleaseAtExit release_at_exit{release};
  ASSERT_TRUE(d.TrySubmit(BlockingJob(started, release, 1)).ok());
  ASSERT_TRUE(started.Recv().has_value());
  // The dispatcher holds 2, waiting for the worker; 3 fills the queue.
  ASSERT_TRUE(d.TrySubmit(BlockingJob(started, release, 2)).ok());
  ASSERT_TRUE(testing::WaitForReceivers(idle, 1));
  ASSERT_TRUE(d.TrySubmit(BlockingJob(started, release, 3)).ok());

  const absl::Duration declared = absl::Seconds(10);
  auto [short_ctx, cancel_short] = WithTimeout(Context::Background(), absl::Seconds(1));
  Job job = Declaring(Job(), declared);
  job.ctx = short_ctx;
  Chan<int> ran(1);
  job.run = [ran](const RunInfo&) { ASSERT_TRUE(ran.Send(1).ok()); };
  ASSERT_TRUE(absl::IsResourceExhausted(d.TrySubmit(std::move(job))));
  EXPECT_EQ(job.declared_cost, declared);
  EXPECT_LE(job.counted_cost, absl::Seconds(1));
  EXPECT_EQ(queued.declared.jobs.load(), 0) << "the refused job left no count";

  // 1 ends, 2 starts, and the dispatcher holds 3: the queue has room.
  ASSERT_TRUE(release.Send(0).ok());
  ASSERT_TRUE(started.Recv().has_value());
  ASSERT_TRUE(testing::WaitForReceivers(idle, 1));
  auto [long_ctx, cancel_long] = WithTimeout(Context::Background(), absl::Hours(1));
  job.ctx = long_ctx;
  ASSERT_TRUE(d.TrySubmit(std::move(job)).ok());
  EXPECT_EQ(queued.declared.jobs.load(), 1);
  // To the 1 ms a long cost is summed in (declared_load.h).
  EXPECT_NEAR(queued.declared.SumNs(), absl::ToDoubleNanoseconds(declared),
              internal::DeclaredLoad::kUnitNs);
  for (int i = 0; i < 2; ++i) ASSERT_TRUE(release.Send(0).ok());  // 2, then 3
  EXPECT_TRUE(ran.Recv().has_value());
}

// A job's cost is measured on the wall clock, which can step back while the
// job runs (NTP, a restored VM): the run then seems to end before it began.
// That must not teach admission a negative cost. Clipped from above only, a
// negative mean grew more negative with every run after it, never came back,
// and admission, estimating negative waits, stopped refusing anything.
TEST(DispatcherTest, AClockSteppingBackDuringARunDoesNotStopAdmissionFromShedding) {
  Dispatcher d({.workers = 1, .queue_depth = 8});
  // Before any real run, so that the worker's thread has nothing of its own
  // to race with: a run that "ended" an hour before the worker was free.
  Job stepped;
  stepped.run = [](const RunInfo&) {};
  internal::DispatcherAccess::RunJob(d, stepped, 0,
                                     MonotonicNow() + absl::Hours(1));
  TeachCost(d, absl::Milliseconds(100));
  TeachCost(d, absl::Milliseconds(100));
  // One job ahead, one that may overtake, the run in progress: 300 ms.
  absl::Status s = AdmitBehindARunAndAJobAhead(d, absl::Milliseconds(250));
  EXPECT_TRUE(absl::IsResourceExhausted(s)) << s;
}

// Likewise between a job's submission and its run: RunInfo::queued is a
// wait, never negative (a Work reply sends it as an unsigned count of
// microseconds, where -1 us became 18446744073709551615).
TEST(DispatcherTest, AClockSteppingBackWhileAJobIsQueuedDoesNotMakeItsWaitNegative) {
  Dispatcher d({.workers = 1, .queue_depth = 8});
  absl::Duration queued = absl::InfiniteDuration();
  Job job;
  job.run = [&queued](const RunInfo& info) { queued = info.queued; };
  job.submitted = MonotonicNow() + absl::Hours(1);  // read before the step
  internal::DispatcherAccess::RunJob(d, job, 0, absl::InfinitePast());
  EXPECT_GE(queued, absl::ZeroDuration());
  EXPECT_LT(queued, absl::InfiniteDuration()) << "never ran";
}

// And a worker skips a job whose remaining budget is shorter than its
// expected run time, even when admission let it through.
TEST(DispatcherTest, AWorkerSkipsAJobWithTooLittleBudgetLeft) {
  Dispatcher d({.workers = 1, .queue_depth = 8, .shed_late_jobs = false});
  auto ran = std::make_shared<std::atomic<int>>(0);
  Chan<absl::Status> errors(1);
  auto [ctx, cancel] = WithTimeout(Context::Background(), absl::Seconds(10));
  Job job = RecordingJob(ctx, ran, errors);
  job.expected_run = absl::Minutes(1);
  ASSERT_TRUE(d.TrySubmit(std::move(job)).ok());
  absl::Status why = *errors.Recv();
  EXPECT_TRUE(absl::IsDeadlineExceeded(why)) << why;
  d.Stop();
  EXPECT_EQ(ran->load(), 0);
  EXPECT_EQ(d.Stats().expired, 1);
}

// After Stop(), TrySubmit says UNAVAILABLE (the header's contract), even of
// a job the estimate would shed while the accepted jobs still drain: told
// RESOURCE_EXHAUSTED ("overloaded"), its caller would retry a pool that
// will take nothing more, and the refusal counted in rejected_late, an
// overload that is none.
TEST(DispatcherTest, AStoppingDispatcherRefusesUnavailableNotOverloaded) {
  Dispatcher d({.workers = 1, .queue_depth = 4});
  Chan<int> started(1), release(0);
  ReleaseAtExit release_at_exit{release};
  ASSERT_TRUE(
      d.TrySubmit(Declaring(BlockingJob(started, release, 1), absl::Seconds(10))).ok());
  ASSERT_TRUE(started.Recv().has_value());
  std::thread stopper([&d] { d.Stop(); });
  // Admission closed, the queue drained: the dispatcher thread waits on
  // `idle` to retire the worker, which still runs its 10 s job.
  ASSERT_TRUE(testing::WaitForReceivers(internal::DispatcherAccess::Idle(d), 1));
  auto [ctx, cancel] = WithTimeout(Context::Background(), absl::Seconds(1));
  Job job = NoopJob();
  job.ctx = ctx;
  absl::Status s = d.TrySubmit(std::move(job));
  EXPECT_TRUE(absl::IsUnavailable(s)) << s;
  EXPECT_EQ(d.Stats().rejected_late, 0);
  ASSERT_TRUE(release.Send(0).ok());
  stopper.join();
  EXPECT_EQ(d.Stats().completed, 1);
}

// RunJob returns when its worker was free again, and the run after it is
// costed from then (back to back). A job dropped unrun, or whose run threw,
// holds its worker through its on_error too: that time is the dropped or
// failed job's, not the next one's. Costed from before that on_error, the
// next run taught its mean (or its kind) the on_error's time as its own: a
// cheap job after a skipped one whose on_error took 300 ms counted as a
// 300 ms job. (A job whose context was done was already costed from after
// its on_error.)
TEST(DispatcherTest, AJobsOnErrorIsNotCountedInTheCostOfTheRunAfterIt) {
  for (const bool skipped : {true, false}) {
    SCOPED_TRACE(skipped ? "after a skipped job" : "after a job whose run threw");
    Dispatcher d({.workers = 1, .queue_depth = 8, .shed_late_jobs = false});
    const absl::Duration on_error_takes = absl::Milliseconds(300);
    auto [ctx, cancel] = WithTimeout(Context::Background(), absl::Hours(1));
    Job first;
    first.ctx = ctx;
    if (skipped) {
      first.run = [](const RunInfo&) { FAIL() << "ran with too little budget left"; };
      first.expected_run = absl::Hours(2);
    } else {
      first.run = [](const RunInfo&) { throw std::runtime_error("boom"); };
      // Declared, so that its own run teaches the overhead, not the mean.
      first.declared_cost = absl::Milliseconds(1);
    }
    first.on_error = [on_error_takes](absl::Status) {
      auto [slow, cancel_slow] = WithTimeout(Context::Background(), on_error_takes);
      Select(OnDone(slow, [] {}));
    };
    first.submitted = MonotonicNow();
    internal::DispatcherAccess::CountAtSubmission(d, first);
    const absl::Time free =
        internal::DispatcherAccess::RunJob(d, first, 0, absl::InfinitePast());
    // The job after it declares nothing and costs next to nothing: the only
    // run to teach the mean of undeclared jobs.
    Job next = NoopJob();
    next.submitted = MonotonicNow();
    internal::DispatcherAccess::CountAtSubmission(d, next);
    internal::DispatcherAccess::RunJob(d, next, 0, free);
    EXPECT_GT(d.Stats().undeclared_job_cost, absl::ZeroDuration());
    EXPECT_LT(d.Stats().undeclared_job_cost, on_error_takes / 2)
        << "the job before it's on_error counted as the next run's cost";
    EXPECT_EQ(d.Stats().expired + d.Stats().failed, 1);
  }
}

TEST(DispatcherTest, StatsCountIdleAndBusyWorkers) {
  Dispatcher d({.workers = 3, .queue_depth = 4});
  ASSERT_TRUE(WaitUntil([&] { return d.Stats().idle == 3; }));
  Chan<int> started(1), release(0);
  ReleaseAtExit release_at_exit{release};
  ASSERT_TRUE(d.TrySubmit(BlockingJob(started, release, 1)).ok());
  ASSERT_TRUE(started.Recv().has_value());
  ASSERT_TRUE(WaitUntil([&] { return d.Stats().idle == 2; }));
  EXPECT_EQ(d.Stats().busy, 1);
  ASSERT_TRUE(release.Send(0).ok());
  ASSERT_TRUE(WaitUntil([&] { return d.Stats().idle == 3; }));
  EXPECT_EQ(d.Stats().busy, 0);
  EXPECT_EQ(d.Stats().completed, 1);
}

// How many of this process's threads are named `name`.
int ThreadsNamed(const std::string& name) {
  int n = 0;
  for (const testutil::ThreadInfo& t : testutil::ThreadsOfThisProcess()) n += t.name == name;
  return n;
}

// The scheduling policy of each of this process's threads named `prefix`*.
std::vector<int> PoliciesOfThreadsNamed(const std::string& prefix) {
  std::vector<int> policies;
  for (const testutil::ThreadInfo& t : testutil::ThreadsOfThisProcess()) {
    if (t.name.rfind(prefix, 0) == 0) policies.push_back(t.policy);
  }
  return policies;
}

TEST(DispatcherTest, ItsThreadsAreNamedForTopAndPerf) {
  Dispatcher d({.workers = 2, .queue_depth = 4});
  ASSERT_TRUE(WaitUntil([] {
    return ThreadsNamed("handoff-work-0") == 1 && ThreadsNamed("handoff-work-1") == 1 &&
           ThreadsNamed("handoff-disp") >= 1;
  })) << "thread names never appeared";
  d.Stop();
}

TEST(DispatcherTest, BatchSchedulingPutsWorkersAndDispatcherUnderSchedBatch) {
  Dispatcher d({.workers = 2, .queue_depth = 4, .batch_scheduling = true});
  // A thread takes its policy before its name.
  ASSERT_TRUE(WaitUntil([] { return ThreadsNamed("handoff-disp") == 1; }));
  ASSERT_TRUE(WaitUntil([] { return PoliciesOfThreadsNamed("handoff-work-").size() == 2; }));
  for (const std::string prefix : {"handoff-work-", "handoff-disp"}) {
    std::vector<int> policies = PoliciesOfThreadsNamed(prefix);
    ASSERT_FALSE(policies.empty()) << prefix;
    for (int policy : policies) EXPECT_EQ(policy, SCHED_BATCH) << prefix;
  }
  d.Stop();
}

TEST(DispatcherTest, ByDefaultItsThreadsKeepTheCreatorsPolicy) {
  // Whatever this process runs under (SCHED_OTHER, or SCHED_BATCH if started
  // with `chrt -b`), the threads inherit it unchanged.
  const int inherited = sched_getscheduler(0);
  Dispatcher d({.workers = 2, .queue_depth = 4});
  ASSERT_TRUE(WaitUntil([] { return ThreadsNamed("handoff-disp") == 1; }));
  ASSERT_TRUE(WaitUntil([] { return PoliciesOfThreadsNamed("handoff-work-").size() == 2; }));
  for (const std::string prefix : {"handoff-work-", "handoff-disp"}) {
    for (int policy : PoliciesOfThreadsNamed(prefix)) EXPECT_EQ(policy, inherited) << prefix;
  }
  d.Stop();
}

// Each worker's CPUs, by worker index, once all `workers` have their names
// (a worker is pinned before it is named).
std::map<int, std::vector<int>> WorkerCpus(int workers) {
  const std::string prefix = "handoff-work-";
  std::map<int, std::vector<int>> by_worker;
  EXPECT_TRUE(WaitUntil([&] {
    by_worker.clear();
    for (const testutil::ThreadInfo& t : testutil::ThreadsOfThisProcess()) {
      if (t.name.rfind(prefix, 0) != 0) continue;
      by_worker[std::stoi(t.name.substr(prefix.size()))] = CpusOf(t.tid);
    }
    return static_cast<int>(by_worker.size()) == workers;
  })) << "the workers never all appeared";
  return by_worker;
}

TEST(DispatcherTest, PinWorkersPutsEachWorkerOnOneOfTheProcessCpusInTurn) {
  // One more worker than CPUs, so that the turn comes round again.
  const std::vector<int> process = CpusOf(getpid());
  ASSERT_FALSE(process.empty());
  const int workers = static_cast<int>(process.size()) + 1;
  Dispatcher d({.workers = workers, .queue_depth = 4, .pin_workers = true});
  std::map<int, std::vector<int>> cpus = WorkerCpus(workers);
  for (int i = 0; i < workers; ++i) {
    EXPECT_EQ(cpus[i], std::vector<int>{process[static_cast<size_t>(i) % process.size()]})
        << "handoff-work-" << i;
  }
  // And runs its jobs there: one per worker, all held at once, each
  // reporting which worker ran it on which CPU.
  Chan<std::pair<int, int>> ran(static_cast<size_t>(workers));
  Chan<int> release(0);
  ReleaseAtExit at_exit{release};
  for (int i = 0; i < workers; ++i) {
    Job job;
    job.run = [ran, release](const RunInfo& info) {
      ASSERT_TRUE(ran.Send({info.worker, sched_getcpu()}).ok());
      release.Recv();
    };
    ASSERT_TRUE(d.TrySubmit(std::move(job)).ok());
  }
  std::set<int> seen;
  for (int i = 0; i < workers; ++i) {
    std::optional<std::pair<int, int>> r = ran.Recv();
    ASSERT_TRUE(r.has_value());
    const auto [worker, cpu] = *r;
    seen.insert(worker);
    EXPECT_EQ(cpu, process[static_cast<size_t>(worker) % process.size()])
        << "handoff-work-" << worker;
  }
  EXPECT_EQ(static_cast<int>(seen.size()), workers);
  release.Close().IgnoreError();
  d.Stop();
  EXPECT_EQ(d.Stats().completed, workers);
}

TEST(DispatcherTest, ByDefaultWorkersMayRunOnEveryCpuOfTheProcess) {
  const std::vector<int> process = CpusOf(getpid());
  Dispatcher d({.workers = 2, .queue_depth = 4});
  for (const auto& [worker, cpus] : WorkerCpus(2)) {
    EXPECT_EQ(cpus, process) << "handoff-work-" << worker;
  }
  d.Stop();
}

}  // namespace
}  // namespace handoff
