// Copyright 2026 The handoff Authors.

#include "dispatch/internal/parker.h"

#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

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

SpinBudget& SpinBudget::ForThisThread() {
  thread_local SpinBudget budget;
  return budget;
}

}  // namespace handoff::internal
