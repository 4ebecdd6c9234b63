// Copyright 2026 The handoff Authors.
//
// Helpers shared by the dispatch tests.

#ifndef HANDOFF_TESTS_UNIT_DISPATCH_TEST_UTIL_H_
#define HANDOFF_TESTS_UNIT_DISPATCH_TEST_UTIL_H_

#include <chrono>
#include <thread>

#include "dispatch/chan.h"
#include "dispatch/clock.h"
#include "dispatch/dispatcher.h"
#include "tests/util/wait_until.h"

namespace handoff::internal {

// The channel on which idle workers register; the dispatcher thread parks on
// it while it holds a job and waits for one.
struct DispatcherAccess {
  static const Chan<const Chan<Job>*>& Idle(const Dispatcher& d) {
    return d.idle_;
  }
  // The queue, on which submissions waiting for room park as senders.
  static const Chan<Job>& Jobs(const Dispatcher& d) { return d.jobs_; }
  // Runs `job` on the calling thread as worker `worker` runs it, having been
  // free for it since `free_since`. Only while that worker runs nothing.
  static absl::Time RunJob(Dispatcher& d, Job& job, int worker,
                           absl::Time free_since) {
    return d.RunJob(job, worker, free_since);
  }
  // Counts `job` as admission does when it is submitted at job.submitted
  // (for RunJob: a job that was never submitted is counted at nothing).
  static void CountAtSubmission(const Dispatcher& d, Job& job) {
    d.CountAtSubmission(job);
  }
  // What admission counts of the jobs queued.
  static const QueueLoad& Queued(const Dispatcher& d) { return *d.queued_; }
  // What admission counts now of the runs in progress that declared their
  // cost or are counted at their kind's, in ns: what is left of those costs
  // (a declaration's with its overhead).
  static double RunningNs(const Dispatcher& d) {
    return d.RunningNs(MonotonicNow(), /*mean_ns=*/0);
  }
  // The same, as admission would count them at `now`.
  static double RunningNsAt(const Dispatcher& d, absl::Time now) {
    return d.RunningNs(now, /*mean_ns=*/0);
  }
};

}  // namespace handoff::internal

namespace handoff::testing {

// Sanitizers slow code 5-20x: stress tests scale their iteration counts.
#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
inline constexpr int kScale = 4;
#else
inline constexpr int kScale = 1;
#endif

// Parked receivers / senders on `ch` right now (threads and async waiters).
template <typename T>
size_t ParkedReceivers(const Chan<T>& ch) {
  return internal::ChanAccess::WaitingReceivers(ch);
}
template <typename T>
size_t ParkedSenders(const Chan<T>& ch) {
  return internal::ChanAccess::WaitingSenders(ch);
}

template <typename T>
[[nodiscard]] bool WaitForReceivers(const Chan<T>& ch, size_t n) {
  return WaitUntil([&] { return ParkedReceivers(ch) >= n; });
}
template <typename T>
[[nodiscard]] bool WaitForSenders(const Chan<T>& ch, size_t n) {
  return WaitUntil([&] { return ParkedSenders(ch) >= n; });
}

// Counts the values that are destroyed, to prove each value sent is destroyed
// exactly once (crossbeam's `drops` test). A move leaves an empty shell
// (v == -1) whose destruction does not count: only a value's last owner does.
struct Tracked {
  static inline std::atomic<int> live{0};             // objects, shells too
  static inline std::atomic<int> values_destroyed{0};  // values (v >= 0)
  int v = -1;
  explicit Tracked(int x) : v(x) { live.fetch_add(1); }
  Tracked(Tracked&& o) noexcept : v(o.v) {
    o.v = -1;
    live.fetch_add(1);
  }
  Tracked& operator=(Tracked&& o) noexcept {
    if (v >= 0) values_destroyed.fetch_add(1);
    v = o.v;
    o.v = -1;
    return *this;
  }
  Tracked(const Tracked&) = delete;
  ~Tracked() {
    live.fetch_sub(1);
    if (v >= 0) values_destroyed.fetch_add(1);
  }
  static void Reset() {
    live = 0;
    values_destroyed = 0;
  }
};

}  // namespace handoff::testing

#endif  // HANDOFF_TESTS_UNIT_DISPATCH_TEST_UTIL_H_
