// Copyright 2026 The handoff Authors.
//
// Chan<T>: Go's send/receive/close semantics, case by case (seeds/001).

#include "dispatch/chan.h"

#include <algorithm>
#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <type_traits>
#include <vector>

#include "dispatch/context.h"
#include "dispatch/select.h"
#include "gtest/gtest.h"
#include "tests/unit/dispatch/test_util.h"

namespace handoff {
namespace {

using testing::ParkedReceivers;
using testing::ParkedSenders;
using testing::Tracked;
using testing::WaitUntil;

// A value sent while a receiver is parked goes straight to it: it never
// touches the buffer, even a buffered channel's.
TEST(ChanTest, DirectHandoffToParkedReceiver) {
  for (size_t cap : {0u, 1u, 4u}) {
    Chan<int> ch(cap);
    std::optional<int> got;
    std::thread receiver([&] { got = ch.Recv(); });
    ASSERT_TRUE(WaitUntil([&] { return ParkedReceivers(ch) == 1; }));
    ASSERT_TRUE(ch.Send(42).ok());
    EXPECT_EQ(ch.size(), 0u) << "cap " << cap << ": value went via the buffer";
    receiver.join();
    EXPECT_EQ(got, 42);
  }
}

// With nobody to take the value and no buffer, the sender parks until a
// receiver arrives.
TEST(ChanTest, SenderParksWhenNobodyIsThere) {
  Chan<int> ch(0);
  absl::Status sent = absl::UnknownError("not yet");
  std::thread sender([&] { sent = ch.Send(7); });
  ASSERT_TRUE(WaitUntil([&] { return ParkedSenders(ch) == 1; }));
  EXPECT_EQ(ch.Recv(), 7);
  sender.join();
  EXPECT_TRUE(sent.ok());
  EXPECT_EQ(ParkedSenders(ch), 0u);
}

// A buffered channel takes values without a receiver, up to its capacity, and
// gives them back in order.
TEST(ChanTest, BufferedHop) {
  Chan<std::string> ch(3);
  ASSERT_TRUE(ch.TrySend("a").ok());
  ASSERT_TRUE(ch.TrySend("b").ok());
  ASSERT_TRUE(ch.Send("c").ok());  // room left: does not park
  EXPECT_EQ(ch.size(), 3u);
  EXPECT_EQ(ch.Recv(), "a");
  EXPECT_EQ(ch.Recv(), "b");
  EXPECT_EQ(ch.Recv(), "c");
  EXPECT_EQ(ch.size(), 0u);
}

TEST(ChanTest, FullBufferParksTheSender) {
  Chan<int> ch(1);
  ASSERT_TRUE(ch.Send(1).ok());
  absl::Status sent = absl::UnknownError("not yet");
  std::thread sender([&] { sent = ch.Send(2); });
  ASSERT_TRUE(WaitUntil([&] { return ParkedSenders(ch) == 1; }));
  EXPECT_EQ(ch.Recv(), 1);
  sender.join();
  EXPECT_TRUE(sent.ok());
  EXPECT_EQ(ch.Recv(), 2);
}

// seeds/001, Example 10: with a sender parked behind a full buffer, a receive
// takes the oldest buffered value and promotes the parked sender's value into
// the freed slot, so the order stays 1, 2, 3.
TEST(ChanTest, ReceivePromotesParkedSenderIntoBuffer) {
  Chan<int> ch(2);
  ASSERT_TRUE(ch.Send(1).ok());
  ASSERT_TRUE(ch.Send(2).ok());
  absl::Status sent = absl::UnknownError("not yet");
  std::thread sender([&] { sent = ch.Send(3); });
  ASSERT_TRUE(WaitUntil([&] { return ParkedSenders(ch) == 1; }));
  EXPECT_EQ(ch.Recv(), 1);
  // The receive itself moved the parked sender's value into the freed slot,
  // under the channel's lock (seeds/001, Example 10), before the sender ran
  // again: a sender woken only to try again could not have sent yet.
  EXPECT_EQ(ch.size(), 2u);
  EXPECT_EQ(ParkedSenders(ch), 0u);
  sender.join();
  EXPECT_TRUE(sent.ok());
  EXPECT_EQ(ch.Recv(), 2);
  EXPECT_EQ(ch.Recv(), 3);
}

TEST(ChanTest, CloseLetsReceiversDrainTheBufferThenNullopt) {
  Chan<int> ch(3);
  ASSERT_TRUE(ch.Send(1).ok());
  ASSERT_TRUE(ch.Send(2).ok());
  ASSERT_TRUE(ch.Close().ok());
  EXPECT_EQ(ch.Recv(), 1);
  EXPECT_EQ(ch.Recv(), 2);
  EXPECT_EQ(ch.Recv(), std::nullopt);
  EXPECT_EQ(ch.Recv(), std::nullopt);  // and forever after
  EXPECT_TRUE(IsChannelClosed(ch.TryRecv().status()));
}

TEST(ChanTest, CloseWakesEveryParkedReceiverWithNullopt) {
  Chan<int> ch(0);
  constexpr int kReceivers = 4;
  std::vector<std::optional<int>> got(kReceivers, 0);
  std::vector<std::thread> threads;
  for (int i = 0; i < kReceivers; ++i) {
    threads.emplace_back([&, i] { got[i] = ch.Recv(); });
  }
  ASSERT_TRUE(WaitUntil([&] { return ParkedReceivers(ch) == kReceivers; }));
  ASSERT_TRUE(ch.Close().ok());
  for (auto& t : threads) t.join();
  for (const auto& g : got) EXPECT_EQ(g, std::nullopt);
}

TEST(ChanTest, SendOnClosedChannelIsAnErrorAndKeepsTheValue) {
  Chan<std::unique_ptr<int>> ch(1);
  ASSERT_TRUE(ch.Close().ok());
  auto v = std::make_unique<int>(5);
  absl::Status s = ch.Send(std::move(v));
  EXPECT_TRUE(IsChannelClosed(s)) << s;
  ASSERT_NE(v, nullptr) << "a failed send must not consume the value";
  EXPECT_EQ(*v, 5);
  EXPECT_TRUE(IsChannelClosed(ch.TrySend(std::move(v))));
  EXPECT_NE(v, nullptr);
}

// seeds/001's chansend checks c.closed before it looks for room: a send on a
// closed channel whose buffer is still full is Go's panic (here the closed
// error), never "full" and never a park, blocking or not, in a select or not.
TEST(ChanTest, ASendOnAClosedFullChannelIsClosedNotFull) {
  Chan<int> ch(2);
  ASSERT_TRUE(ch.Send(1).ok());
  ASSERT_TRUE(ch.Send(2).ok());
  ASSERT_TRUE(ch.Close().ok());
  EXPECT_TRUE(IsChannelClosed(ch.TrySend(3))) << ch.TrySend(3);
  absl::Status st;
  EXPECT_EQ(Select(OnSend(ch, 3, [&](absl::Status s) { st = s; }), OnDefault([] {})),
            0)
      << "a send case on a closed channel is ready, not blocked";
  EXPECT_TRUE(IsChannelClosed(st)) << st;
  // The blocking send, on a thread of its own, so that a park fails the test
  // rather than hanging it.
  Chan<absl::Status> sent(1);
  std::thread sender([ch, sent] { ASSERT_TRUE(sent.Send(ch.Send(3)).ok()); });
  auto [bound, cancel] = WithTimeout(Context::Background(), absl::Seconds(30));
  std::optional<absl::Status> result;
  Select(OnRecv(sent, [&](std::optional<absl::Status> s) { result = s; }),
         OnDone(bound, [] {}));
  if (!result.has_value()) {
    ADD_FAILURE() << "Send parked on a closed full channel";
    sender.detach();  // parked for good: nothing wakes a closed channel's sender
    return;
  }
  sender.join();
  EXPECT_TRUE(IsChannelClosed(*result)) << *result;
  EXPECT_EQ(ch.Recv(), 1);  // what was buffered before the close stays
  EXPECT_EQ(ch.Recv(), 2);
  EXPECT_EQ(ch.Recv(), std::nullopt);
}

TEST(ChanTest, EverySenderParkedAtCloseGetsAnErrorAndKeepsItsValue) {
  for (size_t cap : {0u, 1u}) {
    Chan<std::unique_ptr<int>> ch(cap);
    for (size_t i = 0; i < cap; ++i) ASSERT_TRUE(ch.Send(std::make_unique<int>(0)).ok());
    constexpr int kSenders = 2;
    absl::Status sent[kSenders];
    std::unique_ptr<int> values[kSenders];
    std::vector<std::thread> senders;
    for (int i = 0; i < kSenders; ++i) {
      values[i] = std::make_unique<int>(i + 1);
      senders.emplace_back([&, i] { sent[i] = ch.Send(std::move(values[i])); });
    }
    ASSERT_TRUE(WaitUntil([&] { return ParkedSenders(ch) == kSenders; }));
    ASSERT_TRUE(ch.Close().ok());
    for (std::thread& t : senders) t.join();
    for (int i = 0; i < kSenders; ++i) {
      EXPECT_TRUE(IsChannelClosed(sent[i])) << "cap " << cap << ": " << sent[i];
      // Go's parked sender panics with its value; ours gets it back.
      ASSERT_NE(values[i], nullptr) << "cap " << cap << ", sender " << i;
      EXPECT_EQ(*values[i], i + 1);
    }
    // The buffered value survives the close; the parked ones were refused.
    for (size_t i = 0; i < cap; ++i) {
      std::optional<std::unique_ptr<int>> v = ch.Recv();
      ASSERT_TRUE(v.has_value());
      EXPECT_EQ(**v, 0);
    }
    EXPECT_EQ(ch.Recv(), std::nullopt);
  }
}

TEST(ChanTest, ClosingTwiceIsAnError) {
  Chan<int> ch(0);
  EXPECT_TRUE(ch.Close().ok());
  EXPECT_TRUE(IsChannelClosed(ch.Close()));
  EXPECT_TRUE(ch.closed());
}

TEST(ChanTest, ParkedReceiversAreWokenInFifoOrder) {
  Chan<int> ch(0);
  constexpr int kN = 5;
  std::vector<int> got(kN, -1);
  std::vector<std::thread> threads;
  for (int i = 0; i < kN; ++i) {
    threads.emplace_back([&, i] { got[i] = *ch.Recv(); });
    // Receiver i parks only after receivers 0..i-1: the queue order is known.
    ASSERT_TRUE(WaitUntil([&] { return ParkedReceivers(ch) == size_t(i + 1); }));
  }
  for (int i = 0; i < kN; ++i) ASSERT_TRUE(ch.Send(int(i)).ok());
  for (auto& t : threads) t.join();
  for (int i = 0; i < kN; ++i) EXPECT_EQ(got[i], i);
}

// Parked receivers of every kind (a thread in Recv, an AsyncRecv callback, a
// thread in a Select over two channels) queue in one FIFO, on a buffered
// channel as on an unbuffered one, and each value goes straight to the
// oldest (the buffer stays empty). A select that completed on its other
// channel has left this queue: the value it would have had goes to the
// receiver behind it, not to a stale waiter.
TEST(ChanTest, ParkedReceiversOfEveryKindAreServedInFifoOrder) {
  for (size_t cap : {0u, 3u}) {
    Chan<int> ch(cap);
    Chan<int> other(0);
    Chan<int> got(8);  // "receiver:value", as receiver * 100 + value
    std::vector<std::thread> threads;
    auto parked = [&](size_t n) {
      return WaitUntil([&] { return ParkedReceivers(ch) == n; });
    };
    // 0: a thread in Recv.
    threads.emplace_back([&] { ASSERT_TRUE(got.Send(0 * 100 + *ch.Recv()).ok()); });
    ASSERT_TRUE(parked(1));
    // 1: a select that will complete on `other` instead, and so leave.
    threads.emplace_back([&] {
      Select(OnRecv(ch, [&](std::optional<int> v) { ASSERT_TRUE(got.Send(100 + *v).ok()); }),
             OnRecv(other, [&](std::optional<int> v) { ASSERT_TRUE(got.Send(100 - *v).ok()); }));
    });
    ASSERT_TRUE(parked(2));
    // 2: a callback.
    AsyncRecv(ch, [got](std::optional<int> v) { ASSERT_TRUE(got.Send(200 + *v).ok()); });
    ASSERT_TRUE(parked(3));
    // 3: a select that stays.
    threads.emplace_back([&] {
      Select(OnRecv(other, [&] { FAIL() << "other"; }),
             OnRecv(ch, [&](std::optional<int> v) { ASSERT_TRUE(got.Send(300 + *v).ok()); }));
    });
    ASSERT_TRUE(parked(4));

    ASSERT_TRUE(other.Send(1).ok());  // to the older select on `other`: 1
    EXPECT_EQ(got.Recv(), 100 - 1) << "cap " << cap;
    ASSERT_TRUE(WaitUntil([&] { return ParkedReceivers(ch) == 3u; }))
        << "cap " << cap << ": the select that completed is still queued";
    for (int v = 0; v < 3; ++v) {
      ASSERT_TRUE(ch.Send(int{v}).ok());
      EXPECT_EQ(ch.size(), 0u) << "cap " << cap << ": the value went via the buffer";
    }
    std::vector<int> order;
    for (int i = 0; i < 3; ++i) order.push_back(*got.Recv());
    for (std::thread& t : threads) t.join();
    std::sort(order.begin(), order.end());
    EXPECT_EQ(order, (std::vector<int>{0, 201, 302})) << "cap " << cap;
  }
}

// Close wakes every parked waiter at once, whatever kind: on one channel a
// thread in Recv, a Select's receive case and an AsyncRecv (each gets
// nullopt), on a full one a thread in Send, a Select's send case and an
// AsyncSelect's (each is told ChannelClosedError).
TEST(ChanTest, CloseWakesEveryKindOfParkedWaiter) {
  for (size_t cap : {0u, 2u}) {
    Chan<int> empty(cap), full(cap);
    for (size_t i = 0; i < cap; ++i) ASSERT_TRUE(full.Send(-1).ok());
    Chan<std::string> woken(8);
    Chan<int> never(0);
    std::vector<std::thread> threads;
    threads.emplace_back([&] {
      ASSERT_TRUE(woken.Send(empty.Recv().has_value() ? "recv: value" : "recv").ok());
    });
    threads.emplace_back([&] {
      Select(OnRecv(empty, [&](std::optional<int> v) {
               ASSERT_TRUE(woken.Send(v.has_value() ? "select recv: value" : "select recv").ok());
             }),
             OnRecv(never, [] { FAIL(); }));
    });
    AsyncRecv(empty, [woken](std::optional<int> v) {
      ASSERT_TRUE(woken.Send(v.has_value() ? "async recv: value" : "async recv").ok());
    });
    threads.emplace_back([&] {
      ASSERT_TRUE(woken.Send(IsChannelClosed(full.Send(1)) ? "send" : "send: not closed").ok());
    });
    threads.emplace_back([&] {
      Select(OnSend(full, 2, [&](absl::Status s) {
               ASSERT_TRUE(woken.Send(IsChannelClosed(s) ? "select send" : "select send: not closed").ok());
             }),
             OnRecv(never, [] { FAIL(); }));
    });
    AsyncSelect(OnSend(full, 3, [woken](absl::Status s) {
      ASSERT_TRUE(woken.Send(IsChannelClosed(s) ? "async send" : "async send: not closed").ok());
    }));
    ASSERT_TRUE(WaitUntil([&] {
      return ParkedReceivers(empty) == 3u && ParkedSenders(full) == 3u;
    }));
    ASSERT_TRUE(empty.Close().ok());
    ASSERT_TRUE(full.Close().ok());
    std::vector<std::string> all;
    for (int i = 0; i < 6; ++i) all.push_back(*woken.Recv());
    for (std::thread& t : threads) t.join();
    std::sort(all.begin(), all.end());
    EXPECT_EQ(all, (std::vector<std::string>{"async recv", "async send", "recv",
                                             "select recv", "select send", "send"}))
        << "cap " << cap;
    EXPECT_EQ(ParkedReceivers(never), 0u);
    for (size_t i = 0; i < cap; ++i) EXPECT_EQ(full.Recv(), -1);  // still drains
    EXPECT_EQ(full.Recv(), std::nullopt);
  }
}

TEST(ChanTest, ParkedSendersAreServedInFifoOrder) {
  for (size_t cap : {0u, 2u}) {
    Chan<int> ch(cap);
    for (size_t i = 0; i < cap; ++i) ASSERT_TRUE(ch.Send(-1).ok());
    constexpr int kN = 5;
    std::vector<std::thread> threads;
    for (int i = 0; i < kN; ++i) {
      threads.emplace_back([&, i] { ASSERT_TRUE(ch.Send(int(i)).ok()); });
      ASSERT_TRUE(WaitUntil([&] { return ParkedSenders(ch) == size_t(i + 1); }));
    }
    for (size_t i = 0; i < cap; ++i) EXPECT_EQ(ch.Recv(), -1);
    for (int i = 0; i < kN; ++i) EXPECT_EQ(ch.Recv(), i) << "cap " << cap;
    for (auto& t : threads) t.join();
  }
}

TEST(ChanTest, TrySendAndTryRecvNeverPark) {
  Chan<int> unbuffered(0);
  EXPECT_TRUE(IsChannelFull(unbuffered.TrySend(1)));  // nobody receiving
  EXPECT_TRUE(IsChannelEmpty(unbuffered.TryRecv().status()));

  Chan<int> ch(1);
  EXPECT_TRUE(IsChannelEmpty(ch.TryRecv().status()));
  EXPECT_TRUE(ch.TrySend(1).ok());
  EXPECT_TRUE(IsChannelFull(ch.TrySend(2)));
  EXPECT_EQ(*ch.TryRecv(), 1);
  ASSERT_TRUE(ch.Close().ok());
  EXPECT_TRUE(IsChannelClosed(ch.TrySend(3)));
  EXPECT_TRUE(IsChannelClosed(ch.TryRecv().status()));
}

// Go's non-blocking receive (seeds/001: `select` with `default`, chanrecv
// with block == false) on a closed channel still takes what is buffered
// first, as a blocking one does, and finds the channel closed only once it
// is drained: a close does not throw away values already sent.
TEST(ChanTest, NonBlockingReceivesDrainAClosedBufferBeforeReportingClosed) {
  Chan<int> ch(3);
  ASSERT_TRUE(ch.Send(1).ok());
  ASSERT_TRUE(ch.Send(2).ok());
  ASSERT_TRUE(ch.Close().ok());
  absl::StatusOr<int> first = ch.TryRecv();
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(*first, 1);
  std::optional<int> got;
  EXPECT_EQ(Select(OnRecv(ch, [&](std::optional<int> v) { got = v; }),
                   OnDefault([] {})),
            0);
  EXPECT_EQ(got, 2);
  EXPECT_TRUE(IsChannelClosed(ch.TryRecv().status()));
  got = 0;
  EXPECT_EQ(Select(OnRecv(ch, [&](std::optional<int> v) { got = v; }),
                   OnDefault([] {})),
            0);
  EXPECT_EQ(got, std::nullopt);
}

// Go's len and cap (seeds/001: qcount and dataqsiz). cap is the buffer's size
// as made, whatever the ring rounds to inside; len counts the values in the
// buffer only. A parked sender's value is not in it: an unbuffered channel's
// len stays 0 with a sender parked, and a full one's stays at its cap, also
// after a receive has promoted the parked value into the freed slot. A closed
// channel keeps its len until drained. A nil channel's are both 0.
TEST(ChanTest, LenAndCapCountTheBufferOnly) {
  Chan<int> nil;
  EXPECT_EQ(nil.size(), 0u);
  EXPECT_EQ(nil.capacity(), 0u);

  Chan<int> unbuffered(0);
  EXPECT_EQ(unbuffered.capacity(), 0u);
  std::thread sender([&] { EXPECT_TRUE(unbuffered.Send(1).ok()); });
  ASSERT_TRUE(WaitUntil([&] { return ParkedSenders(unbuffered) == 1; }));
  EXPECT_EQ(unbuffered.size(), 0u);
  EXPECT_EQ(unbuffered.Recv(), 1);
  sender.join();

  for (size_t cap : {1u, 3u, 5u}) {  // 3 and 5: no power of two
    Chan<int> ch(cap);
    EXPECT_EQ(ch.capacity(), cap);
    for (size_t i = 0; i < cap; ++i) {
      EXPECT_EQ(ch.size(), i) << "cap " << cap;
      ASSERT_TRUE(ch.Send(static_cast<int>(i)).ok());
    }
    EXPECT_EQ(ch.size(), cap);
    std::thread parked([&] { EXPECT_TRUE(ch.Send(-1).ok()); });
    ASSERT_TRUE(WaitUntil([&] { return ParkedSenders(ch) == 1; }));
    EXPECT_EQ(ch.size(), cap) << "cap " << cap << ": counted the parked sender";
    EXPECT_EQ(ch.Recv(), 0);  // promotes the parked value into the freed slot
    parked.join();
    EXPECT_EQ(ch.size(), cap);
    ASSERT_TRUE(ch.Close().ok());
    EXPECT_EQ(ch.capacity(), cap);
    for (size_t left = cap; left > 0; --left) {
      EXPECT_EQ(ch.size(), left) << "cap " << cap << ", closed";
      ASSERT_TRUE(ch.Recv().has_value());
    }
    EXPECT_EQ(ch.size(), 0u);
    EXPECT_EQ(ch.Recv(), std::nullopt);
  }
}

// Go's len(ch) is never more than cap(ch), even as sends and receives race
// it (it reads one count). size() reads the ring's head, then its tail: a
// receive and a send completing between the two reads must not make it count
// a value twice. Observed before the fix: 2 on a channel of capacity 1.
TEST(ChanTest, SizeNeverExceedsCapacityWhileSendsAndReceivesRace) {
  for (size_t cap : {1u, 3u}) {
    Chan<int> ch(cap);
    std::atomic<bool> stop{false};
    std::thread sender([&] {
      while (!stop.load(std::memory_order_relaxed)) (void)ch.TrySend(1);
    });
    std::thread receiver([&] {
      while (!stop.load(std::memory_order_relaxed)) (void)ch.TryRecv();
    });
    size_t most = 0;
    for (int i = 0; i < 100'000'000 / testing::kScale && most <= cap; ++i) {
      most = std::max(most, ch.size());
    }
    stop = true;
    sender.join();
    receiver.join();
    EXPECT_LE(most, cap) << "len over cap " << cap;
  }
}

TEST(ChanTest, TrySendHandsOffToAParkedReceiverOfAnUnbufferedChannel) {
  Chan<int> ch(0);
  std::optional<int> got;
  std::thread receiver([&] { got = ch.Recv(); });
  ASSERT_TRUE(WaitUntil([&] { return ParkedReceivers(ch) == 1; }));
  EXPECT_TRUE(ch.TrySend(9).ok());
  receiver.join();
  EXPECT_EQ(got, 9);
}

TEST(ChanTest, MoveOnlyPayloads) {
  Chan<std::unique_ptr<std::string>> ch(0);
  std::thread sender([&] {
    for (int i = 0; i < 100; ++i) {
      ASSERT_TRUE(ch.Send(std::make_unique<std::string>(std::to_string(i))).ok());
    }
    ASSERT_TRUE(ch.Close().ok());
  });
  int i = 0;
  for (std::unique_ptr<std::string>& s : ch) EXPECT_EQ(*s, std::to_string(i++));
  EXPECT_EQ(i, 100);
  sender.join();
}

// A channel moves a value only once it has committed to the operation: it
// has claimed a slot of the ring, or a parked peer. A move that threw there
// would leave the slot claimed and never published (every later receive
// waits for it forever) or the peer claimed and never woken, with the lock
// still held. So a value that may throw as it moves (one with only a copy
// constructor, say) cannot make a channel; it can travel by pointer.
TEST(ChanTest, OnlyValuesThatMoveWithoutThrowingMakeAChannel) {
  struct MayThrowOnMove {
    MayThrowOnMove() = default;
    MayThrowOnMove(const MayThrowOnMove&) {}  // and so no implicit move
  };
  EXPECT_FALSE(ChannelValue<MayThrowOnMove>);
  EXPECT_TRUE(ChannelValue<std::unique_ptr<MayThrowOnMove>>);
  EXPECT_TRUE(ChannelValue<std::string>);
  // That making a Chan<MayThrowOnMove> does not compile is the test
  // chan_refuses_a_value_whose_move_may_throw (chan_compile_fail.cc).
}

// Every value is destroyed exactly once, whether it was received, left in the
// buffer when the channel died, refused by a closed channel, or handed over
// directly to a parked receiver.
TEST(ChanTest, EachValueIsDestroyedExactlyOnce) {
  Tracked::Reset();
  int values = 0;
  {
    Chan<Tracked> ch(4);
    for (int i = 0; i < 4; ++i, ++values) ASSERT_TRUE(ch.Send(Tracked(i)).ok());
    { auto got = ch.Recv(); }  // received and dropped
    std::optional<Tracked> direct;
    Chan<Tracked> rendezvous(0);
    std::thread receiver([&] { direct = rendezvous.Recv(); });
    ASSERT_TRUE(WaitUntil([&] { return ParkedReceivers(rendezvous) == 1; }));
    ASSERT_TRUE(rendezvous.Send(Tracked(100)).ok());
    ++values;
    receiver.join();
    ASSERT_TRUE(ch.Close().ok());
    Tracked refused(200);
    ++values;
    EXPECT_FALSE(ch.Send(std::move(refused)).ok());
    EXPECT_EQ(refused.v, 200);  // still ours, destroyed at scope end
    EXPECT_EQ(Tracked::values_destroyed.load(), 1);
  }  // three values still buffered die with the channel
  EXPECT_EQ(Tracked::values_destroyed.load(), values);
  EXPECT_EQ(Tracked::live.load(), 0);
}

TEST(ChanTest, NilChannelRefusesInsteadOfBlockingForever) {
  Chan<int> nil;
  EXPECT_TRUE(nil.is_nil());
  EXPECT_TRUE(IsChannelClosed(nil.Send(1)));
  EXPECT_EQ(nil.Recv(), std::nullopt);
  EXPECT_TRUE(IsChannelClosed(nil.Close()));
  // So a range over it ends at once, where Go's would block for ever.
  int iterations = 0;
  for ([[maybe_unused]] int& v : nil) ++iterations;
  EXPECT_EQ(iterations, 0);
}

TEST(ChanTest, HandlesShareOneChannel) {
  Chan<int> a(1);
  Chan<int> b = a;
  EXPECT_TRUE(a == b);
  ASSERT_TRUE(a.Send(3).ok());
  EXPECT_EQ(b.Recv(), 3);
  EXPECT_FALSE(a == Chan<int>(1));
}

TEST(ChanTest, ManyProducersManyConsumersLoseNothing) {
  for (size_t cap : {0u, 1u, 64u}) {
    Chan<int> ch(cap);
    constexpr int kThreads = 4;
    const int per_thread = 20000 / testing::kScale;
    std::atomic<long> sum{0};
    std::atomic<int> count{0};
    std::vector<std::thread> producers, consumers;
    for (int p = 0; p < kThreads; ++p) {
      producers.emplace_back([&] {
        for (int i = 1; i <= per_thread; ++i) ASSERT_TRUE(ch.Send(int(i)).ok());
      });
    }
    for (int c = 0; c < kThreads; ++c) {
      consumers.emplace_back([&] {
        for (int v : ch) {
          sum += v;
          ++count;
        }
      });
    }
    for (auto& t : producers) t.join();
    ASSERT_TRUE(ch.Close().ok());
    for (auto& t : consumers) t.join();
    EXPECT_EQ(count.load(), kThreads * per_thread) << "cap " << cap;
    EXPECT_EQ(sum.load(), long(kThreads) * per_thread * (per_thread + 1) / 2);
  }
}

// Buffered channels pass values through a lock-free ring while nobody is
// parked, and through the lock otherwise. Under contention, with receivers
// that use Recv, TryRecv and Select (which always takes the lock), each
// producer's values still arrive in the order it sent them, and none is lost.
TEST(ChanTest, BufferedFifoPerProducerHoldsAcrossLockFreeAndLockedPaths) {
  for (size_t cap : {1u, 3u, 64u}) {
    Chan<int> ch(cap);
    Chan<int> never;  // a nil channel: its select case never fires
    constexpr int kThreads = 3;
    const int per = 20000 / testing::kScale;
    std::atomic<int> received{0};
    std::vector<std::thread> threads;
    for (int p = 0; p < kThreads; ++p) {
      threads.emplace_back([&, p] {
        for (int i = 0; i < per; ++i) {
          int v = p * per + i;
          if (i % 2 == 0) {
            ASSERT_TRUE(ch.Send(int(v)).ok());
          } else {
            while (!ch.TrySend(int(v)).ok()) std::this_thread::yield();
          }
        }
      });
    }
    for (int c = 0; c < kThreads; ++c) {
      threads.emplace_back([&, c] {
        std::vector<int> last(kThreads, -1);
        for (;;) {
          std::optional<int> v;
          if (c == 0) {
            v = ch.Recv();
          } else if (c == 1) {
            absl::StatusOr<int> r = ch.TryRecv();
            if (IsChannelEmpty(r.status())) {
              std::this_thread::yield();
              continue;
            }
            if (r.ok()) v = *r;
          } else {
            Select(OnRecv(ch, [&](std::optional<int> x) { v = x; }),
                   OnRecv(never, [] {}));
          }
          if (!v.has_value()) return;  // closed and drained
          int p = *v / per, i = *v % per;
          EXPECT_GT(i, last[p]) << "cap " << cap << ": producer " << p;
          last[p] = i;
          ++received;
        }
      });
    }
    for (int p = 0; p < kThreads; ++p) threads[p].join();
    ASSERT_TRUE(ch.Close().ok());
    for (size_t t = kThreads; t < threads.size(); ++t) threads[t].join();
    EXPECT_EQ(received.load(), kThreads * per) << "cap " << cap;
  }
}

// Every Send that returned OK before, or while, the channel was closed is
// received: a lock-free push that claimed its slot just before the close is
// waited for, so no receiver is told "closed and drained" while a value that
// was accepted is still on its way into the buffer.
TEST(ChanTest, EveryAcceptedSendIsReceivedWhenCloseRacesTheSenders) {
  for (int round = 0; round < 200 / testing::kScale; ++round) {
    Chan<int> ch(4);
    std::atomic<int> accepted{0}, received{0};
    std::vector<std::thread> threads;
    for (int p = 0; p < 2; ++p) {
      threads.emplace_back([&] {
        while (ch.Send(1).ok()) ++accepted;
      });
    }
    for (int c = 0; c < 2; ++c) {
      threads.emplace_back([&] {
        while (ch.Recv().has_value()) ++received;
      });
    }
    // Close once values are flowing, from the channel's own evidence.
    ASSERT_TRUE(WaitUntil([&] { return received.load() >= 50; }));
    ASSERT_TRUE(ch.Close().ok());
    for (auto& t : threads) t.join();
    EXPECT_EQ(received.load(), accepted.load()) << "round " << round;
  }
}

// Once the last parked waiter has been served, the channel leaves the locked
// path again: full and empty are reported as such, not as closed.
TEST(ChanTest, BufferedChannelReportsFullAndEmptyAfterServingAParkedReceiver) {
  Chan<int> ch(2);
  std::optional<int> got;
  std::thread receiver([&] { got = ch.Recv(); });
  ASSERT_TRUE(WaitUntil([&] { return ParkedReceivers(ch) == 1; }));
  ASSERT_TRUE(ch.TrySend(1).ok());
  receiver.join();
  EXPECT_EQ(got, 1);
  EXPECT_FALSE(internal::ChanAccess::GateUp(ch)) << "nobody is parked";
  EXPECT_TRUE(ch.TrySend(2).ok());
  EXPECT_TRUE(ch.TrySend(3).ok());
  EXPECT_TRUE(IsChannelFull(ch.TrySend(4)));
  EXPECT_FALSE(internal::ChanAccess::GateUp(ch)) << "full is not parked";
  EXPECT_EQ(ch.size(), 2u);
  EXPECT_EQ(*ch.TryRecv(), 2);
  EXPECT_EQ(*ch.TryRecv(), 3);
  EXPECT_TRUE(IsChannelEmpty(ch.TryRecv().status()));
}

// A callback that parks on a buffered channel is completed by a send from
// another thread, however the two race: the send may take the lock-free path
// right up to the moment the callback's waiter is queued.
TEST(ChanTest, AsyncReceiveOnABufferedChannelNeverMissesASend) {
  for (int i = 0; i < 2000 / testing::kScale; ++i) {
    Chan<int> ch(1);
    Chan<int> done(1);
    std::thread sender([&] { ASSERT_TRUE(ch.Send(int(i)).ok()); });
    AsyncRecv(ch, [done](std::optional<int> v) {
      ASSERT_TRUE(done.TrySend(v.value_or(-1)).ok());
    });
    EXPECT_EQ(done.Recv(), i);
    sender.join();
  }
}

// Likewise for a select that parks to send into a full buffered channel
// while a receiver frees a slot.
TEST(ChanTest, SelectSendIntoAFullBufferNeverMissesAReceive) {
  for (int i = 0; i < 2000 / testing::kScale; ++i) {
    Chan<int> ch(1);
    ASSERT_TRUE(ch.Send(-1).ok());
    std::optional<int> first, second;
    std::thread receiver([&] {
      first = ch.Recv();
      second = ch.Recv();
    });
    Select(OnSend(ch, i, [](absl::Status s) { ASSERT_TRUE(s.ok()); }));
    receiver.join();
    EXPECT_EQ(first, -1);
    EXPECT_EQ(second, i);
  }
}

// A value whose next move, once armed, stops half-way: it reports that it
// has started, then waits until the other side has met it. The ring
// operation that makes the move (between claiming a slot and publishing it)
// is thereby held in flight until the other side either waits for it in the
// ring, or has begun to park (the channel's gate goes up first). The ring
// waits unless a stale read of head or tail hid the operation from it; then
// parking must wait for it (internal/ring.h).
struct HeldOnMove {
  static inline std::atomic<bool> armed{false};
  static inline std::atomic<bool> in_flight{false};
  static inline const Chan<HeldOnMove>* watched = nullptr;

  static void Arm(const Chan<HeldOnMove>* ch) {
    watched = ch;
    in_flight = false;
    armed = true;
  }

  explicit HeldOnMove(int x) : v(x) {}
  HeldOnMove(HeldOnMove&& o) noexcept;
  int v;
};

HeldOnMove::HeldOnMove(HeldOnMove&& o) noexcept : v(o.v) {
  if (!armed.exchange(false)) return;
  in_flight = true;
  const uint64_t waits = internal::ChanAccess::InFlightWaits(*watched);
  while (!internal::ChanAccess::GateUp(*watched) &&
         internal::ChanAccess::InFlightWaits(*watched) == waits) {
    std::this_thread::yield();
  }
}

// A receiver that arrives while a send is between claiming its slot and
// publishing the value must get that value: it waits for it, in the ring or,
// should it park, since parking waits for pushes in flight before it settles
// (internal/ring.h).
TEST(ChanTest, AReceiverArrivingWhileASendIsInFlightGetsTheValue) {
  for (int i = 0; i < 20; ++i) {
    Chan<HeldOnMove> ch(1);
    HeldOnMove::Arm(&ch);
    std::thread sender([&] { ASSERT_TRUE(ch.Send(HeldOnMove(i)).ok()); });
    ASSERT_TRUE(WaitUntil([] { return HeldOnMove::in_flight.load(); }));
    std::atomic<int> got{-2};
    std::thread receiver([&] {
      // A select tries the ring once, without spinning, then takes the lock.
      Select(OnRecv(ch, [&](std::optional<HeldOnMove> v) {
        got = v ? v->v : -1;
      }));
    });
    sender.join();
    bool served = WaitUntil([&] { return got.load() != -2; });
    if (!served) ch.Close().IgnoreError();  // unstick the receiver
    receiver.join();
    ASSERT_TRUE(served) << "the receiver missed the value in flight";
    EXPECT_EQ(got.load(), i);
  }
}

// A sender that finds a full buffer while a receive is between claiming the
// head and freeing its slot must get that slot, in the ring or by parking.
TEST(ChanTest, ASenderArrivingWhileAReceiveIsInFlightGetsTheSlot) {
  for (int i = 0; i < 20; ++i) {
    Chan<HeldOnMove> ch(1);
    ASSERT_TRUE(ch.Send(HeldOnMove(-1)).ok());
    HeldOnMove::Arm(&ch);
    std::atomic<int> first{-2};
    std::thread receiver([&] {
      std::optional<HeldOnMove> v = ch.Recv();
      first = v ? v->v : -3;
    });
    ASSERT_TRUE(WaitUntil([] { return HeldOnMove::in_flight.load(); }));
    std::atomic<bool> sent{false};
    std::thread sender([&] {
      Select(OnSend(ch, HeldOnMove(i), [&](absl::Status s) {
        EXPECT_TRUE(s.ok());
        sent = true;
      }));
    });
    receiver.join();
    EXPECT_EQ(first.load(), -1);
    bool served = WaitUntil([&] { return sent.load(); });
    if (!served) ch.Close().IgnoreError();
    sender.join();
    ASSERT_TRUE(served) << "the sender missed the slot freed in flight";
    std::optional<HeldOnMove> second = ch.Recv();
    ASSERT_TRUE(second.has_value());
    EXPECT_EQ(second->v, i);
  }
}

}  // namespace
}  // namespace handoff
