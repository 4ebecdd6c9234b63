// Copyright 2026 The handoff Authors.
//
// Deadlines for every Context, on one Asio timer thread.
//
// A gateway holds a deadline per call in flight and cancels almost all of
// them early (the call finishes first). So a deadline must cost neither a
// thread nor a wakeup: all of them live in one ordered set (an Abseil
// B-tree), behind a single asio::steady_timer that is armed for the earliest.
// Adding a deadline wakes the timer thread only if it is the new earliest;
// cancelling one never does (it is simply taken out of the set). The thread
// starts with the first deadline and lives as long as the process (it is
// deliberately never torn down, so a context destroyed during static
// destruction still finds it).

#ifndef HANDOFF_DISPATCH_INTERNAL_DEADLINE_TIMER_H_
#define HANDOFF_DISPATCH_INTERNAL_DEADLINE_TIMER_H_

#include "absl/functional/any_invocable.h"
#include "absl/time/time.h"

namespace handoff::internal {

class DeadlineTimer {
 public:
  // Calls `fire` on the timer thread at `when`, on MonotonicNow()'s clock
  // (clock.h), unless Cancel() or the destructor comes first. Cancel() and
  // the destructor are safe against the timer thread; once either has
  // returned, `fire` is not called (or has already been taken by the timer
  // thread, which then runs it).
  DeadlineTimer(absl::Time when, absl::AnyInvocable<void()> fire);
  ~DeadlineTimer() { Cancel(); }
  DeadlineTimer(const DeadlineTimer&) = delete;
  DeadlineTimer& operator=(const DeadlineTimer&) = delete;

  void Cancel();

 private:
  friend class TimerQueue;

  const absl::Time when_;
  // An AnyInvocable holds a small callable (a context's weak_ptr) in
  // place; a std::function would allocate for it, once per call.
  absl::AnyInvocable<void()> fire_;  // guarded by the queue's lock
  bool queued_ = false;         // in the queue's set; guarded likewise
};

}  // namespace handoff::internal

#endif  // HANDOFF_DISPATCH_INTERNAL_DEADLINE_TIMER_H_
