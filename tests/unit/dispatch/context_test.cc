// Copyright 2026 The handoff Authors.
//
// Context: cancellation and deadlines, Go's context semantics.

#include "dispatch/context.h"

#include <dirent.h>

#include <atomic>
#include <thread>
#include <vector>

#include "dispatch/clock.h"
#include "gtest/gtest.h"
#include "tests/unit/dispatch/test_util.h"

namespace handoff {
namespace {

int ThreadCount() {
  int n = 0;
  DIR* d = opendir("/proc/self/task");
  if (d == nullptr) return -1;
  while (dirent* e = readdir(d)) {
    if (e->d_name[0] != '.') ++n;
  }
  closedir(d);
  return n;
}

TEST(ContextTest, BackgroundIsNeverDone) {
  Context bg = Context::Background();
  EXPECT_TRUE(bg.Done().is_nil());
  EXPECT_TRUE(bg.Err().ok());
  EXPECT_FALSE(bg.IsDone());
  EXPECT_EQ(bg.Deadline(), absl::InfiniteFuture());
  // A select case on it never fires.
  EXPECT_EQ(Select(OnDone(bg, [] { FAIL(); }), OnDefault([] {})), 1);
}

// Go's Err is nil while Done is open: a live context of every kind, and a
// child of a live parent, reports OK and is not done, so that a worker's
// "if ctx.Err() != nil, skip" (seeds/004) skips only what was given up.
TEST(ContextTest, ALiveContextHasNoErrAndAnOpenDone) {
  auto [cancellable, cancel] = WithCancel(Context::Background());
  auto [timed, cancel_timed] = WithTimeout(cancellable, absl::Hours(1));
  auto [dated, cancel_dated] =
      WithDeadline(timed, MonotonicNow() + absl::Hours(2));
  for (const Context* ctx : {&cancellable, &timed, &dated}) {
    EXPECT_TRUE(ctx->Err().ok()) << ctx->Err();
    EXPECT_FALSE(ctx->IsDone());
    EXPECT_FALSE(ctx->Done().is_nil());
    EXPECT_TRUE(IsChannelEmpty(ctx->Done().TryRecv().status()));
  }
  cancel_dated();  // a child's cancel leaves its ancestors live
  EXPECT_TRUE(absl::IsCancelled(dated.Err()));
  EXPECT_TRUE(timed.Err().ok()) << timed.Err();
  EXPECT_TRUE(cancellable.Err().ok()) << cancellable.Err();
}

TEST(ContextTest, CancelClosesDoneExactlyOnce) {
  auto [ctx, cancel] = WithCancel(Context::Background());
  EXPECT_FALSE(ctx.IsDone());
  EXPECT_TRUE(IsChannelEmpty(ctx.Done().TryRecv().status()));
  cancel();
  cancel();  // a second cancel is a no-op, not a double close
  EXPECT_TRUE(ctx.IsDone());
  EXPECT_TRUE(absl::IsCancelled(ctx.Err()));
  EXPECT_EQ(ctx.Err().message(), "context canceled");
  EXPECT_EQ(ctx.Done().Recv(), std::nullopt);  // closed, carries no value
  EXPECT_TRUE(ctx.Done().closed());
}

TEST(ContextTest, CancelWakesEveryWaiter) {
  auto [ctx, cancel] = WithCancel(Context::Background());
  constexpr int kWaiters = 4;
  std::atomic<int> woken{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kWaiters; ++i) {
    threads.emplace_back([&, ctx = ctx] {
      ctx.Done().Recv();
      ++woken;
    });
  }
  ASSERT_TRUE(testing::WaitUntil(
      [&] { return testing::ParkedReceivers(ctx.Done()) == kWaiters; }));
  cancel();
  for (auto& t : threads) t.join();
  EXPECT_EQ(woken.load(), kWaiters);
}

TEST(ContextTest, DeadlineFiresWithDeadlineExceeded) {
  auto [ctx, cancel] = WithTimeout(Context::Background(), absl::Milliseconds(20));
  EXPECT_EQ(ctx.Done().Recv(), std::nullopt);  // blocks until the timer fires
  EXPECT_GE(MonotonicNow(), ctx.Deadline()) << "fired early";
  EXPECT_TRUE(absl::IsDeadlineExceeded(ctx.Err()));
  EXPECT_EQ(ctx.Err().message(), "context deadline exceeded");
  cancel();  // after the deadline: changes nothing
  EXPECT_TRUE(absl::IsDeadlineExceeded(ctx.Err()));
}

TEST(ContextTest, CancelBeforeTheDeadlineWins) {
  auto [ctx, cancel] = WithTimeout(Context::Background(), absl::Hours(1));
  EXPECT_NE(ctx.Deadline(), absl::InfiniteFuture());
  cancel();
  EXPECT_TRUE(absl::IsCancelled(ctx.Err()));
}

TEST(ContextTest, PastDeadlineIsDoneFromTheStart) {
  auto [ctx, cancel] = WithDeadline(Context::Background(),
                                    MonotonicNow() - absl::Seconds(1));
  EXPECT_TRUE(ctx.IsDone());
  EXPECT_TRUE(absl::IsDeadlineExceeded(ctx.Err()));
}

TEST(ContextTest, ChildIsCancelledWithItsParentNeverTheReverse) {
  auto [parent, cancel_parent] = WithCancel(Context::Background());
  auto [child, cancel_child] = WithCancel(parent);
  auto [sibling, cancel_sibling] = WithCancel(parent);
  auto [grandchild, cancel_grandchild] = WithTimeout(child, absl::Hours(1));

  cancel_sibling();
  EXPECT_FALSE(parent.IsDone()) << "a child's cancellation reached its parent";
  EXPECT_FALSE(child.IsDone());

  cancel_parent();
  EXPECT_TRUE(absl::IsCancelled(child.Err()));
  EXPECT_TRUE(absl::IsCancelled(grandchild.Err()));
  EXPECT_EQ(child.Done().Recv(), std::nullopt);
  EXPECT_EQ(grandchild.Done().Recv(), std::nullopt);
}

// A cancel marks the whole subtree done before it wakes anything waiting
// on a Done(): what wakes may act on a sibling, and must find it done. (A
// Work stopped by its stream's cancel freed its worker, which ran the
// stream's next queued job, a sibling not yet cancelled.) Each sibling's
// waiter looks at the other: whichever the cancel reaches first, both see
// the other done.
TEST(ContextTest, ACancelMarksTheWholeSubtreeBeforeItWakesAWaiter) {
  auto [parent, cancel_parent] = WithCancel(Context::Background());
  auto [first, cancel_first] = WithCancel(parent);
  auto [second, cancel_second] = WithCancel(parent);
  auto [nephew, cancel_nephew] = WithCancel(second);
  bool first_saw_second = false, second_saw_first = false, first_saw_nephew = false;
  AsyncSelect(OnDone(first, [&, second = second, nephew = nephew] {
    first_saw_second = second.IsDone();
    first_saw_nephew = absl::IsCancelled(nephew.Err());
  }));
  AsyncSelect(OnDone(second, [&, first = first] { second_saw_first = first.IsDone(); }));
  cancel_parent();  // the waiters run here, on this thread
  EXPECT_TRUE(first_saw_second);
  EXPECT_TRUE(second_saw_first);
  EXPECT_TRUE(first_saw_nephew);
}

TEST(ContextTest, ChildInheritsTheParentsDeadlineError) {
  auto [parent, cancel_parent] =
      WithTimeout(Context::Background(), absl::Milliseconds(10));
  auto [child, cancel_child] = WithCancel(parent);
  EXPECT_EQ(child.Deadline(), parent.Deadline());
  EXPECT_EQ(child.Done().Recv(), std::nullopt);
  EXPECT_TRUE(absl::IsDeadlineExceeded(child.Err()));
}

// A child's own deadline ends the child and its subtree, with
// DEADLINE_EXCEEDED, and never reaches its parent or its siblings (Go's
// WithDeadline: the timer cancels the child's context alone).
TEST(ContextTest, AChildsDeadlineEndsItsSubtreeNeverItsParentOrSiblings) {
  auto [parent, cancel_parent] = WithCancel(Context::Background());
  auto [sibling, cancel_sibling] = WithTimeout(parent, absl::Hours(1));
  auto [child, cancel_child] = WithTimeout(parent, absl::Milliseconds(1));
  auto [grandchild, cancel_grandchild] = WithCancel(child);
  EXPECT_EQ(grandchild.Deadline(), child.Deadline());
  EXPECT_EQ(child.Done().Recv(), std::nullopt);  // blocks until the timer fires
  EXPECT_TRUE(absl::IsDeadlineExceeded(child.Err())) << child.Err();
  EXPECT_EQ(grandchild.Done().Recv(), std::nullopt);
  EXPECT_TRUE(absl::IsDeadlineExceeded(grandchild.Err())) << grandchild.Err();
  EXPECT_FALSE(parent.IsDone()) << "a child's deadline reached its parent";
  EXPECT_FALSE(sibling.IsDone()) << "a child's deadline reached its sibling";
  EXPECT_TRUE(IsChannelEmpty(parent.Done().TryRecv().status()));
  EXPECT_TRUE(IsChannelEmpty(sibling.Done().TryRecv().status()));
  // The parent's cancel still reaches the sibling, and leaves the expired
  // child's error as it was.
  cancel_parent();
  EXPECT_TRUE(absl::IsCancelled(sibling.Err()));
  EXPECT_TRUE(absl::IsDeadlineExceeded(child.Err()));
}

TEST(ContextTest, ChildDeadlineIsTheEarlierOfItsOwnAndItsParents) {
  auto [parent, cancel_parent] = WithTimeout(Context::Background(), absl::Hours(1));
  auto [later, cancel_later] = WithTimeout(parent, absl::Hours(2));
  auto [sooner, cancel_sooner] = WithTimeout(parent, absl::Minutes(1));
  EXPECT_EQ(later.Deadline(), parent.Deadline());
  EXPECT_LT(sooner.Deadline(), parent.Deadline());
}

TEST(ContextTest, ChildOfADoneParentIsDoneAtOnce) {
  auto [parent, cancel_parent] = WithCancel(Context::Background());
  cancel_parent();
  auto [child, cancel_child] = WithTimeout(parent, absl::Hours(1));
  EXPECT_TRUE(absl::IsCancelled(child.Err()));
}

// Once cancel() has returned, Done() is closed throughout the subtree: a
// non-blocking select takes the Done case over its default, for the context
// and for every descendant, and goes on taking it (a closed Done() carries no
// value, so no receive uses it up). Done() is the one channel it was before
// the cancel. A deadline that fired counts the same way, and a child made
// afterwards is done from the start with the parent's error.
TEST(ContextTest, OnceCancelReturnsEveryDoneInTheSubtreeIsClosed) {
  auto [parent, cancel_parent] = WithCancel(Context::Background());
  auto [child, cancel_child] = WithTimeout(parent, absl::Hours(1));
  auto [grandchild, cancel_grandchild] = WithCancel(child);
  const Chan<std::monostate> done_before = grandchild.Done();
  auto done_now = [](const Context& ctx) {
    return Select(OnDone(ctx, [] {}), OnDefault([] {})) == 0;
  };
  EXPECT_FALSE(done_now(parent));
  EXPECT_FALSE(done_now(grandchild));
  cancel_parent();
  for (int round = 0; round < 3; ++round) {
    for (const Context* ctx : {&parent, &child, &grandchild}) {
      EXPECT_TRUE(done_now(*ctx)) << "round " << round;
      EXPECT_TRUE(IsChannelClosed(ctx->Done().TryRecv().status()));
      EXPECT_TRUE(absl::IsCancelled(ctx->Err())) << ctx->Err();
    }
  }
  EXPECT_TRUE(grandchild.Done() == done_before) << "Done() changed at the cancel";

  auto [timed, cancel_timed] = WithTimeout(Context::Background(), absl::Milliseconds(5));
  EXPECT_EQ(timed.Done().Recv(), std::nullopt);  // waits for the deadline
  EXPECT_TRUE(done_now(timed));
  auto [late, cancel_late] = WithCancel(timed);
  EXPECT_TRUE(done_now(late));
  EXPECT_TRUE(absl::IsDeadlineExceeded(late.Err())) << late.Err();
}

TEST(ContextTest, AsyncWaiterRunsOnTheCancellingThread) {
  auto [ctx, cancel] = WithCancel(Context::Background());
  std::thread::id ran_on;
  AsyncSelect(OnDone(ctx, [&] { ran_on = std::this_thread::get_id(); }));
  std::thread::id canceller_id;
  std::thread canceller([&, cancel = cancel] {
    canceller_id = std::this_thread::get_id();
    cancel();
  });
  canceller.join();
  EXPECT_EQ(ran_on, canceller_id);
}

// A select that waits on a context whose handles are all gone still sees it
// done, as in Go, where the timer and the parent keep a context: the case
// holds the context, not only its Done() channel.
TEST(ContextTest, AWaiterOnADroppedContextStillSeesItsDeadline) {
  Chan<int> fired(1);
  {
    auto [ctx, cancel] = WithTimeout(Context::Background(), absl::Milliseconds(10));
    AsyncSelect(OnDone(ctx, [fired] { fired.TrySend(1).IgnoreError(); }));
  }
  auto [bound, stop] = WithTimeout(Context::Background(), absl::Seconds(30));
  bool seen = false;
  Select(OnRecv(fired, [&](std::optional<int>) { seen = true; }), OnDone(bound, [] {}));
  EXPECT_TRUE(seen) << "the dropped context's deadline never closed its Done()";
  stop();
}

TEST(ContextTest, AWaiterOnADroppedChildStillSeesItsParentsCancel) {
  auto [parent, cancel_parent] = WithCancel(Context::Background());
  bool fired = false;
  {
    auto [child, cancel_child] = WithCancel(parent);
    AsyncSelect(OnDone(child, [&fired] { fired = true; }));
  }
  cancel_parent();  // waiters run on the cancelling thread, before it returns
  EXPECT_TRUE(fired);
}

// Deadlines share one timer thread: a hundred thousand of them add no thread.
TEST(ContextTest, HundredThousandDeadlinesCreateNoExtraThreads) {
  { auto warm = WithTimeout(Context::Background(), absl::Hours(1)); }
  int before = ThreadCount();
  ASSERT_GT(before, 0);
  std::vector<std::pair<Context, CancelFunc>> contexts;
  const int n = 100000 / testing::kScale;
  contexts.reserve(n);
  for (int i = 0; i < n; ++i) {
    contexts.push_back(WithTimeout(Context::Background(),
                                   absl::Seconds(30) + absl::Microseconds(i)));
  }
  EXPECT_EQ(ThreadCount(), before);
  // And they all fire from that thread: the first thousand, quickly.
  std::vector<std::pair<Context, CancelFunc>> soon;
  for (int i = 0; i < 1000; ++i) {
    soon.push_back(WithTimeout(Context::Background(), absl::Milliseconds(5)));
  }
  for (auto& [ctx, cancel] : soon) EXPECT_EQ(ctx.Done().Recv(), std::nullopt);
  EXPECT_EQ(ThreadCount(), before);
  for (auto& [ctx, cancel] : contexts) cancel();
}

}  // namespace
}  // namespace handoff
