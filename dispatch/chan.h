// Copyright 2026 The handoff Authors.
//
// Chan<T>: a Go channel for OS threads and callbacks.
//
//   Chan<int> unbuffered(0);   // make(chan int)      rendezvous
//   Chan<int> buffered(16);    // make(chan int, 16)  ring of 16
//   Chan<int> nil;             // var nil chan int    never ready
//
// A Chan is a handle: copies refer to the same channel, and the channel lives
// as long as any handle or pending operation does. Every operation is safe to
// call from any number of threads at once.
//
// Semantics (Go's, case by case; each is a test in tests/unit/dispatch):
//
//  * Send(v): if a receiver is parked, v goes straight to it (direct
//    handoff: no buffer slot, one copy). Else, if the buffer has room, v goes
//    in the buffer. Else the sender parks until a receiver takes v. On a
//    closed channel — including one closed while the sender was parked —
//    Send returns ChannelClosedError() and leaves v untouched.
//  * Recv(): if a sender is parked, the receiver takes from it: directly
//    when unbuffered; when buffered (which means the buffer is full), it takes
//    the oldest buffered value and moves the parked sender's value into the
//    freed slot, so the buffer stays FIFO. Else it takes from the buffer. Else
//    it parks. A closed channel still yields its buffered values, then
//    std::nullopt forever.
//  * Close(): wakes every parked receiver (they get nullopt) and every parked
//    sender (they get ChannelClosedError()). Closing twice returns
//    ChannelClosedError().
//  * Parked senders and receivers are served first-in, first-out.
//  * TrySend/TryRecv never park. They report full, empty and closed as
//    distinct errors (see chan_status.h).
//  * Values are moved, never copied; each value is destroyed exactly once.
//  * On a nil Chan, Send returns ChannelClosedError() and Recv returns
//    nullopt at once: a thread blocked forever helps nobody. In a select
//    (select.h) a nil channel's case never fires, which is the Go idiom for
//    switching a case off.
//
// A parked thread spins briefly before it sleeps (internal/parker.h). A
// callback can wait instead of a thread: see AsyncSelect in select.h.

#ifndef HANDOFF_DISPATCH_CHAN_H_
#define HANDOFF_DISPATCH_CHAN_H_

#include <cstddef>
#include <memory>
#include <mutex>
#include <optional>
#include <type_traits>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "dispatch/chan_status.h"
#include "dispatch/internal/chan_lock.h"
#include "dispatch/internal/parker.h"
#include "dispatch/internal/waiter.h"

namespace handoff {

template <typename T>
class Chan;

namespace internal {

struct ChanAccess;

// The part of a channel that select needs without knowing T: its lock, so a
// select can take the locks of all its channels in one global (address) order.
struct ChanCore {
  ChanLock lock;
};

// A thread blocked in Send, Recv or Select.
class ThreadWaiter final : public Waiter {
 public:
  void Wake() override { parker_.Ready(); }
  void Park() { parker_.Park(); }

 private:
  ThreadParker parker_;
};

template <typename T>
class ChanState : public ChanCore {
 public:
  explicit ChanState(size_t capacity)
      : capacity_(capacity),
        buf_(capacity > 0 ? std::allocator<T>().allocate(capacity) : nullptr) {}

  ~ChanState() {
    while (count_ > 0) std::destroy_at(&buf_[PopIndex()]);
    if (buf_ != nullptr) std::allocator<T>().deallocate(buf_, capacity_);
  }

  ChanState(const ChanState&) = delete;
  ChanState& operator=(const ChanState&) = delete;

  // --- Operations that need `lock` held. ---------------------------------
  // Each returns true if the operation completed (successfully or because the
  // channel is closed), false if the caller would have to wait. A parked peer
  // that was claimed is returned in *wake; the caller must Wake() it after
  // releasing the lock.

  bool TrySendLocked(T& v, Node<T>** wake, bool* closed) {
    if (closed_) {
      *closed = true;
      return true;
    }
    if (Node<T>* r = recvq_.PopClaimed()) {
      r->slot->emplace(std::move(v));
      *wake = r;
      return true;
    }
    if (count_ < capacity_) {
      Push(std::move(v));
      return true;
    }
    return false;
  }

  bool TryRecvLocked(std::optional<T>* out, Node<T>** wake) {
    if (Node<T>* s = sendq_.PopClaimed()) {
      if (capacity_ == 0) {
        out->emplace(std::move(*s->value));
      } else {
        // The buffer is full, or s would not have parked. Take the oldest
        // value and promote the sender's into the freed slot: FIFO holds.
        size_t i = PopIndex();
        out->emplace(std::move(buf_[i]));
        std::destroy_at(&buf_[i]);
        Push(std::move(*s->value));
      }
      *wake = s;
      return true;
    }
    if (count_ > 0) {
      size_t i = PopIndex();
      out->emplace(std::move(buf_[i]));
      std::destroy_at(&buf_[i]);
      return true;
    }
    return closed_;  // closed and drained: completes with nullopt
  }

  void EnqueueSendLocked(Node<T>* n) { sendq_.PushBack(n); }
  void EnqueueRecvLocked(Node<T>* n) { recvq_.PushBack(n); }
  void RemoveSendLocked(Node<T>* n) { sendq_.Remove(n); }
  void RemoveRecvLocked(Node<T>* n) { recvq_.Remove(n); }

  // --- Whole operations. ---------------------------------------------------

  absl::Status Send(T& v) {
    Node<T>* wake = nullptr;
    bool closed = false;
    lock.lock();
    if (TrySendLocked(v, &wake, &closed)) {
      lock.unlock();
      if (wake != nullptr) wake->waiter->Wake();
      return closed ? ChannelClosedError() : absl::OkStatus();
    }
    ThreadWaiter w;
    Node<T> n{.waiter = &w, .value = &v};
    sendq_.PushBack(&n);
    lock.unlock();
    w.Park();
    return n.closed ? ChannelClosedError() : absl::OkStatus();
  }

  absl::Status TrySend(T& v) {
    Node<T>* wake = nullptr;
    bool closed = false;
    lock.lock();
    bool done = TrySendLocked(v, &wake, &closed);
    lock.unlock();
    if (wake != nullptr) wake->waiter->Wake();
    if (!done) return ChannelFullError();
    return closed ? ChannelClosedError() : absl::OkStatus();
  }

  std::optional<T> Recv() {
    std::optional<T> out;
    Node<T>* wake = nullptr;
    lock.lock();
    if (TryRecvLocked(&out, &wake)) {
      lock.unlock();
      if (wake != nullptr) wake->waiter->Wake();
      return out;
    }
    ThreadWaiter w;
    Node<T> n{.waiter = &w, .slot = &out};
    recvq_.PushBack(&n);
    lock.unlock();
    w.Park();
    return out;
  }

  absl::StatusOr<T> TryRecv() {
    std::optional<T> out;
    Node<T>* wake = nullptr;
    lock.lock();
    bool done = TryRecvLocked(&out, &wake);
    lock.unlock();
    if (wake != nullptr) wake->waiter->Wake();
    if (out.has_value()) return std::move(*out);
    return done ? ChannelClosedError() : ChannelEmptyError();
  }

  absl::Status Close() {
    lock.lock();
    if (closed_) {
      lock.unlock();
      return ChannelClosedError();
    }
    closed_ = true;
    // Claim every parked waiter under the lock, wake them after releasing it:
    // a woken callback may well operate on this channel.
    Node<T>* head = nullptr;
    Node<T>** tail = &head;
    for (WaitQueue<T>* q : {&recvq_, &sendq_}) {
      while (Node<T>* n = q->PopClaimed()) {
        n->closed = true;
        *tail = n;
        tail = &n->next;
      }
    }
    lock.unlock();
    while (head != nullptr) {
      Node<T>* next = head->next;  // read before Wake() frees the node
      head->waiter->Wake();
      head = next;
    }
    return absl::OkStatus();
  }

  size_t size() {
    std::lock_guard<ChanLock> l(lock);
    return count_;
  }
  size_t capacity() const { return capacity_; }
  size_t waiting_receivers() {
    std::lock_guard<ChanLock> l(lock);
    return recvq_.size();
  }
  size_t waiting_senders() {
    std::lock_guard<ChanLock> l(lock);
    return sendq_.size();
  }
  bool closed() {
    std::lock_guard<ChanLock> l(lock);
    return closed_;
  }

 private:
  void Push(T&& v) {
    size_t i = head_ + count_;
    if (i >= capacity_) i -= capacity_;
    std::construct_at(&buf_[i], std::move(v));
    ++count_;
  }
  size_t PopIndex() {
    size_t i = head_;
    if (++head_ == capacity_) head_ = 0;
    --count_;
    return i;
  }

  const size_t capacity_;
  T* const buf_;        // ring of capacity_ slots; [head_, head_+count_) live
  size_t head_ = 0;     // guarded by lock
  size_t count_ = 0;    // guarded by lock
  bool closed_ = false; // guarded by lock
  WaitQueue<T> recvq_;  // parked receivers; guarded by lock
  WaitQueue<T> sendq_;  // parked senders; guarded by lock
};

}  // namespace internal

template <typename T>
class Chan {
 public:
  using value_type = T;

  // A nil channel: never ready (see the file comment).
  Chan() = default;
  // make(chan T, capacity); capacity 0 is unbuffered.
  explicit Chan(size_t capacity)
      : state_(std::make_shared<internal::ChanState<T>>(capacity)) {}

  // Blocks until the value is delivered or buffered. ChannelClosedError() if
  // the channel is (or becomes) closed or nil; `v` is moved from only on OK.
  absl::Status Send(T&& v) const {
    return state_ ? state_->Send(v) : ChannelClosedError();
  }
  absl::Status Send(const T& v) const {
    T copy(v);
    return Send(std::move(copy));
  }

  // Like Send, but never parks: ChannelFullError() instead of waiting.
  absl::Status TrySend(T&& v) const {
    return state_ ? state_->TrySend(v) : ChannelClosedError();
  }
  absl::Status TrySend(const T& v) const {
    T copy(v);
    return TrySend(std::move(copy));
  }

  // Blocks until a value arrives; nullopt once closed and drained.
  std::optional<T> Recv() const {
    return state_ ? state_->Recv() : std::nullopt;
  }

  // Never parks: ChannelEmptyError() if nothing is ready, ChannelClosedError()
  // once closed and drained. (For a Chan<absl::Status>, whose StatusOr could
  // not tell an error from a value, use Select(OnRecv(...), OnDefault(...)).)
  absl::StatusOr<T> TryRecv() const {
    static_assert(!std::is_same_v<T, absl::Status>,
                  "TryRecv on Chan<absl::Status> is ambiguous: use Select "
                  "with OnRecv and OnDefault");
    return state_ ? state_->TryRecv() : absl::StatusOr<T>(ChannelClosedError());
  }

  // Closes the channel; ChannelClosedError() if it was already closed (or nil).
  absl::Status Close() const {
    return state_ ? state_->Close() : ChannelClosedError();
  }

  // Buffered values right now (a snapshot: it may change at once).
  size_t size() const { return state_ ? state_->size() : 0; }
  size_t capacity() const { return state_ ? state_->capacity() : 0; }
  bool closed() const { return state_ ? state_->closed() : false; }
  bool is_nil() const { return state_ == nullptr; }

  // Range over a channel: `for (T v : ch)` receives until closed and drained.
  class Iterator {
   public:
    explicit Iterator(const Chan* ch) : ch_(ch) { ++*this; }
    Iterator() = default;
    T& operator*() { return *v_; }
    Iterator& operator++() {
      v_ = ch_->Recv();
      return *this;
    }
    bool operator==(const Iterator& o) const {
      return v_.has_value() == o.v_.has_value();
    }

   private:
    const Chan* ch_ = nullptr;
    std::optional<T> v_;
  };
  Iterator begin() const { return Iterator(this); }
  Iterator end() const { return Iterator(); }

  // Handles are equal when they refer to the same channel.
  friend bool operator==(const Chan& a, const Chan& b) {
    return a.state_ == b.state_;
  }

 private:
  friend struct internal::ChanAccess;

  std::shared_ptr<internal::ChanState<T>> state_;
};

namespace internal {
// Lets select.h (and tests) reach a channel's state without making it API.
struct ChanAccess {
  template <typename T>
  static const std::shared_ptr<ChanState<T>>& State(const Chan<T>& ch) {
    return ch.state_;
  }
  // Parked receivers / senders (threads and async waiters) right now.
  template <typename T>
  static size_t WaitingReceivers(const Chan<T>& ch) {
    return ch.state_ ? ch.state_->waiting_receivers() : 0;
  }
  template <typename T>
  static size_t WaitingSenders(const Chan<T>& ch) {
    return ch.state_ ? ch.state_->waiting_senders() : 0;
  }
};
}  // namespace internal

}  // namespace handoff

#endif  // HANDOFF_DISPATCH_CHAN_H_
