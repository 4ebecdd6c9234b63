// Copyright 2026 The handoff Authors.
//
// The blocked side of a channel operation: who is waiting, and where the
// value goes. This is Go's sudog and selectDone, for OS threads and for
// callbacks alike.
//
// A Waiter is one blocked operation: a plain send or receive, or a whole
// select. For each channel it waits on, it puts a Node in that channel's
// queue. A select on three channels has one Waiter and three Nodes. The first
// channel to Claim() the Waiter completes it; the other channels find it
// claimed and skip its Nodes. That single compare-and-swap is what makes a
// select complete exactly once, and what keeps a losing case from taking a
// value it cannot deliver (the value moves only after the claim succeeded).
//
// Locking: a Node is linked into, and unlinked from, a channel's queue only
// with that channel's lock held. Wake() is always called with no channel lock
// held, because it may run a callback that operates on channels: whoever
// claims a waiter under a lock puts it on a WakeList and wakes the list once
// every lock is released.

#ifndef HANDOFF_DISPATCH_INTERNAL_WAITER_H_
#define HANDOFF_DISPATCH_INTERNAL_WAITER_H_

#include <atomic>
#include <cstddef>
#include <cassert>
#include <cstdint>
#include <optional>

namespace handoff::internal {

class Waiter {
 public:
  static constexpr int kUnclaimed = -1;

  Waiter() = default;
  Waiter(const Waiter&) = delete;
  Waiter& operator=(const Waiter&) = delete;

  // Claims this waiter for case `index`. Exactly one call ever succeeds.
  // Called by a channel with its lock held, before it moves any value.
  bool Claim(int index) {
    int expected = kUnclaimed;
    return selected_.compare_exchange_strong(expected, index,
                                             std::memory_order_acq_rel,
                                             std::memory_order_acquire);
  }

  // The case that won, or kUnclaimed.
  int selected() const { return selected_.load(std::memory_order_acquire); }

  // Completes the operation after a successful Claim(). Called exactly once,
  // by the claimer, with no channel lock held. The Waiter may be destroyed by
  // the time Wake() returns: the caller must not touch it afterwards. It
  // cannot fail: the claimer may have more waiters to wake, and an operation
  // of its own that has already succeeded.
  virtual void Wake() noexcept = 0;

 protected:
  ~Waiter() = default;

 private:
  friend class WakeList;

  std::atomic<int> selected_{kUnclaimed};
  Waiter* wake_next_ = nullptr;  // WakeList's link; a waiter is claimed once
};

// Claimed waiters, to be woken once the claimer holds no channel lock. One
// operation can complete several: a close wakes every parked waiter, and
// settling a buffered channel (chan.h) may serve parked receivers and
// senders alike. Waiters are woken in the order they were added.
class WakeList {
 public:
  WakeList() = default;
  WakeList(const WakeList&) = delete;
  WakeList& operator=(const WakeList&) = delete;
  ~WakeList() { assert(head_ == nullptr); }

  void Add(Waiter* w) {
    w->wake_next_ = nullptr;
    if (tail_ != nullptr) {
      tail_->wake_next_ = w;
    } else {
      head_ = w;
    }
    tail_ = w;
  }

  bool empty() const { return head_ == nullptr; }

  // Takes `w` off the list, if it is on it, without waking it; whether it
  // was. The list is short (the waiters one operation completed).
  bool Remove(Waiter* w) {
    Waiter* prev = nullptr;
    for (Waiter* at = head_; at != nullptr; prev = at, at = at->wake_next_) {
      if (at != w) continue;
      (prev != nullptr ? prev->wake_next_ : head_) = at->wake_next_;
      if (tail_ == at) tail_ = prev;
      at->wake_next_ = nullptr;
      return true;
    }
    return false;
  }

  // Wakes every waiter on the list, which is empty afterwards. A waiter may
  // be destroyed by its Wake() (an async select deletes itself), so its link
  // is read first.
  void WakeAll() {
    Waiter* w = head_;
    head_ = tail_ = nullptr;
    while (w != nullptr) {
      Waiter* next = w->wake_next_;
      w->Wake();
      w = next;
    }
  }

 private:
  Waiter* head_ = nullptr;
  Waiter* tail_ = nullptr;
};

// One Waiter's stake in one channel's queue. For a send, `value` points at the
// value to hand over; for a receive, `slot` is where the value goes. `closed`
// is set instead when the channel was closed under the waiter.
template <typename T>
struct Node {
  Waiter* waiter = nullptr;
  T* value = nullptr;                   // send: moved from by the receiver
  std::optional<T>* slot = nullptr;     // recv: written by the sender

  // Intrusive FIFO links, owned by the channel's lock.
  Node* prev = nullptr;
  Node* next = nullptr;

  int index = 0;                        // the select case this node stands for
  bool closed = false;                  // completed by close(), not a transfer
  bool linked = false;                  // in a queue (owned by the lock)
};

// FIFO of parked Nodes. Not thread-safe: the owning channel's lock guards it.
template <typename T>
class WaitQueue {
 public:
  bool empty() const { return head_ == nullptr; }
  size_t size() const { return size_; }

  void PushBack(Node<T>* n) {
    assert(!n->linked);
    n->prev = tail_;
    n->next = nullptr;
    if (tail_ != nullptr) {
      tail_->next = n;
    } else {
      head_ = n;
    }
    tail_ = n;
    n->linked = true;
    ++size_;
  }

  // Unlinks `n` if it is still queued. A channel that found `n`'s waiter
  // already claimed may have unlinked it first; that is not an error.
  void Remove(Node<T>* n) {
    if (!n->linked) return;
    if (n->prev != nullptr) {
      n->prev->next = n->next;
    } else {
      head_ = n->next;
    }
    if (n->next != nullptr) {
      n->next->prev = n->prev;
    } else {
      tail_ = n->prev;
    }
    n->prev = n->next = nullptr;
    n->linked = false;
    --size_;
  }

  // Pops the oldest node whose waiter this caller manages to claim, dropping
  // nodes of waiters that another channel already claimed (Go's dequeue).
  Node<T>* PopClaimed() {
    while (head_ != nullptr) {
      Node<T>* n = head_;
      Remove(n);
      if (n->waiter->Claim(n->index)) return n;
    }
    return nullptr;
  }

 private:
  Node<T>* head_ = nullptr;
  Node<T>* tail_ = nullptr;
  size_t size_ = 0;
};

}  // namespace handoff::internal

#endif  // HANDOFF_DISPATCH_INTERNAL_WAITER_H_
