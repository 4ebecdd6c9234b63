// Copyright 2026 The handoff Authors.

#include "dispatch/internal/parker.h"

#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <chrono>
#include <vector>

#include "dispatch/internal/cpus.h"

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

bool SpinningCanHelp() {
  static const bool can = [] {
    const std::vector<int> cpus = CpusOf(getpid());
    // An unreadable mask (more CPUs than a cpu_set_t holds): spin as before.
    return cpus.empty() || cpus.size() > 1;
  }();
  return can;
}

bool ThreadParker::Spin(int64_t give_up_ns) {
  // Reading the clock costs about as much as a few pauses: check it every
  // eighth iteration.
  for (unsigned i = 1;; ++i) {
    if (state_.load(std::memory_order_acquire) == kReady) return true;
    CpuRelax();
    if (i % 8 == 0 && NowNs() >= give_up_ns) return false;
  }
}

int64_t ThreadParker::NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

SpinBudget& SpinBudget::ForThisThread() {
  thread_local SpinBudget budget;
  return budget;
}

}  // namespace handoff::internal
