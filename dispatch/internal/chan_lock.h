// Copyright 2026 The handoff Authors.
//
// The lock that guards one channel's buffer and wait queues.
//
// A channel's critical sections are a few dozen instructions, so a contended
// lock is usually released again within the time a futex sleep would take to
// set up. ChanLock therefore spins briefly before it sleeps, as Go's runtime
// lock does; pthread's default mutex goes straight to the kernel, which costs
// microseconds on exactly the ping-pong paths channels exist for. Like the
// parker, it spins only where that can help (SpinningCanHelp).
// It is Drepper's three-state futex mutex ("Futexes Are Tricky", mutex2):
// 0 = unlocked, 1 = locked, 2 = locked and somebody may be asleep.

#ifndef HANDOFF_DISPATCH_INTERNAL_CHAN_LOCK_H_
#define HANDOFF_DISPATCH_INTERNAL_CHAN_LOCK_H_

#include <atomic>
#include <cstdint>

#include "dispatch/internal/parker.h"

namespace handoff::internal {

class ChanLock {
 public:
  void lock() {
    uint32_t c = kUnlocked;
    if (state_.compare_exchange_strong(c, kLocked, std::memory_order_acquire,
                                       std::memory_order_relaxed)) {
      return;
    }
    for (int i = 0, spins = SpinsBeforeSleeping(); i < spins; ++i) {
      CpuRelax();
      c = kUnlocked;
      if (state_.load(std::memory_order_relaxed) == kUnlocked &&
          state_.compare_exchange_weak(c, kLocked, std::memory_order_acquire,
                                       std::memory_order_relaxed)) {
        return;
      }
    }
    c = state_.exchange(kContended, std::memory_order_acquire);
    while (c != kUnlocked) {
      FutexWait(&state_, kContended);
      c = state_.exchange(kContended, std::memory_order_acquire);
    }
  }

  // How many times a contended lock() checks the lock again before it
  // sleeps: none in a process that may use one CPU only, where the holder
  // cannot run to release the lock until the spinner gives the CPU up.
  static int SpinsBeforeSleeping() { return SpinningCanHelp() ? kSpins : 0; }

  void unlock() {
    if (state_.exchange(kUnlocked, std::memory_order_release) == kContended) {
      // The lock may be gone by now: once it reads unlocked, another thread
      // can take it, finish, and free the channel (an async select's last
      // handle). The wake is harmless all the same: the kernel takes the
      // address as a number, and every futex waiter tolerates a spurious
      // wake (parker.h says the same of the parker).
      FutexWakeOne(&state_);
    }
  }

 private:
  static constexpr uint32_t kUnlocked = 0;
  static constexpr uint32_t kLocked = 1;
  static constexpr uint32_t kContended = 2;
  // About a microsecond of pauses: a critical section is ~50 ns, so a lock
  // still held after that belongs to a thread that lost its core.
  static constexpr int kSpins = 40;

  std::atomic<uint32_t> state_{kUnlocked};
};

}  // namespace handoff::internal

#endif  // HANDOFF_DISPATCH_INTERNAL_CHAN_LOCK_H_
