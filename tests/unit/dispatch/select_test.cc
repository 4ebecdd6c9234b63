// Copyright 2026 The handoff Authors.
//
// Select and AsyncSelect: exactly one case completes, no waiter is left
// behind, and a value is never dropped by the side that lost.

#include "dispatch/select.h"

#include <array>
#include <atomic>
#include <cstddef>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "dispatch/context.h"
#include "gtest/gtest.h"
#include "tests/unit/dispatch/test_util.h"

namespace handoff {
namespace {

using testing::ParkedReceivers;
using testing::ParkedSenders;
using testing::WaitUntil;

TEST(SelectTest, ReadyRecvCaseRunsWithItsValue) {
  Chan<int> a(1), b(1);
  ASSERT_TRUE(b.Send(5).ok());
  std::optional<int> got;
  int i = Select(OnRecv(a, [](std::optional<int>) { FAIL(); }),
                 OnRecv(b, [&](std::optional<int> v) { got = v; }));
  EXPECT_EQ(i, 1);
  EXPECT_EQ(got, 5);
}

TEST(SelectTest, ReadySendCaseDeliversItsValue) {
  Chan<int> full(1), room(1);
  ASSERT_TRUE(full.Send(0).ok());
  absl::Status status = absl::UnknownError("not run");
  int i = Select(OnSend(full, 1, [](absl::Status) { FAIL(); }),
                 OnSend(room, 2, [&](absl::Status s) { status = s; }));
  EXPECT_EQ(i, 1);
  EXPECT_TRUE(status.ok());
  EXPECT_EQ(room.Recv(), 2);
  EXPECT_EQ(full.size(), 1u);  // the losing send left nothing behind
}

TEST(SelectTest, DefaultRunsWhenNothingIsReady) {
  Chan<int> empty(0), full(1);
  ASSERT_TRUE(full.Send(1).ok());
  bool defaulted = false;
  int i = Select(OnRecv(empty, [] { FAIL(); }), OnSend(full, 2, [] { FAIL(); }),
                 OnDefault([&] { defaulted = true; }));
  EXPECT_EQ(i, 2);
  EXPECT_TRUE(defaulted);
  EXPECT_EQ(ParkedReceivers(empty), 0u);
  EXPECT_EQ(ParkedSenders(full), 0u);
}

TEST(SelectTest, RecvCaseOnAClosedChannelGetsNullopt) {
  Chan<int> ch(0);
  ASSERT_TRUE(ch.Close().ok());
  std::optional<int> got = 1;
  Select(OnRecv(ch, [&](std::optional<int> v) { got = v; }));
  EXPECT_EQ(got, std::nullopt);
}

TEST(SelectTest, SendCaseOnAClosedChannelGetsAnError) {
  Chan<int> ch(0);
  ASSERT_TRUE(ch.Close().ok());
  absl::Status status;
  Select(OnSend(ch, 1, [&](absl::Status s) { status = s; }));
  EXPECT_TRUE(IsChannelClosed(status));
}

// Go's nil-channel idiom: a case on a nil channel is switched off.
TEST(SelectTest, NilChannelCaseNeverFires) {
  Chan<int> nil;
  Chan<int> ready(1);
  ASSERT_TRUE(ready.Send(1).ok());
  for (int k = 0; k < 100; ++k) {
    int i = Select(OnRecv(nil, [] { FAIL(); }), OnSend(nil, 1, [] { FAIL(); }),
                   OnDefault([] {}));
    EXPECT_EQ(i, 2);
  }
  EXPECT_EQ(Select(OnRecv(nil, [] { FAIL(); }), OnRecv(ready, [] {})), 1);
}

TEST(SelectTest, DoneCaseFiresWhenTheContextIsCancelled) {
  Chan<int> never(0);
  auto [ctx, cancel] = WithCancel(Context::Background());
  std::thread canceller([&] {
    ASSERT_TRUE(WaitUntil([&] { return ParkedReceivers(never) == 1; }));
    cancel();
  });
  int i = Select(OnRecv(never, [] { FAIL(); }), OnDone(ctx, [] {}));
  canceller.join();
  EXPECT_EQ(i, 1);
  EXPECT_TRUE(absl::IsCancelled(ctx.Err()));
}

// A select parked on three channels is completed by exactly one of them, and
// afterwards none of its waiters remain on the other two.
TEST(SelectTest, ParkedSelectCompletesOnceAndLeavesNoWaiter) {
  Chan<int> a(0), b(0), c(0);
  int chosen = -1;
  std::optional<int> got;
  std::thread selector([&] {
    chosen = Select(OnRecv(a, [] { FAIL(); }),
                    OnRecv(b, [&](std::optional<int> v) { got = v; }),
                    OnRecv(c, [] { FAIL(); }));
  });
  ASSERT_TRUE(WaitUntil([&] {
    return ParkedReceivers(a) == 1 && ParkedReceivers(b) == 1 && ParkedReceivers(c) == 1;
  }));
  ASSERT_TRUE(b.Send(8).ok());
  selector.join();
  EXPECT_EQ(chosen, 1);
  EXPECT_EQ(got, 8);
  EXPECT_EQ(ParkedReceivers(a), 0u);
  EXPECT_EQ(ParkedReceivers(b), 0u);
  EXPECT_EQ(ParkedReceivers(c), 0u);
  // Nothing is listening any more: a send finds no receiver.
  EXPECT_TRUE(IsChannelFull(a.TrySend(1)));
  EXPECT_TRUE(IsChannelFull(c.TrySend(1)));
}

// A select of as many channels as it may have (kMaxSelectCases, 64; more
// do not compile: select_refuses_more_than_64_cases_*), one case each.
using SixtyFour = std::array<Chan<int>, kMaxSelectCases>;

// Selects on every channel of `chs`; the chosen case's value goes to *got.
template <size_t... I>
int SelectOnEach(const SixtyFour& chs, std::optional<int>* got,
                 std::index_sequence<I...>) {
  return Select(OnRecv(chs[I], [got](std::optional<int> v) { *got = v; })...);
}
int SelectOnEach(const SixtyFour& chs, std::optional<int>* got) {
  return SelectOnEach(chs, got, std::make_index_sequence<kMaxSelectCases>());
}

// The one ready channel among 64 wins wherever it stands, and a select parked
// on all 64 is woken by the last one, leaving nothing behind on the others.
TEST(SelectTest, ASelectOfSixtyFourChannelsTakesTheOneThatIsReady) {
  SixtyFour buffered;
  for (Chan<int>& ch : buffered) ch = Chan<int>(1);
  for (int k : {0, 1, 31, 62, 63}) {
    ASSERT_TRUE(buffered[static_cast<size_t>(k)].Send(100 + k).ok());
    std::optional<int> got;
    EXPECT_EQ(SelectOnEach(buffered, &got), k);
    EXPECT_EQ(got, 100 + k);
  }

  SixtyFour unbuffered;
  for (Chan<int>& ch : unbuffered) ch = Chan<int>(0);
  int chosen = -1;
  std::optional<int> got;
  std::thread selector([&] { chosen = SelectOnEach(unbuffered, &got); });
  ASSERT_TRUE(WaitUntil([&] {
    for (const Chan<int>& ch : unbuffered) {
      if (ParkedReceivers(ch) != 1) return false;
    }
    return true;
  }));
  ASSERT_TRUE(unbuffered.back().Send(7).ok());
  selector.join();
  EXPECT_EQ(chosen, kMaxSelectCases - 1);
  EXPECT_EQ(got, 7);
  for (const Chan<int>& ch : unbuffered) EXPECT_EQ(ParkedReceivers(ch), 0u);
}

TEST(SelectTest, ParkedSendCaseIsTakenByAReceiver) {
  Chan<int> out(0), quiet(0);
  absl::Status status = absl::UnknownError("not run");
  std::thread selector([&] {
    Select(OnSend(out, 3, [&](absl::Status s) { status = s; }),
           OnRecv(quiet, [] { FAIL(); }));
  });
  ASSERT_TRUE(WaitUntil([&] { return ParkedSenders(out) == 1; }));
  EXPECT_EQ(out.Recv(), 3);
  selector.join();
  EXPECT_TRUE(status.ok());
  EXPECT_EQ(ParkedReceivers(quiet), 0u);
}

// Go panics in a select parked on a send when the channel closes; here the
// case is told, its value is not delivered but destroyed once with the
// select, and the other cases' waiters are gone. Unbuffered, and buffered
// and full, where the buffered value is still received first.
TEST(SelectTest, AParkedSendCaseIsToldWhenItsChannelCloses) {
  using testing::Tracked;
  for (int capacity : {0, 1}) {
    SCOPED_TRACE(capacity);
    Tracked::Reset();
    {
      Chan<Tracked> out(capacity);
      Chan<int> quiet(0);
      if (capacity == 1) {
        ASSERT_TRUE(out.Send(Tracked(0)).ok());
      }
      absl::Status status = absl::UnknownError("not run");
      std::thread selector([&] {
        Select(OnSend(out, Tracked(1), [&](absl::Status s) { status = s; }),
               OnRecv(quiet, [] { FAIL() << "nothing was sent on quiet"; }));
      });
      ASSERT_TRUE(WaitUntil([&] { return ParkedSenders(out) == 1; }));
      ASSERT_TRUE(out.Close().ok());
      selector.join();
      EXPECT_TRUE(IsChannelClosed(status)) << status;
      EXPECT_EQ(ParkedReceivers(quiet), 0u);
      if (capacity == 1) {
        std::optional<Tracked> first = out.Recv();
        ASSERT_TRUE(first.has_value());
        EXPECT_EQ(first->v, 0);
      }
      EXPECT_FALSE(out.Recv().has_value()) << "the parked value was delivered";
    }
    EXPECT_EQ(Tracked::values_destroyed, capacity + 1);
    EXPECT_EQ(Tracked::live, 0);
  }
}

// seeds/002's request/response: the request carries its own reply channel.
// And seeds/000's: one reply channel, the caller's, serves its requests in
// turn, each answer the one to its own request.
TEST(SelectTest, RequestCarriesItsReplyChannel) {
  struct Request {
    int n;
    Chan<int> reply;
  };
  Chan<Request> requests(0);
  std::thread server([&] {
    for (Request& r : requests) ASSERT_TRUE(r.reply.Send(r.n * r.n).ok());
  });
  for (int i = 0; i < 10; ++i) {
    Request r{i, Chan<int>(1)};
    Chan<int> reply = r.reply;
    ASSERT_TRUE(requests.Send(std::move(r)).ok());
    EXPECT_EQ(reply.Recv(), i * i);
  }
  Chan<int> mine(0);
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(requests.Send(Request{i, mine}).ok());
    EXPECT_EQ(mine.Recv(), i * i);
  }
  ASSERT_TRUE(requests.Close().ok());
  server.join();
}

TEST(AsyncSelectTest, CompletesInlineWhenACaseIsReady) {
  Chan<int> ch(1);
  ASSERT_TRUE(ch.Send(4).ok());
  std::optional<int> got;
  std::thread::id ran_on;
  AsyncRecv(ch, [&](std::optional<int> v) {
    got = v;
    ran_on = std::this_thread::get_id();
  });
  EXPECT_EQ(got, 4);
  EXPECT_EQ(ran_on, std::this_thread::get_id());
}

// The callback runs exactly once, on whichever thread made it ready.
TEST(AsyncSelectTest, CallbackRunsOnceOnTheThreadThatMadeItReady) {
  Chan<int> ch(0);
  Chan<std::thread::id> ran_on(1);
  std::atomic<int> runs{0};
  AsyncRecv(ch, [&](std::optional<int> v) {
    EXPECT_EQ(v, 6);
    ++runs;
    ASSERT_TRUE(ran_on.Send(std::this_thread::get_id()).ok());
  });
  EXPECT_EQ(ParkedReceivers(ch), 1u);  // no thread waits: a record is queued
  std::thread::id sender_id;
  std::thread sender([&] {
    sender_id = std::this_thread::get_id();
    ASSERT_TRUE(ch.Send(6).ok());
  });
  sender.join();
  EXPECT_EQ(ran_on.Recv(), sender_id);
  EXPECT_EQ(runs.load(), 1);
  EXPECT_EQ(ParkedReceivers(ch), 0u);
}

TEST(AsyncSelectTest, CloseCompletesTheWaiterWithNullopt) {
  Chan<int> ch(0);
  std::optional<std::optional<int>> got;
  AsyncRecv(ch, [&](std::optional<int> v) { got = v; });
  EXPECT_FALSE(got.has_value());
  ASSERT_TRUE(ch.Close().ok());
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(*got, std::nullopt);
}

// A waiting AsyncSelect's function runs inside another thread's channel
// operation, which may have more waiters to wake: a Close() wakes them all.
// An exception from it has nowhere to go. Let out of that operation, it
// skipped every waiter after it, to wait forever, and reached a caller whose
// own operation had succeeded. So it ends the process, as an exception
// leaving a std::thread's function does.
TEST(AsyncSelectDeathTest, AWaitingCallbackThatThrowsEndsTheProcess) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        Chan<int> ch(0);
        bool second_ran = false;
        AsyncRecv(ch, [](std::optional<int>) {
          throw std::runtime_error("callback threw");
        });
        AsyncRecv(ch, [&](std::optional<int>) { second_ran = true; });
        ch.Close().IgnoreError();
        // Not reached; before, Close() threw, and without it the second
        // waiter would have been left behind:
        if (!second_ran) std::abort();
      },
      "callback threw");
}

// A function that runs inline throws to AsyncSelect's caller. It runs
// inline also when no case was ready at the first look but one turned ready
// as the select queued its waiter: a send in flight on the buffered channel,
// which the receiver awaits before it parks, and which then claims it. That
// completion once went through the waiter's Wake(), on the caller's thread,
// and ended the process. A sender that never waits keeps sends in flight;
// each round waits for the previous function, so the channel is often
// empty as a receive starts (ended the process within 200,000 rounds in
// each of ten runs before the fix).
TEST(AsyncSelectTest, AnInlineFunctionThatThrowsReachesTheCallerAlsoIfACaseTurnedReadyAsItQueued) {
  constexpr int kRounds = 200000;
  Chan<int> ch(1);
  const std::thread::id caller = std::this_thread::get_id();
  std::atomic<bool> stop{false};
  std::atomic<bool> pending{false};
  std::thread sender([&] {
    while (!stop.load(std::memory_order_relaxed)) {
      if (!ch.TrySend(1).ok()) std::this_thread::yield();  // full: let it drain
    }
  });
  int caught = 0;
  int ran_elsewhere = 0;
  for (int i = 0; i < kRounds; ++i) {
    while (pending.load(std::memory_order_acquire)) std::this_thread::yield();
    pending.store(true, std::memory_order_relaxed);
    try {
      AsyncRecv(ch, [&](std::optional<int>) {
        if (std::this_thread::get_id() == caller) throw std::runtime_error("inline");
        ++ran_elsewhere;  // only while the caller waits on `pending`
        pending.store(false, std::memory_order_release);
      });
    } catch (const std::runtime_error&) {
      ++caught;
      pending.store(false, std::memory_order_relaxed);
    }
  }
  while (pending.load(std::memory_order_acquire)) std::this_thread::yield();
  stop.store(true);
  sender.join();
  EXPECT_EQ(caught + ran_elsewhere, kRounds);
  EXPECT_GT(caught, 0);
}

// Cancelling through a Context releases the waiter, and the reply sent later
// is not lost: it waits in the (buffered) reply channel.
TEST(AsyncSelectTest, ContextCancellationReleasesTheWaiter) {
  Chan<std::string> reply(1);
  auto [ctx, cancel] = WithCancel(Context::Background());
  int which = -1;
  AsyncSelect(OnRecv(reply, [&] { which = 0; }), OnDone(ctx, [&] { which = 1; }));
  EXPECT_EQ(ParkedReceivers(reply), 1u);
  cancel();
  EXPECT_EQ(which, 1);
  EXPECT_EQ(ParkedReceivers(reply), 0u) << "the losing case left its waiter behind";
  ASSERT_TRUE(reply.TrySend("late").ok());  // the worker never blocks
  EXPECT_EQ(*reply.TryRecv(), "late");
}

// Runs `other` on a new thread and `mine` on this one, released together:
// starting a thread takes longer than the races below last, so without the
// gate the thread started second would almost never win.
template <typename F, typename G>
void RaceTogether(F other, G mine) {
  std::atomic<int> ready{0};
  auto arrive_and_wait = [&ready] {
    ready.fetch_add(1);
    while (ready.load() < 2) std::this_thread::yield();
  };
  std::thread t([&] {
    arrive_and_wait();
    other();
  });
  arrive_and_wait();
  mine();
  t.join();
}

// The defect of asio's `||` (asio issue 1041): the losing branch may already
// have taken a value, which is then dropped. Here a value is taken only by the
// case that won, so every successful send is received: race a sender against
// a canceller many times and count.
TEST(AsyncSelectTest, ValueTakenIsNeverDroppedByTheLosingSide) {
  const int rounds = 20000 / testing::kScale;
  int sent = 0, received = 0, cancelled = 0;
  for (int r = 0; r < rounds; ++r) {
    Chan<int> ch(0);  // unbuffered: a send succeeds only into a receiver
    auto [ctx, cancel] = WithCancel(Context::Background());
    Chan<int> outcome(1);
    AsyncSelect(OnRecv(ch,
                       [&](std::optional<int> v) {
                         ASSERT_TRUE(v.has_value());
                         ASSERT_TRUE(outcome.Send(0).ok());
                       }),
                OnDone(ctx, [&] { ASSERT_TRUE(outcome.Send(1).ok()); }));
    absl::Status s;
    RaceTogether(cancel, [&] { s = ch.TrySend(int(r)); });
    int o = *outcome.Recv();
    if (s.ok()) {
      ++sent;
      EXPECT_EQ(o, 0) << "round " << r << ": a delivered value was dropped";
    }
    (o == 0 ? received : cancelled)++;
  }
  EXPECT_EQ(sent, received);
  EXPECT_EQ(sent + cancelled, rounds);
}

TEST(AsyncSelectTest, AParkedSendCaseIsToldWhenItsChannelCloses) {
  using testing::Tracked;
  Tracked::Reset();
  {
    Chan<Tracked> out(0);
    Chan<int> quiet(0);
    Chan<absl::Status> outcome(1);
    AsyncSelect(OnSend(out, Tracked(1),
                       [outcome](absl::Status s) {
                         ASSERT_TRUE(outcome.Send(std::move(s)).ok());
                       }),
                OnRecv(quiet, [] { FAIL() << "nothing was sent on quiet"; }));
    ASSERT_EQ(ParkedSenders(out), 1u);
    ASSERT_TRUE(out.Close().ok());
    std::optional<absl::Status> s = outcome.Recv();
    ASSERT_TRUE(s.has_value());
    EXPECT_TRUE(IsChannelClosed(*s)) << *s;
    EXPECT_EQ(ParkedReceivers(quiet), 0u);
    EXPECT_FALSE(out.Recv().has_value()) << "the parked value was delivered";
  }
  EXPECT_EQ(Tracked::values_destroyed, 1);
  EXPECT_EQ(Tracked::live, 0);
}

// The send side of the race above, which admission runs for every call that
// waits for queue room ({jobs <- job, ctx.Done()}): the value reaches the
// receiver exactly when the send case is the one that reports, so a job is
// never both queued and refused, nor lost.
TEST(AsyncSelectTest, ASendCaseRacingACancelDeliversExactlyWhenItWins) {
  const int rounds = 20000 / testing::kScale;
  for (int r = 0; r < rounds; ++r) {
    Chan<int> ch(0);  // unbuffered: the send completes only into a receiver
    auto [ctx, cancel] = WithCancel(Context::Background());
    Chan<int> outcome(1);
    AsyncSelect(OnSend(ch, int(r),
                       [outcome](absl::Status s) {
                         ASSERT_TRUE(s.ok()) << s;
                         ASSERT_TRUE(outcome.Send(0).ok());
                       }),
                OnDone(ctx, [outcome] { ASSERT_TRUE(outcome.Send(1).ok()); }));
    absl::StatusOr<int> got = absl::UnknownError("not tried");
    RaceTogether(cancel, [&] { got = ch.TryRecv(); });
    const int o = *outcome.Recv();
    if (got.ok()) {
      EXPECT_EQ(*got, r);
      EXPECT_EQ(o, 0) << "round " << r << ": delivered, but the cancel reported";
    } else {
      EXPECT_EQ(o, 1) << "round " << r << ": the send reported, but nothing came";
    }
    EXPECT_EQ(ParkedSenders(ch), 0u) << "round " << r;
    EXPECT_FALSE(outcome.TryRecv().ok())
        << "round " << r << ": both cases reported";
    if (::testing::Test::HasFailure()) break;
  }
}

// Many async selects, parked on two channels, racing one sender that feeds
// them both: every callback runs exactly once, and none is left parked.
TEST(AsyncSelectTest, StressEveryCallbackRunsExactlyOnce) {
  const int kOps = 20000 / testing::kScale;
  Chan<int> a(0), b(4);
  std::atomic<int> runs{0};
  std::vector<std::atomic<int>> per_op(kOps);
  std::thread feeder([&] {
    for (int i = 0; i < kOps; ++i) {
      ASSERT_TRUE((i % 2 ? a : b).Send(int(i)).ok());
    }
  });
  for (int i = 0; i < kOps; ++i) {
    AsyncSelect(OnRecv(a, [&, i] { ++per_op[i]; ++runs; }),
                OnRecv(b, [&, i] { ++per_op[i]; ++runs; }));
  }
  feeder.join();
  ASSERT_TRUE(WaitUntil([&] { return runs.load() == kOps; }));
  for (int i = 0; i < kOps; ++i) ASSERT_EQ(per_op[i].load(), 1) << "op " << i;
  EXPECT_EQ(ParkedReceivers(a) + ParkedReceivers(b), 0u);
}

}  // namespace
}  // namespace handoff
