// Copyright 2026 The handoff Authors.

#include "dispatch/internal/parker.h"

#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <thread>

namespace handoff::internal {

void FutexWait(std::atomic<uint32_t>* word, uint32_t expected) {
  // EAGAIN (the word changed) and EINTR both send the caller back to its
  // re-check loop, so the result is deliberately ignored.
  syscall(SYS_futex, reinterpret_cast<uint32_t*>(word), FUTEX_WAIT_PRIVATE,
          expected, nullptr, nullptr, 0);
}

void FutexWakeOne(std::atomic<uint32_t>* word) {
  syscall(SYS_futex, reinterpret_cast<uint32_t*>(word), FUTEX_WAKE_PRIVATE, 1,
          nullptr, nullptr, 0);
}

namespace {

// Threads spinning right now, and how many may (Go's rule: half the CPUs).
std::atomic<int> spinning{0};
const int max_spinning = [] {
  int n = static_cast<int>(std::thread::hardware_concurrency()) / 2;
  return n < 1 ? 1 : n;
}();

}  // namespace

bool ThreadParker::Spin() {
  if (spinning.fetch_add(1, std::memory_order_relaxed) >= max_spinning) {
    spinning.fetch_sub(1, std::memory_order_relaxed);
    return state_.load(std::memory_order_acquire) == kReady;
  }
  bool readied = SpinWithBudget();
  spinning.fetch_sub(1, std::memory_order_relaxed);
  return readied;
}

bool ThreadParker::SpinWithBudget() {
  using Clock = std::chrono::steady_clock;
  SpinBudget& budget = SpinBudget::ForThisThread();
  const Clock::time_point give_up =
      Clock::now() + std::chrono::nanoseconds(budget.get());
  // Reading the clock costs about as much as a few pauses: check it every
  // eighth iteration.
  for (unsigned i = 1;; ++i) {
    if (state_.load(std::memory_order_acquire) == kReady) {
      budget.Hit();
      return true;
    }
    CpuRelax();
    if (i % 8 == 0 && Clock::now() >= give_up) break;
  }
  budget.Miss();
  return false;
}

SpinBudget& SpinBudget::ForThisThread() {
  thread_local SpinBudget budget;
  return budget;
}

}  // namespace handoff::internal
