// Copyright 2026 The handoff Authors.
//
// StepWallClock: steps CLOCK_REALTIME as this process sees it, as `date -s`
// or NTP's first sync would, leaving CLOCK_MONOTONIC alone as the kernel
// does. It works by defining clock_gettime, which the shared Abseil, gRPC
// and libstdc++ call through the PLT; glibc's own callers and the vDSO are
// not affected, nor is any other process.
//
// It defines a function with C linkage: include it from exactly one source
// file of a test binary, and only of one that tests what a step does.

#ifndef HANDOFF_TESTS_UTIL_STEPPED_WALL_CLOCK_H_
#define HANDOFF_TESTS_UTIL_STEPPED_WALL_CLOCK_H_

#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "tests/util/wait_until.h"

namespace handoff::testing::internal {
inline std::atomic<int64_t> wall_offset_s{0};
}  // namespace handoff::testing::internal

// Straight to the kernel: no dlsym, which a sanitizer's runtime may reach
// before it is ready, and no recursion into this definition.
extern "C" int clock_gettime(clockid_t id, struct timespec* ts) {
  const int r = static_cast<int>(syscall(SYS_clock_gettime, id, ts));
  if (r == 0 && id == CLOCK_REALTIME) {
    ts->tv_sec += handoff::testing::internal::wall_offset_s.load(
        std::memory_order_relaxed);
  }
  return r;
}

namespace handoff::testing {

// Moves the wall clock by `d` (whole seconds), and returns once absl::Now()
// reads the moved clock: Abseil may extrapolate from its last kernel reading
// for up to about 2 s (in a process this young it reads the kernel each
// time). False if it never did.
[[nodiscard]] inline bool StepWallClock(absl::Duration d) {
  const absl::Time before = absl::Now();
  internal::wall_offset_s.fetch_add(absl::ToInt64Seconds(d));
  const absl::Duration slack = absl::Seconds(1);
  return WaitUntil([&] {
    const absl::Duration moved = absl::Now() - before;
    return moved > d - slack && moved < d + slack;
  });
}

// Undoes every step.
inline void ResetWallClock() { internal::wall_offset_s.store(0); }

}  // namespace handoff::testing

#endif  // HANDOFF_TESTS_UTIL_STEPPED_WALL_CLOCK_H_
