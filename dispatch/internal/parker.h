// Copyright 2026 The handoff Authors.
//
// Parks an OS thread until another thread readies it: a short adaptive spin,
// then a futex sleep.
//
// Why spin at all: a futex sleep and wake costs microseconds of CPU on each
// side, while a channel peer running on the other core usually answers within
// a few hundred nanoseconds. Why bound it: on two cores a spinning waiter
// steals the core that would have made it ready. So the spin is bounded in
// time (not in `pause` instructions, whose cost differs tenfold between CPUs)
// by about what a sleep and wake would cost, which makes it never worse than
// twice the better of the two choices; and each thread keeps a budget that
// grows while spinning pays off and shrinks while it does not. (Two ideas
// were measured and dropped: a sched_yield before sleeping was 9% of
// handoffd's CPU, mostly the switches it caused; and Go's cap of ncpu/2
// spinning threads made a ping-pong 20x slower, since the thread just woken
// still counts as spinning when its peer starts to wait, without lowering
// handoffd's CPU per call.)
//
// Lifetime: Ready() may be the last thing that touches a ThreadParker; the
// parked thread may return and destroy it as soon as it sees the state flip.
// The futex wake that follows uses only the address, which the kernel treats
// as a number: at worst a later occupant of that address sees a spurious
// wakeup, which every futex waiter must tolerate anyway.

#ifndef HANDOFF_DISPATCH_INTERNAL_PARKER_H_
#define HANDOFF_DISPATCH_INTERNAL_PARKER_H_

#include <algorithm>
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

// The per-thread spin budget, in nanoseconds.
class SpinBudget {
 public:
  static constexpr int64_t kMinNs = 500;
  static constexpr int64_t kMaxNs = 10000;  // about a futex sleep + wake

  int64_t get() const { return budget_ns_; }
  // Spinning caught the wakeup: keep (a little more) headroom.
  void Hit() { budget_ns_ = std::min(kMaxNs, budget_ns_ + budget_ns_ / 4); }
  // The thread slept anyway: the spin was wasted CPU.
  void Miss() { budget_ns_ = std::max(kMinNs, budget_ns_ / 2); }

  static SpinBudget& ForThisThread();

 private:
  int64_t budget_ns_ = 4000;
};

class ThreadParker {
 public:
  // Blocks until Ready() has been called (possibly already).
  void Park() {
    if (Spin()) return;
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
  // Spins while the budget lasts; true if readied meanwhile.
  bool Spin();

  static constexpr uint32_t kSpinning = 0;
  static constexpr uint32_t kSleeping = 1;
  static constexpr uint32_t kReady = 2;

  std::atomic<uint32_t> state_{kSpinning};
};

}  // namespace handoff::internal

#endif  // HANDOFF_DISPATCH_INTERNAL_PARKER_H_
