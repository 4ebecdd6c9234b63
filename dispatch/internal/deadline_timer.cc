// Copyright 2026 The handoff Authors.

#include "dispatch/internal/deadline_timer.h"

#include <chrono>
#include <system_error>
#include <thread>

#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>

#include "absl/time/clock.h"

namespace handoff::internal {
namespace {

class TimerThread {
 public:
  TimerThread() : work_(asio::make_work_guard(io_)), thread_([this] {
    io_.run();
  }) {}
  asio::io_context& io() { return io_; }

 private:
  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> work_;
  std::thread thread_;
};

asio::io_context& TimerIo() {
  static TimerThread* const t = new TimerThread();  // never destroyed
  return t->io();
}

}  // namespace

DeadlineTimer::DeadlineTimer(absl::Time when, std::function<void()> fire)
    : timer_(TimerIo()) {
  timer_.expires_after(std::chrono::nanoseconds(
      absl::ToInt64Nanoseconds(when - absl::Now())));
  timer_.async_wait([fire = std::move(fire)](const std::error_code& ec) {
    if (!ec) fire();
  });
}

void DeadlineTimer::Cancel() { timer_.cancel(); }

}  // namespace handoff::internal
