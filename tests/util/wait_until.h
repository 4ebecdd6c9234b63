// Copyright 2026 The handoff Authors.
//
// WaitUntil: how a test waits for something it can observe but not be told
// of (a thread parked in a channel, a counter of the server's, a line in a
// child's output): it polls the condition, yielding between looks, and gives
// up after `timeout` so that a broken test fails instead of hanging. It is not
// a sleep that hopes: it returns as soon as the condition holds.

#ifndef HANDOFF_TESTS_UTIL_WAIT_UNTIL_H_
#define HANDOFF_TESTS_UTIL_WAIT_UNTIL_H_

#include <chrono>
#include <thread>

#include "absl/time/time.h"

namespace handoff::testing {

// True once `pred()` holds; false if it still does not after `timeout`.
template <typename Pred>
[[nodiscard]] bool WaitUntil(Pred pred,
                             absl::Duration timeout = absl::Seconds(30)) {
  // Steady, so that a test that steps the wall clock still gives up in time.
  const auto give_up =
      std::chrono::steady_clock::now() + absl::ToChronoNanoseconds(timeout);
  while (!pred()) {
    if (std::chrono::steady_clock::now() > give_up) return false;
    std::this_thread::yield();
  }
  return true;
}

}  // namespace handoff::testing

#endif  // HANDOFF_TESTS_UTIL_WAIT_UNTIL_H_
