// Copyright 2026 The handoff Authors.
//
// Go's test/chan/ programs (select2, select3, select6, select7, fifo, sieve1,
// doubleselect, goroutines, zerosize), re-expressed in C++ against Chan<T>,
// Select and AsyncSelect. Each TEST is named after the Go program (and, for
// select3 and fifo, the group of checks) it re-expresses; the C++ is written
// from the programs' intent.
//
// Goroutines become std::thread; counts are scaled down from Go's (and again
// under the sanitizers, kScale). Go panics map to ChannelClosedError(). Go's
// "this blocks forever" checks become "this is still blocked after a short
// wait" (a select racing a deadline context), after which the test unblocks
// it, so nothing hangs. Such a check can only pass wrongly (if a thread that
// would not have blocked is merely slow), never fail wrongly. Everything else
// synchronises on channels, joins and the parked-waiter counts
// (internal::ChanAccess::WaitingReceivers/WaitingSenders): no sleeps.
//
// This binary replaces the global operator new/delete with counting versions
// so that select2 can count live heap allocations.

#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdlib>
#include <fstream>
#include <new>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <variant>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "dispatch/chan.h"
#include "dispatch/chan_status.h"
#include "dispatch/context.h"
#include "dispatch/select.h"
#include "gtest/gtest.h"
#include "tests/unit/dispatch/test_util.h"

// --- Counting allocator ------------------------------------------------------

namespace {
std::atomic<long> g_live_allocations{0};
std::atomic<long> g_total_allocations{0};

void* CountedAlloc(std::size_t n) {
  void* p = std::malloc(n == 0 ? 1 : n);
  if (p == nullptr) throw std::bad_alloc();
  g_live_allocations.fetch_add(1, std::memory_order_relaxed);
  g_total_allocations.fetch_add(1, std::memory_order_relaxed);
  return p;
}

void CountedFree(void* p) noexcept {
  if (p == nullptr) return;
  g_live_allocations.fetch_sub(1, std::memory_order_relaxed);
  std::free(p);
}
}  // namespace

void* operator new(std::size_t n) { return CountedAlloc(n); }
void* operator new[](std::size_t n) { return CountedAlloc(n); }
void operator delete(void* p) noexcept { CountedFree(p); }
void operator delete[](void* p) noexcept { CountedFree(p); }
void operator delete(void* p, std::size_t) noexcept { CountedFree(p); }
void operator delete[](void* p, std::size_t) noexcept { CountedFree(p); }

#if defined(__SANITIZE_ADDRESS__)
// A waiter node left behind in a channel's queue would point into a dead
// stack frame (a blocking Select keeps its nodes on its stack): make ASan
// catch any later use of such a node.
extern "C" __attribute__((used, visibility("default"))) const char*
__asan_default_options() {
  return "detect_stack_use_after_return=1";
}
#endif

namespace handoff {
namespace {

using testing::kScale;
using testing::ParkedReceivers;
using testing::ParkedSenders;
using testing::WaitForReceivers;
using testing::WaitForSenders;
using testing::WaitUntil;

// --- Parked waiters ----------------------------------------------------------

// --- Blocking probes (select3's testBlock) -------------------------------------

// How long a call must stay blocked to count as "blocks". Passing wrongly
// needs a thread to be descheduled this long; failing wrongly is impossible.
constexpr absl::Duration kBlockedFor = absl::Milliseconds(50);
// How long a call that must not block may take (a generous bound: failing
// means a real hang, and the test fails instead of hanging).
constexpr absl::Duration kReturnsWithin = absl::Seconds(30);

// Runs f on its own thread. DoneWithin(d) tells whether f returned within d.
// The destructor joins: a test must unblock f before the Running goes.
class Running {
 public:
  template <typename F>
  explicit Running(F f)
      : thread_([this, f = std::move(f)]() mutable {
          f();
          done_.Close().IgnoreError();
        }) {}
  ~Running() { thread_.join(); }

  bool DoneWithin(absl::Duration d) {
    auto [ctx, cancel] = WithTimeout(Context::Background(), d);
    int i = Select(OnRecv(done_, [] {}), OnDone(ctx, [] {}));
    cancel();
    return i == 0;
  }

 private:
  Chan<std::monostate> done_{0};
  std::thread thread_;
};

// A select whose only other case is a deadline: true if the deadline won,
// i.e. none of `cases` fired for `d`.
template <typename... Cases>
bool SelectTimesOut(absl::Duration d, Cases&&... cases) {
  auto [ctx, cancel] = WithTimeout(Context::Background(), d);
  int i = Select(std::forward<Cases>(cases)..., OnDone(ctx, [] {}));
  cancel();
  return i == static_cast<int>(sizeof...(Cases));
}

// =============================================================================
// select2: selects do not consume undue memory.
//
// Go: 100,000 selects on {a busy channel, a quiet one}, measured after a
// warm-up round, must not grow the heap by more than ~1 byte per select. Here
// the receiver's select always parks (the sender waits until it has), so each
// select queues a waiter on the quiet channel and must take it off again.
// Checked: live heap allocations do not grow; the quiet channel has no waiter
// left; closing it wakes nobody (with ASan, a node left behind is a
// stack-use-after-return).
// =============================================================================

TEST(GoTestChan, Select2) {
  const int n = 20000 / kScale;
  Chan<int> c(0), dummy(0);
  std::atomic<int> dummy_fired{0};
  auto round = [&] {
    std::thread sender([&] {
      for (int i = 0; i < n; ++i) {
        ASSERT_TRUE(WaitForReceivers(c, 1));  // the select has parked
        ASSERT_TRUE(c.Send(1).ok());
      }
    });
    for (int i = 0; i < n; ++i) {
      Select(OnRecv(c, [] {}), OnRecv(dummy, [&] { ++dummy_fired; }));
    }
    sender.join();
  };
  round();  // warm up
  const long live_before = g_live_allocations.load();
  const long total_before = g_total_allocations.load();
  round();
  const long live_growth = g_live_allocations.load() - live_before;
  const long allocations = g_total_allocations.load() - total_before;
  ::testing::Test::RecordProperty("allocations_per_select",
                                  std::to_string(double(allocations) / n));
  EXPECT_LE(live_growth, 8) << "live heap allocations grew by " << live_growth
                            << " over " << n << " selects";
  EXPECT_EQ(ParkedReceivers(c), 0u);
  EXPECT_EQ(ParkedReceivers(dummy), 0u) << "selects left waiters on dummy";
  EXPECT_EQ(dummy_fired, 0);
  ASSERT_TRUE(dummy.Close().ok());
  EXPECT_EQ(dummy_fired, 0);
}

// The same with AsyncSelect, whose waiter is on the heap: every completed
// select must free it and unlink it from the quiet channel (with ASan, a node
// left behind is a heap-use-after-free when the quiet channel is closed).
TEST(GoTestChan, Select2Async) {
  const int n = 20000 / kScale;
  Chan<int> c(0), dummy(0), got(1);
  std::atomic<int> dummy_fired{0};
  auto round = [&] {
    std::thread sender([&] {
      for (int i = 0; i < n; ++i) {
        ASSERT_TRUE(WaitForReceivers(c, 1));  // the async select is queued
        ASSERT_TRUE(c.Send(int{i}).ok());
      }
    });
    for (int i = 0; i < n; ++i) {
      AsyncSelect(OnRecv(c,
                         [&](std::optional<int> v) {
                           ASSERT_TRUE(got.Send(v.value_or(-1)).ok());
                         }),
                  OnRecv(dummy, [&] {
                    ++dummy_fired;
                    ASSERT_TRUE(got.Send(-2).ok());
                  }));
      ASSERT_EQ(got.Recv(), i);
    }
    sender.join();
  };
  round();
  if (HasFatalFailure()) return;
  const long live_before = g_live_allocations.load();
  round();
  if (HasFatalFailure()) return;
  const long live_growth = g_live_allocations.load() - live_before;
  EXPECT_LE(live_growth, 8) << "live heap allocations grew by " << live_growth
                            << " over " << n << " async selects";
  EXPECT_EQ(ParkedReceivers(dummy), 0u) << "selects left waiters on dummy";
  ASSERT_TRUE(dummy.Close().ok());
  EXPECT_EQ(dummy_fired, 0);
}

// =============================================================================
// select3: the semantics of select, and of plain operations, on nil, closed,
// empty and ready channels, with and without a default case.
// =============================================================================

// Go: a send or receive on a nil channel blocks forever. handoff departs on
// purpose (chan.h): a thread blocked forever helps nobody, so a nil channel
// refuses at once — Send/TrySend/Close report ChannelClosedError, Recv
// returns nullopt. (In a select, a nil channel's case never fires: below.)
TEST(GoTestChan, Select3_NilChannelOperations) {
  Chan<int> nilch;
  ASSERT_TRUE(nilch.is_nil());
  Running r([&] {
    EXPECT_TRUE(IsChannelClosed(nilch.Send(7)));
    EXPECT_EQ(nilch.Recv(), std::nullopt);
    EXPECT_TRUE(IsChannelClosed(nilch.TrySend(7)));
    EXPECT_TRUE(IsChannelClosed(nilch.TryRecv().status()));
    EXPECT_TRUE(IsChannelClosed(nilch.Close()));
  });
  EXPECT_TRUE(r.DoneWithin(kReturnsWithin));
}

// A nil channel's case in a select is never chosen: with a default, the
// default runs (every time, whatever the random poll order).
TEST(GoTestChan, Select3_NilCaseIsNeverSelected) {
  Chan<int> nilch;
  int unreachable = 0;
  for (int i = 0; i < 100; ++i) {
    EXPECT_EQ(Select(OnSend(nilch, 7, [&] { ++unreachable; }), OnDefault([] {})),
              1);
    EXPECT_EQ(Select(OnRecv(nilch, [&] { ++unreachable; }), OnDefault([] {})),
              1);
    EXPECT_EQ(Select(OnDefault([] {}), OnRecv(nilch, [&] { ++unreachable; }),
                     OnSend(nilch, 7, [&] { ++unreachable; })),
              0);
  }
  EXPECT_EQ(unreachable, 0);
}

// A select whose only cases are on nil channels blocks (forever, in Go; here
// until its other case, a deadline or a release channel, fires).
TEST(GoTestChan, Select3_SelectOnOnlyNilChannelsBlocks) {
  Chan<int> nilch;
  int unreachable = 0;
  EXPECT_TRUE(SelectTimesOut(kBlockedFor, OnRecv(nilch, [&] { ++unreachable; })));
  EXPECT_TRUE(
      SelectTimesOut(kBlockedFor, OnSend(nilch, 7, [&] { ++unreachable; })));
  EXPECT_TRUE(SelectTimesOut(kBlockedFor, OnRecv(nilch, [&] { ++unreachable; }),
                             OnSend(nilch, 7, [&] { ++unreachable; })));
  EXPECT_EQ(unreachable, 0);

  // The same on a thread that is released by a third, non-nil case.
  Chan<std::monostate> release(0);
  int chosen = -1;
  Running r([&] {
    chosen = Select(OnRecv(nilch, [&] { ++unreachable; }),
                    OnSend(nilch, 7, [&] { ++unreachable; }),
                    OnRecv(release, [] {}));
  });
  EXPECT_FALSE(r.DoneWithin(kBlockedFor)) << "a select on nil channels returned";
  ASSERT_TRUE(release.Close().ok());
  EXPECT_TRUE(r.DoneWithin(kReturnsWithin));
  EXPECT_EQ(chosen, 2);
  EXPECT_EQ(unreachable, 0);
}

// With nil channels alone, and no other case, a select blocks for ever, as
// Go's `select {}` does: its thread parks on a futex that nothing will
// wake, and no case runs. In a child process, which ends once it has seen
// the thread parked so (/proc/<tid>/syscall: the call a thread is blocked
// in), since the thread cannot be joined.
TEST(GoTestChanDeathTest, Select3_ASelectOfNilChannelsAloneParksForEver) {
  // Some sandboxes (gVisor) have no /proc/<tid>/syscall.
  const std::string own =
      "/proc/self/task/" + std::to_string(syscall(SYS_gettid)) + "/syscall";
  std::string running;
  if (!(std::ifstream(own) >> running)) GTEST_SKIP() << own << " cannot be read here";
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(
      {
        std::atomic<pid_t> selecting{0};
        std::atomic<bool> returned{false};
        std::thread([&] {
          Chan<int> nilch;
          selecting = static_cast<pid_t>(syscall(SYS_gettid));
          Select(OnRecv(nilch, [] {}), OnSend(nilch, 7, [] {}));
          returned = true;
        }).detach();
        while (selecting.load() == 0) std::this_thread::yield();
        const std::string path =
            "/proc/self/task/" + std::to_string(selecting.load()) + "/syscall";
        for (;;) {
          std::ifstream in(path);
          std::string call;
          if (returned || !(in >> call)) _exit(1);  // it returned, or it is gone
          if (call == std::to_string(SYS_futex)) break;
          std::this_thread::yield();
        }
        _exit(returned ? 1 : 0);
      },
      ::testing::ExitedWithCode(0), "");
}

// Sending to a buffered channel with free space never blocks.
TEST(GoTestChan, Select3_SendWithBufferSpaceNeverBlocks) {
  Running r([] {
    Chan<int> ch(1);
    EXPECT_TRUE(ch.Send(7).ok());
  });
  EXPECT_TRUE(r.DoneWithin(kReturnsWithin));
}

// Receiving from a closed channel never blocks: nullopt (Go: zero, !ok),
// again and again.
TEST(GoTestChan, Select3_RecvFromClosedNeverBlocks) {
  Chan<int> closedch(0);
  ASSERT_TRUE(closedch.Close().ok());
  Running r([&] {
    for (int i = 0; i < 10; ++i) {
      EXPECT_EQ(closedch.Recv(), std::nullopt);
      EXPECT_TRUE(IsChannelClosed(closedch.TryRecv().status()));
    }
  });
  EXPECT_TRUE(r.DoneWithin(kReturnsWithin));
}

// Sending to a closed channel panics in Go; here it is an error, at once, and
// so is closing it again.
TEST(GoTestChan, Select3_SendToClosedIsAnError) {
  Chan<int> closedch(0);
  ASSERT_TRUE(closedch.Close().ok());
  Running r([&] {
    EXPECT_TRUE(IsChannelClosed(closedch.Send(7)));
    EXPECT_TRUE(IsChannelClosed(closedch.TrySend(7)));
    EXPECT_TRUE(IsChannelClosed(closedch.Close()));
  });
  EXPECT_TRUE(r.DoneWithin(kReturnsWithin));
}

// Receiving from a channel that is not ready blocks, until something
// (here: a close) makes it ready.
TEST(GoTestChan, Select3_RecvFromNonReadyBlocks) {
  Chan<int> ch(0);
  std::optional<int> got = 0;
  Running r([&] { got = ch.Recv(); });
  ASSERT_TRUE(WaitForReceivers(ch, 1));  // parked: the look below is at a blocked thread
  EXPECT_FALSE(r.DoneWithin(kBlockedFor)) << "receive from an empty channel";
  ASSERT_TRUE(ch.Close().ok());
  EXPECT_TRUE(r.DoneWithin(kReturnsWithin));
  EXPECT_EQ(got, std::nullopt);
}

// A select on non-ready, non-nil channels blocks until one becomes ready.
TEST(GoTestChan, Select3_SelectOnNonReadyBlocks) {
  Chan<int> ch(0);
  std::optional<int> got;
  Running r([&] { Select(OnRecv(ch, [&](std::optional<int> v) { got = v; })); });
  ASSERT_TRUE(WaitForReceivers(ch, 1));
  EXPECT_FALSE(r.DoneWithin(kBlockedFor)) << "select on an empty channel";
  ASSERT_TRUE(ch.Send(5).ok());
  EXPECT_TRUE(r.DoneWithin(kReturnsWithin));
  EXPECT_EQ(got, 5);
  EXPECT_TRUE(SelectTimesOut(kBlockedFor, OnRecv(ch, [] {})));
}

// Selects with a default case never block.
TEST(GoTestChan, Select3_DefaultNeverBlocks) {
  Chan<int> nilch, empty(0);
  Running r([&] {
    EXPECT_EQ(Select(OnDefault([] {})), 0);
    EXPECT_EQ(Select(OnRecv(nilch, [] {}), OnDefault([] {})), 1);
    EXPECT_EQ(Select(OnSend(nilch, 7, [] {}), OnDefault([] {})), 1);
    EXPECT_EQ(Select(OnRecv(empty, [] {}), OnSend(empty, 7, [] {}),
                     OnDefault([] {})),
              2);
  });
  EXPECT_TRUE(r.DoneWithin(kReturnsWithin));
}

// Selects with a ready case never block and never take the default.
TEST(GoTestChan, Select3_ReadyCaseBeatsDefault) {
  for (int i = 0; i < 100; ++i) {
    Chan<int> ch(1);
    int unreachable = 0;
    EXPECT_EQ(Select(OnSend(ch, 7, [] {}), OnDefault([&] { ++unreachable; })),
              0);
    std::optional<int> got;
    EXPECT_EQ(Select(OnRecv(ch, [&](std::optional<int> v) { got = v; }),
                     OnDefault([&] { ++unreachable; })),
              0);
    EXPECT_EQ(got, 7);
    EXPECT_EQ(unreachable, 0);
  }
}

// Cases on a closed channel behave like the plain operations: a receive case
// fires at once with nullopt; a send case fires at once with the error that
// stands for Go's panic (and the select returns, rather than blocking).
TEST(GoTestChan, Select3_ClosedChannelCasesFireAtOnce) {
  Chan<int> closedch(0);
  ASSERT_TRUE(closedch.Close().ok());
  Running r([&] {
    std::optional<int> got = 1;
    EXPECT_EQ(Select(OnRecv(closedch, [&](std::optional<int> v) { got = v; })),
              0);
    EXPECT_EQ(got, std::nullopt);
    absl::Status st;
    EXPECT_EQ(Select(OnSend(closedch, 7, [&](absl::Status s) { st = s; })), 0);
    EXPECT_TRUE(IsChannelClosed(st)) << st;
    // Ready (closed) beats default.
    EXPECT_EQ(Select(OnRecv(closedch, [] {}), OnDefault([] {})), 0);
  });
  EXPECT_TRUE(r.DoneWithin(kReturnsWithin));
}

// A select must not get confused when it sees itself: {send to c, receive
// from c} on an unbuffered channel nobody else uses can never complete.
TEST(GoTestChan, Select3_SelectDoesNotPairWithItself) {
  Chan<int> c(0);
  for (int i = 0; i < 100; ++i) {
    EXPECT_EQ(Select(OnSend(c, 1, [] {}), OnRecv(c, [] {}), OnDefault([] {})),
              2);
  }
  int chosen = -1;
  std::optional<int> self_received;
  Running r([&] {
    chosen = Select(OnSend(c, 1, [] {}),
                    OnRecv(c, [&](std::optional<int> v) { self_received = v; }));
  });
  // Both of its cases queued on c: from here it could only pair with itself.
  ASSERT_TRUE(WaitForSenders(c, 1) && WaitForReceivers(c, 1));
  EXPECT_FALSE(r.DoneWithin(kBlockedFor)) << "the select paired with itself";
  EXPECT_EQ(c.Recv(), 1);  // another party completes its send case
  EXPECT_TRUE(r.DoneWithin(kReturnsWithin));
  EXPECT_EQ(chosen, 0);
  EXPECT_EQ(self_received, std::nullopt);
}

// =============================================================================
// select6 (Go issue 2075): a select that loses on a channel where it was the
// last of several waiters must not corrupt that channel's queue. G1 parks on
// c1; G2's select parks on c1 (behind G1) and c2; c2 fires; G2 then parks on
// c1 again. Both of the two sends on c1 must find a receiver.
// =============================================================================

TEST(GoTestChan, Select6) {
  Chan<bool> c1(0), c2(0), c3(0);
  std::thread g1([&] { EXPECT_EQ(c1.Recv(), true); });
  ASSERT_TRUE(WaitForReceivers(c1, 1));
  std::thread g2([&] {
    int dummy = 0;
    Select(OnRecv(c1, [&] { ++dummy; }),
           OnRecv(c2, [&] { EXPECT_TRUE(c3.Send(true).ok()); }));
    EXPECT_EQ(dummy, 0) << "the select took c1";
    EXPECT_EQ(c1.Recv(), true);
  });
  ASSERT_TRUE(WaitForReceivers(c1, 2));  // G2's select is last on c1
  ASSERT_TRUE(WaitForReceivers(c2, 1));
  std::thread g3([&] { EXPECT_TRUE(c2.Send(true).ok()); });
  EXPECT_EQ(c3.Recv(), true);
  ASSERT_TRUE(WaitForReceivers(c1, 2));  // G1 still, and G2 again
  ASSERT_TRUE(c1.Send(true).ok());
  ASSERT_TRUE(c1.Send(true).ok());
  g1.join();
  g2.join();
  g3.join();
  EXPECT_EQ(ParkedReceivers(c1), 0u);
}

// =============================================================================
// select7: a value is received, and discarded, the same way whichever of
// three forms each side uses: a plain operation, a one-case select, or a
// select with a second case on a channel nobody uses. All nine pairings,
// with the receiver parked first (Go: runtime.Gosched()).
// =============================================================================

TEST(GoTestChan, Select7) {
  using Recv = void (*)(const Chan<int>&, std::optional<int>*);
  using Send = bool (*)(const Chan<int>&, int);
  const Recv recvs[] = {
      [](const Chan<int>& c, std::optional<int>* got) { *got = c.Recv(); },
      [](const Chan<int>& c, std::optional<int>* got) {
        Select(OnRecv(c, [&](std::optional<int> v) { *got = v; }));
      },
      [](const Chan<int>& c, std::optional<int>* got) {
        Chan<int> c2(0);
        Select(OnRecv(c, [&](std::optional<int> v) { *got = v; }),
               OnRecv(c2, [] {}));
      },
  };
  const Send sends[] = {
      [](const Chan<int>& c, int v) { return c.Send(int{v}).ok(); },
      [](const Chan<int>& c, int v) {
        return Select(OnSend(c, v, [] {})) == 0;
      },
      [](const Chan<int>& c, int v) {
        Chan<int> c2(0);
        return Select(OnSend(c, v, [] {}), OnSend(c2, v, [] {})) == 0;
      },
  };
  for (int r = 0; r < 3; ++r) {
    for (int s = 0; s < 3; ++s) {
      SCOPED_TRACE("recv" + std::to_string(r + 1) + " send" +
                   std::to_string(s + 1));
      Chan<int> c(0);
      std::optional<int> got;
      std::thread receiver([&] { recvs[r](c, &got); });
      ASSERT_TRUE(WaitForReceivers(c, 1));
      EXPECT_TRUE(sends[s](c, 1));
      receiver.join();
      EXPECT_EQ(got, 1);
    }
  }
}

// =============================================================================
// goroutines: a long daisy chain of threads, each passing one value from its
// right neighbour to its left; the value must come out of the far end.
// =============================================================================

TEST(GoTestChan, Goroutines) {
  const int n = kScale == 1 ? 500 : 100;  // Go: 10,000 goroutines
  std::vector<Chan<int>> link;
  for (int i = 0; i <= n; ++i) link.emplace_back(0);
  std::vector<std::thread> chain;
  for (int i = 0; i < n; ++i) {
    chain.emplace_back([left = link[static_cast<size_t>(i)],
                        right = link[static_cast<size_t>(i) + 1]] {
      std::optional<int> v = right.Recv();
      ASSERT_TRUE(v.has_value());
      ASSERT_TRUE(left.Send(*v + 1).ok());
    });
  }
  ASSERT_TRUE(link[static_cast<size_t>(n)].Send(0).ok());
  EXPECT_EQ(link[0].Recv(), n);
  for (std::thread& t : chain) t.join();
}

// =============================================================================
// zerosize: channels of an empty element type work like any other (here
// std::monostate, Go's chan struct{}), buffered and unbuffered.
// =============================================================================

TEST(GoTestChan, ZeroSize) {
  Chan<std::monostate> unbuffered(0), buffered(3);
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(buffered.Send(std::monostate{}).ok());
  EXPECT_TRUE(IsChannelFull(buffered.TrySend(std::monostate{})));
  EXPECT_EQ(buffered.size(), 3u);
  std::thread t([&] { EXPECT_TRUE(unbuffered.Send(std::monostate{}).ok()); });
  EXPECT_TRUE(unbuffered.Recv().has_value());
  t.join();
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(buffered.Recv().has_value());
  ASSERT_TRUE(buffered.Close().ok());
  EXPECT_FALSE(buffered.Recv().has_value());
}

// =============================================================================
// fifo: channels are FIFO, unbuffered ones too.
// =============================================================================

// AsynchFifo: a buffered channel hands values out in the order they went in.
TEST(GoTestChan, Fifo_AsynchFifo) {
  for (int n : {10, 1000}) {
    Chan<int> ch(static_cast<size_t>(n));
    for (int i = 0; i < n; ++i) ASSERT_TRUE(ch.Send(int{i}).ok());
    for (int i = 0; i < n; ++i) ASSERT_EQ(ch.Recv(), i);
  }
}

// SynchFifo: a daisy chain of threads, each waiting for its predecessor's
// token, then receiving one value from the unbuffered channel: thread i must
// get value i.
TEST(GoTestChan, Fifo_SynchFifo) {
  for (int n : {10, 100 / (kScale > 1 ? 2 : 1)}) {
    SCOPED_TRACE("chain of " + std::to_string(n));
    Chan<int> ch(0);
    std::vector<Chan<int>> link;
    for (int i = 0; i <= n; ++i) link.emplace_back(0);
    std::vector<std::thread> chain;
    for (int i = 0; i < n; ++i) {
      chain.emplace_back([&, i] {
        ASSERT_TRUE(link[static_cast<size_t>(i)].Recv().has_value());
        EXPECT_EQ(ch.Recv(), i);
        ASSERT_TRUE(link[static_cast<size_t>(i) + 1].Send(1).ok());
      });
    }
    ASSERT_TRUE(link[0].Send(0).ok());
    for (int i = 0; i < n; ++i) ASSERT_TRUE(ch.Send(int{i}).ok());
    EXPECT_EQ(link[static_cast<size_t>(n)].Recv(), 1);
    for (std::thread& t : chain) t.join();
  }
}

// Many threads parked on one unbuffered channel are served first-in,
// first-out: senders parked in the order 0..n-1 are received in that order,
// and receivers parked in that order get 0..n-1.
TEST(GoTestChan, Fifo_ParkedThreadsAreServedInOrder) {
  const int n = 50;
  {
    Chan<int> ch(0);
    std::vector<std::thread> senders;
    for (int i = 0; i < n; ++i) {
      senders.emplace_back([&, i] { EXPECT_TRUE(ch.Send(int{i}).ok()); });
      ASSERT_TRUE(WaitForSenders(ch, static_cast<size_t>(i) + 1));
    }
    for (int i = 0; i < n; ++i) EXPECT_EQ(ch.Recv(), i);
    for (std::thread& t : senders) t.join();
  }
  {
    Chan<int> ch(0);
    std::vector<std::optional<int>> got(static_cast<size_t>(n));
    std::vector<std::thread> receivers;
    for (int i = 0; i < n; ++i) {
      receivers.emplace_back([&, i] { got[static_cast<size_t>(i)] = ch.Recv(); });
      ASSERT_TRUE(WaitForReceivers(ch, static_cast<size_t>(i) + 1));
    }
    for (int i = 0; i < n; ++i) ASSERT_TRUE(ch.Send(int{i}).ok());
    for (std::thread& t : receivers) t.join();
    for (int i = 0; i < n; ++i) EXPECT_EQ(got[static_cast<size_t>(i)], i);
  }
}

// Buffered and full, with senders parked behind it in order: receiving
// drains the buffer and promotes the parked values into it, so everything
// comes out in the order it was sent.
TEST(GoTestChan, Fifo_BufferedWithParkedSendersStaysInOrder) {
  constexpr int kCap = 8;
  const int parked = 40;
  Chan<int> ch(kCap);
  for (int i = 0; i < kCap; ++i) ASSERT_TRUE(ch.Send(int{i}).ok());
  std::vector<std::thread> senders;
  for (int i = 0; i < parked; ++i) {
    senders.emplace_back([&, i] { EXPECT_TRUE(ch.Send(kCap + i).ok()); });
    ASSERT_TRUE(WaitForSenders(ch, static_cast<size_t>(i) + 1));
  }
  for (int i = 0; i < kCap + parked; ++i) {
    EXPECT_EQ(ch.Recv(), i);
    EXPECT_LE(ch.size(), size_t{kCap});
  }
  for (std::thread& t : senders) t.join();
}

// The same with thousands of callback senders (goroutines are cheap; async
// waiters are too): AsyncSelect queues each one before it returns.
TEST(GoTestChan, Fifo_AsyncSendersStayInOrder) {
  constexpr int kN = 5000;
  for (size_t cap : {size_t{0}, size_t{4}}) {
    SCOPED_TRACE("chan cap " + std::to_string(cap));
    Chan<int> ch(cap);
    std::atomic<int> completed{0};
    for (int i = 0; i < kN; ++i) {
      AsyncSelect(OnSend(ch, i, [&](absl::Status s) {
        EXPECT_TRUE(s.ok()) << s;
        ++completed;
      }));
    }
    for (int i = 0; i < kN; ++i) ASSERT_EQ(ch.Recv(), i);
    EXPECT_EQ(completed, kN);
  }
}

// =============================================================================
// sieve1: the concurrent prime sieve. A generator thread feeds 2, 3, 4, ...
// into a daisy chain of filter threads, one per prime found so far; the
// first n numbers out of the chain must be the first n primes. Every stage
// also selects on `quit`, so closing it tears down the infinite pipeline.
// =============================================================================

std::vector<int> FirstPrimes(int n) {
  std::vector<int> primes;
  for (int k = 2; static_cast<int>(primes.size()) < n; ++k) {
    bool prime = true;
    for (int p : primes) {
      if (p * p > k) break;
      if (k % p == 0) {
        prime = false;
        break;
      }
    }
    if (prime) primes.push_back(k);
  }
  return primes;
}

// Receives from `in` unless `quit` closes first.
std::optional<int> RecvOrQuit(const Chan<int>& in,
                              const Chan<std::monostate>& quit) {
  std::optional<int> v;
  Select(OnRecv(in, [&](std::optional<int> x) { v = x; }),
         OnRecv(quit, [&] { v.reset(); }));
  return v;
}

// Sends v to `out` unless `quit` closes first; false if it quit.
bool SendOrQuit(const Chan<int>& out, int v, const Chan<std::monostate>& quit) {
  bool sent = false;
  Select(OnSend(out, v, [&](absl::Status s) { sent = s.ok(); }),
         OnRecv(quit, [] {}));
  return sent;
}

TEST(GoTestChan, Sieve1) {
  const int n = kScale == 1 ? 100 : 25;  // Go: the 25 primes below 100
  Chan<std::monostate> quit(0);
  Chan<int> primes(0);
  std::thread sieve([&] {
    std::vector<std::thread> stages;
    Chan<int> ch(0);
    stages.emplace_back([ch, &quit] {  // Generate
      for (int i = 2;; ++i) {
        if (!SendOrQuit(ch, i, quit)) return;
      }
    });
    for (;;) {
      std::optional<int> prime = RecvOrQuit(ch, quit);
      if (!prime || !SendOrQuit(primes, *prime, quit)) break;
      Chan<int> next(0);
      stages.emplace_back([in = ch, out = next, p = *prime, &quit] {  // Filter
        for (;;) {
          std::optional<int> i = RecvOrQuit(in, quit);
          if (!i) return;
          if (*i % p != 0 && !SendOrQuit(out, *i, quit)) return;
        }
      });
      ch = next;
    }
    for (std::thread& t : stages) t.join();
  });
  const std::vector<int> want = FirstPrimes(n);
  for (int i = 0; i < n; ++i) {
    EXPECT_EQ(primes.Recv(), want[static_cast<size_t>(i)]) << "prime #" << i;
  }
  ASSERT_TRUE(quit.Close().ok());
  sieve.join();
}

// =============================================================================
// doubleselect: two cases of one select must never both run. A sender puts
// each counter value into one of four unbuffered channels with a 4-case
// select; four forwarders move them onto one channel; the receiver must see
// every value exactly once.
// =============================================================================

TEST(GoTestChan, DoubleSelect) {
  const int n = 20000 / kScale;  // Go: 100,000
  std::vector<Chan<int>> c = {Chan<int>(0), Chan<int>(0), Chan<int>(0),
                              Chan<int>(0)};
  Chan<int> cmux(0);
  std::atomic<int> muxes_left{4};
  std::vector<std::thread> threads;
  threads.emplace_back([&] {
    for (int i = 0; i < n; ++i) {
      Select(OnSend(c[0], i, [] {}), OnSend(c[1], i, [] {}),
             OnSend(c[2], i, [] {}), OnSend(c[3], i, [] {}));
    }
    for (Chan<int>& ch : c) ASSERT_TRUE(ch.Close().ok());
  });
  for (int k = 0; k < 4; ++k) {
    threads.emplace_back([&, k] {
      for (int v : c[static_cast<size_t>(k)]) ASSERT_TRUE(cmux.Send(int{v}).ok());
      if (--muxes_left == 0) {
        ASSERT_TRUE(cmux.Close().ok());
      }
    });
  }
  std::vector<int> seen(static_cast<size_t>(n), 0);
  int duplicates = 0, total = 0;
  for (int v : cmux) {
    ASSERT_TRUE(v >= 0 && v < n) << v;
    if (seen[static_cast<size_t>(v)]++ > 0) ++duplicates;
    ++total;
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(duplicates, 0);
  EXPECT_EQ(total, n);
}

}  // namespace
}  // namespace handoff
