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

#include "absl/time/clock.h"

namespace handoff::internal {

// A binary min-heap of DeadlineTimer*, each knowing its own index so that a
// cancel removes it in O(log n), and the Asio timer armed for the root.
class TimerHeap {
 public:
  static TimerHeap& Get() {
    static TimerHeap* const heap = new TimerHeap();  // never destroyed
    return *heap;
  }

  void Add(DeadlineTimer* t) {
    std::lock_guard<std::mutex> l(mu_);
    t->index_ = heap_.size();
    heap_.push_back(t);
    SiftUp(t->index_);
    if (t->when_ < armed_for_) Arm(t->when_);
  }

  void Remove(DeadlineTimer* t) {
    std::lock_guard<std::mutex> l(mu_);
    if (t->index_ == DeadlineTimer::kNotQueued) return;  // fired already
    size_t i = t->index_;
    t->index_ = DeadlineTimer::kNotQueued;
    t->fire_ = nullptr;
    size_t last = heap_.size() - 1;
    if (i != last) {
      Place(i, heap_[last]);
      heap_.pop_back();
      SiftDown(i);
      SiftUp(i);
    } else {
      heap_.pop_back();
    }
    // If the root went, the armed wait will find nothing due and re-arm:
    // cheaper than waking the timer thread now.
  }

 private:
  TimerHeap() : work_(asio::make_work_guard(io_)), thread_([this] { io_.run(); }) {}

  // Waits for `when`, replacing any wait in progress. Called with mu_ held.
  void Arm(absl::Time when) {
    armed_for_ = when;
    timer_.expires_after(std::chrono::nanoseconds(
        absl::ToInt64Nanoseconds(when - absl::Now())));
    timer_.async_wait([this](const std::error_code& ec) {
      if (!ec) FireDue();  // aborted: a later Arm() replaced this wait
    });
  }

  void FireDue() {
    std::vector<std::function<void()>> due;
    {
      std::lock_guard<std::mutex> l(mu_);
      absl::Time now = absl::Now();
      while (!heap_.empty() && heap_[0]->when_ <= now) {
        DeadlineTimer* t = heap_[0];
        due.push_back(std::move(t->fire_));
        DeadlineTimer* last = heap_.back();
        heap_.pop_back();
        if (!heap_.empty()) {
          Place(0, last);
          SiftDown(0);
        }
        t->index_ = DeadlineTimer::kNotQueued;  // after Place: t may be `last`
      }
      armed_for_ = absl::InfiniteFuture();
      if (!heap_.empty()) Arm(heap_[0]->when_);
    }
    for (auto& fire : due) fire();  // outside the lock: fire may cancel others
  }

  void Place(size_t i, DeadlineTimer* t) {
    heap_[i] = t;
    t->index_ = i;
  }
  void SiftUp(size_t i) {
    while (i > 0) {
      size_t parent = (i - 1) / 2;
      if (!(heap_[i]->when_ < heap_[parent]->when_)) break;
      DeadlineTimer* p = heap_[parent];
      Place(parent, heap_[i]);
      Place(i, p);
      i = parent;
    }
  }
  void SiftDown(size_t i) {
    for (;;) {
      size_t smallest = i;
      for (size_t c = 2 * i + 1; c <= 2 * i + 2 && c < heap_.size(); ++c) {
        if (heap_[c]->when_ < heap_[smallest]->when_) smallest = c;
      }
      if (smallest == i) return;
      DeadlineTimer* s = heap_[smallest];
      Place(smallest, heap_[i]);
      Place(i, s);
      i = smallest;
    }
  }

  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> work_;
  std::mutex mu_;
  asio::steady_timer timer_{io_};             // guarded by mu_
  absl::Time armed_for_ = absl::InfiniteFuture();  // guarded by mu_
  std::vector<DeadlineTimer*> heap_;          // guarded by mu_
  std::thread thread_;                        // last: starts after the rest
};

DeadlineTimer::DeadlineTimer(absl::Time when, std::function<void()> fire)
    : when_(when), fire_(std::move(fire)) {
  TimerHeap::Get().Add(this);
}

void DeadlineTimer::Cancel() { TimerHeap::Get().Remove(this); }

}  // namespace handoff::internal
