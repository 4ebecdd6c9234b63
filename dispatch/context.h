// Copyright 2026 The handoff Authors.
//
// Context: Go's context.Context, for cancellation and deadlines.
//
//   auto [ctx, cancel] = WithTimeout(Context::Background(), absl::Seconds(1));
//   Select(OnRecv(results, ...), OnDone(ctx, [&] { /* ctx.Err() */ }));
//   cancel();   // releases the deadline's timer early; safe to call twice
//
// A Context is a handle to immutable-after-cancel state; copies share it.
//
//  * Done() is a channel that is closed, exactly once, when the context is
//    cancelled or its deadline passes. It never carries a value, so every
//    receiver (and every select case on it) sees the close. Background's
//    Done() is a nil channel: a case on it never fires.
//  * Err() is OK while the context is live; afterwards absl::CancelledError
//    ("context canceled") or absl::DeadlineExceededError ("context deadline
//    exceeded"), and it never changes again. It and IsDone() turn first:
//    Done() closes a moment later, once the canceller has taken the
//    deadline's timer out (unlike Go, where both change under one lock). So
//    a select on Done() with a default case may take the default just after
//    IsDone() said true; one without waits that moment out.
//  * A child is cancelled when its parent is, with the parent's error; a
//    child's cancellation never reaches its parent. A child's deadline is the
//    earlier of its own and its parent's.
//  * Deadlines are points on MonotonicNow()'s clock (clock.h), not the wall
//    clock's, so that a step of the wall clock does not move them: make them
//    with WithTimeout(), or as MonotonicNow() + d.
//  * Deadlines fire from one shared Asio timer thread (internal/deadline_timer.h):
//    100,000 contexts with deadlines create no extra threads. Cancelling a
//    context early removes its timer.
//  * Callbacks waiting on Done() (AsyncSelect) run on the thread that
//    cancelled: the caller of cancel(), or the timer thread.

#ifndef HANDOFF_DISPATCH_CONTEXT_H_
#define HANDOFF_DISPATCH_CONTEXT_H_

#include <memory>
#include <utility>
#include <variant>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "dispatch/chan.h"
#include "dispatch/clock.h"
#include "dispatch/select.h"

namespace handoff {

namespace internal {
class ContextState;
struct ContextAccess;
}  // namespace internal

class Context {
 public:
  // The root context: never cancelled, no deadline.
  static Context Background();
  Context() = default;  // same as Background()

  // Closed when the context is done; nil (never ready) for Background.
  const Chan<std::monostate>& Done() const;
  // OK while live; Cancelled or DeadlineExceeded once done.
  absl::Status Err() const;
  // True once done. Cheaper than Err() (no Status is built): use it to poll.
  bool IsDone() const;
  // On MonotonicNow()'s clock; absl::InfiniteFuture() when there is none.
  absl::Time Deadline() const;

 private:
  friend struct internal::ContextAccess;
  explicit Context(std::shared_ptr<internal::ContextState> s)
      : state_(std::move(s)) {}

  std::shared_ptr<internal::ContextState> state_;  // null for Background
};

// Cancels its context with CancelledError. Calling it more than once, or after
// the deadline fired, does nothing. Copyable; safe from any thread.
class CancelFunc {
 public:
  CancelFunc() = default;
  void operator()() const;

 private:
  friend struct internal::ContextAccess;
  explicit CancelFunc(std::shared_ptr<internal::ContextState> s)
      : state_(std::move(s)) {}
  std::shared_ptr<internal::ContextState> state_;
};

// A child of `parent` that can be cancelled with the returned CancelFunc.
std::pair<Context, CancelFunc> WithCancel(const Context& parent);
// A child that is also cancelled, with DeadlineExceededError, at `deadline`
// (or at the parent's deadline, if that is earlier). A deadline already past
// gives a context that is done from the start. `deadline` is on
// MonotonicNow()'s clock (FromWallClock() converts an absl::Now() point).
std::pair<Context, CancelFunc> WithDeadline(const Context& parent,
                                            absl::Time deadline);
std::pair<Context, CancelFunc> WithTimeout(const Context& parent,
                                           absl::Duration timeout);

// The select case for "ctx is done": OnRecv(ctx.Done(), fn), where fn takes
// no argument. A case on Background never fires.
//
// The case holds ctx, not only its Done() channel. The timer and a parent
// hold a context only weakly, so that dropping its last handle frees its
// timer at once; a select still waiting on such a context would then never
// see it done. Held by the case, it closes Done() at its deadline or its
// parent's cancel, as in Go, where the timer and the parent keep it.
template <typename F>
auto OnDone(const Context& ctx, F&& fn) {
  auto keeping_ctx = [ctx, fn = std::forward<F>(fn)]() mutable { fn(); };
  return internal::RecvCase<std::monostate, decltype(keeping_ctx)>(
      ctx.Done(), std::move(keeping_ctx));
}

}  // namespace handoff

#endif  // HANDOFF_DISPATCH_CONTEXT_H_
