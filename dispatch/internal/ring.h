// Copyright 2026 The handoff Authors.
//
// Ring<T>: the buffer of a buffered channel, usable without the channel lock.
//
// A bounded multi-producer, multi-consumer queue of stamped slots (Vyukov's
// bounded queue). Producers claim a position by a compare-and-swap on `tail`,
// consumers by one on `head`; a slot's stamp says whose turn it is:
//
//   stamp == 2*pos       the slot is free for the push at position pos
//   stamp == 2*pos + 1   the slot holds the value pushed at pos
//
// and a pop at pos frees the slot for the push one lap later. A position is
// a lap and an index, lap * L + index with L the power of two above the
// capacity (the layout of crossbeam's array flavor): the slot is the index, with no division on
// the fast path, and "holds pos" (2*pos + 1) can never be mistaken for "free
// for the next lap" even when the capacity is 1. Positions never wrap.
//
// Between a successful claim and its stamp, a push or pop is *in flight*. Its
// position is taken, so nobody else can have it, but its slot is not yet
// published. A pop that meets a slot whose push is in flight, or a push that
// meets a slot whose pop is in flight, waits for it: the ring is empty only
// when no push has claimed the head, and full only when no pop has claimed
// the slot a lap behind the tail. Reporting "full" instead sent
// RESOURCE_EXHAUSTED ("queue full") to a call that found 255 jobs in a queue
// of 256, one of them leaving, with its thread preempted in mid-move. The
// wait is a few instructions of another thread, unless that thread lost its
// core; it is how a channel with room never refuses a send (Go's len < cap).
//
// The gate. The low bit of both `head` and `tail` is a gate that the owning
// channel raises, under its lock, while threads are parked on it, once it is
// closed, and while a select with a default case polls it. A lock-free caller
// (`respect_gate`) fails with kGated instead of claiming a position while the
// gate is up, so with the gate up and the lock held, head and tail move only by
// the lock holder's hand: what HeadReady() and TailFree() report stays true
// until the holder acts on it.
//
// An operation that claimed its position before the gate went up is still in
// flight, and it will not look back: a lock-free operation is a claim, a copy
// and a release store, with no second look at the gate. So the one who parks
// waits instead. A receiver about to park calls AwaitPushesInFlight(), a
// sender AwaitPopsInFlight(), with the gate up: after that, every value that
// could reach it, or slot it could take, is visible under the lock. Those
// waits are for a few instructions of another thread, and keep the fast path
// free of a second memory fence.

#ifndef HANDOFF_DISPATCH_INTERNAL_RING_H_
#define HANDOFF_DISPATCH_INTERNAL_RING_H_

#include <algorithm>
#include <atomic>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>
#include <optional>
#include <thread>
#include <type_traits>
#include <utility>

#include "dispatch/internal/parker.h"

namespace handoff::internal {

template <typename T>
class Ring {
 public:
  enum class Result {
    kDone,     // pushed, or popped into *out
    kBlocked,  // full (push) or empty (pop), counting operations in flight
    kGated,    // the gate is up and the caller respects it; nothing happened
  };

  // A capacity of 0 makes an inert ring: an unbuffered channel owns one and
  // never uses it.
  explicit Ring(size_t capacity)
      : capacity_(capacity),
        lap_(std::bit_ceil(uint64_t{capacity} + 1)),
        slots_(capacity == 0 ? nullptr
               : capacity == 1 && kSlotInPlace
                   ? InPlaceSlot()
                   : std::allocator<Slot>().allocate(capacity)) {
    for (size_t i = 0; i < capacity_; ++i) {
      std::construct_at(&slots_[i].stamp, 2 * uint64_t{i});
    }
  }

  // Destroys the values still in the ring. Nothing may be in flight.
  ~Ring() {
    const uint64_t end = Pos(tail_.load());
    for (uint64_t p = Pos(head_.load()); p != end; p = Next(p)) {
      std::destroy_at(SlotAt(p).value());
    }
    for (size_t i = 0; i < capacity_; ++i) std::destroy_at(&slots_[i].stamp);
    if (slots_ != nullptr && slots_ != InPlaceSlot()) {
      std::allocator<Slot>().deallocate(slots_, capacity_);
    }
  }

  Ring(const Ring&) = delete;
  Ring& operator=(const Ring&) = delete;

  // Moves `v` into the ring at the tail. `v` is moved from only on kDone.
  Result Push(T& v, bool respect_gate) {
    uint64_t t = tail_.load(std::memory_order_relaxed);
    for (;;) {
      if (respect_gate && (t & kGate) != 0) return Result::kGated;
      const uint64_t pos = Pos(t);
      Slot& s = SlotAt(pos);
      const uint64_t stamp = s.stamp.load(std::memory_order_acquire);
      if (stamp == 2 * pos) {
        if (tail_.compare_exchange_weak(t, Word(Next(pos), t),
                                        std::memory_order_relaxed,
                                        std::memory_order_relaxed)) {
          std::construct_at(s.value(), std::move(v));
          s.stamp.store(2 * pos + 1, std::memory_order_release);
          return Result::kDone;
        }
      } else if (stamp < 2 * pos) {
        // The slot still holds the value pushed a lap ago. Full, unless its
        // pop has claimed it (head is past it): then it is on its way out.
        if (Pos(head_.load(std::memory_order_relaxed)) <= pos - lap_) {
          return Result::kBlocked;
        }
        AwaitInFlight(pos, 2 * pos);
        t = tail_.load(std::memory_order_relaxed);
      } else {
        t = tail_.load(std::memory_order_relaxed);  // another push took pos
      }
    }
  }

  // Moves the value at the head into *out.
  Result Pop(std::optional<T>* out, bool respect_gate) {
    uint64_t h = head_.load(std::memory_order_relaxed);
    for (;;) {
      if (respect_gate && (h & kGate) != 0) return Result::kGated;
      const uint64_t pos = Pos(h);
      Slot& s = SlotAt(pos);
      const uint64_t stamp = s.stamp.load(std::memory_order_acquire);
      if (stamp == 2 * pos + 1) {
        // acq_rel on success: a pop publishes what its thread did before it
        // to every later pop, as a pop under the lock would. The dispatcher's
        // bound on overtakes relies on it (Dispatcher::TakeQueuedJob). On x86
        // the instruction is the same as a relaxed one's.
        if (head_.compare_exchange_weak(h, Word(Next(pos), h),
                                        std::memory_order_acq_rel,
                                        std::memory_order_relaxed)) {
          out->emplace(std::move(*s.value()));
          std::destroy_at(s.value());
          s.stamp.store(2 * (pos + lap_), std::memory_order_release);
          return Result::kDone;
        }
      } else if (stamp < 2 * pos + 1) {
        // Nothing published at pos. Empty, unless a push has claimed it
        // (tail is past it): then its value is on its way in.
        if (Pos(tail_.load(std::memory_order_relaxed)) <= pos) {
          return Result::kBlocked;
        }
        AwaitInFlight(pos, 2 * pos + 1);
        h = head_.load(std::memory_order_relaxed);
      } else {
        h = head_.load(std::memory_order_relaxed);  // another pop took pos
      }
    }
  }

  // --- With the owner's lock held and the gate up. ----------------------

  void Raise() {
    tail_.fetch_or(kGate);
    head_.fetch_or(kGate);
  }
  void Lower() {
    tail_.fetch_and(~kGate);
    head_.fetch_and(~kGate);
  }

  // A published value waits at the head: Pop will succeed.
  bool HeadReady() const {
    const uint64_t pos = Pos(head_.load());
    return SlotAt(pos).stamp.load() == 2 * pos + 1;
  }
  // The slot at the tail is free: Push will succeed.
  bool TailFree() const {
    const uint64_t pos = Pos(tail_.load());
    return SlotAt(pos).stamp.load() == 2 * pos;
  }
  // No position is claimed: nothing buffered and nothing in flight.
  bool Empty() const { return Pos(head_.load()) == Pos(tail_.load()); }

  // Waits until every push that claimed a position has published its value.
  // With the gate up, no new push can claim one, so this ends, and soon: a
  // push in flight is a few instructions from done.
  void AwaitPushesInFlight() const {
    const uint64_t end = Pos(tail_.load());
    for (uint64_t p = Pos(head_.load()); p != end; p = Next(p)) {
      AwaitStamp(p, 2 * p + 1);
    }
  }
  // Waits until every pop that claimed a position has freed its slot. Only
  // positions less than a lap behind the tail can still be held by a pop.
  void AwaitPopsInFlight() const {
    const uint64_t tail = Pos(tail_.load());
    const uint64_t end = Pos(head_.load());
    for (uint64_t p = tail >= lap_ ? tail - lap_ : 0; p != end; p = Next(p)) {
      AwaitStamp(p, 2 * (p + lap_));
    }
  }

  // --- Any time. -------------------------------------------------------

  // Whether the gate is up right now (for tests; the owner knows already).
  bool gated() const { return (tail_.load() & kGate) != 0; }

  // How many times a push or pop has waited for another one in flight (for
  // tests: the only sign that a caller is waiting rather than refused).
  uint64_t in_flight_waits() const {
    return in_flight_waits_.load(std::memory_order_relaxed);
  }

  // On a line nobody writes: reading it never moves a cache line.
  size_t capacity() const { return capacity_; }

  // Values buffered or in flight (a snapshot), at most the capacity, as
  // Go's len(ch) is at most cap(ch). The two positions are read one after
  // the other: a pop and a push that complete between the reads leave an
  // older head with a newer tail, which counts the value they passed twice
  // (2 in a ring of 1, 6 in a ring of 3: chan_test's
  // SizeNeverExceedsCapacityWhileSendsAndReceivesRace). The reverse order
  // errs the other way, to 0 at worst.
  size_t size() const {
    const uint64_t h = Pos(head_.load(std::memory_order_acquire));
    const uint64_t t = Pos(tail_.load(std::memory_order_acquire));
    if (t <= h) return 0;
    const uint64_t n = (t / lap_ - h / lap_) * capacity_ + t % lap_ - h % lap_;
    return static_cast<size_t>(std::min(n, capacity_));
  }

 private:
  static constexpr uint64_t kGate = 1;  // the low bit of head_ and tail_

  struct Slot {
    std::atomic<uint64_t> stamp;
    alignas(T) unsigned char storage[sizeof(T)];
    T* value() { return std::launder(reinterpret_cast<T*>(storage)); }
  };

  static uint64_t Pos(uint64_t word) { return word >> 1; }
  // The word for `pos`, keeping the gate bit of `old`.
  static uint64_t Word(uint64_t pos, uint64_t old) {
    return (pos << 1) | (old & kGate);
  }
  // The position after `pos`: the next index, or index 0 of the next lap.
  uint64_t Next(uint64_t pos) const {
    return (pos & (lap_ - 1)) + 1 < capacity_ ? pos + 1
                                              : (pos & ~(lap_ - 1)) + lap_;
  }
  Slot& SlotAt(uint64_t pos) const { return slots_[pos & (lap_ - 1)]; }

  // A push or pop that met the slot at `pos` still in another's hands.
  void AwaitInFlight(uint64_t pos, uint64_t stamp) {
    in_flight_waits_.fetch_add(1, std::memory_order_relaxed);
    AwaitStamp(pos, stamp);
  }

  void AwaitStamp(uint64_t pos, uint64_t stamp) const {
    const std::atomic<uint64_t>& s = SlotAt(pos).stamp;
    // On one CPU the slot's owner cannot finish while this thread spins.
    const int max_spins = SpinningCanHelp() ? 64 : 0;
    for (int spins = 0; s.load(std::memory_order_acquire) < stamp; ++spins) {
      if (spins < max_spins) {
        CpuRelax();
      } else {
        std::this_thread::yield();  // its owner lost its core
      }
    }
  }

  const uint64_t capacity_;
  const uint64_t lap_;  // a power of two greater than capacity_
  Slot* const slots_;
  // Producers and consumers each own one of these: keep them on separate
  // cache lines, away from the channel's lock.
  alignas(64) std::atomic<uint64_t> tail_{0};
  alignas(64) std::atomic<uint64_t> head_{0};
  // Written only when a caller waits for another, which is rare; on head_'s
  // line, which consumers write anyway, so that the line above stays
  // read-only.
  std::atomic<uint64_t> in_flight_waits_{0};
  // The slot of a one-slot ring, in place: a reply channel is one, made per
  // call, and would otherwise cost a second allocation. Only for slots of
  // up to 256 bytes, since every ring of that type carries the room.
  static constexpr bool kSlotInPlace = sizeof(Slot) <= 256;
  struct NoRoom {};
  struct Room {
    alignas(Slot) unsigned char bytes[sizeof(Slot)];
  };
  [[no_unique_address]] std::conditional_t<kSlotInPlace, Room, NoRoom>
      in_place_;

  Slot* InPlaceSlot() {
    if constexpr (kSlotInPlace) {
      return reinterpret_cast<Slot*>(in_place_.bytes);
    } else {
      return nullptr;
    }
  }
};

}  // namespace handoff::internal

#endif  // HANDOFF_DISPATCH_INTERNAL_RING_H_
