// Copyright 2026 The handoff Authors.
//
// seeds/002's Future/Promise and its AsyncService, built from Chan, Select
// and Context as the seed builds them from Go's. Set closes a channel, which
// releases every Get at once and publishes the value to each of them (a
// close is a barrier: GoChanTest.ACloseBarrierPublishesTheClosersWrites...);
// only the first Set counts; GetWithContext gives up with the context's
// error and leaves nothing parked. The service bounds how many tasks run at
// once with a buffered channel used as a semaphore.

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <variant>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "dispatch/chan.h"
#include "dispatch/context.h"
#include "dispatch/select.h"
#include "gtest/gtest.h"
#include "test_util.h"

namespace handoff {
namespace {

using testing::ParkedReceivers;
using testing::WaitForReceivers;
using testing::WaitForSenders;

template <typename T>
class Future {
 public:
  // Stores the result and releases every Get. False if a result was set
  // already: the first one stands.
  bool Set(absl::StatusOr<T> result) {
    std::lock_guard<std::mutex> lock(mu_);
    if (computed_) return false;
    result_ = std::move(result);
    computed_ = true;
    EXPECT_TRUE(done_.Close().ok());
    return true;
  }

  // Waits for the result. Read without the lock: it was written before the
  // close that this receive saw, and is never written again.
  const absl::StatusOr<T>& Get() const {
    EXPECT_EQ(done_.Recv(), std::nullopt);
    return result_;
  }

  // The result, or ctx's error if ctx is done first. The seed's
  // GetWithTimeout is this with WithTimeout's context.
  absl::StatusOr<T> GetWithContext(const Context& ctx) const {
    absl::StatusOr<T> out = absl::InternalError("the select chose no case");
    Select(OnRecv(done_, [&] { out = result_; }), OnDone(ctx, [&] { out = ctx.Err(); }));
    return out;
  }

  bool IsReady() const {
    std::lock_guard<std::mutex> lock(mu_);
    return computed_;
  }

  // For the tests: the channel getters park on.
  const Chan<std::monostate>& done() const { return done_; }

 private:
  mutable std::mutex mu_;
  bool computed_ = false;  // guarded by mu_
  absl::StatusOr<T> result_ = absl::InternalError("not set");
  Chan<std::monostate> done_{0};
};

TEST(FutureTest, EveryGetterParkedBeforeTheSetGetsTheOneValue) {
  Future<std::string> future;
  constexpr int kGetters = 3;
  std::vector<absl::StatusOr<std::string>> got(kGetters, absl::UnknownError(""));
  std::vector<std::thread> getters;
  for (int i = 0; i < kGetters; ++i) {
    getters.emplace_back([&, i] { got[i] = future.Get(); });
  }
  ASSERT_TRUE(WaitForReceivers(future.done(), kGetters));
  EXPECT_FALSE(future.IsReady());

  EXPECT_TRUE(future.Set(std::string("a")));
  for (std::thread& t : getters) t.join();
  for (int i = 0; i < kGetters; ++i) EXPECT_EQ(got[i].value_or("<error>"), "a") << "getter " << i << ": " << got[i].status();
  EXPECT_TRUE(future.IsReady());
  EXPECT_EQ(future.Get().value_or("<error>"), "a") << "and a getter after the set does not wait";
}

TEST(FutureTest, TheFirstSetWinsAndAnErrorIsAResult) {
  Future<std::string> future;
  EXPECT_TRUE(future.Set(std::string("a")));
  EXPECT_FALSE(future.Set(std::string("b")));
  EXPECT_FALSE(future.Set(absl::DataLossError("late")));
  EXPECT_EQ(future.Get().value_or("<error>"), "a");

  Future<std::string> failed;
  EXPECT_TRUE(failed.Set(absl::InvalidArgumentError("invalid data type")));
  EXPECT_EQ(failed.Get().status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(failed.GetWithContext(Context::Background()).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(FutureTest, GetWithContextGivesUpWithTheContextsErrorAndLeavesNothingParked) {
  Future<int> future;
  {
    auto [ctx, cancel] = WithCancel(Context::Background());
    cancel();
    EXPECT_EQ(future.GetWithContext(ctx).status().code(), absl::StatusCode::kCancelled);
  }
  {
    // A getter parked when its context is cancelled.
    auto [ctx, cancel] = WithCancel(Context::Background());
    absl::StatusOr<int> got = 0;
    std::thread getter([&, ctx = ctx] { got = future.GetWithContext(ctx); });
    ASSERT_TRUE(WaitForReceivers(future.done(), 1));
    cancel();
    getter.join();
    EXPECT_EQ(got.status().code(), absl::StatusCode::kCancelled);
  }
  {
    // The seed's GetWithTimeout.
    auto [ctx, cancel] = WithTimeout(Context::Background(), absl::Milliseconds(10));
    EXPECT_EQ(future.GetWithContext(ctx).status().code(),
              absl::StatusCode::kDeadlineExceeded);
  }
  EXPECT_EQ(ParkedReceivers(future.done()), 0u);
  EXPECT_FALSE(future.IsReady());

  // The future itself is untouched: a later Set reaches a later getter.
  EXPECT_TRUE(future.Set(7));
  auto [ctx, cancel] = WithTimeout(Context::Background(), absl::Seconds(30));
  EXPECT_EQ(future.GetWithContext(ctx).value_or(-1), 7);
}

// seeds/002's AsyncService: ProcessAsync returns a future at once, and a
// task runs only once it holds one of the semaphore's max_workers slots
// (`workers <- struct{}{}` to take one, `<-workers` to give it back). Here
// each task also waits for the test's word before it computes, in place of
// the seed's random sleep, so that the test decides when slots come free.
class AsyncService {
 public:
  explicit AsyncService(size_t max_workers) : slots_(max_workers) {}
  // Lets every task finish, so that a test that failed halfway fails
  // rather than hangs; after a test that passed, each has finished already.
  ~AsyncService() {
    release_.Close().IgnoreError();
    for (std::thread& t : tasks_) t.join();
  }

  Future<int>& ProcessAsync(int data) {
    futures_.push_back(std::make_unique<Future<int>>());
    Future<int>* future = futures_.back().get();
    tasks_.emplace_back([this, data, future] {
      EXPECT_TRUE(slots_.Send(std::monostate{}).ok());
      EXPECT_TRUE(started_.Send(data).ok());
      EXPECT_TRUE(release_.Recv().has_value());
      future->Set(data * data);
      EXPECT_TRUE(slots_.Recv().has_value());
    });
    return *future;
  }

  const Chan<std::monostate>& slots() const { return slots_; }
  // Each task says here that it holds a slot (buffered: it never waits).
  const Chan<int>& started() const { return started_; }
  // One value lets one task that holds a slot finish.
  const Chan<std::monostate>& release() const { return release_; }

 private:
  Chan<std::monostate> slots_;
  Chan<int> started_{64};
  Chan<std::monostate> release_{0};
  std::vector<std::unique_ptr<Future<int>>> futures_;
  std::vector<std::thread> tasks_;
};

TEST(AsyncServiceTest, ASemaphoreChannelRunsAtMostItsCapacityOfTasksAtOnce) {
  constexpr int kTasks = 5;
  constexpr size_t kWorkers = 3;
  AsyncService service(kWorkers);
  std::vector<Future<int>*> futures;
  for (int i = 1; i <= kTasks; ++i) futures.push_back(&service.ProcessAsync(i));

  for (size_t i = 0; i < kWorkers; ++i) ASSERT_TRUE(service.started().Recv().has_value());
  // The other two wait for a slot, parked on the full semaphore.
  ASSERT_TRUE(WaitForSenders(service.slots(), kTasks - kWorkers));
  EXPECT_FALSE(service.started().TryRecv().ok()) << "a fourth task holds a slot";

  // One task finishes: exactly one waiting task takes its slot.
  ASSERT_TRUE(service.release().Send(std::monostate{}).ok());
  ASSERT_TRUE(service.started().Recv().has_value());
  ASSERT_TRUE(WaitForSenders(service.slots(), kTasks - kWorkers - 1));
  EXPECT_FALSE(service.started().TryRecv().ok());

  for (int i = 1; i < kTasks; ++i) {
    ASSERT_TRUE(service.release().Send(std::monostate{}).ok());
  }
  for (int i = 0; i < kTasks; ++i) EXPECT_EQ(futures[i]->Get().value_or(-1), (i + 1) * (i + 1));
}

}  // namespace
}  // namespace handoff
