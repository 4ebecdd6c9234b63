// Copyright 2026 The handoff Authors.
//
// SIGTERM against the real handoffd binary, run as a subprocess.

#include <signal.h>

#include <atomic>
#include <cstdio>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "grpcpp/generic/generic_stub.h"
#include "tests/integration/server/handoffd_process.h"
#include "tests/integration/server/http_get.h"

namespace handoff::testing {
namespace {

// gRPC 1.51's core ends a call whose headers reach the server after its
// Shutdown began with CANCELLED "CANCELLED", before handoffd sees it
// (grpc/grpc#41785). A call stamped just before the signal can still be in
// the socket then. handoffd's own CANCELLED always says why, so the exact
// text tells the two apart.
bool IsGrpcShutdownRace(grpc::StatusCode code, const std::string& message) {
  return code == grpc::StatusCode::CANCELLED && message == "CANCELLED";
}

// SIGTERM to `server` under its clients' load: handoffd must exit 0 within
// `drain` (its --drain_timeout) and a second's margin. Then the clients are
// told to stop and joined. Returns when the signal was sent, the line
// between calls that must be drained and calls that may be refused.
absl::Time TerminateAndExpectDrained(HandoffdProcess& server, absl::Duration drain,
                                     std::atomic<bool>& stop,
                                     std::vector<std::thread>& clients) {
  const absl::Time signalled = absl::Now();
  server.Signal(SIGTERM);
  std::optional<int> code = server.Wait(drain + absl::Seconds(2));
  const absl::Duration exit_after = absl::Now() - signalled;
  stop.store(true);
  for (auto& c : clients) c.join();
  EXPECT_TRUE(code.has_value()) << "handoffd did not exit\n" << server.Output();
  EXPECT_EQ(code.value_or(-1), 0) << server.Output();
  EXPECT_LT(exit_after, drain + absl::Seconds(1));
  return signalled;
}

// The test that matters: every call sent before the signal ends OK or
// UNAVAILABLE (or, if it was still on the wire when gRPC's Shutdown began,
// with gRPC's own CANCELLED), none hangs, and handoffd exits 0 inside the
// drain timeout.
TEST(ShutdownTest, SigtermUnderLoadDrainsEveryCallAndExitsZero) {
  HandoffdProcess server({"--workers=2", "--queue_depth=64", "--drain_timeout=5s"});
  int port = server.Port();
  ASSERT_NE(port, 0) << server.Output();
  auto channel = grpc::CreateChannel(absl::StrCat("127.0.0.1:", port),
                                     grpc::InsecureChannelCredentials());
  auto stub = v1::Gateway::NewStub(channel);

  struct Outcome {
    absl::Time sent;
    grpc::StatusCode code;
    std::string message;
  };
  std::mutex mu;
  std::vector<Outcome> outcomes;
  std::atomic<int> ok{0};
  std::atomic<bool> stop{false};
  std::vector<std::thread> clients;
  for (int t = 0; t < 8; ++t) {
    clients.emplace_back([&] {
      while (!stop.load()) {
        grpc::ClientContext ctx;
        ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(20)));
        v1::WorkRequest req;
        req.set_cpu_us(300);
        req.set_sleep_us(20'000);
        v1::WorkReply reply;
        absl::Time sent = absl::Now();
        grpc::Status s = stub->Work(&ctx, req, &reply);
        if (s.ok()) ok.fetch_add(1);
        std::lock_guard<std::mutex> l(mu);
        outcomes.push_back({sent, s.error_code(), s.error_message()});
        if (!s.ok()) return;  // the server is going away: this client is done
      }
    });
  }
  ASSERT_TRUE(WaitUntil([&] { return ok.load() >= 50; }));
  const absl::Time signalled =
      TerminateAndExpectDrained(server, absl::Seconds(5), stop, clients);
  int before = 0;
  int raced = 0;
  for (const Outcome& o : outcomes) {
    if (o.sent >= signalled) continue;
    ++before;
    if (IsGrpcShutdownRace(o.code, o.message)) {
      ++raced;
      continue;
    }
    EXPECT_TRUE(o.code == grpc::StatusCode::OK ||
                o.code == grpc::StatusCode::UNAVAILABLE)
        << "code " << o.code << ": " << o.message;
  }
  EXPECT_GE(before, 50);
  if (raced > 0) {
    std::printf("%d call(s) sent before the signal met gRPC's shutdown race\n",
                raced);
  }
}

// The same with every kind of call at once: unary Work, Batches and
// Streams, each client making one call after another. Every call made before
// the signal ends OK or UNAVAILABLE (or meets gRPC's race, as above); a
// Batch that ends OK has every item's reply, a Stream that ends OK one reply
// for each message it sent; and handoffd exits 0 inside the drain timeout.
TEST(ShutdownTest, SigtermUnderMixedLoadAnswersEveryKindOfCall) {
  HandoffdProcess server({"--workers=2", "--queue_depth=64", "--drain_timeout=5s",
                          "--stream_window=4", "--batch_window=4"});
  int port = server.Port();
  ASSERT_NE(port, 0) << server.Output();
  auto stub = v1::Gateway::NewStub(grpc::CreateChannel(
      absl::StrCat("127.0.0.1:", port), grpc::InsecureChannelCredentials()));

  struct Outcome {
    std::string method;
    absl::Time sent;
    grpc::StatusCode code;
    std::string message;
    int asked = 0;     // messages or items sent
    int answered = 0;  // replies, or items answered OK
  };
  std::mutex mu;
  std::vector<Outcome> outcomes;
  std::atomic<int> ok_work{0};
  std::atomic<int> ok_batch{0};
  std::atomic<int> ok_stream{0};
  std::atomic<bool> stop{false};
  auto record = [&](Outcome o) {
    std::lock_guard<std::mutex> l(mu);
    outcomes.push_back(std::move(o));
  };
  auto deadline = [] { return absl::ToChronoTime(absl::Now() + absl::Seconds(20)); };
  v1::WorkRequest job;
  job.set_cpu_us(200);
  job.set_sleep_us(10'000);
  std::vector<std::thread> clients;
  for (int t = 0; t < 2; ++t) {
    clients.emplace_back([&] {
      while (!stop.load()) {
        grpc::ClientContext ctx;
        ctx.set_deadline(deadline());
        v1::WorkReply reply;
        const absl::Time sent = absl::Now();
        grpc::Status s = stub->Work(&ctx, job, &reply);
        if (s.ok()) ok_work.fetch_add(1);
        record({"Work", sent, s.error_code(), s.error_message(), 1, s.ok() ? 1 : 0});
        if (!s.ok()) return;  // the server is going away: this client is done
      }
    });
    clients.emplace_back([&] {
      while (!stop.load()) {
        grpc::ClientContext ctx;
        ctx.set_deadline(deadline());
        v1::BatchRequest batch;
        for (int i = 0; i < 8; ++i) *batch.add_items() = job;
        v1::BatchReply reply;
        const absl::Time sent = absl::Now();
        grpc::Status s = stub->Batch(&ctx, batch, &reply);
        int answered = 0;
        for (const v1::BatchItemReply& item : reply.items()) answered += item.code() == 0;
        if (s.ok()) ok_batch.fetch_add(1);
        record({"Batch", sent, s.error_code(), s.error_message(), 8, answered});
        if (!s.ok()) return;
      }
    });
    clients.emplace_back([&] {
      while (!stop.load()) {
        grpc::ClientContext ctx;
        ctx.set_deadline(deadline());
        const absl::Time sent = absl::Now();
        auto stream = stub->Stream(&ctx);
        int answered = 0;
        std::thread reader([&] {
          v1::WorkReply reply;
          while (stream->Read(&reply)) ++answered;
        });
        int asked = 0;
        for (; asked < 20 && !stop.load(); ++asked) {
          if (!stream->Write(job)) break;
        }
        stream->WritesDone();
        reader.join();
        grpc::Status s = stream->Finish();
        if (s.ok()) ok_stream.fetch_add(1);
        record({"Stream", sent, s.error_code(), s.error_message(), asked, answered});
        if (!s.ok()) return;
      }
    });
  }
  ASSERT_TRUE(WaitUntil([&] {
    return ok_work.load() >= 10 && ok_batch.load() >= 3 && ok_stream.load() >= 3;
  }));
  const absl::Time signalled =
      TerminateAndExpectDrained(server, absl::Seconds(5), stop, clients);
  for (const Outcome& o : outcomes) {
    if (o.sent >= signalled || IsGrpcShutdownRace(o.code, o.message)) continue;
    EXPECT_TRUE(o.code == grpc::StatusCode::OK ||
                o.code == grpc::StatusCode::UNAVAILABLE)
        << o.method << ": code " << o.code << ": " << o.message;
    if (o.code == grpc::StatusCode::OK) {
      EXPECT_EQ(o.answered, o.asked) << o.method << " ended OK without every reply";
    }
  }
}

// handoffd with one worker, running one Work call that would sleep for 50 s:
// a drain with exactly one call to wait for.
class OneLongCall {
 public:
  explicit OneLongCall(const std::string& drain_timeout)
      : server({"--workers=1", "--drain_timeout=" + drain_timeout,
                "--admin_listen=127.0.0.1:0"}) {}

  // Starts the call and returns once it is running on the worker, by
  // handoffd's own metrics. A signal sent earlier could find the call not yet
  // admitted: it would be refused as the drain begins, which is another row
  // of the status table, and the drain would have nothing to wait for.
  ::testing::AssertionResult Start() {
    int port = server.Port();
    int admin_port = server.AdminPort();
    if (port == 0 || admin_port == 0) {
      return ::testing::AssertionFailure() << "no ports: " << server.Output();
    }
    stub_ = v1::Gateway::NewStub(grpc::CreateChannel(
        absl::StrCat("127.0.0.1:", port), grpc::InsecureChannelCredentials()));
    call.request.set_sleep_us(50'000'000);
    stub_->async()->Work(&call.ctx, &call.request, &call.reply,
                         [this](grpc::Status s) {
                           call.done.TrySend(s).IgnoreError();
                         });
    if (!WaitUntil([&] {
          return absl::StrContains(HttpGet(admin_port, "/metrics"),
                                   "\nhandoff_workers_busy 1\n");
        })) {
      return ::testing::AssertionFailure()
             << "the call never ran: " << server.Output();
    }
    return ::testing::AssertionSuccess();
  }

  HandoffdProcess server;
  AsyncCall<v1::WorkRequest, v1::WorkReply> call;

 private:
  std::unique_ptr<v1::Gateway::Stub> stub_;
};

// A second signal does not wait for the drain.
TEST(ShutdownTest, SecondSignalForcesExit) {
  OneLongCall running("60s");
  ASSERT_TRUE(running.Start());
  running.server.Signal(SIGTERM);
  // The first signal has been handled once handoffd says it is draining (it
  // stops accepting at that moment, so a health check could no longer tell).
  ASSERT_TRUE(WaitUntil([&] {
    return running.server.Output().find("draining") != std::string::npos;
  }));
  running.server.Signal(SIGTERM);
  std::optional<int> code = running.server.Wait(absl::Seconds(5));
  ASSERT_TRUE(code.has_value()) << running.server.Output();
  EXPECT_EQ(*code, 1);
  EXPECT_NE(running.call.Wait().error_code(), grpc::StatusCode::OK);
}

// A call that outlasts the drain timeout is cut off with UNAVAILABLE (the
// client may retry elsewhere) and handoffd still exits 0, on time.
TEST(ShutdownTest, CallOutlastingDrainTimeoutIsUnavailable) {
  OneLongCall running("500ms");
  ASSERT_TRUE(running.Start());
  running.server.Signal(SIGTERM);
  // On time: long before the call would have ended by itself.
  std::optional<int> code = running.server.Wait(absl::Seconds(5));
  ASSERT_TRUE(code.has_value()) << running.server.Output();
  EXPECT_EQ(*code, 0);
  EXPECT_TRUE(absl::StrContains(running.server.Output(),
                                "drain timeout: the rest were cancelled"))
      << running.server.Output();
  grpc::Status s = running.call.Wait();
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAVAILABLE) << s.error_message();
  EXPECT_TRUE(absl::StrContains(s.error_message(), "outlasted --drain_timeout"))
      << s.error_message();
}

// Long-lived streams do not hold the drain until its timeout: an idle
// Gateway Stream ends UNAVAILABLE as the drain begins, and a health Watch
// (gRPC's own, open until its client closes it) is ended once every Gateway
// call has answered. handoffd exits 0 long before --drain_timeout.
TEST(ShutdownTest, OpenStreamsDoNotHoldTheDrain) {
  HandoffdProcess server({"--workers=1", "--drain_timeout=60s",
                          "--admin_listen=127.0.0.1:0"});
  int port = server.Port();
  ASSERT_NE(port, 0) << server.Output();
  int admin_port = server.AdminPort();
  ASSERT_NE(admin_port, 0) << server.Output();
  auto channel = grpc::CreateChannel(absl::StrCat("127.0.0.1:", port),
                                     grpc::InsecureChannelCredentials());

  // A health Watch, through a generic stub: its first answer is SERVING.
  grpc::GenericStub generic(channel);
  grpc::ClientContext watch_ctx;
  grpc::CompletionQueue cq;
  void* tag;
  bool ok;
  auto watch = generic.PrepareCall(&watch_ctx, "/grpc.health.v1.Health/Watch", &cq);
  watch->StartCall(nullptr);
  ASSERT_TRUE(cq.Next(&tag, &ok) && ok);
  grpc::ByteBuffer empty_request(nullptr, 0);
  watch->Write(empty_request, nullptr);
  ASSERT_TRUE(cq.Next(&tag, &ok) && ok);
  watch->WritesDone(nullptr);
  ASSERT_TRUE(cq.Next(&tag, &ok) && ok);
  grpc::ByteBuffer update;
  watch->Read(&update, nullptr);
  ASSERT_TRUE(cq.Next(&tag, &ok) && ok) << "no first health update";

  // An idle Gateway Stream, open on the server once it counts a call.
  auto stub = v1::Gateway::NewStub(channel);
  grpc::ClientContext stream_ctx;
  auto stream = stub->Stream(&stream_ctx);
  ASSERT_TRUE(WaitUntil([&] {
    return absl::StrContains(HttpGet(admin_port, "/metrics"),
                             "\nhandoff_calls_in_flight 1\n");
  })) << server.Output();

  server.Signal(SIGTERM);
  std::optional<int> code = server.Wait(absl::Seconds(20));
  ASSERT_TRUE(code.has_value()) << "the drain waited for the open streams\n"
                                << server.Output();
  EXPECT_EQ(*code, 0);
  v1::WorkReply reply;
  EXPECT_FALSE(stream->Read(&reply));
  grpc::Status s = stream->Finish();
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAVAILABLE) << s.error_message();
  EXPECT_TRUE(absl::StrContains(s.error_message(), "draining")) << s.error_message();

  // Drain the watch: updates until it ends, then its status.
  for (;;) {
    watch->Read(&update, nullptr);
    if (!cq.Next(&tag, &ok) || !ok) break;
  }
  grpc::Status watch_status;
  watch->Finish(&watch_status, nullptr);
  cq.Next(&tag, &ok);
  cq.Shutdown();
  while (cq.Next(&tag, &ok)) {
  }
}

}  // namespace
}  // namespace handoff::testing
