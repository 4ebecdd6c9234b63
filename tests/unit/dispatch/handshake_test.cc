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

// "Worker Request/Ack Loops": the consumer asks before each task, so the
// producer is never more than the one task asked for ahead of it; closing
// the ack channel tells the consumer there is no more.
TEST(HandshakeTest, ARequestAckLoopKeepsTheProducerOneTaskAhead) {
  Chan<Signal> req(0);
  Chan<int> ack(0);
  std::atomic<int> handed_out{0};
  std::thread producer([&] {
    std::vector<int> tasks = {1, 2, 3, 4};
    for ([[maybe_unused]] Signal asked : req) {
      if (tasks.empty()) {
        ASSERT_TRUE(ack.Close().ok());
        return;
      }
      ASSERT_TRUE(ack.Send(tasks.front()).ok());
      tasks.erase(tasks.begin());
      ++handed_out;
    }
  });
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

}  // namespace
}  // namespace handoff
