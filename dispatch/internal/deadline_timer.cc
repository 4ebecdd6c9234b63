// Copyright 2026 The handoff Authors.

#include "dispatch/internal/deadline_timer.h"

#include <chrono>
#include <mutex>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>

#include "absl/container/btree_set.h"
#include "dispatch/clock.h"

namespace handoff::internal {

// Every pending DeadlineTimer, ordered by deadline (ties by address), and the
// Asio timer armed for the earliest.
class TimerQueue {
 public:
  static TimerQueue& Get() {
    static TimerQueue* const queue = new TimerQueue();  // never destroyed
    return *queue;
  }

  void Add(DeadlineTimer* t) {
    std::lock_guard<std::mutex> l(mu_);
    pending_.insert({t->when_, t});
    t->queued_ = true;
    if (t->when_ < armed_for_) Arm(t->when_);
  }

  void Remove(DeadlineTimer* t) {
    std::lock_guard<std::mutex> l(mu_);
    if (!t->queued_) return;  // fired already
    pending_.erase({t->when_, t});
    t->queued_ = false;
    t->fire_ = nullptr;
    // If it was the earliest, the armed wait will find nothing due and
    // re-arm: cheaper than waking the timer thread now.
  }

 private:
  TimerQueue() : work_(asio::make_work_guard(io_)), thread_([this] { io_.run(); }) {}

  // Waits for `when`, replacing any wait in progress. Called with mu_ held.
  void Arm(absl::Time when) {
    armed_for_ = when;
    timer_.expires_after(std::chrono::nanoseconds(
        absl::ToInt64Nanoseconds(when - MonotonicNow())));
    timer_.async_wait([this](const std::error_code& ec) {
      if (!ec) FireDue();  // aborted: a later Arm() replaced this wait
    });
  }

  void FireDue() {
    std::vector<absl::AnyInvocable<void()>> due;
    {
      std::lock_guard<std::mutex> l(mu_);
      absl::Time now = MonotonicNow();
      auto it = pending_.begin();
      for (; it != pending_.end() && it->first <= now; ++it) {
        DeadlineTimer* t = it->second;
        due.push_back(std::move(t->fire_));
        t->queued_ = false;
      }
      pending_.erase(pending_.begin(), it);
      armed_for_ = absl::InfiniteFuture();
      if (!pending_.empty()) Arm(pending_.begin()->first);
    }
    for (auto& fire : due) fire();  // outside the lock: fire may cancel others
  }

  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> work_;
  std::mutex mu_;
  asio::steady_timer timer_{io_};                  // guarded by mu_
  absl::Time armed_for_ = absl::InfiniteFuture();  // guarded by mu_
  absl::btree_set<std::pair<absl::Time, DeadlineTimer*>> pending_;  // mu_
  std::thread thread_;  // last: starts after the rest
};

DeadlineTimer::DeadlineTimer(absl::Time when, absl::AnyInvocable<void()> fire)
    : when_(when), fire_(std::move(fire)) {
  TimerQueue::Get().Add(this);
}

void DeadlineTimer::Cancel() { TimerQueue::Get().Remove(this); }

}  // namespace handoff::internal
