// Copyright 2026 The handoff Authors.
//
// Ring<T>, the lock-free buffer of a buffered channel: FIFO across laps at
// capacities that are and are not powers of two, the gate, and ownership of
// the values left in it.

#include "dispatch/internal/ring.h"

#include <array>
#include <atomic>
#include <memory>
#include <optional>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "tests/unit/dispatch/test_util.h"

namespace handoff::internal {
namespace {

using Result = Ring<int>::Result;

Result Push(Ring<int>& r, int v, bool respect_gate = true) {
  return r.Push(v, respect_gate);
}

std::optional<int> Pop(Ring<int>& r) {
  std::optional<int> out;
  return r.Pop(&out, true) == Result::kDone ? out : std::nullopt;
}

// Capacity is exact, and order is kept, lap after lap: 1 (where "holds the
// value of lap n" and "free for lap n+1" must not be confused), 3 (whose
// laps are padded to 4 positions) and 4.
TEST(RingTest, HoldsExactlyItsCapacityInFifoOrderAcrossLaps) {
  for (size_t cap : {1u, 3u, 4u}) {
    Ring<int> r(cap);
    int next_in = 0, next_out = 0;
    for (int lap = 0; lap < 10; ++lap) {
      for (size_t i = 0; i < cap; ++i) {
        ASSERT_EQ(Push(r, next_in++), Result::kDone) << "cap " << cap;
      }
      EXPECT_EQ(r.size(), cap);
      EXPECT_EQ(Push(r, -1), Result::kBlocked) << "cap " << cap << " is full";
      for (size_t i = 0; i < cap; ++i) EXPECT_EQ(Pop(r), next_out++);
      EXPECT_EQ(r.size(), 0u);
      std::optional<int> out;
      EXPECT_EQ(r.Pop(&out, true), Result::kBlocked) << "empty";
    }
  }
}

// A ring that is never full or empty for long: the head and tail chase each
// other around a lap that is not a power of two.
TEST(RingTest, InterleavedPushAndPopKeepOrderAndSize) {
  Ring<int> r(3);
  int next_in = 0, next_out = 0;
  for (int i = 0; i < 100; ++i) {
    ASSERT_EQ(Push(r, next_in++), Result::kDone);
    ASSERT_EQ(Push(r, next_in++), Result::kDone);
    EXPECT_EQ(Pop(r), next_out++);
    EXPECT_EQ(r.size(), 1u);
    EXPECT_EQ(Pop(r), next_out++);
  }
  EXPECT_TRUE(r.Empty());
}

// While the gate is up, callers that respect it are refused and nothing
// moves; the owner (who holds the channel's lock) still pushes and pops.
TEST(RingTest, TheGateRefusesLockFreeCallersOnly) {
  Ring<int> r(2);
  ASSERT_EQ(Push(r, 1), Result::kDone);
  r.Raise();
  EXPECT_EQ(Push(r, 2), Result::kGated);
  std::optional<int> out;
  EXPECT_EQ(r.Pop(&out, true), Result::kGated);
  EXPECT_FALSE(out.has_value()) << "a refused pop takes nothing";
  EXPECT_EQ(r.size(), 1u);

  EXPECT_TRUE(r.HeadReady());
  EXPECT_TRUE(r.TailFree());
  EXPECT_EQ(Push(r, 2, /*respect_gate=*/false), Result::kDone);
  EXPECT_FALSE(r.TailFree()) << "full";
  ASSERT_EQ(r.Pop(&out, false), Result::kDone);
  EXPECT_EQ(out, 1);

  r.Lower();
  EXPECT_EQ(Pop(r), 2);
  EXPECT_EQ(Push(r, 3), Result::kDone);
  EXPECT_EQ(Pop(r), 3);
}

// A refused push leaves the caller's value where it was.
TEST(RingTest, ARefusedPushKeepsTheValue) {
  Ring<std::unique_ptr<int>> r(1);
  auto a = std::make_unique<int>(1);
  ASSERT_EQ(r.Push(a, true), Ring<std::unique_ptr<int>>::Result::kDone);
  auto b = std::make_unique<int>(2);
  EXPECT_EQ(r.Push(b, true), Ring<std::unique_ptr<int>>::Result::kBlocked);
  ASSERT_NE(b, nullptr);
  r.Raise();
  EXPECT_EQ(r.Push(b, true), Ring<std::unique_ptr<int>>::Result::kGated);
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(*b, 2);
  r.Lower();
}

// With nothing in flight, the waits return at once, and a single thread's
// own operations are never "in flight".
TEST(RingTest, AwaitingWithNothingInFlightReturns) {
  Ring<int> r(4);
  ASSERT_EQ(Push(r, 1), Result::kDone);
  ASSERT_EQ(Push(r, 2), Result::kDone);
  ASSERT_EQ(Pop(r), 1);
  r.Raise();
  r.AwaitPushesInFlight();
  r.AwaitPopsInFlight();
  EXPECT_TRUE(r.HeadReady());
  r.Lower();
}

// A value whose moves stall while its `hold` is set: it keeps the push or
// pop that moves it in flight, as a thread preempted in mid-move would.
struct Stalling {
  static inline std::atomic<int> stalled{0};  // moves that stalled so far
  int v = -1;
  std::atomic<bool>* hold = nullptr;
  explicit Stalling(int x, std::atomic<bool>* h = nullptr) : v(x), hold(h) {}
  Stalling(Stalling&& o) noexcept : v(o.v), hold(o.hold) {
    if (hold == nullptr || !hold->load()) return;
    stalled.fetch_add(1);
    while (hold->load()) std::this_thread::yield();
  }
};

// A full ring with a pop in flight has room: a push waits for the pop to
// free its slot instead of reporting the ring full. (A queue of 256 refused a
// call as full with 255 jobs in it this way.)
TEST(RingTest, APushWaitsForAPopInFlightInsteadOfReportingFull) {
  using R = Ring<Stalling>;
  for (size_t cap : {1u, 2u, 3u}) {
    R r(cap);
    std::atomic<bool> hold{false};
    for (size_t i = 0; i < cap; ++i) {
      Stalling v(static_cast<int>(i), &hold);
      ASSERT_EQ(r.Push(v, true), R::Result::kDone);
    }
    Stalling::stalled = 0;
    hold = true;
    std::optional<Stalling> first;
    std::thread popper([&] { EXPECT_EQ(r.Pop(&first, true), R::Result::kDone); });
    ASSERT_TRUE(testing::WaitUntil([] { return Stalling::stalled == 1; }));
    std::atomic<int> pushed{-1};  // the Result, once the push returns
    std::thread pusher([&] {
      Stalling v(100);
      pushed = static_cast<int>(r.Push(v, true));
    });
    ASSERT_TRUE(testing::WaitUntil(
        [&] { return r.in_flight_waits() == 1 || pushed != -1; }));
    EXPECT_EQ(pushed, -1) << "cap " << cap << ": refused while a pop was leaving";
    hold = false;
    popper.join();
    pusher.join();
    EXPECT_EQ(pushed, static_cast<int>(R::Result::kDone)) << "cap " << cap;
    ASSERT_TRUE(first.has_value());
    EXPECT_EQ(first->v, 0);
    std::optional<Stalling> out;
    for (size_t i = 1; i < cap; ++i) {
      ASSERT_EQ(r.Pop(&out, true), R::Result::kDone);
      EXPECT_EQ(out->v, static_cast<int>(i));
    }
    ASSERT_EQ(r.Pop(&out, true), R::Result::kDone);
    EXPECT_EQ(out->v, 100) << "cap " << cap;
  }
}

// An empty ring with a push in flight holds a value: a pop waits for it
// instead of reporting the ring empty, even once a later push has finished.
TEST(RingTest, APopWaitsForAPushInFlightInsteadOfReportingEmpty) {
  using R = Ring<Stalling>;
  R r(4);
  std::atomic<bool> hold{true};
  Stalling::stalled = 0;
  std::thread slow([&] {
    Stalling v(1, &hold);
    EXPECT_EQ(r.Push(v, true), R::Result::kDone);
  });
  ASSERT_TRUE(testing::WaitUntil([] { return Stalling::stalled == 1; }));
  Stalling later(2);
  ASSERT_EQ(r.Push(later, true), R::Result::kDone);
  std::atomic<int> popped{-1};  // the value, or -2 if the pop was refused
  std::thread popper([&] {
    std::optional<Stalling> out;
    popped = r.Pop(&out, true) == R::Result::kDone ? out->v : -2;
  });
  ASSERT_TRUE(testing::WaitUntil(
      [&] { return r.in_flight_waits() == 1 || popped != -1; }));
  EXPECT_EQ(popped, -1) << "refused although a later push had finished";
  hold = false;
  slow.join();
  popper.join();
  EXPECT_EQ(popped, 1) << "the value in flight is the oldest";
}

// Values still in the ring when it goes are destroyed with it, once each:
// in a one-slot ring, whose slot is in place, and in one whose slots are
// allocated.
TEST(RingTest, DestroysWhatIsLeftExactlyOnce) {
  for (size_t cap : {1u, 3u}) {
    testing::Tracked::Reset();
    {
      Ring<testing::Tracked> r(cap);
      for (int i = 0; i < 5; ++i) {
        testing::Tracked t(i);
        while (r.Push(t, true) != Ring<testing::Tracked>::Result::kDone) {
          std::optional<testing::Tracked> out;
          ASSERT_EQ(r.Pop(&out, true), Ring<testing::Tracked>::Result::kDone);
        }
      }
      EXPECT_EQ(r.size(), cap);
    }
    EXPECT_EQ(testing::Tracked::values_destroyed.load(), 5) << "cap " << cap;
    EXPECT_EQ(testing::Tracked::live.load(), 0) << "cap " << cap;
  }
}

// A one-slot ring of values too large to keep in place allocates its slot
// like any other ring, and behaves the same.
TEST(RingTest, AOneSlotRingOfLargeValuesHoldsOneAtATime) {
  using Big = std::array<int, 100>;
  Ring<Big> r(1);
  for (int i = 0; i < 3; ++i) {
    Big v;
    v.fill(i);
    ASSERT_EQ(r.Push(v, true), Ring<Big>::Result::kDone);
    Big w{};
    EXPECT_EQ(r.Push(w, true), Ring<Big>::Result::kBlocked) << "full";
    std::optional<Big> out;
    ASSERT_EQ(r.Pop(&out, true), Ring<Big>::Result::kDone);
    EXPECT_EQ((*out)[99], i);
  }
}

// Many producers and consumers at once, with no lock anywhere: every value
// comes out once, and each producer's values come out in the order it pushed
// them, as each consumer sees them.
TEST(RingTest, ConcurrentProducersAndConsumersKeepEachProducersOrder) {
  Ring<int> r(5);
  constexpr int kThreads = 3;
  const int per = 30000 / testing::kScale;
  std::atomic<int> received{0};
  std::atomic<long> sum{0};
  std::vector<std::thread> threads;
  for (int p = 0; p < kThreads; ++p) {
    threads.emplace_back([&, p] {
      for (int i = 0; i < per; ++i) {
        int v = p * per + i;
        while (r.Push(v, true) != Result::kDone) std::this_thread::yield();
      }
    });
  }
  for (int c = 0; c < kThreads; ++c) {
    threads.emplace_back([&] {
      std::vector<int> last(kThreads, -1);
      while (received.load() < kThreads * per) {
        std::optional<int> out;
        if (r.Pop(&out, true) != Result::kDone) {
          std::this_thread::yield();
          continue;
        }
        int p = *out / per, i = *out % per;
        EXPECT_GT(i, last[p]) << "producer " << p << " out of order";
        last[p] = i;
        sum += *out;
        ++received;
      }
    });
  }
  for (auto& t : threads) t.join();
  long n = long(kThreads) * per;
  EXPECT_EQ(received.load(), n);
  EXPECT_EQ(sum.load(), n * (n - 1) / 2);
}

}  // namespace
}  // namespace handoff::internal
