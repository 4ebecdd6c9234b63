// Copyright 2026 The handoff Authors.
//
// Parks an OS thread until another thread readies it: a short adaptive spin,
// then a futex sleep.
//
// Why spin at all: a futex sleep and wake costs a few microseconds on each
// side, while a channel peer on the other core usually answers within a few
// hundred nanoseconds. Why bound it: on two cores a spinning waiter steals the
// core that would have made it ready. So each thread keeps a spin budget that
// grows when spinning paid off and shrinks when it did not, the way glibc's
// adaptive mutex does.
//
// Lifetime: Ready() may be the last thing that touches a ThreadParker; the
// parked thread may return and destroy it as soon as it sees the state flip.
// The futex wake that follows uses only the address, which the kernel treats
// as a number: at worst a later occupant of that address sees a spurious
// wakeup, which every futex waiter must tolerate anyway.

#ifndef HANDOFF_DISPATCH_INTERNAL_PARKER_H_
#define HANDOFF_DISPATCH_INTERNAL_PARKER_H_

#include <atomic>
#include <cstdint>

namespace handoff::internal {

// Tells the CPU this is a spin-wait loop (x86 `pause`, ARM `yield`).
inline void CpuRelax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#endif
}

void FutexWait(std::atomic<uint32_t>* word, uint32_t expected);
void FutexWakeOne(std::atomic<uint32_t>* word);

// The per-thread spin budget, in CpuRelax() iterations.
class SpinBudget {
 public:
  static constexpr int kMin = 16;
  static constexpr int kMax = 4096;

  int get() const { return budget_; }
  // Spinning caught the wakeup: spinning a little longer is worth it.
  void Hit() { budget_ = budget_ * 2 > kMax ? kMax : budget_ * 2; }
  // The thread slept anyway: the spin was wasted CPU.
  void Miss() { budget_ = budget_ / 2 < kMin ? kMin : budget_ / 2; }

  static SpinBudget& ForThisThread();

 private:
  int budget_ = 256;
};

class ThreadParker {
 public:
  // Blocks until Ready() has been called (possibly already).
  void Park() {
    SpinBudget& budget = SpinBudget::ForThisThread();
    for (int i = budget.get(); i > 0; --i) {
      if (state_.load(std::memory_order_acquire) == kReady) {
        budget.Hit();
        return;
      }
      CpuRelax();
    }
    budget.Miss();
    uint32_t expected = kSpinning;
    if (state_.compare_exchange_strong(expected, kSleeping,
                                       std::memory_order_acq_rel,
                                       std::memory_order_acquire)) {
      do {
        FutexWait(&state_, kSleeping);
      } while (state_.load(std::memory_order_acquire) != kReady);
    }
  }

  // Releases the parked thread. Everything written before Ready() is visible
  // to it when Park() returns.
  void Ready() {
    if (state_.exchange(kReady, std::memory_order_acq_rel) == kSleeping) {
      FutexWakeOne(&state_);
    }
  }

 private:
  static constexpr uint32_t kSpinning = 0;
  static constexpr uint32_t kSleeping = 1;
  static constexpr uint32_t kReady = 2;

  std::atomic<uint32_t> state_{kSpinning};
};

}  // namespace handoff::internal

#endif  // HANDOFF_DISPATCH_INTERNAL_PARKER_H_
