// Copyright 2026 The handoff Authors.
//
// Go's runtime/chan_test.go, re-expressed in C++ against Chan<T> and Select.
// Each TEST is named after the Go test it re-expresses; the C++ is written
// from the Go tests' intent, not translated line by line.
//
// Goroutines become std::thread. Go runs some of these with 10,000 goroutines
// or 100,000 iterations; threads are not that cheap, so counts are scaled
// down (and scaled down again under the sanitizers, kScale) while each test
// keeps its point. Go's "sleep a millisecond so the goroutine has parked" is
// replaced by waiting until the channel reports the parked waiter
// (internal::ChanAccess::WaitingReceivers/WaitingSenders), so every test is
// deterministic: no test sleeps to synchronise. Go panics (send on a closed
// channel, closing twice) are ChannelClosedError() here.

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
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

namespace handoff {
namespace {

using testing::kScale;  // stress loops are divided by it under sanitizers
using testing::ParkedReceivers;
using testing::ParkedSenders;
using testing::WaitForReceivers;
using testing::WaitForSenders;
using testing::WaitUntil;

// --- Waiting for a thread to park -------------------------------------------
//
// A thread parked in Send/Recv/Select is visible only as a waiter in the
// channel's queue; the tests wait for it there (the test-only queue lengths
// of internal::ChanAccess) where Go's tests sleep.

// A non-blocking receive in Go's form: select { case v := <-c: ...; default: }.
// Returns nullopt when the default case ran, else the received optional.
std::optional<std::optional<int>> SelectRecvOrDefault(const Chan<int>& c) {
  std::optional<std::optional<int>> got;
  Select(OnRecv(c, [&](std::optional<int> v) { got = v; }), OnDefault([] {}));
  return got;
}

// --- TestChan ----------------------------------------------------------------

// Go runs capacities 0..199 (0..19 with -short); so do we (-short's range
// under the sanitizers).
constexpr int kTestChanCaps = kScale == 1 ? 200 : 20;

void TestChanForCapacity(int cap) {
  SCOPED_TRACE("chan cap " + std::to_string(cap));
  const size_t ucap = static_cast<size_t>(cap);

  {
    // A receive from an empty channel blocks; non-blocking receives do not.
    Chan<int> c(ucap);
    std::optional<int> got1, got2;
    std::atomic<bool> recv1{false}, recv2{false};
    std::thread r1([&] {
      got1 = c.Recv();
      recv1 = true;
    });
    std::thread r2([&] {
      got2 = c.Recv();
      recv2 = true;
    });
    ASSERT_TRUE(WaitForReceivers(c, 2));
    EXPECT_FALSE(recv1 || recv2) << "receive from empty chan";
    EXPECT_EQ(SelectRecvOrDefault(c), std::nullopt) << "receive from empty chan";
    EXPECT_TRUE(IsChannelEmpty(c.TryRecv().status()));
    ASSERT_TRUE(c.Send(1).ok());
    ASSERT_TRUE(c.Send(2).ok());
    r1.join();
    r2.join();
    ASSERT_TRUE(got1.has_value() && got2.has_value());
    EXPECT_EQ(std::min(*got1, *got2), 1);
    EXPECT_EQ(std::max(*got1, *got2), 2);
    EXPECT_EQ(c.size(), 0u);
  }

  {
    // A send to a full channel blocks; non-blocking sends do not. The blocked
    // value lands behind the buffered ones (FIFO, with promotion).
    Chan<int> c(ucap);
    for (int i = 0; i < cap; ++i) ASSERT_TRUE(c.TrySend(int{i}).ok());
    std::atomic<bool> sent{false};
    absl::Status send_status = absl::UnknownError("not run");
    std::thread s([&] {
      send_status = c.Send(-1);
      sent = true;
    });
    ASSERT_TRUE(WaitForSenders(c, 1));
    EXPECT_FALSE(sent) << "send to full chan";
    bool sent_in_select = false;
    EXPECT_EQ(Select(OnSend(c, 0, [&] { sent_in_select = true; }),
                     OnDefault([] {})),
              1);
    EXPECT_FALSE(sent_in_select) << "send to full chan";
    EXPECT_TRUE(IsChannelFull(c.TrySend(0)));
    EXPECT_EQ(c.Recv(), cap > 0 ? 0 : -1);
    s.join();
    EXPECT_TRUE(sent);
    EXPECT_TRUE(send_status.ok()) << send_status;
    for (int i = 1; i < cap; ++i) EXPECT_EQ(c.Recv(), i);
    if (cap > 0) {
      EXPECT_EQ(c.Recv(), -1);
    }
    EXPECT_TRUE(IsChannelEmpty(c.TryRecv().status()));
  }

  {
    // A closed channel yields its buffered values in order, then nullopt
    // forever; sending to it (Go: panic) and closing it again are errors.
    Chan<int> c(ucap);
    for (int i = 0; i < cap; ++i) ASSERT_TRUE(c.Send(int{i}).ok());
    ASSERT_TRUE(c.Close().ok());
    EXPECT_TRUE(IsChannelClosed(c.Send(7)));
    EXPECT_TRUE(IsChannelClosed(c.TrySend(7)));
    EXPECT_TRUE(IsChannelClosed(c.Close()));
    for (int i = 0; i < cap; ++i) EXPECT_EQ(c.Recv(), i);
    EXPECT_EQ(c.Recv(), std::nullopt);
    EXPECT_EQ(c.Recv(), std::nullopt);
    EXPECT_TRUE(IsChannelClosed(c.TryRecv().status()));
    EXPECT_EQ(SelectRecvOrDefault(c), std::optional<std::optional<int>>(
                                          std::optional<int>()));
  }

  {
    // Close unblocks a parked receiver, which gets nullopt.
    Chan<int> c(ucap);
    Chan<bool> done(0);
    std::thread r([&] {
      std::optional<int> v = c.Recv();
      ASSERT_TRUE(done.Send(!v.has_value()).ok());
    });
    ASSERT_TRUE(WaitForReceivers(c, 1));
    ASSERT_TRUE(c.Close().ok());
    EXPECT_EQ(done.Recv(), true) << "received a value from a closed chan";
    r.join();
  }

  {
    // Close unblocks a sender parked on the full channel with an error; its
    // value is not delivered, the buffered ones still are.
    Chan<int> c(ucap);
    for (int i = 0; i < cap; ++i) ASSERT_TRUE(c.Send(int{i}).ok());
    absl::Status st;
    std::thread s([&] { st = c.Send(-1); });
    ASSERT_TRUE(WaitForSenders(c, 1));
    ASSERT_TRUE(c.Close().ok());
    s.join();
    EXPECT_TRUE(IsChannelClosed(st)) << st;
    for (int i = 0; i < cap; ++i) EXPECT_EQ(c.Recv(), i);
    EXPECT_EQ(c.Recv(), std::nullopt);
  }

  {
    // 100 integers from one sender arrive uncorrupted and in FIFO order,
    // first received one by one, then by ranging until close.
    Chan<int> c(ucap);
    std::thread s([&] {
      for (int i = 0; i < 100; ++i) ASSERT_TRUE(c.Send(int{i}).ok());
    });
    for (int i = 0; i < 100; ++i) EXPECT_EQ(c.Recv(), i);
    s.join();

    std::thread s2([&] {
      for (int i = 0; i < 100; ++i) ASSERT_TRUE(c.Send(int{i}).ok());
      ASSERT_TRUE(c.Close().ok());
    });
    int want = 0;
    for (int v : c) EXPECT_EQ(v, want++);
    EXPECT_EQ(want, 100);
    s2.join();
  }

  {
    // P producers each send 0..L-1; P consumers each receive L values. Every
    // value arrives exactly P times: nothing lost, nothing duplicated.
    constexpr int kP = 4;
    constexpr int kL = 1000;
    Chan<int> c(ucap);
    Chan<std::vector<int>> done(0);
    std::vector<std::thread> threads;
    for (int p = 0; p < kP; ++p) {
      threads.emplace_back([&] {
        for (int i = 0; i < kL; ++i) ASSERT_TRUE(c.Send(int{i}).ok());
      });
      threads.emplace_back([&] {
        std::vector<int> seen(kL, 0);
        for (int i = 0; i < kL; ++i) {
          std::optional<int> v = c.Recv();
          ASSERT_TRUE(v.has_value());
          ASSERT_TRUE(*v >= 0 && *v < kL) << *v;
          ++seen[static_cast<size_t>(*v)];
        }
        ASSERT_TRUE(done.Send(std::move(seen)).ok());
      });
    }
    std::vector<int> total(kL, 0);
    for (int p = 0; p < kP; ++p) {
      std::optional<std::vector<int>> seen = done.Recv();
      ASSERT_TRUE(seen.has_value());
      for (int i = 0; i < kL; ++i) total[static_cast<size_t>(i)] += (*seen)[static_cast<size_t>(i)];
    }
    for (std::thread& t : threads) t.join();
    for (int i = 0; i < kL; ++i) {
      EXPECT_EQ(total[static_cast<size_t>(i)], kP) << "value " << i;
    }
  }

  {
    // len and cap.
    Chan<int> c(ucap);
    EXPECT_EQ(c.size(), 0u);
    EXPECT_EQ(c.capacity(), ucap);
    for (int i = 0; i < cap; ++i) ASSERT_TRUE(c.Send(int{i}).ok());
    EXPECT_EQ(c.size(), ucap);
    EXPECT_EQ(c.capacity(), ucap);
  }
}

TEST(GoChanTest, TestChan) {
  for (int cap = 0; cap < kTestChanCaps; ++cap) {
    TestChanForCapacity(cap);
    if (::testing::Test::HasFatalFailure()) return;
  }
  if (kTestChanCaps < 100) {
    for (int cap : {100, 199}) {  // and two of the large ones
      TestChanForCapacity(cap);
      if (::testing::Test::HasFatalFailure()) return;
    }
  }
}

// --- TestNonblockRecvRace ----------------------------------------------------

// A buffered channel holding a value is closed while another thread does a
// non-blocking receive on it. Whether that receive sees the value or the
// close, it must never take the default case: the channel is ready
// throughout. One long-lived thread stands in for Go's goroutine per round.
TEST(GoChanTest, TestNonblockRecvRace) {
  const int n = 10000 / kScale;
  Chan<Chan<int>> work(0);
  Chan<bool> took_default(1);
  std::thread worker([&] {
    for (Chan<int> c : work) {
      bool dflt = SelectRecvOrDefault(c) == std::nullopt;
      ASSERT_TRUE(took_default.Send(dflt).ok());
    }
  });
  int defaults = 0;
  for (int i = 0; i < n; ++i) {
    Chan<int> c(1);
    ASSERT_TRUE(c.Send(1).ok());
    ASSERT_TRUE(work.Send(c).ok());
    ASSERT_TRUE(c.Close().ok());
    c.Recv();  // may race the worker for the value; either is fine
    if (took_default.Recv() != false) ++defaults;
  }
  ASSERT_TRUE(work.Close().ok());
  worker.join();
  EXPECT_EQ(defaults, 0) << "chan is not ready";
}

// --- TestNonblockSelectRace / Race2 ------------------------------------------

// A select acts on the channels' state at one instant, not over a smeared
// window. c1 is ready; the worker starts a non-blocking select on c1 and c2;
// meanwhile c2 becomes ready and then c1 is drained. At every instant one of
// them is ready, so the worker must never run its default case.
// `close_c2` is Race2: c2 is unbuffered and becomes ready by being closed.
void NonblockSelectRace(bool close_c2) {
  const int n = 20000 / kScale;
  Chan<std::pair<Chan<int>, Chan<int>>> work(0);
  Chan<bool> took_default(1);
  std::thread worker([&] {
    for (auto& [c1, c2] : work) {
      int i = Select(OnRecv(c1, [] {}), OnRecv(c2, [] {}), OnDefault([] {}));
      ASSERT_TRUE(took_default.Send(i == 2).ok());
    }
  });
  int defaults = 0;
  for (int i = 0; i < n; ++i) {
    Chan<int> c1(1);
    Chan<int> c2(close_c2 ? 0 : 1);
    ASSERT_TRUE(c1.Send(1).ok());
    ASSERT_TRUE(work.Send({c1, c2}).ok());
    if (close_c2) {
      ASSERT_TRUE(c2.Close().ok());
    } else {
      ASSERT_TRUE(c2.Send(1).ok());
    }
    SelectRecvOrDefault(c1);
    if (took_default.Recv() != false) ++defaults;
  }
  ASSERT_TRUE(work.Close().ok());
  worker.join();
  EXPECT_EQ(defaults, 0) << "no chan is ready";
}

TEST(GoChanTest, TestNonblockSelectRace) { NonblockSelectRace(false); }
TEST(GoChanTest, TestNonblockSelectRace2) { NonblockSelectRace(true); }

// An unbuffered channel with a receiver parked on it (an AsyncRecv, which the
// channel's Close() completes): a receive case on it is never ready, but
// only its lock can tell, so a select with such a case usually skips its
// lock-free pass and polls every case under the locks.
Chan<int> NeverReadyButLocked() {
  Chan<int> busy(0);
  AsyncRecv(busy, [](std::optional<int> v) { EXPECT_EQ(v, std::nullopt); });
  return busy;
}

// Not one of Go's tests: TestNonblockSelectRace drains c1 only after the
// select has begun, never while it polls. Here a shuttle thread moves a
// token between two buffered channels, always sending before it receives, so
// at every instant a or b holds a value. A select on both with a default must
// therefore never run the default, however its polls interleave with the
// shuttle's moves (the select puts back any token it takes). A select that
// polls a and b one after the other, each under its lock while the other's
// ring stays open to lock-free operations, could find b empty, then a
// drained after b was filled, and fall through to the default.
TEST(GoChanTest, NonblockSelectSeesOneInstant) {
  const int n = 200000 / kScale;
  Chan<int> a(4), b(4);
  ASSERT_TRUE(a.Send(1).ok());
  Chan<int> busy = NeverReadyButLocked();
  std::atomic<bool> stop{false};
  std::thread shuttle([&] {
    // The select puts back every token it takes before it selects again,
    // so once it is done neither Recv can block and the loop ends.
    while (!stop.load(std::memory_order_relaxed)) {
      ASSERT_TRUE(b.Send(1).ok());
      ASSERT_TRUE(a.Recv().has_value());
      ASSERT_TRUE(a.Send(1).ok());
      ASSERT_TRUE(b.Recv().has_value());
    }
  });
  int defaults = 0;
  for (int i = 0; i < n; ++i) {
    std::optional<int> got;
    auto take = [&](std::optional<int> v) { got = v; };
    int chosen = Select(OnRecv(a, take), OnRecv(b, take),
                        OnRecv(busy, [] { ADD_FAILURE() << "busy fired"; }),
                        OnDefault([] {}));
    if (chosen == 3) {
      ++defaults;
      continue;
    }
    if (!got.has_value() || !(chosen == 0 ? a : b).Send(*got).ok()) {
      ADD_FAILURE() << "no token to put back";
      break;
    }
  }
  stop = true;
  shuttle.join();
  ASSERT_TRUE(busy.Close().ok());
  EXPECT_EQ(defaults, 0) << "a or b held a value at every instant";
}

// The same on one channel of capacity 1: at every instant it is empty (the
// send case is ready) or full (the receive case is). A toggler fills and
// drains it; the select undoes whatever it did.
TEST(GoChanTest, NonblockSelectSendOrRecvOnOneChannel) {
  const int n = 200000 / kScale;
  Chan<int> c(1);
  Chan<int> busy = NeverReadyButLocked();
  std::atomic<bool> stop{false};
  std::thread toggler([&] {
    // The select undoes each case it completes before it selects again, so
    // once it is done the toggler's Send and Recv cannot block.
    while (!stop.load(std::memory_order_relaxed)) {
      ASSERT_TRUE(c.Send(1).ok());
      ASSERT_TRUE(c.Recv().has_value());
    }
  });
  int defaults = 0;
  for (int i = 0; i < n; ++i) {
    std::optional<int> got;
    int chosen = Select(OnSend(c, 2, [] {}),
                        OnRecv(c, [&](std::optional<int> v) { got = v; }),
                        OnRecv(busy, [] { ADD_FAILURE() << "busy fired"; }),
                        OnDefault([] {}));
    bool undone = true;
    if (chosen == 0) {
      undone = c.Recv().has_value();  // takes back a value, any value
    } else if (chosen == 1) {
      undone = got.has_value() && c.Send(*got).ok();
    } else {
      ++defaults;
    }
    if (!undone) {
      ADD_FAILURE() << "could not undo case " << chosen;
      break;
    }
  }
  stop = true;
  toggler.join();
  ASSERT_TRUE(busy.Close().ok());
  EXPECT_EQ(defaults, 0) << "c was empty or full at every instant";
}

// --- TestSelfSelect ----------------------------------------------------------

// Two threads each select on {send to c, receive from c}, 1000 times, in both
// case orders. Neither may crash or deadlock, and on an unbuffered channel no
// select may ever pair its own send with its own receive.
TEST(GoChanTest, TestSelfSelect) {
  for (size_t cap : {size_t{0}, size_t{10}}) {
    SCOPED_TRACE("chan cap " + std::to_string(cap));
    Chan<int> c(cap);
    std::atomic<int> self_receives{0};
    std::vector<std::thread> threads;
    for (int p = 0; p < 2; ++p) {
      threads.emplace_back([&, p] {
        auto on_recv = [&](std::optional<int> v) {
          if (cap == 0 && v == p) ++self_receives;
        };
        for (int i = 0; i < 1000; ++i) {
          if (p == 0 || i % 2 == 0) {
            Select(OnSend(c, p, [] {}), OnRecv(c, on_recv));
          } else {
            Select(OnRecv(c, on_recv), OnSend(c, p, [] {}));
          }
        }
      });
    }
    for (std::thread& t : threads) t.join();
    EXPECT_EQ(self_receives, 0) << "self receive";
  }
}

// --- TestSelectStress --------------------------------------------------------

// Four channels (two unbuffered, buffered 2 and 3). Per channel, one thread
// sends N values and one receives N; one more thread sends N values to each
// channel through a single 4-case select, and one receives N from each the
// same way, switching a channel's case off (nil) once its N are done. All of
// it interacts chaotically; it must not deadlock, and the counts must add up.
TEST(GoChanTest, TestSelectStress) {
  const int n = 20000 / kScale;
  std::array<Chan<int>, 4> c = {Chan<int>(0), Chan<int>(0), Chan<int>(2),
                                Chan<int>(3)};
  std::atomic<long> received_by_plain{0};
  std::vector<std::thread> threads;
  for (int k = 0; k < 4; ++k) {
    threads.emplace_back([&, k] {
      for (int i = 0; i < n; ++i) ASSERT_TRUE(c[k].Send(1).ok());
    });
    threads.emplace_back([&, k] {
      for (int i = 0; i < n; ++i) {
        std::optional<int> v = c[k].Recv();
        ASSERT_EQ(v, 1);
        ++received_by_plain;
      }
    });
  }
  threads.emplace_back([&] {
    std::array<int, 4> sent = {0, 0, 0, 0};
    std::array<Chan<int>, 4> c1 = c;
    for (int i = 0; i < 4 * n; ++i) {
      int k = Select(OnSend(c1[3], 1, [] {}), OnSend(c1[2], 1, [] {}),
                     OnSend(c1[0], 1, [] {}), OnSend(c1[1], 1, [] {}));
      int ch = std::array<int, 4>{3, 2, 0, 1}[static_cast<size_t>(k)];
      if (++sent[static_cast<size_t>(ch)] == n) c1[static_cast<size_t>(ch)] = Chan<int>();
    }
    for (int s : sent) EXPECT_EQ(s, n);
  });
  threads.emplace_back([&] {
    std::array<int, 4> got = {0, 0, 0, 0};
    std::array<Chan<int>, 4> c1 = c;
    for (int i = 0; i < 4 * n; ++i) {
      bool ok = true;
      auto check = [&](std::optional<int> v) { ok = v == 1; };
      int k = Select(OnRecv(c1[0], check), OnRecv(c1[1], check),
                     OnRecv(c1[2], check), OnRecv(c1[3], check));
      ASSERT_TRUE(ok);
      if (++got[static_cast<size_t>(k)] == n) c1[static_cast<size_t>(k)] = Chan<int>();
    }
    for (int g : got) EXPECT_EQ(g, n);
  });
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(received_by_plain, 4L * n);
  for (const Chan<int>& ch : c) EXPECT_EQ(ch.size(), 0u);
}

// --- TestSelectFairness ------------------------------------------------------

// With two always-ready cases (and two never-ready ones), each ready case
// must win about half the time. The bound: each wins 45-55% of
// 100,000 selects (Go's own bound is 10 sigma, which is 45-55% at 10,000).

// The select on one thread, 100,000 times: cheap enough to run at full size
// under the sanitizers too.
TEST(GoChanTest, TestSelectFairness) {
  constexpr int kTrials = 100000;
  Chan<uint8_t> c1(1), c2(1), c3(0), c4(0);
  ASSERT_TRUE(c1.Send(1).ok());
  ASSERT_TRUE(c2.Send(2).ok());
  int cnt1 = 0, cnt2 = 0, other = 0;
  for (int i = 0; i < kTrials; ++i) {
    uint8_t b = 0;
    auto take = [&](std::optional<uint8_t> v) { b = v.value_or(0); };
    Select(OnRecv(c3, take), OnRecv(c4, take), OnRecv(c1, take),
           OnRecv(c2, take));
    switch (b) {
      case 1:
        ++cnt1;
        ASSERT_TRUE(c1.TrySend(1).ok());
        break;
      case 2:
        ++cnt2;
        ASSERT_TRUE(c2.TrySend(2).ok());
        break;
      default:
        ++other;
    }
  }
  EXPECT_EQ(other, 0);
  EXPECT_GE(cnt1, kTrials * 45 / 100) << cnt1 << " vs " << cnt2;
  EXPECT_LE(cnt1, kTrials * 55 / 100) << cnt1 << " vs " << cnt2;
  EXPECT_GE(cnt2, kTrials * 45 / 100) << cnt1 << " vs " << cnt2;
  EXPECT_LE(cnt2, kTrials * 55 / 100) << cnt1 << " vs " << cnt2;
}

// Go's shape: a goroutine selects over {c3, c4, c1, c2} with c1 and c2 filled
// with trials+1 values, and hands each result to the test through an
// unbuffered channel, stopping when `done` closes.
TEST(GoChanTest, TestSelectFairnessAcrossThreads) {
  const int trials = 100000 / kScale;
  Chan<uint8_t> c1(static_cast<size_t>(trials) + 1);
  Chan<uint8_t> c2(static_cast<size_t>(trials) + 1);
  for (int i = 0; i < trials + 1; ++i) {
    ASSERT_TRUE(c1.Send(1).ok());
    ASSERT_TRUE(c2.Send(2).ok());
  }
  Chan<uint8_t> c3(0), c4(0), out(0);
  Chan<std::monostate> done(0);
  std::thread t([&] {
    for (;;) {
      uint8_t b = 0;
      auto take = [&](std::optional<uint8_t> v) { b = v.value_or(0); };
      Select(OnRecv(c3, take), OnRecv(c4, take), OnRecv(c1, take),
             OnRecv(c2, take));
      if (Select(OnSend(out, b, [] {}), OnRecv(done, [] {})) == 1) return;
    }
  });
  int cnt1 = 0, cnt2 = 0;
  for (int i = 0; i < trials; ++i) {
    std::optional<uint8_t> b = out.Recv();
    ASSERT_TRUE(b == 1 || b == 2) << "unexpected value on channel";
    (*b == 1 ? cnt1 : cnt2)++;
  }
  ASSERT_TRUE(done.Close().ok());
  t.join();
  EXPECT_GE(cnt1, trials * 45 / 100) << cnt1 << " vs " << cnt2;
  EXPECT_LE(cnt1, trials * 55 / 100) << cnt1 << " vs " << cnt2;
}

// --- TestPseudoRandomSend ----------------------------------------------------

// A select between two sends of different values to the same channel must
// pick both, pseudo-randomly: neither may win (almost) always. Go's receiver
// yields before each receive so that the select has usually parked first;
// here it waits until the select's two send nodes are queued, which makes the
// unbuffered case exercise the parked path every time. (Go randomises the
// order in which a parking select queues cases on the same channel, in
// selectgo's lockorder, for exactly this test.)
//
// Found a bug: dispatch/ used to queue a parked select's nodes in case-index
// order, so with cap 0 the receiver got 1 every time, never 0. Fixed in
// 62429bb (nodes are now queued in the select's random poll order).
TEST(GoChanTest, TestPseudoRandomSend) {
  constexpr int kN = 100;
  for (size_t cap : {size_t{0}, size_t{kN}}) {
    SCOPED_TRACE("chan cap " + std::to_string(cap));
    Chan<int> c(cap);
    std::vector<int> got;
    std::thread r([&] {
      for (int i = 0; i < kN; ++i) {
        if (cap == 0) {
          ASSERT_TRUE(WaitForSenders(c, 2));  // the select has parked
        } else {
          std::this_thread::yield();
        }
        got.push_back(c.Recv().value_or(-1));
      }
    });
    for (int i = 0; i < kN; ++i) {
      Select(OnSend(c, 1, [] {}), OnSend(c, 0, [] {}));
    }
    r.join();
    int n0 = static_cast<int>(std::count(got.begin(), got.end(), 0));
    int n1 = static_cast<int>(std::count(got.begin(), got.end(), 1));
    EXPECT_EQ(n0 + n1, kN);
    EXPECT_GT(n0, kN / 10) << "want pseudorandom, got " << n0 << " zeros";
    EXPECT_GT(n1, kN / 10) << "want pseudorandom, got " << n1 << " ones";
  }
}

// --- TestMultiConsumer -------------------------------------------------------

// 23 workers range over a work queue and pass each value on to a result
// queue; some yield on certain values to disturb the FIFO-ish order. The
// feeder closes the work queue, waits for the workers, then closes the result
// queue. Every value must come out exactly once: count and sum both match.
TEST(GoChanTest, TestMultiConsumer) {
  constexpr int kWorkers = 23;
  const int iters = 271828 / (10 * kScale);
  const std::array<int, 10> pn = {2, 3, 7, 11, 13, 17, 19, 23, 27, 31};
  Chan<int> q(kWorkers * 3), r(kWorkers * 3);
  std::vector<std::thread> workers;
  for (int w = 0; w < kWorkers; ++w) {
    workers.emplace_back([&, w] {
      for (int v : q) {
        if (pn[static_cast<size_t>(w) % pn.size()] == v) std::this_thread::yield();
        ASSERT_TRUE(r.Send(int{v}).ok());
      }
    });
  }
  long expect = 0;
  std::thread feeder([&] {
    for (int i = 0; i < iters; ++i) {
      int v = pn[static_cast<size_t>(i) % pn.size()];
      expect += v;
      ASSERT_TRUE(q.Send(int{v}).ok());
    }
    ASSERT_TRUE(q.Close().ok());
    for (std::thread& t : workers) t.join();
    ASSERT_TRUE(r.Close().ok());
  });
  long n = 0, s = 0;
  for (int v : r) {
    ++n;
    s += v;
  }
  feeder.join();
  EXPECT_EQ(n, iters);
  EXPECT_EQ(s, expect);
}

// --- TestSelectDuplicateChannel ----------------------------------------------

// A select may queue one waiter on the same channel several times. Thread A
// selects {<-c, <-c, <-d} and parks (two nodes on c); thread B then parks on
// <-c behind it. Waking A through d must remove both of A's nodes from c
// (Go once corrupted c.recvq here), so that a later send on c wakes B.
TEST(GoChanTest, TestSelectDuplicateChannel) {
  Chan<int> c(0), d(0), e(0);
  std::thread a([&] {
    int i = Select(OnRecv(c, [] {}), OnRecv(c, [] {}), OnRecv(d, [] {}));
    EXPECT_EQ(i, 2);
    ASSERT_TRUE(e.Send(9).ok());
  });
  ASSERT_TRUE(WaitForReceivers(c, 2));  // A is queued first on c, twice
  ASSERT_TRUE(WaitForReceivers(d, 1));
  std::optional<int> b_got;
  std::thread b([&] { b_got = c.Recv(); });
  ASSERT_TRUE(WaitForReceivers(c, 3));  // B is queued on c behind A
  ASSERT_TRUE(d.Send(7).ok());          // wakes A, which dequeues itself
  EXPECT_EQ(e.Recv(), 9);               // A is done
  EXPECT_EQ(ParkedReceivers(c), 1u) << "A left a node behind on c";
  ASSERT_TRUE(c.Send(8).ok());  // must wake B, not the departed A
  b.join();
  a.join();
  EXPECT_EQ(b_got, 8);
}

// The same with callbacks: an AsyncSelect queues its nodes before it returns,
// so the queue layout is exact without waiting for anyone.
TEST(GoChanTest, TestSelectDuplicateChannelAsync) {
  Chan<int> c(0), d(0);
  std::atomic<int> a_fired{-1};
  std::atomic<int> a_calls{0};
  AsyncSelect(OnRecv(c,
                     [&] {
                       a_fired = 0;
                       ++a_calls;
                     }),
              OnRecv(c,
                     [&] {
                       a_fired = 1;
                       ++a_calls;
                     }),
              OnRecv(d, [&](std::optional<int> v) {
                a_fired = v == 7 ? 2 : -2;
                ++a_calls;
              }));
  std::optional<int> b_got;
  Chan<bool> b_done(1);
  AsyncRecv(c, [&](std::optional<int> v) {
    b_got = v;
    ASSERT_TRUE(b_done.Send(true).ok());
  });
  ASSERT_TRUE(d.TrySend(7).ok());  // a parked receiver takes it at once
  EXPECT_EQ(a_fired, 2);
  EXPECT_EQ(a_calls, 1);
  ASSERT_TRUE(c.TrySend(8).ok());  // must reach B's callback
  EXPECT_EQ(b_done.Recv(), true);
  EXPECT_EQ(b_got, 8);
  EXPECT_EQ(a_calls, 1);
  EXPECT_TRUE(IsChannelFull(c.TrySend(9))) << "a stale waiter is still on c";
}

// --- TestChanSendBarrier / TestChanSendSelectBarrier (chanbarrier_test.go) --

// A request spawns a helper that sends a freshly built heap object through an
// unbuffered channel (plainly, or as a select case beside a `done` channel
// nobody closes); the requester reads the object's fields. The channel must
// publish the sender's writes to the receiver (TSan checks this: the fields
// are plain, non-atomic memory).
struct AsyncResult {
  std::string resp;
  absl::Status err;
  std::vector<int> payload;
};

absl::Status DoRequest(bool use_select) {
  Chan<std::unique_ptr<AsyncResult>> ch(0);
  Chan<std::monostate> done(0);
  std::thread helper([&] {
    auto r = std::make_unique<AsyncResult>();
    r->err = absl::DataLossError("my error");
    r->payload.assign(16, 42);
    if (use_select) {
      Select(OnSend(ch, std::move(r), [] {}), OnRecv(done, [] {}));
    } else {
      ch.Send(std::move(r)).IgnoreError();
    }
  });
  std::optional<std::unique_ptr<AsyncResult>> r = ch.Recv();
  std::this_thread::yield();
  helper.join();
  if (!r.has_value() || *r == nullptr) return absl::InternalError("no result");
  const AsyncResult& a = **r;
  if (a.payload.size() != 16 || a.payload[15] != 42) {
    return absl::InternalError("torn payload");
  }
  return a.err;
}

void ChanSendBarrier(bool use_select) {
  constexpr int kOuter = 4;  // Go: 100 (10 with -short)
  const int inner = 500 / kScale;  // Go: 100,000 (1,000 with -short)
  std::atomic<int> bad{0};
  std::vector<std::thread> outer;
  for (int i = 0; i < kOuter; ++i) {
    outer.emplace_back([&] {
      std::vector<char> garbage;
      for (int j = 0; j < inner; ++j) {
        absl::Status st = DoRequest(use_select);
        if (!absl::IsDataLoss(st) || st.message() != "my error") ++bad;
        garbage.assign(1 << 10, 'x');
      }
    });
  }
  for (std::thread& t : outer) t.join();
  EXPECT_EQ(bad, 0);
}

TEST(GoChanTest, TestChanSendBarrier) { ChanSendBarrier(false); }
TEST(GoChanTest, TestChanSendSelectBarrier) { ChanSendBarrier(true); }

// --- A close as a barrier (seeds/001: signalling by close) ------------------

// A close is a message to every receiver at once: what the closer wrote
// before it is visible to each one that sees the channel closed, however it
// looks (parked in Recv, an AsyncRecv, a TryRecv after the close). seeds/002's
// Future and seeds/004's started channel rest on it. The data is plain
// memory, so ThreadSanitizer (CI runs this label under it) checks the
// ordering; the payload checks catch a torn read without it.
TEST(GoChanTest, ACloseBarrierPublishesTheClosersWritesToEveryReceiver) {
  const int rounds = 200 / kScale;
  for (int round = 0; round < rounds; ++round) {
    Chan<std::monostate> done(0);
    std::vector<int> data;  // written by the closer only, before the close
    const auto intact = [&] { return data.size() == 16 && data[15] == 42; };
    std::atomic<int> good{0};
    std::vector<std::thread> receivers;
    for (int i = 0; i < 2; ++i) {
      receivers.emplace_back([&] {
        if (!done.Recv().has_value() && intact()) good.fetch_add(1);
      });
    }
    Chan<bool> async_saw(1);
    AsyncRecv(done, [&](std::optional<std::monostate> v) {
      async_saw.TrySend(!v.has_value() && intact()).IgnoreError();
    });
    ASSERT_TRUE(WaitForReceivers(done, 3)) << "round " << round;

    data.assign(16, 42);
    ASSERT_TRUE(done.Close().ok());

    std::thread late([&] {
      if (IsChannelClosed(done.TryRecv().status()) && intact()) good.fetch_add(1);
    });
    late.join();
    for (std::thread& t : receivers) t.join();
    EXPECT_EQ(async_saw.Recv(), true) << "round " << round;
    ASSERT_EQ(good.load(), 3) << "round " << round;
  }
}

// --- Channel of channels -----------------------------------------------------

// crossbeam's channel_through_channel: each message carries the channel the
// next message will arrive on. The receiver follows the chain 1000 links.
struct Link {
  Chan<Link> next;
  int seq = 0;
};

TEST(GoChanTest, ChannelThroughChannel) {
  constexpr int kCount = 1000;
  Chan<Link> first(1);
  std::thread sender([first] {
    Chan<Link> s = first;
    for (int i = 0; i < kCount; ++i) {
      Chan<Link> next(1);
      ASSERT_TRUE(s.Send(Link{next, i}).ok());
      s = next;
    }
  });
  Chan<Link> r = first;
  for (int i = 0; i < kCount; ++i) {
    std::optional<Link> l = r.Recv();
    ASSERT_TRUE(l.has_value());
    EXPECT_EQ(l->seq, i);
    ASSERT_FALSE(l->next.is_nil());
    EXPECT_FALSE(l->next == r);
    r = l->next;
  }
  sender.join();
  EXPECT_TRUE(IsChannelEmpty(r.TryRecv().status()));
}

// The dispatcher's shape (seeds/004): each worker sends its own unbuffered
// channel through `idle` and gets its next job back on it. Every job is run
// exactly once, by the worker whose channel it was sent on.
TEST(GoChanTest, WorkerSendsItsOwnChannelAndGetsWorkOnIt) {
  constexpr int kWorkers = 4;
  const int jobs = 20000 / kScale;
  struct Registration {
    int worker;
    Chan<int> mine;
  };
  Chan<Registration> idle(0);
  Chan<std::pair<int, int>> results(kWorkers);  // (worker, job)
  std::vector<std::thread> workers;
  for (int w = 0; w < kWorkers; ++w) {
    workers.emplace_back([&, w] {
      Chan<int> mine(0);
      for (;;) {
        ASSERT_TRUE(idle.Send(Registration{w, mine}).ok());
        std::optional<int> job = mine.Recv();
        if (!job) return;  // our channel was closed: shut down
        ASSERT_TRUE(results.Send({w, *job}).ok());
      }
    });
  }
  std::vector<int> ran(static_cast<size_t>(jobs), 0);
  std::vector<int> ran_by(static_cast<size_t>(jobs), -1);
  std::thread collector([&] {
    for (int i = 0; i < jobs; ++i) {
      std::optional<std::pair<int, int>> r = results.Recv();
      ASSERT_TRUE(r.has_value());
      ++ran[static_cast<size_t>(r->second)];
      ran_by[static_cast<size_t>(r->second)] = r->first;
    }
  });
  std::vector<int> sent_to(static_cast<size_t>(jobs), -1);
  for (int j = 0; j < jobs; ++j) {
    std::optional<Registration> reg = idle.Recv();
    ASSERT_TRUE(reg.has_value());
    sent_to[static_cast<size_t>(j)] = reg->worker;
    // The worker receives on its own channel right after registering.
    ASSERT_TRUE(reg->mine.Send(int{j}).ok());
  }
  collector.join();
  for (int w = 0; w < kWorkers; ++w) {
    std::optional<Registration> reg = idle.Recv();
    ASSERT_TRUE(reg.has_value());
    ASSERT_TRUE(reg->mine.Close().ok());
  }
  for (std::thread& t : workers) t.join();
  for (int j = 0; j < jobs; ++j) {
    const size_t i = static_cast<size_t>(j);
    EXPECT_EQ(ran[i], 1) << "job " << j;
    EXPECT_EQ(ran_by[i], sent_to[i]) << "job " << j << " ran on another worker";
    if (::testing::Test::HasFailure()) break;
  }
}

}  // namespace
}  // namespace handoff
