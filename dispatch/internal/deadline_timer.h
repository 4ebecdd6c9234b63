// Copyright 2026 The handoff Authors.
//
// One process-wide Asio timer thread for every deadline.
//
// A deadline must not cost a thread: a gateway holds one per call in flight.
// All of them are asio::steady_timers on a single io_context, run by a single
// thread that starts with the first deadline and lives as long as the process
// (it is deliberately never torn down, so a context destroyed during static
// destruction still finds it).

#ifndef HANDOFF_DISPATCH_INTERNAL_DEADLINE_TIMER_H_
#define HANDOFF_DISPATCH_INTERNAL_DEADLINE_TIMER_H_

#include <functional>

#include "absl/time/time.h"
#include <asio/steady_timer.hpp>

namespace handoff::internal {

class DeadlineTimer {
 public:
  // Calls `fire` on the timer thread at `when`, unless Cancel() or the
  // destructor comes first. Thread-safe against the timer thread; Cancel()
  // and the destructor must not race each other.
  DeadlineTimer(absl::Time when, std::function<void()> fire);
  ~DeadlineTimer() = default;  // cancels
  DeadlineTimer(const DeadlineTimer&) = delete;
  DeadlineTimer& operator=(const DeadlineTimer&) = delete;

  void Cancel();

 private:
  asio::steady_timer timer_;
};

}  // namespace handoff::internal

#endif  // HANDOFF_DISPATCH_INTERNAL_DEADLINE_TIMER_H_
