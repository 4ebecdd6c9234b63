// Copyright 2026 The handoff Authors.
//
// seeds/002's "Request/Response with Timeout", built from Chan, Select and
// Context as the seed builds it from Go's: a request carries its caller's
// context and its own reply channel; the caller gives up at its context on
// either leg (the send of the request, the wait for the reply), with the
// context's error; the server skips the work of a request whose context is
// done already, stops working on one whose context ends meanwhile, and sends
// its answer only while someone can still want it. And seeds/000's warning:
// with an unbuffered reply channel and a caller that left, a server that
// just sent the answer would wait for ever; its send must race the request's
// context. The reply channels here are unbuffered on purpose, so that only
// that race keeps the server going.

#include <atomic>
#include <optional>
#include <thread>
#include <utility>
#include <variant>

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

using Signal = std::monostate;

struct TimedResponse {
  int result = 0;
  absl::Status error;
};

struct TimedRequest {
  Context ctx;
  int data = 0;
  Chan<TimedResponse> reply;
};

// How the server's answer to one request went.
enum class Delivery { kDelivered, kAbandoned };

// The seed's TimedServer, one request at a time. The work on a request ends
// when the test hands a token on `work`, so that the test decides whether a
// context ends before or after it; each answer's fate goes on `deliveries`.
class TimedServer {
 public:
  TimedServer() : thread_([this] { Serve(); }) {}
  ~TimedServer() {
    requests.Close().IgnoreError();
    thread_.join();
  }

  const Chan<TimedRequest> requests{0};
  const Chan<Signal> work{0};
  const Chan<Delivery> deliveries{16};
  std::atomic<int> worked{0};

 private:
  void Serve() {
    for (TimedRequest& req : requests) {
      TimedResponse resp;
      if (req.ctx.IsDone()) {  // the caller gave up already: skip the work
        resp.error = req.ctx.Err();
      } else {
        Select(OnRecv(work,
                      [&] {
                        ++worked;
                        resp.result = req.data * 2;
                      }),
               OnDone(req.ctx, [&] { resp.error = req.ctx.Err(); }));
      }
      Delivery d = Delivery::kAbandoned;
      Select(OnSend(req.reply, std::move(resp), [&] { d = Delivery::kDelivered; }),
             OnDone(req.ctx, [] {}));
      ASSERT_TRUE(deliveries.Send(d).ok());
    }
  }

  std::thread thread_;
};

// The seed's SendRequestWithTimeout: both legs give up at `ctx`.
absl::StatusOr<int> Ask(const TimedServer& server, const Context& ctx, int data) {
  Chan<TimedResponse> reply(0);
  absl::Status gave_up;
  Select(OnSend(server.requests, TimedRequest{ctx, data, reply}, [] {}),
         OnDone(ctx, [&] { gave_up = ctx.Err(); }));
  if (!gave_up.ok()) return gave_up;
  std::optional<TimedResponse> r;
  Select(OnRecv(reply, [&](std::optional<TimedResponse> v) { r = std::move(v); }),
         OnDone(ctx, [&] { gave_up = ctx.Err(); }));
  if (!gave_up.ok()) return gave_up;
  if (!r.has_value()) return absl::InternalError("reply channel closed");
  if (!r->error.ok()) return r->error;
  return r->result;
}

// What the server did with its latest request, waiting at most a long bound
// for it to finish: nullopt if it did not, i.e. it is stuck.
std::optional<Delivery> NextDelivery(const TimedServer& server) {
  auto [bound, cancel] = WithTimeout(Context::Background(), absl::Seconds(30));
  std::optional<Delivery> d;
  Select(OnRecv(server.deliveries, [&](std::optional<Delivery> v) { d = v; }),
         OnDone(bound, [] {}));
  return d;
}

TEST(TimedRequestTest, AnAnswerInTimeReachesItsCaller) {
  TimedServer server;
  auto [ctx, cancel] = WithTimeout(Context::Background(), absl::Hours(1));
  absl::StatusOr<int> got;
  std::thread caller([&, ctx = ctx] { got = Ask(server, ctx, 21); });
  // A rendezvous: it completes only once the server works on the request.
  ASSERT_TRUE(server.work.Send(Signal{}).ok());
  caller.join();
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(*got, 42);
  EXPECT_EQ(NextDelivery(server), Delivery::kDelivered);
}

// A caller that gives up while the server works on its request hears its
// context's error at once. The server stops the work at the same context and
// does not wait on the unbuffered reply channel nobody reads any more: it is
// free for the next caller, whom it answers.
TEST(TimedRequestTest, AServerIsNotStrandedByACallerThatGaveUp) {
  TimedServer server;
  {
    auto [ctx, cancel] = WithCancel(Context::Background());
    absl::StatusOr<int> got;
    std::thread caller([&, ctx = ctx] { got = Ask(server, ctx, 1); });
    ASSERT_TRUE(testing::WaitForReceivers(server.work, 1));  // working on it
    cancel();
    caller.join();
    EXPECT_TRUE(absl::IsCancelled(got.status())) << got.status();
    EXPECT_EQ(NextDelivery(server), Delivery::kAbandoned)
        << "the server is stuck sending an answer nobody takes";
    EXPECT_EQ(server.worked.load(), 0);
  }
  auto [ctx, cancel] = WithTimeout(Context::Background(), absl::Hours(1));
  absl::StatusOr<int> got;
  std::thread caller([&, ctx = ctx] { got = Ask(server, ctx, 5); });
  ASSERT_TRUE(server.work.Send(Signal{}).ok());
  caller.join();
  EXPECT_EQ(got.value_or(-1), 10);
  EXPECT_EQ(NextDelivery(server), Delivery::kDelivered);
}

// The seed's TestRequestResponse, "Test timeout": with nobody to take the
// request (the server's request channel unread) or to answer it (no work
// ever done), the caller returns at its deadline, DeadlineExceeded.
TEST(TimedRequestTest, ACallerHearsDeadlineExceededAtItsDeadlineOnEitherLeg) {
  {
    const Chan<TimedRequest> unread(0);
    auto [ctx, cancel] = WithTimeout(Context::Background(), absl::Milliseconds(20));
    absl::Status s;
    Select(OnSend(unread, TimedRequest{ctx, 1, Chan<TimedResponse>(0)}, [] {}),
           OnDone(ctx, [&] { s = ctx.Err(); }));
    EXPECT_TRUE(absl::IsDeadlineExceeded(s)) << s;
    EXPECT_EQ(s.message(), "context deadline exceeded");
    EXPECT_EQ(testing::ParkedSenders(unread), 0u);
  }
  TimedServer server;
  auto [ctx, cancel] = WithTimeout(Context::Background(), absl::Milliseconds(20));
  absl::StatusOr<int> got = Ask(server, ctx, 1);
  EXPECT_TRUE(absl::IsDeadlineExceeded(got.status())) << got.status();
  EXPECT_EQ(server.worked.load(), 0);
}

// "Check if context is already cancelled": a request whose context ended
// before the server took it is not worked on, even with work to be had at
// once (a token waiting on `work`, which a select racing the context would
// take half the time). Whoever still reads its reply hears the error.
TEST(TimedRequestTest, ARequestWhoseContextEndedBeforeItWasTakenIsNotWorkedOn) {
  TimedServer server;
  std::thread feeder([&] { ASSERT_TRUE(server.work.Send(Signal{}).ok()); });
  ASSERT_TRUE(testing::WaitForSenders(server.work, 1));
  auto [ctx, cancel] = WithCancel(Context::Background());
  cancel();
  for (int i = 0; i < 32; ++i) {
    // Room for the answer: both cases of the server's reply are ready, and
    // Go's select picks either.
    Chan<TimedResponse> reply(1);
    ASSERT_TRUE(server.requests.Send(TimedRequest{ctx, i, reply}).ok());
    const std::optional<Delivery> d = NextDelivery(server);
    ASSERT_TRUE(d.has_value()) << "the server is stuck on a dead request";
    if (server.worked.load() != 0) {
      ADD_FAILURE() << "request " << i << " was worked on";
      break;
    }
    absl::StatusOr<TimedResponse> answer = reply.TryRecv();
    if (*d == Delivery::kDelivered) {
      ASSERT_TRUE(answer.ok()) << answer.status();
      EXPECT_TRUE(absl::IsCancelled(answer->error)) << answer->error;
    } else {
      EXPECT_TRUE(IsChannelEmpty(answer.status())) << answer.status();
    }
  }
  if (server.worked.load() == 0) {
    ASSERT_TRUE(server.work.Recv().has_value());  // the feeder's token, unused
  }
  feeder.join();
}

}  // namespace
}  // namespace handoff
