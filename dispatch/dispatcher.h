// Copyright 2026 The handoff Authors.
//
// Dispatcher: a bounded worker pool fed through Go's `chan chan Job`.
//
//   jobs: Chan<Job>(queue_depth)      submitters send here (admission)
//   idle: Chan<Chan<Job>*>(workers)   each idle worker sends its own channel
//
//   dispatcher thread:  for job in jobs:
//                         select { w := <-idle:      w <- job
//                                  <-job.ctx.Done(): drop it, count expired }
//   worker i:           loop { idle <- mine; job := <-mine; run job }
//
// So a job is handed only to a worker that is idle at that moment; with every
// worker busy, jobs wait in `jobs` (FIFO). A job whose context is done, or
// whose deadline has passed, before a worker starts it is never run: the
// dispatcher drops it if it expires while waiting for a worker, and the
// worker checks again before running it, the deadline against the clock
// (the one timer thread that marks contexts done may lag).
//
// Two shortcuts take the dispatcher's step where it costs no thread hop, since
// on two cores every hop is a futex wake and a context switch:
//  - idle workers, nothing queued: the submitting thread takes a worker from
//    `idle` itself and hands it the job. Not the worker `idle` yields first,
//    the one idle longest: that one has most likely stopped spinning and gone
//    to sleep, and waking a sleeping thread costs tens of microseconds on a
//    virtual machine. The job goes to the worker that registered last, likely
//    still spinning with its caches warm, and the older registrations go back
//    in their order: idle workers are served as a stack, as Go's runtime
//    keeps its idle Ms and Ps. A caller that waits for each reply then has
//    one worker serve it throughout, where a queue would alternate the
//    workers and let each fall asleep for a whole round trip;
//  - busy workers, jobs queued: a worker that finishes a job takes the next
//    one from `jobs` itself instead of registering on `idle` and waiting for
//    the dispatcher to wake up and answer. The job the dispatcher already
//    holds (the oldest) may be overtaken this way, but only by
//    kMaxOvertakes pulled jobs (with W workers pulling at once, up to W - 1
//    more: each checks the count before its take and adds to it after):
//    then the next finishing worker registers on `idle` and the dispatcher
//    hands it that job.
//
// Overload. A FIFO that admits every job it has room for collapses under
// overload: each job waits until it has nearly expired, then runs too late.
// So admission is deadline-aware: TrySubmit refuses at once (RESOURCE_EXHAUSTED)
// a job whose estimated queue wait plus expected run time exceeds what is left
// of its deadline, and a worker skips a job whose remaining budget is shorter
// than its expected run time. A job whose expected run alone exceeds what is
// left is refused DEADLINE_EXCEEDED instead: no wait for capacity would help
// it, and RESOURCE_EXHAUSTED would tell its caller to retry. Workers then spend
// their time only on jobs that can still succeed, and nearly every shed job is
// answered immediately (the rest, at their deadline: the estimate is a worst
// case, but an estimate). The jobs ahead are counted by what they declared
// they will cost (Job::declared_cost), where they did; otherwise by the mean
// cost of their kind (Job::kind), learned from its runs, where they have
// one; and otherwise by the mean cost of the other undeclared jobs. A job
// counted at a cost of its own of kWithdrawOnCancelFromNs or more stops
// counting when its context ends, though it keeps its place in the queue
// until a worker or the dispatcher drops it (internal/withdrawal.h); a
// cheaper one, or one counted at the mean, counts until it is dropped.
//
// Stop() closes admission and drains: every accepted job is run, or, if its
// context is done, dropped with on_error. None is lost, none runs twice.
// StopWithin() bounds the wait for a job that ignores its cancellation: it
// cannot be stopped (a thread is not killed), but its caller can be told.

#ifndef HANDOFF_DISPATCH_DISPATCHER_H_
#define HANDOFF_DISPATCH_DISPATCHER_H_

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/time/time.h"
#include "dispatch/chan.h"
#include "dispatch/context.h"
#include "dispatch/internal/cost_mean.h"
#include "dispatch/internal/declared_load.h"
#include "dispatch/internal/withdrawal.h"
#include "dispatch/job_kind.h"
#include "dispatch/job_not_run.h"

namespace handoff {
namespace internal {
struct DispatcherAccess;  // tests only
}  // namespace internal

// What a running job knows about its run.
struct RunInfo {
  const Context& ctx;     // the job's context; poll ctx.IsDone() in long work
  int worker;             // 0-based index of the worker running it
  absl::Duration queued;  // from submission to the start of the run; >= 0
};

struct Job {
  // Cancellation and deadline. A job whose ctx is done, or whose deadline
  // has passed, is never started.
  Context ctx;
  // The work. Runs on a worker thread, at most once. Required: a job
  // without one is refused at submission (INVALID_ARGUMENT). One that finds
  // at its start that it must not run after all throws JobNotRun
  // (job_not_run.h), and is counted and answered as a job dropped unrun.
  absl::AnyInvocable<void(const RunInfo&)> run;
  // Called at most once, when the job was accepted but did not complete:
  //   DEADLINE_EXCEEDED / CANCELLED  ctx was done (or its deadline passed)
  //                                  before a worker started it, or too
  //                                  little deadline was left for
  //                                  expected_run;
  //   JobNotRun's status             run threw JobNotRun: it did not run;
  //   INTERNAL                       run threw (the worker survives).
  // May be empty. Runs on a worker or on the dispatcher thread, and must not
  // throw: unlike run's, its exception is not caught there, and it ends the
  // process, as one leaving a std::thread does (AsyncSelect's functions
  // are held to the same rule, for the same reason: the thread has other
  // work to go on with that the exception would skip).
  absl::AnyInvocable<void(absl::Status)> on_error;
  // How long the job is expected to run, if known (e.g. a requested amount of
  // work). A worker skips the job if less deadline than this is left.
  absl::Duration expected_run = absl::ZeroDuration();
  // What the job will cost its worker, if known: the whole run, with any
  // time it spends waiting on something else (Work's cpu_us and sleep_us).
  // While the job waits or runs, admission counts this (plus the overhead
  // it has measured on such jobs, of the job's kind if it has one that has
  // run so, up to as much again; dispatcher.cc, OverheadOf) for it when it
  // estimates the queue wait
  // of the jobs behind it, in place of the mean cost of jobs that declare
  // nothing. Unlike expected_run it is never a reason to refuse or skip the
  // job itself: a job may run into its deadline and be stopped there, and
  // so it is counted for at most the time its deadline leaves it
  // (counted_cost). Zero declares nothing.
  absl::Duration declared_cost = absl::ZeroDuration();
  // The kind of job this is, if its submitter groups its jobs so (one kind
  // per method or handler; job_kind.h). A job that declares no cost is then
  // counted at its kind's recent mean cost, which its run teaches, instead
  // of at the mean of all jobs that declare none: one slow kind of job no
  // longer makes the others count as slow. A job submitted before any job of
  // its kind has run is counted, while it waits and runs, at the mean of the
  // jobs that have neither a kind nor a declaration (nothing, if none has
  // run): after a cold start, a first burst of a kind is undercounted until
  // it drains, though the kind learns from its first run. May be null.
  std::shared_ptr<JobKind> kind;

  // Set by the dispatcher at admission.
  absl::Time submitted = absl::InfinitePast();
  // What admission counts the job at while it waits and runs, if at a cost
  // of its own: declared_cost and the overhead measured on such jobs then,
  // or, if it declared none, its kind's cost then (a mean moves; the job
  // keeps the figure it was counted at); either for at most the time its
  // deadline left it at submission. Zero: counted at the mean of the jobs
  // that declare nothing.
  absl::Duration counted_cost = absl::ZeroDuration();
  // While the job is queued, if counted_cost is at least
  // Dispatcher::kWithdrawOnCancelFromNs and its context can end: the claim
  // on its cost that its context's end and its leaving the queue race for
  // (internal/withdrawal.h). Else null.
  std::shared_ptr<internal::Withdrawal> withdrawal;
};

struct DispatcherOptions {
  int workers = 1;
  // Capacity of the jobs channel: accepted jobs waiting for a worker (the
  // dispatcher itself holds at most one more).
  int queue_depth = 64;
  // Refuse at admission a job that cannot finish before its deadline, judging
  // by its expected_run, the queue ahead of it and what recent jobs cost a
  // worker.
  bool shed_late_jobs = true;
  // Run the worker and dispatcher threads under SCHED_BATCH (Linux). The
  // kernel then does not let one of them, woken, preempt the thread that
  // woke it: a gRPC thread handing out a burst of requests finishes the
  // burst instead of yielding its core to each worker it wakes, and the
  // woken worker runs on the other core or when the waker sleeps. That is a
  // gateway's pattern; a submitter that waits for each reply on a busy
  // machine wants the preemption, hence off by default. Best effort: if the
  // kernel refuses the policy, the threads keep the default one.
  bool batch_scheduling = false;
  // Pin worker i to the (i mod n)-th of the n CPUs this process may run on
  // (its affinity mask when the Dispatcher starts: taskset, a container's
  // cpuset). A worker that stays on one core keeps its caches and never
  // lands on the core of the gRPC thread that woke it. With two workers on
  // two vCPUs that took from nothing to a tenth off handoffd's CPU per Echo
  // call, depending on the sitting (docs/PERF.md). Off by default, for a
  // process that owns its CPUs: a pinned worker cannot move away from a core
  // that something else keeps busy, and the job it holds waits with it.
  // Best effort: a worker the kernel will not pin runs where the scheduler
  // puts it. The dispatcher thread is never pinned.
  bool pin_workers = false;
};

// A snapshot; each field is read separately.
struct DispatcherStats {
  int64_t queued = 0;     // accepted, not yet handed to a worker or dropped
                          // (and submissions waiting for room), whether
                          // or not their context has ended
  int64_t waiting = 0;    // of `queued`, the submissions still waiting for
                          // room (Submit, AsyncSubmit): not in the queue yet
  int64_t idle = 0;       // workers waiting for a job
  int64_t busy = 0;       // workers running a job
  int64_t completed = 0;  // runs that returned normally
  int64_t expired = 0;    // accepted jobs dropped because ctx was done or
                          // its deadline could not be met (never started),
                          // or whose run threw JobNotRun as it began
  int64_t rejected_full = 0;  // refused at admission: the queue was full
  int64_t rejected_late = 0;  // refused at admission: the estimated queue
                              // wait would have made it miss its deadline
  int64_t failed = 0;     // runs that threw
  // What admission counts a job at (Overload, above): one that declares no
  // cost and has no kind with a cost (JobKind::cost()), at the recent mean
  // of such jobs' runs; one that declares, at its declaration plus this
  // overhead, what such jobs recently cost past it (a job of a kind, at its
  // kind's: JobKind::overhead()). Zero until a run of that sort has taught
  // it.
  absl::Duration undeclared_job_cost = absl::ZeroDuration();
  absl::Duration declared_job_overhead = absl::ZeroDuration();
  // Not counted in any field: a job refused DEADLINE_EXCEEDED or CANCELLED
  // (its context done, or its expected_run alone longer than the time left).
  // No capacity would have saved it, so it is no sign of overload.

  // Refused at admission for want of capacity (RESOURCE_EXHAUSTED).
  int64_t rejected() const { return rejected_full + rejected_late; }
};

// DEADLINE_EXCEEDED if `job`'s expected_run alone is longer than what is
// left of its deadline ("deadline too short: expected run 5s exceeds the
// 4.2s left before the deadline", figures rounded as every refusal's are,
// so that what the message states still holds); else OK. No wait for room
// and no capacity could save such a job, so it is refused, not shed:
// TrySubmit says this, and a submitter that waits for room asks it first.
absl::Status CheckExpectedRunFits(const Job& job);

// Whether `s` is one of the Dispatcher's refusals judged against the job's
// deadline: DEADLINE_EXCEEDED "deadline too short: ..." (TrySubmit, and
// CheckExpectedRunFits) or "skipped: ..." (a worker), and RESOURCE_EXHAUSTED
// "overloaded: ..." for an estimated queue wait that would outlast it (not
// for a full queue). A caller whose deadline was not its own (a server's
// default, say) can then say whose it was. A job's own DEADLINE_EXCEEDED is
// none of these.
bool JudgedByTheDeadline(const absl::Status& s);

// Whether `s` is a worker's "skipped: ...": the job reached a worker with
// less of its deadline left than its expected_run, and was dropped unrun
// (counted in DispatcherStats::expired). One kind of job may count its own
// skips too (Work's, in handoff_work_jobs_skipped_total).
bool SkippedByWorker(const absl::Status& s);

// The worker's "skipped: ..." for a job with `left` of its deadline (> 0),
// less than the `needs` of its expected run. Also for a job that finds this
// itself as it begins, a moment after the worker's check (Work's RunWork),
// and throws it in a JobNotRun: its answer is then the worker's, and so is
// its count wherever SkippedByWorker counts the worker's.
absl::Status SkippedError(absl::Duration left, absl::Duration needs);

class Dispatcher {
 public:
  // Starts `workers` worker threads and the dispatcher thread.
  explicit Dispatcher(const DispatcherOptions& options);
  // Stop()s. Must not run on one of the Dispatcher's own threads (a job's
  // run or on_error, an AsyncSubmit callback), whose code it would free
  // before they could leave: there it says so on stderr and aborts.
  ~Dispatcher();

  Dispatcher(const Dispatcher&) = delete;
  Dispatcher& operator=(const Dispatcher&) = delete;

  // Admits `job` without waiting. On OK the job is moved from; otherwise it
  // is not, and may be submitted again (only the fields the dispatcher sets,
  // above, have changed), and the status says why:
  //   RESOURCE_EXHAUSTED  the queue is full, or the estimated queue wait
  //                       would keep the job from finishing before its
  //                       deadline (shed_late_jobs);
  //   DEADLINE_EXCEEDED / CANCELLED  job.ctx is already done;
  //   DEADLINE_EXCEEDED   job.expected_run alone exceeds the time left
  //                       before its deadline (shed_late_jobs);
  //   UNAVAILABLE         Stop() has been called;
  //   INVALID_ARGUMENT    job.run is empty (a worker would have nothing to
  //                       call).
  absl::Status TrySubmit(Job&& job);

  // Admits `job`, waiting for queue room as long as job.ctx allows: a select
  // on {jobs <- job, job.ctx.Done()}. The job is consumed either way. A job
  // without a run is refused INVALID_ARGUMENT, as by TrySubmit.
  absl::Status Submit(Job job);

  // Like Submit, without blocking a thread: `admitted` runs exactly once with
  // the outcome, possibly inline, else on the thread that made room (the
  // dispatcher or a worker) or that cancelled job.ctx. A job without a run
  // is refused INVALID_ARGUMENT, inline.
  void AsyncSubmit(Job job, absl::AnyInvocable<void(absl::Status)> admitted);

  // Closes admission, runs or drops every accepted job, and joins all threads.
  // Idempotent; safe to call concurrently with submissions. Called on one of
  // the Dispatcher's own threads (from a job's run or on_error, or from an
  // AsyncSubmit callback that a worker or the dispatcher thread runs), it
  // only closes admission and returns: that thread cannot wait for itself.
  // The jobs accepted still run or are dropped as usual, and a Stop() from
  // another thread (or the destructor) waits for them.
  void Stop();

  // Stop(), waiting at most `timeout` for the jobs in progress and those
  // still to be handed out; threads not running a job are given up to a
  // second more to leave, however short the timeout (0 included). OK if every
  // thread has finished (all are joined then). Otherwise DEADLINE_EXCEEDED,
  // naming how many workers are still running a job: one that ignores its
  // context, since a job whose context is done is never started and a
  // running one should poll it. Those threads are left to finish; Stop()
  // and the destructor still wait for them. Admission is closed either way.
  // On one of the Dispatcher's own threads it closes admission and returns
  // FAILED_PRECONDITION at once, as that thread cannot wait for itself.
  absl::Status StopWithin(absl::Duration timeout);

  DispatcherStats Stats() const;
  int workers() const { return static_cast<int>(workers_.size()); }

  // How many jobs finishing workers may take from the queue past the one the
  // dispatcher holds. Small enough that the held job waits only a few runs
  // per worker longer than strict FIFO order would make it (admission counts
  // them); large enough that in the busy regime only one job in
  // kMaxOvertakes + 1 pays the dispatcher's hop: a worker's futex wake of the
  // dispatcher thread and the switches around it, tens of microseconds of CPU
  // on a VM. Against 16, 32 took handoffd's CPU per Echo call at 256 calls in
  // flight from 1.0 to 0.81 (docs/PERF.md); 64 did no better.
  static constexpr int kMaxOvertakes = 32;

  // From what cost of its own (Job::counted_cost, in ns) a queued job stops
  // counting against the jobs behind it as soon as its context ends, not
  // only once a worker or the dispatcher drops it. Watching a job's context
  // and claiming its cost (internal/withdrawal.h) cost about 0.3 µs a job
  // measured on one thread, more across threads with their cache misses: a
  // few parts in ten thousand of a job from 1 ms on, but a share that
  // would matter of an Echo or a 100 µs handler, which pay only a branch.
  // Below it, a cancelled job is overcounted by less than 1 ms, and only
  // for as long as it stays queued.
  static constexpr int64_t kWithdrawOnCancelFromNs = 1'000'000;

 private:
  friend struct internal::DispatcherAccess;

  absl::Status Admit(const Job& job) const;
  // What the runs in progress are counted at, in ns, at `now`: a run counted
  // at a cost of its own, at what is left of that, or once past it, at as
  // much again as it has overrun; any other worker, at `mean_ns`. What is
  // left, not the whole: a job's reply leaves from inside its run, so its
  // caller's next call can reach admission before the worker is back on
  // `idle`, and counted whole, a run that has just answered held off that
  // call for its entire cost again. O(workers), on the workers' own cache
  // lines: a running sum of costs would cost every run two atomic updates
  // of lines shared by all the workers, and could not count each run by
  // its own end.
  double RunningNs(absl::Time now, int64_t mean_ns) const;
  // Sets job.counted_cost, from job.submitted on (the Job's fields say how).
  void CountAtSubmission(Job& job) const;
  // Counts `job`, about to be queued, in queued_, and, if its cost is worth
  // it (kWithdrawOnCancelFromNs), watches its context and sets
  // job.withdrawal. Returns what it is counted at.
  internal::JobLoad Enqueue(Job& job) const;
  // The dispatcher's step, done by the submitter: hands `job` to an idle
  // worker if nothing is queued. False (job untouched) if it cannot.
  bool HandToIdleWorker(Job& job);
  // Given the registration just taken from `idle` (the oldest), returns the
  // newest one and sends the others back in their order. O(idle workers).
  const Chan<Job>* NewestIdle(const Chan<Job>* oldest);
  // The dispatcher's step, done by a worker that just finished a job: the
  // next queued job, unless the job the dispatcher holds has already been
  // overtaken kMaxOvertakes times (nullopt: go register on `idle`).
  std::optional<Job> TakeQueuedJob();
  void DispatchLoop();
  void WorkerLoop(int index);
  // Runs or drops `job`; returns when the worker was free again. `free_since`
  // is when it became free for this job if it ran another just before
  // (else InfinitePast()).
  absl::Time RunJob(Job& job, int worker, absl::Time free_since);
  void Expire(Job& job, absl::Status why);

  const DispatcherOptions options_;
  Chan<Job> jobs_;
  // Each worker's own channel, by address, as the design has it
  // (chan<chan<Job>*>): a worker outlives its registrations, and a pointer
  // spares the channel handle's reference count two atomic updates per job
  // from two threads.
  Chan<const Chan<Job>*> idle_;

  // What one worker counts, on a cache line of its own. A worker updates its
  // counters around every job; counters shared by all workers would pass one
  // line between their cores on every run, and delay each worker's return to
  // `idle` by that much. Stats() sums them.
  struct alignas(64) WorkerCounters {
    std::atomic<int64_t> idle{0};  // registered on `idle`, or about to be
    std::atomic<int64_t> busy{0};  // running a job
    std::atomic<int64_t> completed{0};
    std::atomic<int64_t> failed{0};
    // The run in progress, as admission counts it (RunningNs): when it
    // should end, in ns since the Dispatcher's start on MonotonicNow()'s
    // clock, if it is counted at a cost of its own (its declaration with
    // the overhead measured then, or its kind's cost); 0 if it is counted
    // at the mean, or no job is running.
    std::atomic<int64_t> counted_end_ns{0};
    // This worker's means, published to the two below. Its own thread only.
    internal::CostMean undeclared;  // the cost of a job that declared none
    internal::CostMean overhead;    // a declared job's cost past what it declared
  };

  const std::unique_ptr<WorkerCounters[]> counters_;
  // Jobs in `jobs_` or held by the dispatcher, and submissions waiting for
  // room; those among them whose context has ended apart, if they were
  // withdrawn then (internal/withdrawal.h). Shared with AsyncSubmit's
  // callbacks and the withdrawals' watches, which may run after the
  // Dispatcher is gone (AsyncSubmit says why).
  const std::shared_ptr<internal::QueueLoad> queued_;
  // Where counted_end_ns is measured from.
  const absl::Time epoch_;
  alignas(64) std::atomic<int64_t> expired_{0};
  std::atomic<int64_t> rejected_full_{0};
  std::atomic<int64_t> rejected_late_{0};
  // What a job costs a worker (ns), as admission sees it: the workers' own
  // means (cost_mean.h), one for jobs that declare nothing and one for what
  // declared jobs cost past their declaration.
  std::atomic<int64_t> undeclared_mean_ns_{0};
  std::atomic<int64_t> declared_overhead_ns_{0};
  // Jobs workers have taken from `jobs` since the dispatcher last went to
  // take one itself: the overtakes of the job it holds, if it holds one
  // (counted after each take; see TakeQueuedJob).
  std::atomic<int> overtaken_{0};

  void CloseAdmission();
  // Whether the calling thread is this Dispatcher's dispatcher thread or one
  // of its workers.
  bool OnOwnThread() const;

  std::atomic<bool> stopping_{false};
  std::once_flag close_once_;
  std::once_flag join_once_;
  // The dispatcher and worker threads not yet returned from their loops,
  // for StopWithin's bounded wait (std::thread has no timed join). A
  // std::mutex, not an absl::Mutex: ThreadSanitizer sees the pthread calls
  // under it, and not the lock of an Abseil built without it.
  std::mutex exit_mu_;
  std::condition_variable exited_;
  int running_threads_ ABSL_GUARDED_BY(exit_mu_) = 0;
  std::thread dispatcher_;
  std::vector<std::thread> workers_;
};

}  // namespace handoff

#endif  // HANDOFF_DISPATCH_DISPATCHER_H_
