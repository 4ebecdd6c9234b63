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
//    So T must move, and be destroyed, without throwing (ChannelValue).
//  * On a nil Chan, Send returns ChannelClosedError() and Recv returns
//    nullopt at once: a thread blocked forever helps nobody. TrySend and
//    TryRecv report it closed too (Go's non-blocking forms would find it
//    merely not ready). In a select (select.h) a nil channel's case never
//    fires, which is the Go idiom for switching a case off.
//  * A send happens before the receive that takes its value completes, as
//    in Go's memory model: what the sender wrote before Send, the receiver
//    sees after Recv, with no other synchronisation (go_chan_test's barrier
//    tests, which CI runs under ThreadSanitizer).
//
// A parked thread spins briefly before it sleeps (internal/parker.h). A
// callback can wait instead of a thread: see AsyncSelect in select.h.
//
// Implementation: a channel has one lock, which guards its wait queues and
// which select takes. A buffered channel's buffer is a lock-free ring
// (internal/ring.h), so that while nobody is parked on the channel, sends
// and receives pass through it without the lock. A producer and a consumer on
// two cores then share no lock's cache line, only the ring's slots. Once a
// waiter parks (or the channel closes), the ring's gate sends every operation
// through the lock again, where the wait queues are. A select with a default
// case raises the gate too, while it polls (select.cc). A receiver that finds
// a deep buffer empty looks again after a pause before it parks, so that a
// stream keeps the lock-free path (ChanState::PollRing says why).

#ifndef HANDOFF_DISPATCH_CHAN_H_
#define HANDOFF_DISPATCH_CHAN_H_

#include <algorithm>
#include <atomic>
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
#include "dispatch/internal/line_aligned_allocator.h"
#include "dispatch/internal/parker.h"
#include "dispatch/internal/ring.h"
#include "dispatch/internal/waiter.h"

namespace handoff {

// What a channel can carry: values that move, and are destroyed, without
// throwing. A channel moves a value only once it has committed to the
// operation, having claimed a slot of its ring or a parked peer, and there
// is no way back from either: a move that threw would leave the slot
// claimed but never published, so that every later receive waits for it
// forever, or the peer claimed but never woken, with the channel's lock
// still held. A type whose move may throw (one with only a copy
// constructor, say) can travel as a std::unique_ptr.
template <typename T>
concept ChannelValue = std::is_nothrow_move_constructible_v<T> &&
                       std::is_nothrow_destructible_v<T>;

template <typename T>
class Chan;

namespace internal {

struct ChanAccess;

// The part of a channel that select needs without knowing T: its lock, so a
// select can take the locks of all its channels in one global (address) order.
struct ChanCore {
  ChanLock lock;
};

// The outcome of an attempt that takes no lock (ChanState::TrySendFast and
// TryRecvFast, for select's first pass).
enum class FastPoll {
  kDone,      // completed
  kNotReady,  // could not have completed at the moment it was checked
  kNeedLock,  // might complete: waiters are parked or the channel is closed
};

// A thread blocked in Send, Recv or Select.
class ThreadWaiter final : public Waiter {
 public:
  void Wake() noexcept override { parker_.Ready(); }
  void Park() { parker_.Park(); }

 private:
  ThreadParker parker_;
};

template <typename T>
class ChanState : public ChanCore {
 public:
  explicit ChanState(size_t capacity) : ring_(capacity) {}

  ChanState(const ChanState&) = delete;
  ChanState& operator=(const ChanState&) = delete;

  // --- Operations that need `lock` held. ---------------------------------
  // TrySendLocked and TryRecvLocked return true if the operation completed
  // (successfully or because the channel is closed), false if the caller
  // would have to wait. Any parked waiter an operation completes goes on
  // *wake, for the caller to wake once it has released every lock.

  bool TrySendLocked(T& v, WakeList* wake, bool* closed) {
    if (closed_) {
      *closed = true;
      return true;
    }
    if (capacity() == 0) {
      Node<T>* r = recvq_.PopClaimed();
      UpdateGateLocked();
      if (r == nullptr) return false;
      r->slot->emplace(std::move(v));
      wake->Add(r->waiter);
      return true;
    }
    SettleLocked(wake);
    bool done = false;
    if (sendq_.empty()) {  // else queue behind the parked senders
      // A parked receiver may take v directly only if nothing older is in
      // the ring, not even a push still in flight.
      if (ring_.Empty()) {
        if (Node<T>* r = recvq_.PopClaimed()) {
          r->slot->emplace(std::move(v));
          wake->Add(r->waiter);
          done = true;
        }
      }
      if (!done) done = ring_.Push(v, false) == Ring<T>::Result::kDone;
    }
    UpdateGateLocked();
    return done;
  }

  bool TryRecvLocked(std::optional<T>* out, WakeList* wake) {
    if (capacity() == 0) {
      Node<T>* s = sendq_.PopClaimed();
      UpdateGateLocked();
      if (s == nullptr) return closed_;  // closed: completes with nullopt
      out->emplace(std::move(*s->value));
      wake->Add(s->waiter);
      return true;
    }
    SettleLocked(wake);
    bool done = false;
    if (recvq_.empty()) {  // else queue behind the parked receivers
      if (ring_.Pop(out, false) == Ring<T>::Result::kDone) {
        done = true;
        SettleLocked(wake);  // a parked sender may take the freed slot
      } else if (ring_.Empty()) {
        // The ring is empty but a sender is parked: every slot it waited for
        // is being freed by a pop in flight. Its value is the oldest there is.
        if (Node<T>* s = sendq_.PopClaimed()) {
          out->emplace(std::move(*s->value));
          wake->Add(s->waiter);
          done = true;
        }
      }
      if (!done) done = closed_;  // closed and drained: completes with nullopt
    }
    UpdateGateLocked();
    return done;
  }

  // Queue a parked operation. With the gate up, the ring's operations still
  // in flight are waited for and the channel settled (internal/ring.h): one of
  // them may have made `n` ready already, in which case `n`'s own waiter lands
  // on *wake.
  void EnqueueSendLocked(Node<T>* n, WakeList* wake) {
    sendq_.PushBack(n);
    UpdateGateLocked();
    if (capacity() == 0) return;
    ring_.AwaitPopsInFlight();
    SettleLocked(wake);
    UpdateGateLocked();
  }
  void EnqueueRecvLocked(Node<T>* n, WakeList* wake) {
    recvq_.PushBack(n);
    UpdateGateLocked();
    if (capacity() == 0) return;
    ring_.AwaitPushesInFlight();
    SettleLocked(wake);
    UpdateGateLocked();
  }
  void RemoveSendLocked(Node<T>* n) {
    sendq_.Remove(n);
    UpdateGateLocked();
  }
  void RemoveRecvLocked(Node<T>* n) {
    recvq_.Remove(n);
    UpdateGateLocked();
  }

  // For a select with a default case, which must see all its channels at one
  // instant (select.cc): HoldLocked raises the gate of a buffered channel, so
  // that head and tail stay where they are until ReleaseLocked, which the
  // same lock holder calls before it unlocks. Operations already in flight
  // need no waiting for: each took effect when it claimed its position, and
  // a locked push or pop that meets one waits for it (internal/ring.h). An
  // unbuffered channel has no lock-free operations to stop.
  void HoldLocked() {
    if (capacity() == 0) return;
    held_ = true;
    UpdateGateLocked();
  }
  void ReleaseLocked() {
    if (!held_) return;
    held_ = false;
    UpdateGateLocked();
  }

  // --- Without the lock, for select's first pass. -----------------------
  // A buffered channel tries its ring; an unbuffered one can only say that
  // nobody is parked on it and it is open, which means it is not ready.

  FastPoll TrySendFast(T& v) {
    if (capacity() == 0) {
      return Busy() ? FastPoll::kNeedLock : FastPoll::kNotReady;
    }
    return Fast(ring_.Push(v, true));
  }
  FastPoll TryRecvFast(std::optional<T>* out) {
    if (capacity() == 0) {
      return Busy() ? FastPoll::kNeedLock : FastPoll::kNotReady;
    }
    return Fast(ring_.Pop(out, true));
  }

  // --- Whole operations. ---------------------------------------------------
  // A buffered channel first tries its ring once, without the lock. If the
  // ring is full (send) or empty (receive), or its gate is up, the operation
  // takes the lock, and parks if it must; the parker spins first. (Spinning
  // on the ring as well, before taking the lock, hid the short waits from the
  // parker's budget, which then learned to sleep: the dispatch round trip
  // went from 0.8 to 12 us. The one exception, a receive on a deep buffer,
  // looks again only after pauses, and tells the budget what it waited when
  // that catches a value: see PollRing.)

  absl::Status Send(T& v) {
    if (capacity() > 0 && ring_.Push(v, true) == Ring<T>::Result::kDone) {
      return absl::OkStatus();
    }
    WakeList wake;
    bool closed = false;
    lock.lock();
    if (TrySendLocked(v, &wake, &closed)) {
      lock.unlock();
      wake.WakeAll();
      return closed ? ChannelClosedError() : absl::OkStatus();
    }
    Parked p;
    p.node.waiter = &p.waiter;
    p.node.value = &v;
    EnqueueSendLocked(&p.node, &wake);
    lock.unlock();
    wake.WakeAll();
    p.waiter.Park();
    return p.node.closed ? ChannelClosedError() : absl::OkStatus();
  }

  absl::Status TrySend(T& v) {
    if (capacity() > 0) {
      switch (ring_.Push(v, true)) {
        case Ring<T>::Result::kDone:
          return absl::OkStatus();
        case Ring<T>::Result::kBlocked:
          return ChannelFullError();  // gate down: nobody parked, not closed
        case Ring<T>::Result::kGated:
          break;
      }
    }
    WakeList wake;
    bool closed = false;
    lock.lock();
    bool done = TrySendLocked(v, &wake, &closed);
    lock.unlock();
    wake.WakeAll();
    if (!done) return ChannelFullError();
    return closed ? ChannelClosedError() : absl::OkStatus();
  }

  std::optional<T> Recv() {
    std::optional<T> out;
    if (capacity() > 0) {
      const typename Ring<T>::Result r = ring_.Pop(&out, true);
      if (r == Ring<T>::Result::kDone) return out;
      if (r == Ring<T>::Result::kBlocked && capacity() > 1 && PollRing(&out)) {
        return out;
      }
    }
    WakeList wake;
    lock.lock();
    if (TryRecvLocked(&out, &wake)) {
      lock.unlock();
      wake.WakeAll();
      return out;
    }
    Parked p;
    p.node.waiter = &p.waiter;
    p.node.slot = &p.slot;
    EnqueueRecvLocked(&p.node, &wake);
    lock.unlock();
    wake.WakeAll();
    p.waiter.Park();
    return std::move(p.slot);
  }

  absl::StatusOr<T> TryRecv() {
    std::optional<T> out;
    if (capacity() > 0) {
      switch (ring_.Pop(&out, true)) {
        case Ring<T>::Result::kDone:
          return std::move(*out);
        case Ring<T>::Result::kBlocked:
          return ChannelEmptyError();  // gate down: nobody parked, not closed
        case Ring<T>::Result::kGated:
          break;
      }
    }
    WakeList wake;
    lock.lock();
    bool done = TryRecvLocked(&out, &wake);
    lock.unlock();
    wake.WakeAll();
    if (out.has_value()) return std::move(*out);
    return done ? ChannelClosedError() : ChannelEmptyError();
  }

  absl::Status Close() {
    WakeList wake;
    lock.lock();
    if (closed_) {
      lock.unlock();
      return ChannelClosedError();
    }
    closed_ = true;
    UpdateGateLocked();  // up for good: from now on, everyone takes the lock
    if (capacity() > 0) {
      // Sends that claimed a slot before the gate went up precede the close;
      // parked receivers get their values, not nullopt.
      ring_.AwaitPushesInFlight();
      SettleLocked(&wake);
    }
    for (WaitQueue<T>* q : {&recvq_, &sendq_}) {
      while (Node<T>* n = q->PopClaimed()) {
        n->closed = true;
        wake.Add(n->waiter);
      }
    }
    lock.unlock();
    wake.WakeAll();
    return absl::OkStatus();
  }

  size_t size() const { return ring_.size(); }  // the ring's own snapshot
  size_t capacity() const { return ring_.capacity(); }
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
  // Read without the lock, so a test can watch for it while the lock is held.
  bool gate_up() const { return capacity() == 0 ? Busy() : ring_.gated(); }
  uint64_t in_flight_waits() const { return ring_.in_flight_waits(); }

 private:
  // A thread's parked operation: its queue node, its waiter and (for a
  // receive) the slot the value goes to, on as few cache lines as they fit
  // in, for the thread that completes it touches all three.
  struct alignas(64) Parked {
    Node<T> node;
    std::optional<T> slot;
    ThreadWaiter waiter;
  };

  // A receive that finds a deep buffer empty (gate down) looks again,
  // lock-free, kPollGapNs later, and every kPollGapNs after that while this
  // thread's spin budget lasts (at most kPollMaxNs), before it takes the lock
  // and parks; true if a value came into *out. A poll that finds nothing
  // costs its pauses on top of the parker's own spin; one that finds a value
  // tells the budget how long it waited.
  //
  // Why: parking raises the gate, and from then on every send takes the lock
  // to hand its one value to the parked receiver, a cross-core handoff a
  // value: a 1024-deep stream whose consumer kept up ran at 160-300 ns a
  // value, 3-6x Go's (whose receiver runs on the sender's P, in batches).
  // Looking again after a pause lets the sender keep the lock-free path, and
  // the receiver take what piled up meanwhile in one pass: 60-90 ns a value.
  // The pause is what batches; polling without one pulls the slot's line
  // back after every push. A capacity of 1 (a worker's own channel, a reply)
  // holds one value at a time, with nothing to batch, so it parks at once.
  // The pause delays a value that arrives alone by up to kPollGapNs, where a
  // parked receiver would have it at once: so only a queue's consumer polls,
  // never a request's reply. (The dispatcher thread receives from `jobs` only
  // jobs that found no worker idle; those wait for a worker anyway.)
  bool PollRing(std::optional<T>* out) {
    if (!SpinningCanHelp()) return false;
    SpinBudget& budget = SpinBudget::ForThisThread();
    const int64_t start = ThreadParker::NowNs();
    const int64_t give_up = start + std::min(budget.get(), kPollMaxNs);
    for (int64_t next = start + kPollGapNs;; next += kPollGapNs) {
      // The clock costs about as much as a few pauses: read it every eighth.
      for (unsigned i = 1; i % 8 != 0 || ThreadParker::NowNs() < next; ++i) {
        CpuRelax();
      }
      switch (ring_.Pop(out, true)) {
        case Ring<T>::Result::kDone:
          budget.Waited(ThreadParker::NowNs() - start);
          return true;
        case Ring<T>::Result::kGated:  // closed, or someone parked: the lock
          return false;
        case Ring<T>::Result::kBlocked:
          break;
      }
      if (next >= give_up) return false;
    }
  }
  static constexpr int64_t kPollGapNs = 2000;
  static constexpr int64_t kPollMaxNs = 6000;

  // Moves values between the ring and the parked waiters until neither can
  // move: a published value at the head goes to the oldest parked receiver,
  // a free slot at the tail takes the oldest parked sender's value. With the
  // gate up and the lock held, HeadReady/TailFree stay true until acted on.
  void SettleLocked(WakeList* wake) {
    if (!gated_) return;  // nobody parked, nor a select holding the gate
    for (;;) {
      if (!recvq_.empty() && ring_.HeadReady()) {
        if (Node<T>* r = recvq_.PopClaimed()) {
          ring_.Pop(r->slot, false);
          wake->Add(r->waiter);
          continue;
        }
      }
      if (!sendq_.empty() && ring_.TailFree()) {
        if (Node<T>* s = sendq_.PopClaimed()) {
          ring_.Push(*s->value, false);
          wake->Add(s->waiter);
          continue;
        }
      }
      return;
    }
  }

  // The gate is up exactly while somebody is parked, the channel is closed or
  // a select holds it (HoldLocked). An unbuffered channel has no ring to gate;
  // it publishes the same fact in busy_, for select's first pass.
  void UpdateGateLocked() {
    const bool want = closed_ || !recvq_.empty() || !sendq_.empty() || held_;
    if (want == gated_) return;
    gated_ = want;
    if (capacity() == 0) {
      busy_.store(want, std::memory_order_release);
    } else if (want) {
      ring_.Raise();
    } else {
      ring_.Lower();
    }
  }

  bool Busy() const { return busy_.load(std::memory_order_acquire); }

  static FastPoll Fast(typename Ring<T>::Result r) {
    switch (r) {
      case Ring<T>::Result::kDone:
        return FastPoll::kDone;
      case Ring<T>::Result::kBlocked:
        return FastPoll::kNotReady;
      case Ring<T>::Result::kGated:
        break;
    }
    return FastPoll::kNeedLock;
  }

  // Whoever takes the lock reads and writes the fields below it, right after
  // it: together with the lock they fill one cache line (64 bytes on x86-64),
  // so a handoff between two cores moves one line for the channel, not two.
  // The capacity is not among them: every operation reads it before taking
  // the lock, and a read of the lock's line just before the lock's own
  // compare-and-swap costs a second transfer of that line. It lives on the
  // ring's first line, which nobody writes after construction (ring.h).
  bool closed_ = false;  // guarded by lock
  bool gated_ = false;   // guarded by lock; mirrors the ring's gate
  bool held_ = false;    // guarded by lock; a select holds the gate up
  std::atomic<bool> busy_{false};  // unbuffered: gated_, readable lock-free
  WaitQueue<T> recvq_;   // parked receivers; guarded by lock
  WaitQueue<T> sendq_;   // parked senders; guarded by lock
  Ring<T> ring_;         // the buffer; lock-free while the gate is down
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
      : state_(std::allocate_shared<internal::ChanState<T>>(
            internal::LineAlignedAllocator<internal::ChanState<T>>(),
            capacity)) {
    // Here rather than on the class, so that a type can hold a channel of
    // its own type (`struct Link { Chan<Link> next; }`): it is incomplete
    // where that member is declared, and complete once a channel is made.
    static_assert(ChannelValue<T>,
                  "Chan<T> needs a T that moves without throwing: see "
                  "ChannelValue in dispatch/chan.h");
  }

  // Blocks until the value is delivered or buffered. ChannelClosedError() if
  // the channel is (or becomes) closed or nil; `v` is moved from only on OK.
  absl::Status Send(T&& v) const {
    return state_ ? state_->Send(v) : ChannelClosedError();
  }
  absl::Status Send(const T& v) const {
    T copy(v);
    return Send(std::move(copy));
  }

  // Like Send, but never parks: ChannelFullError() instead of waiting;
  // ChannelClosedError() if closed or nil.
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
  // once closed and drained, or if nil. (For a Chan<absl::Status>, whose StatusOr could
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

  // Buffered values right now (a snapshot: it may change at once), never
  // more than capacity(), as Go's len(ch) is never more than cap(ch).
  size_t size() const { return state_ ? state_->size() : 0; }
  size_t capacity() const { return state_ ? state_->capacity() : 0; }
  bool closed() const { return state_ ? state_->closed() : false; }
  bool is_nil() const { return state_ == nullptr; }

  // Range over a channel: `for (T& v : ch)` receives until closed and
  // drained. Each v is the received value itself, the iterator's to give:
  // move from it (`for (T v : ch)` would copy it, and not compile for a
  // move-only T).
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
  // A buffered channel's ring is gated: somebody is parked on it, or is
  // about to be, or it is closed, or a select with a default case is polling
  // it (internal/ring.h).
  template <typename T>
  static bool GateUp(const Chan<T>& ch) {
    return ch.state_ && ch.state_->gate_up();
  }
  // How often an operation on the ring waited for another one in flight.
  template <typename T>
  static uint64_t InFlightWaits(const Chan<T>& ch) {
    return ch.state_ ? ch.state_->in_flight_waits() : 0;
  }
};
}  // namespace internal

}  // namespace handoff

#endif  // HANDOFF_DISPATCH_CHAN_H_
