// Copyright 2026 The handoff Authors.
//
// seeds/004's handshakes, built from Chan, Select and Context as the seed
// builds them from Go's: a worker that acknowledges receipt before it
// answers, a request/ack loop that keeps a producer one task ahead, both
// legs of it cancellable, and a queue whose send case a nil channel switches
// off while it has nothing to send.

#include <atomic>
#include <optional>
#include <string>
#include <thread>
#include <variant>
#include <vector>

#include "absl/status/status.h"
#include "dispatch/chan.h"
#include "dispatch/context.h"
#include "dispatch/select.h"
#include "gtest/gtest.h"
#include "test_util.h"

namespace handoff {
namespace {

using Signal = std::monostate;

// "Multi-step bidirectional handshake": the requester learns that the worker
// has its op (early ack) before the answer comes (late reply), and may let
// go of what it held for the op in between.
TEST(HandshakeTest, AWorkerAcksReceiptBeforeItAnswers) {
  struct Op {
    std::string key;
    Chan<Signal> received;  // closed by the worker: it owns the op
    Chan<std::string> reply;
  };
  Chan<Op> ops(0);
  Chan<Signal> go_on(0);  // holds the worker between the ack and the reply
  std::thread worker([&] {
    for (Op& op : ops) {
      ASSERT_TRUE(op.received.Close().ok());
      ASSERT_TRUE(go_on.Recv().has_value());
      ASSERT_TRUE(op.reply.Send(op.key == "name" ? "alice" : "").ok());
    }
  });
  Chan<Signal> received(0);
  Chan<std::string> reply(1);
  ASSERT_TRUE(ops.Send(Op{"name", received, reply}).ok());
  EXPECT_FALSE(received.Recv().has_value()) << "the ack is the close";
  EXPECT_FALSE(reply.TryRecv().ok()) << "the answer came with the ack";
  ASSERT_TRUE(go_on.Send(Signal{}).ok());
  EXPECT_EQ(reply.Recv(), "alice");
  ASSERT_TRUE(ops.Close().ok());
  worker.join();
}

// seeds/004's request/ack producer: one task per request, `ack` closed when
// there are no more, and `done` (the consumer's "I am done") ends it with
// tasks left. Returns how many it handed out.
int ProduceOnRequest(const Chan<Signal>& req, const Chan<int>& ack, const Chan<Signal>& done,
                     std::atomic<int>& handed_out) {
  std::vector<int> tasks = {1, 2, 3, 4};
  for (bool running = true; running;) {
    Select(OnRecv(req,
                  [&] {
                    if (tasks.empty()) {
                      EXPECT_TRUE(ack.Close().ok());  // no more
                      running = false;
                      return;
                    }
                    EXPECT_TRUE(ack.Send(tasks.front()).ok());
                    tasks.erase(tasks.begin());
                    ++handed_out;
                  }),
           OnRecv(done, [&] { running = false; }));
  }
  return handed_out.load();
}

// "Worker Request/Ack Loops": the consumer asks before each task, so the
// producer is never more than the one task asked for ahead of it; closing
// the ack channel tells the consumer there is no more.
TEST(HandshakeTest, ARequestAckLoopKeepsTheProducerOneTaskAhead) {
  Chan<Signal> req(0), done(0);
  Chan<int> ack(0);
  std::atomic<int> handed_out{0};
  std::thread producer([&] { ProduceOnRequest(req, ack, done, handed_out); });
  std::vector<int> got;
  for (int i = 0; i < 2; ++i) {
    ASSERT_TRUE(req.Send(Signal{}).ok());
    got.push_back(*ack.Recv());
  }
  // Asked twice: the producer waits for a third request, two handed out.
  ASSERT_TRUE(testing::WaitForReceivers(req, 1));
  EXPECT_EQ(handed_out.load(), 2);
  for (;;) {
    ASSERT_TRUE(req.Send(Signal{}).ok());
    std::optional<int> t = ack.Recv();
    if (!t.has_value()) break;  // closed: no more
    got.push_back(*t);
  }
  EXPECT_EQ(got, (std::vector<int>{1, 2, 3, 4}));
  producer.join();
}

// The consumer that says it is done ends the producer with tasks left: no
// task is handed out after it, and `ack` is not closed (there was more).
TEST(HandshakeTest, AConsumerThatIsDoneEndsTheProducerWithTasksLeft) {
  Chan<Signal> req(0), done(0);
  Chan<int> ack(0);
  std::atomic<int> handed_out{0};
  int produced = -1;
  std::thread producer([&] { produced = ProduceOnRequest(req, ack, done, handed_out); });
  ASSERT_TRUE(req.Send(Signal{}).ok());
  EXPECT_EQ(ack.Recv(), 1);
  ASSERT_TRUE(done.Close().ok());
  producer.join();
  EXPECT_EQ(produced, 1);
  EXPECT_FALSE(ack.closed()) << "told the consumer there was no more";
}

// "Request/ack with cancellation": a consumer blocked on either leg (asking,
// or waiting for the task) is let go by its context, with the context's
// error, without the producer's help.
TEST(HandshakeTest, BothLegsOfARequestAckLoopAreCancellable) {
  Chan<Signal> req(0);
  Chan<int> ack(0);
  // Asks once and takes one task, each leg against `ctx`.
  const auto take = [&](const Context& ctx) -> absl::Status {
    absl::Status out;
    Select(OnSend(req, Signal{}, [] {}), OnDone(ctx, [&] { out = ctx.Err(); }));
    if (!out.ok()) return out;
    Select(OnRecv(ack, [](std::optional<int>) {}), OnDone(ctx, [&] { out = ctx.Err(); }));
    return out;
  };
  {
    // Nobody takes the request: the first leg waits until the cancel.
    auto [ctx, cancel] = WithCancel(Context::Background());
    absl::Status s;
    std::thread consumer([&, ctx = ctx] { s = take(ctx); });
    ASSERT_TRUE(testing::WaitForSenders(req, 1));
    cancel();
    consumer.join();
    EXPECT_TRUE(absl::IsCancelled(s)) << s;
  }
  {
    // The request is taken and no task comes: the second leg waits.
    auto [ctx, cancel] = WithCancel(Context::Background());
    absl::Status s;
    std::thread consumer([&, ctx = ctx] { s = take(ctx); });
    ASSERT_TRUE(req.Recv().has_value());
    ASSERT_TRUE(testing::WaitForReceivers(ack, 1));
    cancel();
    consumer.join();
    EXPECT_TRUE(absl::IsCancelled(s)) << s;
  }
  // Neither leg left a waiter behind.
  EXPECT_EQ(testing::ParkedSenders(req) + testing::ParkedReceivers(req), 0u);
  EXPECT_EQ(testing::ParkedSenders(ack) + testing::ParkedReceivers(ack), 0u);
}

// "The dynamic select": an unbounded queue between `in` and `out` whose
// send case is on a nil channel while its buffer is empty, so that it is
// never chosen then; values come out in the order they went in.
TEST(HandshakeTest, AQueueSwitchesItsSendCaseOffWithANilChannelWhileEmpty) {
  Chan<int> in(0), out(0);
  Chan<Signal> quit(0);
  std::thread queue([&] {
    std::vector<int> buf;
    for (bool running = true; running;) {
      Chan<int> send_out;  // nil: this case is off
      int next = 0;
      if (!buf.empty()) {
        send_out = out;
        next = buf.front();
      }
      Select(OnRecv(in, [&](std::optional<int> v) { buf.push_back(*v); }),
             OnSend(send_out, next, [&](absl::Status s) {
               ASSERT_TRUE(s.ok());
               buf.erase(buf.begin());
             }),
             OnRecv(quit, [&] { running = false; }));
    }
  });
  // Empty: a receiver on `out` gets nothing (the queue's zero value is
  // never sent), and the queue still takes input.
  ASSERT_TRUE(testing::WaitForReceivers(in, 1));
  EXPECT_FALSE(out.TryRecv().ok());
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(in.Send(i).ok());  // none taken out
  for (int i = 0; i < 5; ++i) EXPECT_EQ(out.Recv(), i);
  ASSERT_TRUE(testing::WaitForReceivers(in, 1));
  EXPECT_FALSE(out.TryRecv().ok()) << "sent from an empty buffer";
  ASSERT_TRUE(quit.Close().ok());
  queue.join();
}

// "Started + stopped + ready handshake": a service's Run closes `started`
// once its init succeeds and, whatever happens, `stopped` when it returns
// (Go's `defer close(s.stopped)`), so WaitStarted learns of an init that
// failed instead of waiting for ever; Stop closes `stop` and waits for
// `stopped`, or for its own context. Init waits for the test's verdict on
// `init_ok`, and handling an event waits for the test's `release`, so that
// the test decides when each step happens.
class LifecycleService {
 public:
  LifecycleService() : thread_([this] { Run(); }) {}
  // Lets Run return from wherever a failed test left it, so that the test
  // fails rather than hangs; on a test's success these find Run gone.
  ~LifecycleService() {
    init_ok.Close().IgnoreError();
    stop_.Close().IgnoreError();
    release.Close().IgnoreError();
    thread_.join();
  }

  absl::Status WaitStarted(const Context& ctx) const {
    absl::Status out;
    Select(OnRecv(started_, [] {}),
           OnRecv(stopped_, [&] {
             out = absl::FailedPreconditionError("service stopped before starting");
           }),
           OnDone(ctx, [&] { out = ctx.Err(); }));
    return out;
  }

  absl::Status Stop(const Context& ctx) const {
    EXPECT_TRUE(stop_.Close().ok());
    absl::Status out;
    Select(OnRecv(stopped_, [] {}), OnDone(ctx, [&] { out = ctx.Err(); }));
    return out;
  }

  Chan<bool> init_ok{0};
  Chan<int> events{0};
  Chan<Signal> release{0};
  std::atomic<bool> cleaned_up{false};
  const Chan<Signal>& started() const { return started_; }
  const Chan<Signal>& stopped() const { return stopped_; }

 private:
  void Run() {
    struct CloseStopped {
      const Chan<Signal>& stopped;
      ~CloseStopped() { EXPECT_TRUE(stopped.Close().ok()); }
    } close_stopped{stopped_};
    if (!init_ok.Recv().value_or(false)) return;
    EXPECT_TRUE(started_.Close().ok());
    for (bool running = true; running;) {
      Select(OnRecv(stop_,
                    [&] {
                      cleaned_up = true;
                      running = false;
                    }),
             OnRecv(events, [&] { (void)release.Recv(); }));
    }
  }

  Chan<Signal> started_{0};
  Chan<Signal> stop_{0};
  Chan<Signal> stopped_{0};
  std::thread thread_;  // last: Run() uses the members above
};

TEST(HandshakeTest, AServiceSaysItStartedAndItsStopWaitsForTheCleanup) {
  LifecycleService service;
  absl::Status started = absl::UnknownError("not yet");
  std::thread waiter([&] { started = service.WaitStarted(Context::Background()); });
  ASSERT_TRUE(testing::WaitForReceivers(service.started(), 1));
  ASSERT_TRUE(service.init_ok.Send(true).ok());
  waiter.join();
  EXPECT_TRUE(started.ok()) << started;

  EXPECT_TRUE(service.Stop(Context::Background()).ok());
  EXPECT_TRUE(service.cleaned_up) << "Stop returned before the cleanup";
}

TEST(HandshakeTest, AServiceWhoseInitFailsIsSeenThroughStopped) {
  LifecycleService service;
  absl::Status started;
  std::thread waiter([&] { started = service.WaitStarted(Context::Background()); });
  ASSERT_TRUE(testing::WaitForReceivers(service.stopped(), 1));
  ASSERT_TRUE(service.init_ok.Send(false).ok());
  waiter.join();
  EXPECT_EQ(started.code(), absl::StatusCode::kFailedPrecondition) << started;
  EXPECT_FALSE(service.started().closed());
  EXPECT_TRUE(service.Stop(Context::Background()).ok()) << "stopped is closed already";
  EXPECT_FALSE(service.cleaned_up);
}

TEST(HandshakeTest, AStopGivesUpAtItsContextWhileAnEventIsHandled) {
  LifecycleService service;
  ASSERT_TRUE(service.init_ok.Send(true).ok());
  ASSERT_TRUE(service.WaitStarted(Context::Background()).ok());
  ASSERT_TRUE(service.events.Send(1).ok());  // Run now waits on `release`
  ASSERT_TRUE(testing::WaitForReceivers(service.release, 1));

  auto [ctx, cancel] = WithCancel(Context::Background());
  absl::Status stopped;
  std::thread stopper([&, ctx = ctx] { stopped = service.Stop(ctx); });
  ASSERT_TRUE(testing::WaitForReceivers(service.stopped(), 1));
  cancel();
  stopper.join();
  EXPECT_TRUE(absl::IsCancelled(stopped)) << stopped;
  EXPECT_FALSE(service.stopped().closed());

  // The request to stop stands: once the event is handled, Run cleans up
  // and says it stopped.
  ASSERT_TRUE(service.release.Send(Signal{}).ok());
  EXPECT_EQ(service.stopped().Recv(), std::nullopt);
  EXPECT_TRUE(service.cleaned_up);
}

}  // namespace
}  // namespace handoff
