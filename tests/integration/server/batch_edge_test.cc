// Copyright 2026 The handoff Authors.
//
// Batch at its edges, as a client meets them.

#include <atomic>
#include <memory>
#include <string>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "dispatch/clock.h"
#include "server/batch_call.h"
#include "tests/integration/server/server_fixture.h"

namespace handoff::testing {
namespace {

using BatchEdgeTest = ServerTest;

// No items: OK at once with an empty reply, counted as one call, no job.
TEST_F(BatchEdgeTest, AnEmptyBatchIsOkWithNoItems) {
  grpc::ClientContext ctx;
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
  v1::BatchRequest req;
  v1::BatchReply reply;
  grpc::Status s = stub_->Batch(&ctx, req, &reply);
  EXPECT_TRUE(s.ok()) << s.error_code() << " " << s.error_message();
  EXPECT_EQ(reply.items_size(), 0);
  EXPECT_TRUE(WaitUntil([&] {
    return server_->core().metrics().calls(Method::kBatch, absl::StatusCode::kOk) == 1;
  }));
  EXPECT_EQ(Stats().completed, 0);
}

// Both workers held by other calls: the batch's items wait in the queue.
// The client's cancel ends the batch at once, and its items are dropped
// unrun when the workers reach them.
TEST_F(BatchEdgeTest, ACancelledBatchsQueuedItemsNeverRun) {
  auto a = StartBlocked();
  auto b = StartBlocked();
  AsyncCall<v1::BatchRequest, v1::BatchReply> batch;
  for (int i = 0; i < 4; ++i) batch.request.add_items()->set_sleep_us(1000);
  batch.ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(30)));
  StartBatch(&batch);
  ASSERT_TRUE(WaitUntil([&] { return Stats().queued == 4; }))
      << Stats().queued;
  batch.ctx.TryCancel();
  EXPECT_EQ(batch.Wait().error_code(), grpc::StatusCode::CANCELLED);
  // The client's CANCELLED is its own, at once; the server has the cancel
  // once it has answered the call.
  const Metrics& m = server_->core().metrics();
  ASSERT_TRUE(WaitUntil([&] { return m.calls(Method::kBatch, absl::StatusCode::kCancelled) == 1; }));
  ASSERT_TRUE(release_.Send(std::monostate{}).ok());
  ASSERT_TRUE(release_.Send(std::monostate{}).ok());
  EXPECT_TRUE(a->Wait().ok());
  EXPECT_TRUE(b->Wait().ok());
  ASSERT_TRUE(WaitUntil([&] { return m.in_flight.load() == 0; }));
  ASSERT_TRUE(WaitUntil([&] { return Stats().expired == 4 && Stats().busy == 0; }))
      << Stats().expired << " " << Stats().busy;
  EXPECT_EQ(Work().started.load(), 0);
}

// A running item stops at the batch's deadline, and frees its worker.
TEST_F(BatchEdgeTest, ABatchPastItsDeadlineStopsItsRunningItem) {
  AsyncCall<v1::BatchRequest, v1::BatchReply> batch;
  batch.request.add_items()->set_sleep_us(20'000'000);
  batch.ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Milliseconds(300)));
  StartBatch(&batch);
  EXPECT_EQ(batch.Wait().error_code(), grpc::StatusCode::DEADLINE_EXCEEDED);
  const Metrics& m = server_->core().metrics();
  ASSERT_TRUE(WaitUntil([&] { return m.in_flight.load() == 0 && Stats().busy == 0; }));
  EXPECT_EQ(Work().stopped_early.load(), 1);
  EXPECT_EQ(m.calls(Method::kBatch, absl::StatusCode::kDeadlineExceeded), 1);
}

// Every call's Context ends a nanosecond after gRPC hands the call over, so
// a batch's deadline has always passed by the time it could submit an item:
// its Context is done, whether or not the timer has marked it yet.
class ExpiredOnArrivalBatchTest : public ServerTest {
  void Configure(ServerConfig& c) override {
    c.default_deadline = absl::Nanoseconds(1);
    c.max_deadline = absl::Nanoseconds(1);
    c.batch_window = 4;
  }
};

// A batch whose Context is done submits no more items: it is answered with
// its own end at once. The collector used to go on submitting the rest, one
// for each refusal it collected, each refused at once for the deadline and
// counted nowhere, until every item had been tried (here all 100).
TEST_F(ExpiredOnArrivalBatchTest, ABatchWhoseContextIsDoneSubmitsNoMoreItems) {
  grpc::ClientContext ctx;
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
  v1::BatchRequest req;
  for (int i = 0; i < 100; ++i) req.add_items()->set_sleep_us(1000);
  v1::BatchReply reply;
  grpc::Status s = stub_->Batch(&ctx, req, &reply);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED) << s.error_message();
  EXPECT_EQ(reply.items_size(), 0);
  const Metrics& m = server_->core().metrics();
  ASSERT_TRUE(WaitUntil([&] {
    return m.calls(Method::kBatch, absl::StatusCode::kDeadlineExceeded) == 1 &&
           m.in_flight.load() == 0;
  }));
  EXPECT_EQ(m.batch_items_submitted.load(), 0);
  EXPECT_EQ(Stats().rejected(), 0);
  EXPECT_EQ(Work().started.load(), 0);
}

class OneIdleWorkerBatchTest : public ServerTest {
  void Configure(ServerConfig& c) override { c.workers = 1; }
};

// One idle worker, twelve items of 100 ms, 1.5 s to do 1.2 s of work.
// Submitted all at once, the last three are refused as overloaded:
// admission counts a job queued behind others at its worst (each may be
// overtaken as often), and here the queue is all the batch's own. Each
// refusal freed a place in the window at once, so the rest were refused in
// the same moment, and none was tried again as the items ahead finished.
// An item refused while others of its batch are in flight now waits for
// one of them to finish, and all twelve run in time.
TEST_F(OneIdleWorkerBatchTest, ItemsRefusedForTheBatchsOwnQueueAreTriedAgainAsItsItemsFinish) {
  grpc::ClientContext ctx;
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Milliseconds(1500)));
  v1::BatchRequest req;
  for (int i = 0; i < 12; ++i) req.add_items()->set_sleep_us(100'000);
  v1::BatchReply reply;
  grpc::Status s = stub_->Batch(&ctx, req, &reply);
  ASSERT_TRUE(s.ok()) << s.error_code() << " " << s.error_message();
  ASSERT_EQ(reply.items_size(), 12);
  for (int i = 0; i < 12; ++i) {
    EXPECT_EQ(reply.items(i).code(), 0) << "items[" << i << "]: " << reply.items(i).message();
  }
  EXPECT_EQ(Work().started.load(), 12);
}

class SmallWindowBatchTest : public ServerTest {
  void Configure(ServerConfig& c) override { c.batch_window = 2; }
};

// A batch accepted before the drain is a call in flight: its items beyond
// the window are still started, and it ends OK.
TEST_F(SmallWindowBatchTest, ABatchInFlightAtTheDrainRunsInFull) {
  AsyncCall<v1::BatchRequest, v1::BatchReply> batch;
  for (int i = 0; i < 6; ++i) batch.request.add_items()->set_sleep_us(100'000);
  batch.ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(30)));
  StartBatch(&batch);
  ASSERT_TRUE(WaitUntil([&] { return Work().started.load() >= 1; }));
  ShutdownReport report = server_->Shutdown();
  EXPECT_TRUE(report.drained);
  grpc::Status s = batch.Wait();
  ASSERT_TRUE(s.ok()) << s.error_code() << " " << s.error_message();
  ASSERT_EQ(batch.reply.items_size(), 6);
  for (int i = 0; i < 6; ++i) {
    EXPECT_EQ(batch.reply.items(i).code(), 0) << i << ": " << batch.reply.items(i).message();
  }
}

class ShortDrainBatchTest : public ServerTest {
  void Configure(ServerConfig& c) override { c.drain_timeout = absl::Milliseconds(300); }
};

// A Batch cut off at the drain timeout with an item started: its items may
// have done what they do, and its UNAVAILABLE carries gRFC A6's server
// pushback as a unary Work's and Call's do
// (ShortDrainTest.ACallCutOffAtTheDrainTimeoutIsNotRetriedOnAnotherReplica),
// for a client that would retry it regardless of its headers. It had none.
TEST_F(ShortDrainBatchTest, ABatchCutOffAtTheDrainTimeoutCarriesThePushback) {
  AsyncCall<v1::BatchRequest, v1::BatchReply> batch;
  batch.request.add_items()->set_sleep_us(20'000'000);
  batch.ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(30)));
  StartBatch(&batch);
  ASSERT_TRUE(WaitUntil([&] { return Work().started.load() == 1; }));
  server_->Shutdown();
  EXPECT_EQ(batch.Wait().error_code(), grpc::StatusCode::UNAVAILABLE);
  const auto& trailers = batch.ctx.GetServerTrailingMetadata();
  auto it = trailers.find("grpc-retry-pushback-ms");
  ASSERT_NE(it, trailers.end());
  EXPECT_EQ(std::string(it->second.data(), it->second.size()), "-1");
}

// One item in flight at a time, so that every item after the first is
// submitted by the collector, one for each item it collects, after the
// method has returned: only then can a client's cancel reach the batch's
// Context (batch_item_submitted_hook_for_test).
class OneAtATimeBatchTest : public ServerTest {
 protected:
  void Configure(ServerConfig& c) override { c.batch_window = 1; }
  void TearDown() override {
    batch_item_submitted_hook_for_test.store(nullptr);
    client_ctx_ = nullptr;
    hook_saw_the_cancel_ = false;
    cancelled_after_ = 0;
    ServerTest::TearDown();
  }

  // The hook: at the first item submitted off the method's thread (the
  // first item always is on it; a reply collected before the method
  // returned keeps the next there too), cancels the call from the client
  // and waits until the server has it: the batch's Context done.
  static void CancelTheCall(const Context& batch_ctx, int submitted) {
    if (submitted == 1) {
      method_thread_.store(std::this_thread::get_id());
      return;
    }
    if (std::this_thread::get_id() == method_thread_.load()) return;
    grpc::ClientContext* ctx = client_ctx_.exchange(nullptr);
    if (ctx == nullptr) return;
    ctx->TryCancel();
    hook_saw_the_cancel_.store(WaitUntil([&] { return batch_ctx.IsDone(); }));
    cancelled_after_.store(submitted);
  }

  static inline std::atomic<grpc::ClientContext*> client_ctx_{nullptr};
  static inline std::atomic<std::thread::id> method_thread_{};
  static inline std::atomic<bool> hook_saw_the_cancel_{false};
  static inline std::atomic<int> cancelled_after_{0};
};

// A client's cancel that reaches the batch after its k-th item was
// submitted, and before the next: the batch submits no more (exactly k; the
// k-th, in flight, is the only one it may have had a worker take), no item
// after it runs, and the call ends CANCELLED. The collector checks the
// batch's end (Ended) before each submission; without it, the k-th item's
// outcome freed the window for the next, and so on through the rest, each
// refused or dropped at once.
TEST_F(OneAtATimeBatchTest, AClientsCancelBetweenTwoItemsSubmitsNoMore) {
  constexpr int kItems = 20;
  AsyncCall<v1::BatchRequest, v1::BatchReply> batch;
  for (int i = 0; i < kItems; ++i) batch.request.add_items()->set_payload(absl::StrCat(i));
  batch.ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(30)));
  client_ctx_.store(&batch.ctx);
  batch_item_submitted_hook_for_test.store(&CancelTheCall);
  StartBatch(&batch);
  EXPECT_EQ(batch.Wait().error_code(), grpc::StatusCode::CANCELLED);
  ASSERT_TRUE(WaitUntil([&] { return cancelled_after_.load() > 0; }))
      << "no item was submitted off the method's thread";
  EXPECT_TRUE(hook_saw_the_cancel_.load()) << "the server never saw the cancel";
  const int k = cancelled_after_.load();
  const Metrics& m = server_->core().metrics();
  ASSERT_TRUE(WaitUntil([&] {
    return m.calls(Method::kBatch, absl::StatusCode::kCancelled) == 1 &&
           m.in_flight.load() == 0;
  }));
  ASSERT_TRUE(WaitUntil([&] { return Stats().busy == 0 && Stats().queued == 0; }));
  EXPECT_EQ(m.batch_items_submitted.load(), k);
  EXPECT_LE(Work().started.load(), k) << "an item after the cancel ran";
  EXPECT_EQ(m.calls(Method::kBatch, absl::StatusCode::kOk), 0);
}

// The whole window submitted at once, on the method's thread, the drain
// timeout short: the drain's cut-off (CancelAll) can land between two items
// of the first window, which the collector checks for before each.
class ShortDrainWideWindowBatchTest : public ServerTest {
 protected:
  void Configure(ServerConfig& c) override {
    c.batch_window = 8;
    c.drain_timeout = absl::Milliseconds(300);
  }
  void TearDown() override {
    batch_item_submitted_hook_for_test.store(nullptr);
    if (shutdown_.joinable()) shutdown_.join();
    current_ = nullptr;
    ServerTest::TearDown();
  }

  // The hook: after the second item, shuts the server down (the drain
  // waits for the batch, then cuts it off at the timeout) and waits until
  // the cut-off has reached the batch's Context.
  static void CutOffAtTheSecond(const Context& batch_ctx, int submitted) {
    ShortDrainWideWindowBatchTest* t = current_;
    if (submitted != 2 || t == nullptr) return;
    t->shutdown_ = std::thread([t] { t->server_->Shutdown(); });
    t->hook_saw_the_cut_off_.store(WaitUntil([&] { return batch_ctx.IsDone(); }));
    t->hook_done_.store(true);
  }

  static inline std::atomic<ShortDrainWideWindowBatchTest*> current_{nullptr};
  std::thread shutdown_;
  std::atomic<bool> hook_saw_the_cut_off_{false};
  std::atomic<bool> hook_done_{false};
};

// Cut off by the drain timeout after its second item, the batch submits
// none of the other six: it is answered UNAVAILABLE with the two it had,
// and no item after them runs. Without the check, it submitted the rest of
// its first window after the cut-off, each refused or dropped at once.
TEST_F(ShortDrainWideWindowBatchTest, ABatchCutOffByTheDrainTimeoutMidWindowSubmitsNoMore) {
  current_ = this;
  AsyncCall<v1::BatchRequest, v1::BatchReply> batch;
  for (int i = 0; i < 8; ++i) batch.request.add_items()->set_sleep_us(20'000'000);
  batch.ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(30)));
  batch_item_submitted_hook_for_test.store(&CutOffAtTheSecond);
  StartBatch(&batch);
  EXPECT_EQ(batch.Wait().error_code(), grpc::StatusCode::UNAVAILABLE);
  ASSERT_TRUE(WaitUntil([&] { return hook_done_.load(); }));
  EXPECT_TRUE(hook_saw_the_cut_off_.load()) << "the drain timeout never cut the batch off";
  shutdown_.join();
  const Metrics& m = server_->core().metrics();
  EXPECT_EQ(m.batch_items_submitted.load(), 2);
  EXPECT_LE(Work().started.load(), 2);
  EXPECT_EQ(m.calls(Method::kBatch, absl::StatusCode::kUnavailable), 1);
}

// The whole window submitted at once, on the method's thread, under a
// deadline of 300 ms the server sets: the deadline can pass between two
// items of the first window.
class ShortDeadlineWideWindowBatchTest : public ServerTest {
 protected:
  void Configure(ServerConfig& c) override {
    c.default_deadline = absl::Milliseconds(300);
    c.max_deadline = absl::Milliseconds(300);
    c.batch_window = 8;
  }
  void TearDown() override {
    batch_item_submitted_hook_for_test.store(nullptr);
    hook_saw_the_deadline_ = false;
    ServerTest::TearDown();
  }

  // The hook: after the second item, waits until the batch's deadline has
  // passed by the clock the batch reads it by.
  static void OutlastTheDeadlineAtTheSecond(const Context& batch_ctx, int submitted) {
    if (submitted != 2) return;
    hook_saw_the_deadline_.store(
        WaitUntil([&] { return MonotonicNow() >= batch_ctx.Deadline(); }));
  }

  static inline std::atomic<bool> hook_saw_the_deadline_{false};
};

// A batch whose deadline passes after its second item submits none of the
// other six: it is answered DEADLINE_EXCEEDED with the two it had. Without
// the check between items, it submitted the rest of its first window past
// its deadline, each refused or dropped at once.
TEST_F(ShortDeadlineWideWindowBatchTest, ABatchWhoseDeadlinePassesMidWindowSubmitsNoMore) {
  AsyncCall<v1::BatchRequest, v1::BatchReply> batch;
  for (int i = 0; i < 8; ++i) batch.request.add_items()->set_sleep_us(1000);
  batch.ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(30)));
  batch_item_submitted_hook_for_test.store(&OutlastTheDeadlineAtTheSecond);
  StartBatch(&batch);
  EXPECT_EQ(batch.Wait().error_code(), grpc::StatusCode::DEADLINE_EXCEEDED);
  EXPECT_TRUE(hook_saw_the_deadline_.load());
  const Metrics& m = server_->core().metrics();
  ASSERT_TRUE(WaitUntil([&] {
    return m.calls(Method::kBatch, absl::StatusCode::kDeadlineExceeded) == 1 &&
           m.in_flight.load() == 0;
  }));
  ASSERT_TRUE(WaitUntil([&] { return Stats().busy == 0 && Stats().queued == 0; }));
  EXPECT_EQ(m.batch_items_submitted.load(), 2);
  EXPECT_LE(Work().started.load(), 2);
}

class OneBusyWorkerBatchTest : public ServerTest {
  void Configure(ServerConfig& c) override { c.workers = 1; }
};

// The one worker busy with another call's 5 s Work, a batch of four short
// items with 1 s to run: each is refused as overloaded at admission, and
// none of the batch is ever queued or running, so each refusal is its
// answer. An item refused while the others' refusals waited to be collected
// was put back as if they were in flight, and tried again: seven admissions
// and seven refusals for four items (127 for a full window of 64).
TEST_F(OneBusyWorkerBatchTest, ItemsAllRefusedAsOverloadedAreEachTriedOnce) {
  AsyncCall<v1::WorkRequest, v1::WorkReply> work;
  work.ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(20)));
  work.request.set_sleep_us(5'000'000);
  StartWork(&work);
  ASSERT_TRUE(WaitUntil([&] { return Stats().busy == 1; }));
  grpc::ClientContext ctx;
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(1)));
  v1::BatchRequest req;
  for (int i = 0; i < 4; ++i) req.add_items()->set_sleep_us(1000);
  v1::BatchReply reply;
  grpc::Status s = stub_->Batch(&ctx, req, &reply);
  ASSERT_TRUE(s.ok()) << s.error_code() << " " << s.error_message();
  ASSERT_EQ(reply.items_size(), 4);
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(reply.items(i).code(), static_cast<int>(grpc::StatusCode::RESOURCE_EXHAUSTED))
        << "items[" << i << "]: " << reply.items(i).message();
    EXPECT_TRUE(absl::StartsWith(reply.items(i).message(), "overloaded"))
        << "items[" << i << "]: " << reply.items(i).message();
  }
  EXPECT_EQ(server_->core().metrics().batch_items_submitted.load(), 4);
  EXPECT_EQ(Stats().rejected(), 4);
  work.ctx.TryCancel();
  EXPECT_EQ(work.Wait().error_code(), grpc::StatusCode::CANCELLED);
}

}  // namespace
}  // namespace handoff::testing
