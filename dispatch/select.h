// Copyright 2026 The handoff Authors.
//
// Select: wait on several channel operations and complete exactly one.
//
//   int i = Select(
//       OnRecv(results, [&](std::optional<Result> r) { ... }),
//       OnSend(jobs, std::move(job), [&](absl::Status s) { ... }),
//       OnDone(ctx, [&] { ... }),
//       OnDefault([&] { ... }));          // optional: makes it non-blocking
//
// Select blocks the calling thread until one case can proceed, performs that
// case's channel operation, runs its function and returns its index (the
// argument position). AsyncSelect takes the same cases but never blocks: if
// no case is ready, a single waiter record is queued on every case's channel
// and the first channel to become ready runs the chosen function, on its own
// thread, exactly once. (If a case is ready at once, or turns ready while the
// select queues its waiter, the function runs inline, before AsyncSelect
// returns.)
//
// A function that AsyncSelect runs on another thread must not throw. It runs
// inside that thread's channel operation (a send, a close, a cancel), which
// has succeeded already and may have other waiters to wake; the exception has
// nowhere to go, and letting it out would leave those waiters parked for
// good. So it ends the process (std::terminate), as an exception leaving a
// std::thread's function does. One that runs inline, or in a Select, reaches
// the caller as usual.
//
// Semantics, as Go's:
//  * Fair: when several cases are ready, each is equally likely to win (the
//    poll order is a fresh random permutation per select).
//  * The default case runs only if, at one instant during the select, no
//    other case was ready (select.cc, PollAll).
//  * A case on a nil Chan never fires; a Select with only such cases (and no
//    default) blocks forever, as `select {}` does.
//  * OnRecv's function gets std::nullopt when the channel is closed.
//    OnSend's function gets ChannelClosedError() when the channel is closed;
//    the value is then destroyed with the select, as is the value of a send
//    case that did not win.
//  * Exactly one case completes. A channel moves a value into or out of a
//    select only after claiming it, so a losing case never takes a value it
//    cannot deliver (the defect of asio's `||` operator, asio issue 1041).
//  * When a select completes, none of its waiters remain on the other
//    channels: a select repeated a million times on a quiet channel leaves
//    nothing behind.
//  * The same channel may appear in several cases.
//  * At most kMaxSelectCases (64) cases: a select keeps its poll order and
//    its channels' locks in arrays on the stack. More do not compile.
//
// Functions of the cases may take their argument or nothing:
//   OnRecv(ch, [](std::optional<T>) {}) or OnRecv(ch, [] {});
//   OnSend(ch, v, [](absl::Status) {}) or OnSend(ch, v, [] {}).

#ifndef HANDOFF_DISPATCH_SELECT_H_
#define HANDOFF_DISPATCH_SELECT_H_

#include <exception>
#include <memory>
#include <optional>
#include <tuple>
#include <type_traits>
#include <utility>
#include <variant>

#include "absl/status/status.h"
#include "dispatch/chan.h"

namespace handoff {

class Context;

// The most cases one Select or AsyncSelect may have (the file comment).
inline constexpr int kMaxSelectCases = 64;

namespace internal {

// The type-erased face of one select case. Poll/Enqueue run with the case's
// channel lock held (taken by the select for all its channels at once);
// Dequeue takes the lock itself; WakePeer and Finish run with no lock held.
class SelectCase {
 public:
  // The channel to lock, or nullptr for a nil channel or a default case.
  virtual ChanCore* core() const = 0;
  virtual bool is_default() const { return false; }
  // Completes the operation now if it can without the channel's lock (a
  // nil channel's case is never ready).
  virtual FastPoll PollWithoutLock() = 0;
  // Completes the operation now if it can; false if it would have to wait.
  // Either way, parked peers it completed go on *wake.
  virtual bool Poll(WakeList* wake) = 0;
  // Queues the case's node for `w`; peers completed meanwhile (even `w`
  // itself, see ChanState::EnqueueRecvLocked) go on *wake.
  virtual void Enqueue(Waiter* w, int index, WakeList* wake) = 0;
  virtual void Dequeue() = 0;
  // Whether the channel has operations that bypass its lock (it is buffered).
  virtual bool lock_free() const { return false; }
  // With the lock held: stops, then lets go again, the channel's lock-free
  // operations (ChanState::HoldLocked). Idempotent, for a channel may appear
  // in several cases.
  virtual void Hold() {}
  virtual void Release() {}
  // Runs the case's function with the operation's outcome.
  virtual void Finish() = 0;

 protected:
  ~SelectCase() = default;
};

// Runs the select to completion on this thread; returns the chosen index.
int SelectBlocking(SelectCase* const* cases, int n);

// First pass of an async select: completes a ready case (returns its index,
// with the peer already woken and the case not yet Finish()ed; also when a
// case became ready while `w` was being queued, and claimed it, whose
// waiters on the other channels are then gone), runs nothing and returns -1
// after queueing `w` on every channel, or returns the default case's index.
// When it returns -1, `w` may already have been claimed and woken by another
// thread: the caller must not touch `w` again.
int SelectStart(SelectCase* const* cases, int n, Waiter* w);

// After `w` was claimed: removes its nodes from every other case's channel.
void SelectUnlinkLosers(SelectCase* const* cases, int n, int chosen);

template <typename F, typename... Args>
void InvokeMaybeWith(F& f, Args&&... args) {
  if constexpr (std::is_invocable_v<F&, Args...>) {
    f(std::forward<Args>(args)...);
  } else {
    f();
  }
}

template <typename T, typename F>
class RecvCase final : public SelectCase {
 public:
  RecvCase(const Chan<T>& ch, F fn)
      : ref_(&ChanAccess::State(ch)), ch_(ref_->get()), fn_(std::move(fn)) {}
  RecvCase(RecvCase&& o) noexcept
      : ref_(o.ref_), keep_(std::move(o.keep_)), ch_(o.ch_),
        fn_(std::move(o.fn_)) {}

  // Keeps the channel alive for an AsyncSelect that outlives the handle.
  void Retain() {
    if (!keep_) keep_ = *ref_;
    ref_ = &keep_;
  }

  ChanCore* core() const override { return ch_; }
  FastPoll PollWithoutLock() override {
    return ch_ != nullptr ? ch_->TryRecvFast(&slot_) : FastPoll::kNotReady;
  }
  bool Poll(WakeList* wake) override {
    return ch_->TryRecvLocked(&slot_, wake);
  }
  void Enqueue(Waiter* w, int index, WakeList* wake) override {
    node_.waiter = w;
    node_.index = index;
    node_.slot = &slot_;
    ch_->EnqueueRecvLocked(&node_, wake);
  }
  void Dequeue() override {
    std::lock_guard<ChanLock> l(ch_->lock);
    ch_->RemoveRecvLocked(&node_);
  }
  bool lock_free() const override {
    return ch_ != nullptr && ch_->capacity() > 0;
  }
  void Hold() override { ch_->HoldLocked(); }
  void Release() override { ch_->ReleaseLocked(); }
  void Finish() override { InvokeMaybeWith(fn_, std::move(slot_)); }

 private:
  const std::shared_ptr<ChanState<T>>* ref_;
  std::shared_ptr<ChanState<T>> keep_;
  ChanState<T>* ch_;
  F fn_;
  std::optional<T> slot_;
  Node<T> node_;
};

template <typename T, typename F>
class SendCase final : public SelectCase {
 public:
  SendCase(const Chan<T>& ch, T value, F fn)
      : ref_(&ChanAccess::State(ch)), ch_(ref_->get()),
        value_(std::move(value)), fn_(std::move(fn)) {}
  SendCase(SendCase&& o) noexcept
      : ref_(o.ref_), keep_(std::move(o.keep_)), ch_(o.ch_),
        value_(std::move(o.value_)), fn_(std::move(o.fn_)) {}

  void Retain() {
    if (!keep_) keep_ = *ref_;
    ref_ = &keep_;
  }

  ChanCore* core() const override { return ch_; }
  FastPoll PollWithoutLock() override {
    return ch_ != nullptr ? ch_->TrySendFast(value_) : FastPoll::kNotReady;
  }
  bool Poll(WakeList* wake) override {
    return ch_->TrySendLocked(value_, wake, &closed_);
  }
  void Enqueue(Waiter* w, int index, WakeList* wake) override {
    node_.waiter = w;
    node_.index = index;
    node_.value = &value_;
    ch_->EnqueueSendLocked(&node_, wake);
  }
  void Dequeue() override {
    std::lock_guard<ChanLock> l(ch_->lock);
    ch_->RemoveSendLocked(&node_);
  }
  bool lock_free() const override {
    return ch_ != nullptr && ch_->capacity() > 0;
  }
  void Hold() override { ch_->HoldLocked(); }
  void Release() override { ch_->ReleaseLocked(); }
  void Finish() override {
    closed_ = closed_ || node_.closed;
    InvokeMaybeWith(fn_, closed_ ? ChannelClosedError() : absl::OkStatus());
  }

 private:
  const std::shared_ptr<ChanState<T>>* ref_;
  std::shared_ptr<ChanState<T>> keep_;
  ChanState<T>* ch_;
  T value_;
  F fn_;
  Node<T> node_;
  bool closed_ = false;
};

template <typename F>
class DefaultCase final : public SelectCase {
 public:
  explicit DefaultCase(F fn) : fn_(std::move(fn)) {}
  void Retain() {}
  ChanCore* core() const override { return nullptr; }
  bool is_default() const override { return true; }
  FastPoll PollWithoutLock() override { return FastPoll::kNotReady; }
  bool Poll(WakeList*) override { return true; }
  void Enqueue(Waiter*, int, WakeList*) override {}
  void Dequeue() override {}
  void Finish() override { fn_(); }

 private:
  F fn_;
};

// The heap-allocated state of one AsyncSelect: the waiter every channel sees,
// and the cases it owns. It deletes itself once its chosen case has finished.
template <typename... Cases>
class AsyncSelectOp final : public Waiter {
 public:
  explicit AsyncSelectOp(Cases&&... cases) : cases_(std::move(cases)...) {
    std::apply([this](auto&... c) {
      int i = 0;
      ((c.Retain(), ptrs_[i++] = &c), ...);
    }, cases_);
  }

  void Start() {
    int chosen = SelectStart(ptrs_, kN, this);
    if (chosen >= 0) Complete(chosen);
  }

  void Wake() noexcept override {
    int chosen = selected();
    SelectUnlinkLosers(ptrs_, kN, chosen);
    try {
      Complete(chosen);
    } catch (...) {
      // The file comment says why this cannot go on. Terminating from the
      // handler, the exception is still active, and the default terminate
      // handler names it.
      std::terminate();
    }
  }

 private:
  static constexpr int kN = sizeof...(Cases);

  void Complete(int chosen) {
    std::unique_ptr<AsyncSelectOp> self(this);
    ptrs_[chosen]->Finish();
  }

  std::tuple<Cases...> cases_;
  SelectCase* ptrs_[kN];
};

}  // namespace internal

// --- Cases ------------------------------------------------------------------

template <typename T, typename F>
internal::RecvCase<T, std::decay_t<F>> OnRecv(const Chan<T>& ch, F&& fn) {
  return {ch, std::forward<F>(fn)};
}

template <typename T, typename V, typename F>
internal::SendCase<T, std::decay_t<F>> OnSend(const Chan<T>& ch, V&& value,
                                              F&& fn) {
  return {ch, T(std::forward<V>(value)), std::forward<F>(fn)};
}

template <typename F>
internal::DefaultCase<std::decay_t<F>> OnDefault(F&& fn) {
  return internal::DefaultCase<std::decay_t<F>>(std::forward<F>(fn));
}

// OnDone(ctx, fn) is OnRecv(ctx.Done(), fn): it fires when ctx is cancelled
// or its deadline passes. Defined in context.h.

// --- Select -----------------------------------------------------------------

template <typename... Cases>
int Select(Cases&&... cases) {
  static_assert(sizeof...(Cases) > 0, "Select needs at least one case");
  static_assert(sizeof...(Cases) <= kMaxSelectCases,
                "Select takes at most kMaxSelectCases (64) cases");
  internal::SelectCase* ptrs[] = {&cases...};
  return internal::SelectBlocking(ptrs, sizeof...(Cases));
}

template <typename... Cases>
void AsyncSelect(Cases&&... cases) {
  static_assert(sizeof...(Cases) > 0, "AsyncSelect needs at least one case");
  static_assert(sizeof...(Cases) <= kMaxSelectCases,
                "AsyncSelect takes at most kMaxSelectCases (64) cases");
  static_assert((!std::is_lvalue_reference_v<Cases> && ...),
                "pass AsyncSelect its cases as temporaries");
  (new internal::AsyncSelectOp<std::decay_t<Cases>...>(std::move(cases)...))
      ->Start();
}

// Receives from `ch` without a thread: fn(std::optional<T>) runs exactly once,
// on the thread that made the value (or the close) available.
template <typename T, typename F>
void AsyncRecv(const Chan<T>& ch, F&& fn) {
  AsyncSelect(OnRecv(ch, std::forward<F>(fn)));
}

}  // namespace handoff

#endif  // HANDOFF_DISPATCH_SELECT_H_
