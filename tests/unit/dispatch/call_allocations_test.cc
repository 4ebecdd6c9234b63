// Copyright 2026 The handoff Authors.
//
// What one gateway call's bookkeeping allocates (bench_call's loop: a
// Context with a deadline, a reply channel, an async select on {reply,
// ctx.Done()}, the reply, the cancel), counted, not timed. The count is a
// property of the code, so it holds on any machine; docs/PERF.md has what
// each allocation cost when there were more of them.
//
// This binary replaces the global operator new to count the calls made on
// the test's own thread. Sanitizers bring their own, so under them it does
// not, and the tests skip.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <new>
#include <optional>
#include <string>
#include <thread>

#include "absl/status/status.h"
#include "dispatch/clock.h"
#include "dispatch/chan.h"
#include "dispatch/context.h"
#include "dispatch/select.h"
#include "gtest/gtest.h"
#include "tests/unit/dispatch/test_util.h"

#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
#define HANDOFF_COUNTS_ALLOCATIONS 0
#else
#define HANDOFF_COUNTS_ALLOCATIONS 1
#endif

namespace {

thread_local int64_t allocations = 0;
thread_local int64_t aligned_allocations = 0;

}  // namespace

#if HANDOFF_COUNTS_ALLOCATIONS
namespace {

void* Allocate(std::size_t n) {
  ++allocations;
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}

void* AllocateAligned(std::size_t n, std::align_val_t align) {
  ++aligned_allocations;
  const std::size_t a = static_cast<std::size_t>(align);
  if (void* p = std::aligned_alloc(a, (n + a - 1) / a * a)) return p;
  throw std::bad_alloc();
}

}  // namespace

// These operator deletes free what the operator news above took from
// malloc; GCC, seeing one inlined into the other, calls that a mismatch.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
void* operator new(std::size_t n) { return Allocate(n); }
void* operator new[](std::size_t n) { return Allocate(n); }
void* operator new(std::size_t n, std::align_val_t a) {
  return AllocateAligned(n, a);
}
void* operator new[](std::size_t n, std::align_val_t a) {
  return AllocateAligned(n, a);
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept {
  std::free(p);
}
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept {
  std::free(p);
}
#pragma GCC diagnostic pop
#endif  // HANDOFF_COUNTS_ALLOCATIONS

namespace handoff {
namespace {

struct Outcome {
  absl::Status status;
  std::string reply;
};

// One call's bookkeeping, as server/unary_call.h does it.
void OneCall(const Context& root, int* answered) {
  auto [ctx, cancel] = WithDeadline(root, MonotonicNow() + absl::Seconds(30));
  Chan<Outcome> reply(1);
  AsyncSelect(OnRecv(reply,
                     [answered](std::optional<Outcome> out) {
                       *answered += out.has_value() ? 1 : 0;
                     }),
              OnDone(ctx, [] {}));
  reply.TrySend(Outcome{absl::OkStatus(), "hello handoff"}).IgnoreError();
  cancel();
}

// The Context's state, its Done channel, the reply channel (its one slot
// in place), and the async select's state: four, none of them over-aligned
// (glibc serves those without its thread cache, under a lock), and no
// std::function for the deadline.
TEST(CallAllocationsTest, ACallsBookkeepingMakesFourOrdinaryAllocations) {
  if (!HANDOFF_COUNTS_ALLOCATIONS) {
    GTEST_SKIP() << "under a sanitizer, whose operator new is its own";
  }
  auto [root, cancel_root] = WithCancel(Context::Background());
  // A call in flight with an earlier deadline, as under load, so that the
  // timer's set is never empty; and one call first, which starts the timer
  // thread and sizes the root's table of children.
  auto [earlier, cancel_earlier] =
      WithDeadline(root, MonotonicNow() + absl::Seconds(20));
  int answered = 0;
  OneCall(root, &answered);

  constexpr int kCalls = 1000;
  const int64_t before = allocations;
  const int64_t aligned_before = aligned_allocations;
  for (int i = 0; i < kCalls; ++i) OneCall(root, &answered);
  const int64_t made = allocations - before;

  EXPECT_EQ(answered, kCalls + 1);
  EXPECT_EQ(aligned_allocations - aligned_before, 0)
      << "an over-aligned allocation per call";
  EXPECT_EQ(made, 4 * kCalls) << made / double{kCalls} << " per call";
  cancel_earlier();
  cancel_root();
}

// A one-slot channel is one allocation, its slot in place; a channel of two
// slots allocates them apart from its state.
TEST(CallAllocationsTest, AOneSlotChannelIsOneAllocationAndALongerOneTwo) {
  if (!HANDOFF_COUNTS_ALLOCATIONS) {
    GTEST_SKIP() << "under a sanitizer, whose operator new is its own";
  }
  const int64_t before = allocations;
  { Chan<Outcome> one(1); }
  const int64_t one_slot = allocations - before;
  { Chan<Outcome> two(2); }
  const int64_t two_slots = allocations - before - one_slot;
  EXPECT_EQ(one_slot, 1) << "the channel's state, with its slot in place";
  EXPECT_EQ(two_slots, 2) << "the channel's state, and its slots";
}

// seeds/001, "Does ch <- v allocate? Generally no": Go's parked goroutine
// waits in a sudog from a per-P pool. Here a blocking send or receive
// allocates nothing on any of its paths: the buffer, a direct handoff to a
// parked peer, parking itself (its queue node and waiter live on the
// parked thread's stack), a receive that promotes a parked sender, and a
// blocking select parked on two channels. Counted on the test's thread
// only; the peers run on threads of their own, made before the counting.
TEST(CallAllocationsTest, ChannelOperationsAllocateNothingOnAnyPath) {
  if (!HANDOFF_COUNTS_ALLOCATIONS) {
    GTEST_SKIP() << "under a sanitizer, whose operator new is its own";
  }
  using testing::WaitForReceivers;
  using testing::WaitForSenders;
  Chan<int> buffered(2);
  Chan<int> a(0);
  Chan<int> b(0);
  // Each step: the peer's part, run on its thread once `go` says so.
  Chan<int> go(0);
  std::thread peer([&] {
    for (std::optional<int> step = go.Recv(); step; step = go.Recv()) {
      switch (*step) {
        case 0: ASSERT_EQ(a.Recv(), 1); break;  // parks: the test hands off
        case 1:                                 // hands off to the test
          ASSERT_TRUE(WaitForReceivers(a, 1));
          ASSERT_TRUE(a.Send(2).ok());
          break;
        case 2:                                 // takes from a parked test
          ASSERT_TRUE(WaitForSenders(a, 1));
          ASSERT_EQ(a.Recv(), 3);
          break;
        case 3:                                 // frees a slot for it
          ASSERT_TRUE(WaitForSenders(buffered, 1));
          ASSERT_EQ(buffered.Recv(), 4);
          break;
        case 4:                                 // completes a parked select
          ASSERT_TRUE(WaitForReceivers(b, 1));
          ASSERT_TRUE(b.Send(6).ok());
          break;
      }
    }
  });
  int got = 0;
  // One round first: thread-local state (the spin budget) is made on first
  // use, once per thread.
  for (int round = 0; round < 2; ++round) {
    const int64_t before = allocations + aligned_allocations;
    ASSERT_TRUE(buffered.Send(4).ok());  // the buffer
    ASSERT_EQ(buffered.Recv(), 4);
    ASSERT_TRUE(go.Send(0).ok());
    ASSERT_TRUE(WaitForReceivers(a, 1));
    ASSERT_TRUE(a.Send(1).ok());  // to a parked receiver
    ASSERT_TRUE(go.Send(1).ok());
    ASSERT_EQ(a.Recv(), 2);  // parks, or takes from a parked sender
    ASSERT_TRUE(go.Send(2).ok());
    ASSERT_TRUE(a.Send(3).ok());  // parks until taken
    ASSERT_TRUE(buffered.Send(4).ok());
    ASSERT_TRUE(buffered.Send(5).ok());
    ASSERT_TRUE(go.Send(3).ok());
    ASSERT_TRUE(buffered.Send(6).ok());  // parks on a full buffer
    ASSERT_EQ(buffered.Recv(), 5);
    ASSERT_EQ(buffered.Recv(), 6);
    ASSERT_TRUE(go.Send(4).ok());
    Select(OnRecv(a, [&](std::optional<int> v) { got = v.value_or(-1); }),
           OnRecv(b, [&](std::optional<int> v) { got = v.value_or(-1); }));
    ASSERT_EQ(got, 6);
    if (round == 1) {
      EXPECT_EQ(allocations + aligned_allocations - before, 0)
          << "allocations in one round";
    }
  }
  ASSERT_TRUE(go.Close().ok());
  peer.join();
}

}  // namespace
}  // namespace handoff
