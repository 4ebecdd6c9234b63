// Copyright 2026 The handoff Authors.
//
// seeds/002's batch request/response, built from Chan, Select and Context as
// the seed builds it from Go's: one thread collects requests into a batch
// and processes it when it holds batch_size requests, when batch_window has
// passed since the batch's first request, or at Stop, whichever comes first.
// Each request carries its own reply channel.

#include <chrono>
#include <functional>
#include <optional>
#include <thread>
#include <utility>
#include <variant>
#include <vector>

#include "absl/time/time.h"
#include "dispatch/chan.h"
#include "dispatch/context.h"
#include "dispatch/select.h"
#include "gtest/gtest.h"

namespace handoff {
namespace {

class BatchProcessor {
 public:
  // A batch's window: `ends` is closed (or receives) when it is over;
  // `close` frees it early, once the batch went full.
  struct Window {
    Chan<std::monostate> ends;
    CancelFunc close;
  };
  using OpenWindow = std::function<Window()>;

  // Each batch's window is a Context timing out batch_window after the
  // batch's first request: its Done() is the seed's timer.C.
  BatchProcessor(size_t batch_size, absl::Duration batch_window)
      : BatchProcessor(batch_size, [batch_window] {
          auto [window, close] = WithTimeout(Context::Background(), batch_window);
          return Window{window.Done(), std::move(close)};
        }) {}
  // Windows from `open_window`, called once per batch, at its first request.
  BatchProcessor(size_t batch_size, OpenWindow open_window)
      : batch_size_(batch_size),
        open_window_(std::move(open_window)),
        thread_([this] { Run(); }) {}
  ~BatchProcessor() { Stop(); }

  // Hands the processor a request, and returns the channel its reply comes
  // on: the size of the batch it was processed in. The request channel is
  // unbuffered (the seed's holds 100), so that the processor's select has
  // taken the request when this returns; it adds it to the batch before it
  // looks at anything else.
  Chan<size_t> Submit() {
    Chan<size_t> reply(1);
    EXPECT_TRUE(requests_.Send(Request{reply}).ok());
    return reply;
  }

  // Processes what is left, and ends the processor.
  void Stop() {
    if (!thread_.joinable()) return;
    EXPECT_TRUE(quit_.Close().ok());
    thread_.join();
  }

 private:
  struct Request {
    Chan<size_t> reply;
  };

  void Run() {
    std::vector<Request> batch;
    // The open batch's window; a nil channel while no batch is open, so
    // that the case is off.
    Chan<std::monostate> window_ends;
    CancelFunc close_window;
    const auto process = [&] {
      for (Request& r : batch) EXPECT_TRUE(r.reply.Send(batch.size()).ok());
      batch.clear();
      close_window();  // frees the timer of a batch that went full
      window_ends = Chan<std::monostate>();
    };
    for (bool running = true; running;) {
      Select(
          OnRecv(requests_,
                 [&](std::optional<Request> r) {
                   batch.push_back(std::move(*r));
                   if (batch.size() == 1) {
                     Window window = open_window_();
                     window_ends = window.ends;
                     close_window = std::move(window.close);
                   }
                   if (batch.size() >= batch_size_) process();
                 }),
          OnRecv(window_ends, [&] { process(); }),
          OnRecv(quit_, [&] {
            if (!batch.empty()) process();
            running = false;
          }));
    }
  }

  const size_t batch_size_;
  const OpenWindow open_window_;
  Chan<Request> requests_{0};
  Chan<std::monostate> quit_{0};
  std::thread thread_;  // last: Run() uses the members above
};

// The reply on `reply`, or nullopt if none comes within 30 s: a processor
// that waits for the wrong thing fails the test instead of hanging it.
std::optional<size_t> ReplyOn(const Chan<size_t>& reply) {
  auto [ctx, cancel] = WithTimeout(Context::Background(), absl::Seconds(30));
  std::optional<size_t> got;
  Select(OnRecv(reply, [&](std::optional<size_t> v) { got = v; }), OnDone(ctx, [] {}));
  return got;
}

TEST(BatchProcessorTest, AFullBatchGoesAtOnceWithoutWaitingForItsWindow) {
  BatchProcessor p(3, absl::Hours(1));
  std::vector<Chan<size_t>> replies;
  for (int i = 0; i < 3; ++i) replies.push_back(p.Submit());
  for (const Chan<size_t>& r : replies) EXPECT_EQ(ReplyOn(r), 3u);
  // The next request opens a new batch, which nothing fills.
  Chan<size_t> alone = p.Submit();
  EXPECT_FALSE(alone.TryRecv().ok());
  p.Stop();
  EXPECT_EQ(ReplyOn(alone), 1u);
}

// The window starts at the batch's first request, and each batch has its
// own: a second lone request waits out a window of its own too (the first
// batch's window, ended already, would send it at once).
TEST(BatchProcessorTest, APartBatchGoesWhenTheWindowSinceItsFirstRequestEnds) {
  const absl::Duration window = absl::Milliseconds(50);
  BatchProcessor p(3, window);
  for (int round = 0; round < 2; ++round) {
    const auto before = std::chrono::steady_clock::now();
    Chan<size_t> reply = p.Submit();
    EXPECT_EQ(ReplyOn(reply), 1u);
    EXPECT_GE(std::chrono::steady_clock::now() - before, absl::ToChronoNanoseconds(window))
        << "round " << round << " went before its window ended";
  }
}

// The window is opened once per batch, at its first request, and a later
// request does not restart it: when the window the first request opened
// ends, the batch goes with both. The test owns the windows, so no clock
// is involved.
TEST(BatchProcessorTest, ALaterRequestDoesNotRestartItsBatchsWindow) {
  Chan<Chan<std::monostate>> opened(4);  // each window, as it is opened
  BatchProcessor p(3, [&] {
    Chan<std::monostate> ends(0);
    EXPECT_TRUE(opened.TrySend(ends).ok());
    return BatchProcessor::Window{ends, CancelFunc()};  // a no-op
  });
  // Submit returns once the processor's select has taken the request; it
  // handles it (and opens the window) before it looks at anything else.
  Chan<size_t> first = p.Submit();
  std::optional<Chan<std::monostate>> window = opened.Recv();
  ASSERT_TRUE(window.has_value());
  Chan<size_t> second = p.Submit();
  EXPECT_FALSE(first.TryRecv().ok());

  // The second request is in the batch before the processor can see the
  // window end.
  ASSERT_TRUE(window->Close().ok());
  EXPECT_EQ(ReplyOn(first), 2u);
  EXPECT_EQ(ReplyOn(second), 2u);
  EXPECT_FALSE(opened.TryRecv().ok()) << "the second request opened a window";

  // The next request opens a window of its own.
  Chan<size_t> third = p.Submit();
  window = opened.Recv();
  ASSERT_TRUE(window.has_value());
  ASSERT_TRUE(window->Close().ok());
  EXPECT_EQ(ReplyOn(third), 1u);
}

TEST(BatchProcessorTest, WhatIsLeftOfABatchGoesAtStop) {
  BatchProcessor p(3, absl::Hours(1));
  Chan<size_t> first = p.Submit();
  Chan<size_t> second = p.Submit();
  EXPECT_FALSE(first.TryRecv().ok());
  p.Stop();
  EXPECT_EQ(ReplyOn(first), 2u);
  EXPECT_EQ(ReplyOn(second), 2u);
}

}  // namespace
}  // namespace handoff
