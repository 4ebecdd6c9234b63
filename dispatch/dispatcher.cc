// Copyright 2026 The handoff Authors.

#include "dispatch/dispatcher.h"

#include <pthread.h>
#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "dispatch/clock.h"
#include "dispatch/internal/cpus.h"
#include "dispatch/select.h"

namespace handoff {

namespace {

// Sets the calling thread's scheduling policy, then names it as `top -H`,
// perf and gdb show it (Linux refuses a name longer than 15 characters
// outright, so it is cut to fit). In that order, a thread seen by its name
// already has its policy.
void SetUpThisThread(const std::string& name, bool batch_scheduling) {
  if (batch_scheduling) {
    const sched_param param{};  // SCHED_BATCH takes priority 0
    pthread_setschedparam(pthread_self(), SCHED_BATCH, &param);
  }
  pthread_setname_np(pthread_self(), name.substr(0, 15).c_str());
}

// A duration as a refusal's message states it: to 1 ms from 10 ms on, to
// 0.1 ms from 1 ms, else to 1 µs; rounded up or down as the caller says, so
// that the comparison the message states stays true. Exact figures made each
// refusal of an overload a message of its own, and ghz and `handoff load`
// group errors by message: one line per refused call.
absl::Duration RoundForMessage(absl::Duration d, bool up) {
  const absl::Duration unit = d >= absl::Milliseconds(10)  ? absl::Milliseconds(1)
                              : d >= absl::Milliseconds(1) ? absl::Microseconds(100)
                                                           : absl::Microseconds(1);
  return up ? absl::Ceil(d, unit) : absl::Floor(d, unit);
}

// How each refusal judged by the deadline begins (JudgedByTheDeadline).
constexpr absl::string_view kOverloaded = "overloaded: ";
constexpr absl::string_view kTooShort = "deadline too short: ";
constexpr absl::string_view kSkipped = "skipped: ";

absl::Status ExpectedRunTooLong(absl::Duration expected_run, absl::Duration left) {
  return absl::DeadlineExceededError(absl::StrCat(
      kTooShort, "expected run ", absl::FormatDuration(expected_run), " exceeds the ",
      absl::FormatDuration(RoundForMessage(std::max(left, absl::ZeroDuration()), /*up=*/false)),
      " left before the deadline"));
}

// The Dispatcher whose thread (dispatcher or worker) this is, if any: set
// once, as the thread starts, and read only by that thread.
thread_local const Dispatcher* own_dispatcher = nullptr;

// Pins the calling thread to one CPU. Best effort, as the option promises: a
// refusal (a cpuset that changed since the Dispatcher read it) leaves the
// thread where the scheduler puts it.
void PinThisThread(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

// A cost in ns, capped so that sums of many stay far from overflow
// (declared_load.h): a cost past the cap says as much to admission as one at
// it.
int64_t CappedNs(absl::Duration cost) {
  constexpr int64_t kMaxCostNs = int64_t{1} << 50;  // about 13 days
  if (cost <= absl::ZeroDuration()) return 0;
  return std::min(absl::ToInt64Nanoseconds(cost), kMaxCostNs);
}

bool Declares(const Job& job) { return job.declared_cost > absl::ZeroDuration(); }

// A job must have something to run: a worker calling an empty run is
// undefined behaviour (in practice a jump to address 0, which ends the
// process), and by then its submitter has been told OK. Checked before
// anything else, so that no count or slot is taken for it.
absl::Status CheckRunnable(const Job& job) {
  if (job.run) return absl::OkStatus();
  return absl::InvalidArgumentError("job has no run: nothing for a worker to call");
}

// What admission counts `job` at, if at a cost of its own. Set at
// submission (CountAtSubmission), so that every count of the job agrees.
internal::JobLoad LoadOf(const Job& job) {
  const int64_t ns = CappedNs(job.counted_cost);
  if (Declares(job)) return {ns, 0};
  return {0, ns};
}

// Takes a job that leaves the queue (handed out, taken, dropped), or never
// got into it, out of `queued`: `withdrawal` is its Job::withdrawal, `load`
// what it was counted at. Once for every job counted in `queued`. Most jobs
// have no withdrawal: for them this is Remove behind one branch.
void Dequeue(internal::QueueLoad& queued, internal::Withdrawal* withdrawal,
             internal::JobLoad load) {
  if (withdrawal == nullptr) {
    queued.Remove(load);
  } else {
    withdrawal->Left();
  }
}

void Dequeue(internal::QueueLoad& queued, const Job& job) {
  Dequeue(queued, job.withdrawal.get(), LoadOf(job));
}

// The overhead a declared job is counted at, past its declaration: the
// overhead measured on declared jobs, but no more than the declaration
// itself. What a run costs past its declaration grows with the run (a
// 600 ms sleep on a loaded machine overshot by 20 ms), and counted in full
// for each 1 ms job ahead, that made twenty of them 420 ms of queue. Job by
// job, at submission (CountAtSubmission): bounded by the queued
// declarations together instead, one long job queued among short ones still
// lent each of them its overhead.
int64_t OverheadOf(int64_t declared_ns, int64_t overhead_ns) {
  return std::min(declared_ns, overhead_ns);
}

// What `jobs` queued jobs are counted at, in ns: those counted at a cost of
// their own (a declaration and its overhead, or their kind's cost), at that;
// the rest at `mean_ns` each.
double QueuedNs(int64_t jobs, const internal::QueueLoad& queued, int64_t mean_ns) {
  // The fields are read apart: clamp what they say together.
  const int64_t n_declared =
      std::clamp<int64_t>(queued.declared.jobs.load(std::memory_order_relaxed), 0, jobs);
  const int64_t n_kind = std::clamp<int64_t>(queued.kind.jobs.load(std::memory_order_relaxed),
                                             0, jobs - n_declared);
  return queued.declared.SumNs() + queued.kind.SumNs() +
         static_cast<double>(jobs - n_declared - n_kind) * mean_ns;
}

}  // namespace

Dispatcher::Dispatcher(const DispatcherOptions& options)
    : options_(options),
      jobs_(static_cast<size_t>(std::max(options.queue_depth, 0))),
      idle_(static_cast<size_t>(std::max(options.workers, 1))),
      counters_(new WorkerCounters[static_cast<size_t>(std::max(options.workers, 1))]),
      queued_(std::make_shared<internal::QueueLoad>()),
      epoch_(MonotonicNow()) {
  int n = std::max(options.workers, 1);
  {
    std::lock_guard<std::mutex> lock(exit_mu_);
    running_threads_ = n + 1;
  }
  // Counted down as each loop returns, the last thing the thread does with
  // the Dispatcher but unlocking: StopWithin may return, and Stop() join it,
  // as soon as it is counted.
  auto exited = [this] {
    std::lock_guard<std::mutex> lock(exit_mu_);
    --running_threads_;
    exited_.notify_all();
  };
  // The process's CPUs (cpus.h says why not this thread's).
  const std::vector<int> cpus =
      options.pin_workers ? internal::CpusOf(getpid()) : std::vector<int>();
  workers_.reserve(n);
  for (int i = 0; i < n; ++i) {
    const int cpu = cpus.empty() ? -1 : cpus[static_cast<size_t>(i) % cpus.size()];
    workers_.emplace_back([this, i, cpu, exited] {
      own_dispatcher = this;
      // Before the name, as the policy: a worker seen by its name is pinned.
      if (cpu >= 0) PinThisThread(cpu);
      SetUpThisThread(absl::StrCat("handoff-work-", i), options_.batch_scheduling);
      WorkerLoop(i);
      exited();
    });
  }
  dispatcher_ = std::thread([this, exited] {
    own_dispatcher = this;
    SetUpThisThread("handoff-disp", options_.batch_scheduling);
    DispatchLoop();
    exited();
  });
}

Dispatcher::~Dispatcher() {
  // Its threads run this object's code until they are joined, and a thread
  // cannot join itself: going on would free the channels and counters under
  // them (std::thread's destructor would std::terminate without a word on
  // why). Name the mistake instead.
  if (OnOwnThread()) {
    std::fputs(
        "handoff: a Dispatcher was destroyed from one of its own threads (a job's run or "
        "on_error, or an AsyncSubmit callback), which cannot wait for themselves; destroy it "
        "from another thread (Stop() from its own threads is fine)\n",
        stderr);
    std::abort();
  }
  Stop();
}

bool JudgedByTheDeadline(const absl::Status& s) {
  if (absl::IsDeadlineExceeded(s)) {
    return absl::StartsWith(s.message(), kTooShort) || absl::StartsWith(s.message(), kSkipped);
  }
  return absl::IsResourceExhausted(s) && absl::StartsWith(s.message(), kOverloaded);
}

bool SkippedByWorker(const absl::Status& s) {
  return absl::IsDeadlineExceeded(s) && absl::StartsWith(s.message(), kSkipped);
}

absl::Status SkippedError(absl::Duration left, absl::Duration needs) {
  return absl::DeadlineExceededError(absl::StrCat(
      kSkipped, absl::FormatDuration(RoundForMessage(left, /*up=*/false)),
      " left before the deadline, the job needs ", absl::FormatDuration(needs)));
}

absl::Status CheckExpectedRunFits(const Job& job) {
  if (job.expected_run <= absl::ZeroDuration()) return absl::OkStatus();
  const absl::Duration left = job.ctx.Deadline() - MonotonicNow();
  if (job.expected_run <= left) return absl::OkStatus();
  return ExpectedRunTooLong(job.expected_run, left);
}

absl::Status Dispatcher::Admit(const Job& job) const {
  if (job.ctx.IsDone()) return job.ctx.Err();
  if (!options_.shed_late_jobs) return absl::OkStatus();
  absl::Time deadline = job.ctx.Deadline();
  if (deadline == absl::InfiniteFuture()) return absl::OkStatus();
  const absl::Time now = MonotonicNow();
  const absl::Duration left = deadline - now;
  // Too short a deadline is the caller's to fix, not the load's: no retry
  // or backoff would let such a job finish, so it is not RESOURCE_EXHAUSTED.
  if (left <= absl::ZeroDuration()) {
    return absl::DeadlineExceededError("context deadline exceeded");
  }
  if (job.expected_run > left) return ExpectedRunTooLong(job.expected_run, left);
  // When this job can expect to start, at the latest: after the jobs ahead of
  // it, served by all workers in parallel; after the runs in progress (what
  // is left of each one counted at a cost of its own, else a whole run: half
  // of one is left on average, a whole one at worst); and, should it become
  // the job the dispatcher holds, after up to kMaxOvertakes jobs that pass it,
  // which happens while jobs keep queueing behind it (judged by the queue
  // now, each costing what the jobs queued now cost on average). Count the
  // worst case: a job admitted on an underestimate is answered only at its
  // deadline, one refused here is answered at once, and under overload the
  // queue sits at exactly the length this allows.
  //
  // A job that declared its cost is counted at that plus the overhead
  // measured on such jobs (OverheadOf); one that did not, at its kind's
  // cost if it has a kind with one, else at the mean cost of the rest. The mean is learned
  // only from jobs that ran, so it is slow to see the jobs ahead become far
  // shorter than the last ones: one worker, two 2 s calls, then twenty 1 ms
  // items of one Batch with a 1 s deadline, each item refused for the stale
  // mean, could not run to bring it down (18 of 20 items were refused,
  // batch after batch, when all were counted so).
  const int64_t mean = undeclared_mean_ns_.load(std::memory_order_relaxed);
  const int64_t ahead = std::max<int64_t>(queued_->jobs.load(std::memory_order_relaxed), 0);
  const double ahead_ns = QueuedNs(ahead, *queued_, mean);
  const int64_t workers = static_cast<int64_t>(workers_.size());
  const int64_t overtakes = std::min<int64_t>(ahead, kMaxOvertakes);
  double wait_ns =
      ahead == 0 ? 0.0
                 : ahead_ns * (1.0 + static_cast<double>(overtakes) / ahead) / workers;
  // No worker registered on `idle`: each is running a job, or about to.
  if (idle_.size() == 0) wait_ns += RunningNs(now, mean) / workers;
  const absl::Duration wait = absl::Nanoseconds(wait_ns);
  if (wait + job.expected_run > left) {
    // The wait rounded up and what is left rounded down, so that the sum the
    // message states still exceeds what it says is left.
    return absl::ResourceExhaustedError(absl::StrCat(
        kOverloaded, "estimated queue wait ",
        absl::FormatDuration(RoundForMessage(wait, /*up=*/true)),
        " plus expected run ", absl::FormatDuration(job.expected_run),
        " exceeds the ", absl::FormatDuration(RoundForMessage(left, /*up=*/false)),
        " left before the deadline"));
  }
  return absl::OkStatus();
}

double Dispatcher::RunningNs(absl::Time now, int64_t mean_ns) const {
  const int64_t now_ns = absl::ToInt64Nanoseconds(now - epoch_);
  double sum = 0;
  for (size_t i = 0; i < workers_.size(); ++i) {
    const int64_t end = counters_[i].counted_end_ns.load(std::memory_order_relaxed);
    if (end == 0) {
      sum += static_cast<double>(mean_ns);
      continue;
    }
    // A run past the cost it is counted at is counted for as long again as
    // it has overrun. Expected to end any moment, a handler that ignores
    // its context's end kept its worker for seconds past its deadline while
    // it counted for nothing, and the calls admitted behind it expired in
    // the queue instead of being refused at once. A run that overshoots by
    // a little is counted a little.
    sum += static_cast<double>(end >= now_ns ? end - now_ns : now_ns - end);
  }
  return sum;
}

bool Dispatcher::HandToIdleWorker(Job& job) {
  if (queued_->jobs.load(std::memory_order_relaxed) != 0 ||
      stopping_.load(std::memory_order_acquire)) {
    // Older jobs first; after Stop(), the dispatcher decides. Jobs whose
    // context ended while queued (QueueLoad::withdrawn) do not count: the
    // dispatcher or a worker only drops them.
    return false;
  }
  absl::StatusOr<const Chan<Job>*> worker = idle_.TryRecv();
  if (!worker.ok()) return false;
  // A registered worker's channel is empty with room for one. If Stop() began
  // meanwhile, the job still runs before Stop() returns: Stop() waits for
  // every worker to come back idle.
  NewestIdle(*worker)->Send(std::move(job)).IgnoreError();
  return true;
}

const Chan<Job>* Dispatcher::NewestIdle(const Chan<Job>* oldest) {
  const Chan<Job>* newest = oldest;
  // Bounded by the registrations there are now: one made meanwhile is newer
  // still, but chasing it could go on for as long as workers keep finishing.
  for (size_t older = idle_.size(); older > 0; --older) {
    absl::StatusOr<const Chan<Job>*> next = idle_.TryRecv();
    if (!next.ok()) break;  // another taker emptied it first
    // There is room: `idle` has a slot per worker, and `newest` is out of it.
    idle_.Send(newest).IgnoreError();
    newest = *next;
  }
  return newest;
}

// In a field of its own: the declaration stays as the submitter made it, for
// a job refused and submitted again. A declared job is counted with the
// overhead measured on such jobs now (OverheadOf): on its kind's, once one
// of them ran, else on those of no kind; a job that declared
// nothing, at its kind's cost now, if the kind has one. A job stopped at its
// deadline costs its worker no more than the time left until then, so a
// cost is counted at most that.
void Dispatcher::CountAtSubmission(Job& job) const {
  job.counted_cost = absl::ZeroDuration();
  absl::Duration cost;
  if (Declares(job)) {
    const int64_t declared = CappedNs(job.declared_cost);
    int64_t overhead = declared_overhead_ns_.load(std::memory_order_relaxed);
    if (job.kind != nullptr) {
      if (std::optional<absl::Duration> own = job.kind->overhead()) {
        overhead = absl::ToInt64Nanoseconds(*own);
      }
    }
    cost = absl::Nanoseconds(declared + OverheadOf(declared, overhead));
  } else if (job.kind != nullptr) {
    cost = job.kind->cost();
  } else {
    return;
  }
  const absl::Duration left = job.ctx.Deadline() - job.submitted;
  job.counted_cost = std::max(std::min(cost, left), absl::ZeroDuration());
}

internal::JobLoad Dispatcher::Enqueue(Job& job) const {
  const internal::JobLoad load = LoadOf(job);
  queued_->Add(load);
  // For a job under the threshold, this branch is all the watch costs. A
  // context that cannot end (Background) is not watched: the watch could
  // end only with the job, and would do nothing meanwhile.
  if (load.declared_ns + load.kind_ns >= kWithdrawOnCancelFromNs &&
      !job.ctx.Done().is_nil()) {
    auto withdrawal = std::make_shared<internal::Withdrawal>(queued_, load);
    // Before the job is queued, so that whoever takes it out of the queue
    // finds its claim. A context done already withdraws it here, inline.
    AsyncSelect(OnDone(job.ctx, [withdrawal] { withdrawal->Cancelled(); }),
                OnRecv(withdrawal->left(), [] {}));
    job.withdrawal = std::move(withdrawal);
  }
  return load;
}

absl::Status Dispatcher::TrySubmit(Job&& job) {
  if (absl::Status s = CheckRunnable(job); !s.ok()) return s;
  if (absl::Status s = Admit(job); !s.ok()) {
    // Only the refusals for load: a job refused DEADLINE_EXCEEDED could not
    // have run on an idle pool either.
    if (absl::IsResourceExhausted(s)) {
      // A stopped pool takes nothing, however light its load: UNAVAILABLE,
      // as it would have said of this job had the estimate let it through
      // (while the accepted jobs drain, it may not). RESOURCE_EXHAUSTED
      // would tell the caller to retry here, and count an overload.
      if (stopping_.load(std::memory_order_acquire)) {
        return absl::UnavailableError("dispatcher stopped");
      }
      rejected_late_.fetch_add(1);
    }
    return s;
  }
  job.submitted = MonotonicNow();
  CountAtSubmission(job);
  if (HandToIdleWorker(job)) return absl::OkStatus();
  const internal::JobLoad load = Enqueue(job);
  absl::Status s = jobs_.TrySend(std::move(job));
  if (s.ok()) return s;
  Dequeue(*queued_, job.withdrawal.get(), load);
  job.withdrawal.reset();  // for a next try, which makes its own
  if (IsChannelClosed(s)) return absl::UnavailableError("dispatcher stopped");
  rejected_full_.fetch_add(1);
  return absl::ResourceExhaustedError(
      absl::StrCat("queue full: ", options_.queue_depth, " jobs waiting"));
}

absl::Status Dispatcher::Submit(Job job) {
  if (absl::Status s = CheckRunnable(job); !s.ok()) return s;
  if (job.ctx.IsDone()) return job.ctx.Err();
  job.submitted = MonotonicNow();
  CountAtSubmission(job);
  if (HandToIdleWorker(job)) return absl::OkStatus();
  Context ctx = job.ctx;
  // Counted waiting before it is counted queued, so that a scrape never
  // takes it for a job in the queue (Stats).
  queued_->waiting.fetch_add(1, std::memory_order_relaxed);
  const internal::JobLoad load = Enqueue(job);
  // The job's, which the select's send case holds, with the job, until the
  // select returns: alive in either function.
  internal::Withdrawal* const withdrawal = job.withdrawal.get();
  absl::Status result;
  Select(OnSend(jobs_, std::move(job),
                [&](absl::Status s) {
                  queued_->waiting.fetch_sub(1, std::memory_order_relaxed);
                  if (s.ok()) return;
                  Dequeue(*queued_, withdrawal, load);
                  result = absl::UnavailableError("dispatcher stopped");
                }),
         OnDone(ctx, [&] {
           queued_->waiting.fetch_sub(1, std::memory_order_relaxed);
           Dequeue(*queued_, withdrawal, load);
           result = ctx.Err();
         }));
  return result;
}

void Dispatcher::AsyncSubmit(Job job,
                             absl::AnyInvocable<void(absl::Status)> admitted) {
  if (absl::Status s = CheckRunnable(job); !s.ok()) {
    admitted(std::move(s));
    return;
  }
  if (job.ctx.IsDone()) {
    admitted(job.ctx.Err());
    return;
  }
  job.submitted = MonotonicNow();
  CountAtSubmission(job);
  if (HandToIdleWorker(job)) {
    admitted(absl::OkStatus());
    return;
  }
  Context ctx = job.ctx;
  // Counted waiting before it is counted queued, as in Submit.
  queued_->waiting.fetch_add(1, std::memory_order_relaxed);
  const internal::JobLoad load = Enqueue(job);
  // Only one of the two cases runs, but each needs the callback and the
  // count: share them. The count, not the Dispatcher: the context's case
  // runs on whichever thread ended the context, and that thread may get to
  // it only after Stop() has returned and the Dispatcher is gone (Close()
  // leaves a select that thread has already claimed to it). The job's
  // withdrawal by its address: the send case holds the job, and so it,
  // until the select's function has run.
  struct Waiting {
    std::shared_ptr<internal::QueueLoad> queued;
    internal::Withdrawal* withdrawal;
    internal::JobLoad load;
    absl::AnyInvocable<void(absl::Status)> admitted;
  };
  auto waiting = std::make_shared<Waiting>(
      Waiting{queued_, job.withdrawal.get(), load, std::move(admitted)});
  AsyncSelect(
      OnSend(jobs_, std::move(job),
             [waiting](absl::Status s) {
               waiting->queued->waiting.fetch_sub(1, std::memory_order_relaxed);
               if (!s.ok()) {
                 Dequeue(*waiting->queued, waiting->withdrawal, waiting->load);
                 s = absl::UnavailableError("dispatcher stopped");
               }
               waiting->admitted(std::move(s));
             }),
      OnDone(ctx, [waiting, ctx] {
        waiting->queued->waiting.fetch_sub(1, std::memory_order_relaxed);
        Dequeue(*waiting->queued, waiting->withdrawal, waiting->load);
        waiting->admitted(ctx.Err());
      }));
}

void Dispatcher::CloseAdmission() {
  std::call_once(close_once_, [this] {
    stopping_.store(true, std::memory_order_release);
    jobs_.Close().IgnoreError();
  });
}

bool Dispatcher::OnOwnThread() const { return own_dispatcher == this; }

void Dispatcher::Stop() {
  CloseAdmission();
  // A job that stops its own pool waited in join() for the dispatcher
  // thread, which waited for that job's worker to come back idle: both
  // hung for good. On the dispatcher thread itself (an expired job's
  // on_error), join() threw, and the exception ended the process.
  if (OnOwnThread()) return;
  std::call_once(join_once_, [this] {
    dispatcher_.join();
    for (std::thread& t : workers_) t.join();
  });
}

namespace {

// How long StopWithin waits, past its timeout, for threads that are not
// running a job to leave: they need microseconds.
constexpr std::chrono::seconds kIdleExitGrace(1);

}  // namespace

absl::Status Dispatcher::StopWithin(absl::Duration timeout) {
  CloseAdmission();
  // This thread is one of those waited for: the wait could only run out.
  if (OnOwnThread()) {
    return absl::FailedPreconditionError(
        "StopWithin called on one of the Dispatcher's own threads, which cannot wait for "
        "themselves: admission is closed, and the jobs accepted still run or are dropped");
  }
  int running;
  {
    std::unique_lock<std::mutex> lock(exit_mu_);
    exited_.wait_until(lock, SteadyAfter(timeout),
                       [this] { return running_threads_ == 0; });
    // Threads with no job in hand get up to kIdleExitGrace more: admission
    // is closed, so they are on their way out, and a stop that blamed them
    // would blame a job that does not exist (a timeout of 0 with every worker
    // idle). A job running at the timeout, or one a worker takes from the
    // queue meanwhile, ends the wait; so does the grace, for a thread held
    // outside a run (a job's on_error that blocks, say). Polled: a worker
    // that takes a job signals no one.
    const auto idle_exit_deadline = std::chrono::steady_clock::now() + kIdleExitGrace;
    while (running_threads_ > 0 && Stats().busy == 0 &&
           std::chrono::steady_clock::now() < idle_exit_deadline) {
      exited_.wait_for(lock, std::chrono::milliseconds(1));
    }
    running = running_threads_;  // counted under the lock, not after it
  }
  if (running == 0) {
    Stop();
    return absl::OkStatus();
  }
  // Running a job now, as far as the counters tell; 0 if the last one ended
  // since the wait did, and the threads, though not yet out, are leaving.
  const int64_t busy = Stats().busy;
  return absl::DeadlineExceededError(absl::StrCat(
      busy > 0 ? absl::StrCat(busy, " of ", workers(), " workers")
               : std::string("the workers"),
      " still running a job ", absl::FormatDuration(timeout),
      " into the stop: a job that ignores its context keeps its worker"));
}

DispatcherStats Dispatcher::Stats() const {
  DispatcherStats s;
  // The jobs counted ahead, and those whose context ended while queued.
  s.queued = std::max<int64_t>(queued_->jobs.load(std::memory_order_relaxed), 0) +
             std::max<int64_t>(queued_->withdrawn.load(std::memory_order_relaxed), 0);
  s.waiting = std::clamp<int64_t>(queued_->waiting.load(std::memory_order_relaxed), 0, s.queued);
  for (size_t i = 0; i < workers_.size(); ++i) {
    const WorkerCounters& c = counters_[i];
    s.idle += c.idle.load(std::memory_order_relaxed);
    s.busy += c.busy.load(std::memory_order_relaxed);
    s.completed += c.completed.load(std::memory_order_relaxed);
    s.failed += c.failed.load(std::memory_order_relaxed);
  }
  s.expired = expired_.load(std::memory_order_relaxed);
  s.rejected_full = rejected_full_.load(std::memory_order_relaxed);
  s.rejected_late = rejected_late_.load(std::memory_order_relaxed);
  s.undeclared_job_cost =
      absl::Nanoseconds(undeclared_mean_ns_.load(std::memory_order_relaxed));
  s.declared_job_overhead =
      absl::Nanoseconds(declared_overhead_ns_.load(std::memory_order_relaxed));
  return s;
}

void Dispatcher::DispatchLoop() {
  // Reset before each receive, so that every job a worker takes from `jobs`
  // after the dispatcher took its own is counted against that one (and, at
  // worst, a few taken just before it too: the count errs towards fewer
  // overtakes).
  overtaken_.store(0, std::memory_order_relaxed);
  for (Job& job : jobs_) {
    Select(OnRecv(idle_,
                  [&](std::optional<const Chan<Job>*> worker) {
                    // idle_ is never closed and a worker's own channel has a
                    // free slot whenever it is registered: this cannot block.
                    Dequeue(*queued_, job);
                    (*worker)->Send(std::move(job)).IgnoreError();
                  }),
           OnDone(job.ctx, [&] {
             Dequeue(*queued_, job);
             Expire(job, job.ctx.Err());
           }));
    overtaken_.store(0, std::memory_order_relaxed);
  }
  // Admission is closed and every accepted job has been handed out. Retire
  // each worker as it becomes idle, which waits for the runs in progress.
  for (size_t i = 0; i < workers_.size(); ++i) {
    if (std::optional<const Chan<Job>*> worker = idle_.Recv()) {
      (*worker)->Close().IgnoreError();
    }
  }
}

void Dispatcher::WorkerLoop(int index) {
  Chan<Job> mine(1);
  WorkerCounters& counters = counters_[static_cast<size_t>(index)];
  // The last job run, destroyed only once this worker is back on `idle`:
  // what it captured (a reply channel, a request) is often shared with the
  // thread that submitted it, so releasing it costs cache misses, and a job
  // submitted meanwhile would find no idle worker and take the dispatcher
  // thread's slower way.
  std::optional<Job> done;
  for (;;) {
    counters.idle.store(1, std::memory_order_relaxed);
    idle_.Send(&mine).IgnoreError();
    done.reset();
    std::optional<Job> job = mine.Recv();
    counters.idle.store(0, std::memory_order_relaxed);
    if (!job.has_value()) return;  // retired by Stop()
    absl::Time free = RunJob(*job, index, absl::InfinitePast());
    while (std::optional<Job> next = TakeQueuedJob()) {
      job = std::move(next);
      free = RunJob(*job, index, free);
    }
    done = std::move(job);
  }
}

std::optional<Job> Dispatcher::TakeQueuedJob() {
  // The counter spares the channel's lock when the queue is surely empty,
  // or holds only jobs whose context has ended (QueueLoad::withdrawn): the
  // dispatcher drops those as it reaches them, as it does with no worker
  // idle.
  if (queued_->jobs.load(std::memory_order_relaxed) <= 0) return std::nullopt;
  // Queued jobs mean the dispatcher holds the oldest, or is about to.
  if (overtaken_.load(std::memory_order_relaxed) >= kMaxOvertakes) {
    return std::nullopt;  // register on `idle`: the held job goes next
  }
  absl::StatusOr<Job> job = jobs_.TryRecv();
  if (!job.ok()) return std::nullopt;  // empty, or closed and drained
  // Counted after the take, not reserved before it. The dispatcher resets
  // the count only after handing out its job, and the worker that got it
  // may be pulling by then: a count reserved before a take could be wiped
  // by that late reset while the take itself came after the dispatcher's
  // next receive, an overtake nobody counted (a TSan run of
  // DispatcherTest.AQueuedJobIsOvertakenOnlyBoundedly saw a job overtaken
  // 33 times). Counted after, a take that passes the held job follows the
  // dispatcher's receive of it in the channel's order, and so the reset
  // before that receive: the channel's lock orders them, or, when both takes
  // are lock-free, the ring's head, whose successful compare-and-swaps are
  // acq_rel for this (a relaxed one orders the takes but publishes nothing,
  // and on a weakly ordered CPU the reset could land after this add and
  // wipe it).
  overtaken_.fetch_add(1, std::memory_order_relaxed);
  Dequeue(*queued_, *job);
  return std::move(*job);
}

absl::Time Dispatcher::RunJob(Job& job, int worker, absl::Time free_since) {
  // Every way to a run ends here: the dispatcher's hand-out, the submitter's
  // (HandToIdleWorker) and a worker's own take (TakeQueuedJob), which passes
  // the dispatcher. So these checks stand for all three.
  // A job dropped here holds its worker through its on_error: the worker is
  // free again only after that, and the next run is costed from then, not
  // charged with another job's on_error (as it was while these returned the
  // time before it: a cheap job after a skipped one whose on_error took
  // 300 ms was learned as a 300 ms job).
  if (job.ctx.IsDone()) {
    Expire(job, job.ctx.Err());
    return MonotonicNow();
  }
  const absl::Time start = MonotonicNow();
  // The deadline itself, not only the context: one timer thread cancels
  // every context (context.h), and behind a slow Done() callback or on a
  // loaded machine it marks a context done well after its deadline.
  const absl::Time deadline = job.ctx.Deadline();
  if (deadline <= start) {
    Expire(job, absl::DeadlineExceededError("context deadline exceeded"));
    return MonotonicNow();
  }
  if (job.expected_run > absl::ZeroDuration() &&
      deadline - start < job.expected_run) {
    Expire(job, SkippedError(deadline - start, job.expected_run));
    return MonotonicNow();
  }
  WorkerCounters& c = counters_[static_cast<size_t>(worker)];
  c.busy.store(1, std::memory_order_relaxed);
  // Counted while it runs for no longer than its deadline leaves it now:
  // it is stopped there, however long it waited to start.
  const int64_t left_ns = absl::ToInt64Nanoseconds(deadline - start);
  const internal::JobLoad load = LoadOf(job);
  if (const int64_t counted = std::min(load.declared_ns + load.kind_ns, left_ns); counted > 0) {
    // start >= epoch_: MonotonicNow() never goes back.
    c.counted_end_ns.store(absl::ToInt64Nanoseconds(start - epoch_) + counted,
                           std::memory_order_relaxed);
  }
  // The declaration itself, as far as the deadline leaves room for it: what
  // the run is measured against to learn the overhead.
  const int64_t declared = std::min(CappedNs(job.declared_cost), left_ns);
  absl::Status error;
  // At least zero whatever the clock does: RunInfo promises it.
  const absl::Duration queued = std::max(start - job.submitted, absl::ZeroDuration());
  try {
    job.run(RunInfo{job.ctx, worker, queued});
  } catch (JobNotRun& not_run) {
    // Not a run: counted and answered as a job dropped before it ran
    // (job_not_run.h), and no cost is learned from it.
    c.busy.store(0, std::memory_order_relaxed);
    c.counted_end_ns.store(0, std::memory_order_relaxed);
    Expire(job, std::move(not_run).why());
    return MonotonicNow();
  } catch (const std::exception& e) {
    error = absl::InternalError(absl::StrCat("job threw: ", e.what()));
  } catch (...) {
    error = absl::InternalError("job threw a non-std::exception");
  }
  c.busy.store(0, std::memory_order_relaxed);
  c.counted_end_ns.store(0, std::memory_order_relaxed);
  const absl::Time end = MonotonicNow();
  // Back to back, a job's cost to its worker is the whole interval since the
  // previous one ended: with the bookkeeping around runs and the time the
  // worker was preempted between them. Admission needs that, not the run
  // alone, or it underestimates queue waits and admits jobs that expire.
  const absl::Time from = free_since == absl::InfinitePast() ? start : free_since;
  // At least zero whatever the clock does. MonotonicNow() does not step back
  // (the wall clock does: NTP, a restored VM), but a run that seemed to end
  // before it began, costed as it is, would do lasting harm: a negative cost
  // would make the mean negative, and clipped from above only, it would
  // then grow more negative with every run, never to come back, while
  // admission estimated negative waits and refused nothing. A step forward
  // is what CostMean's clip of outliers is for.
  const int64_t cost = std::max<int64_t>(absl::ToInt64Nanoseconds(end - from), 0);
  // A declared job teaches what such jobs cost past their declaration (the
  // bookkeeping, preemption; nothing if it stopped early), and leaves the
  // mean of undeclared jobs alone: a 2 s Work must not make admission count
  // every Echo ahead as a long job. A job of a kind teaches its kind, either
  // mean, and leaves the pool's alone for the same reason: a handler that
  // declares 1 ms and takes 100 ms must not count every Work as twice its
  // declaration.
  if (Declares(job)) {
    if (declared > 0) {
      const int64_t overhead = std::max<int64_t>(cost - declared, 0);
      if (job.kind != nullptr) {
        job.kind->LearnOverhead(absl::Nanoseconds(overhead));
      } else {
        c.overhead.Add(overhead, declared_overhead_ns_);
      }
    }
  } else if (job.kind != nullptr) {
    job.kind->Learn(absl::Nanoseconds(cost));
  } else {
    c.undeclared.Add(cost, undeclared_mean_ns_);
  }
  if (error.ok()) {
    c.completed.store(c.completed.load(std::memory_order_relaxed) + 1,
                      std::memory_order_relaxed);
  } else {
    c.failed.store(c.failed.load(std::memory_order_relaxed) + 1,
                   std::memory_order_relaxed);
    if (job.on_error) {
      job.on_error(std::move(error));
      return MonotonicNow();  // free again only now, as for a dropped job
    }
  }
  return end;
}

void Dispatcher::Expire(Job& job, absl::Status why) {
  expired_.fetch_add(1, std::memory_order_relaxed);
  if (job.on_error) job.on_error(std::move(why));
}

}  // namespace handoff
