// Copyright 2026 The handoff Authors.
//
// An in-process handoffd on loopback for integration tests, with test hooks:
//
//  * handler "block": signals `started`, then waits until the test sends on
//    (or closes) `release`, or until the call's Context is done. With it a
//    test holds workers busy deterministically — no sleeps.
//    "block_declaring_a_minute" is the same, its calls declaring that they
//    cost a minute (HandlerCost).
//  * handler "block_then_fail": signals `started`, then waits until the test
//    sends on (or closes) `release`, whatever its Context says (a latch),
//    and answers FAILED_PRECONDITION: a handler's failure as late as the
//    test makes it.
//  * handler "cancel": answers CANCELLED of its own (the client still there).
//  * handler "count": counts its runs (to prove a job never ran).
//  * handler "throw": throws std::runtime_error.
//
// Tests synchronise on channels and on the server's own counters (WaitUntil
// polls a condition with a deadline; it is not a sleep that hopes).

#ifndef HANDOFF_TESTS_INTEGRATION_SERVER_SERVER_FIXTURE_H_
#define HANDOFF_TESTS_INTEGRATION_SERVER_SERVER_FIXTURE_H_

#include <atomic>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <variant>
#include <vector>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "dispatch/chan.h"
#include "dispatch/context.h"
#include "dispatch/select.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "handoff/v1/gateway.grpc.pb.h"
#include "server/server.h"
#include "tests/util/wait_until.h"

namespace handoff::testing {

// One call in flight through the client's callback API; its status arrives on
// `done`.
template <typename Request, typename Reply>
struct AsyncCall {
  grpc::ClientContext ctx;
  Request request;
  Reply reply;
  Chan<grpc::Status> done{1};

  // Waits for the status (bounded, so a hang fails the test): past `timeout`
  // it is UNKNOWN "test: call hung", and a status that arrives later stays on
  // `done` for the next Wait.
  //
  // The bound is the steady clock's, through a condition variable, not a
  // Context's timeout: tests wait here while they hold the runtime's one
  // timer thread (TimerThreadHold), and a Context's timeout never fires then.
  grpc::Status Wait(absl::Duration timeout = absl::Seconds(20)) {
    // Shared with the select, which may settle on a gRPC thread.
    struct Outcome {
      std::mutex mu;
      std::condition_variable settled_cv;
      bool settled = false;
      std::optional<grpc::Status> status;  // none if abandoned
    };
    auto outcome = std::make_shared<Outcome>();
    auto settle = [outcome](std::optional<grpc::Status> s) {
      std::lock_guard<std::mutex> lock(outcome->mu);
      outcome->settled = true;
      outcome->status = std::move(s);
      outcome->settled_cv.notify_all();
    };
    // Closed when the wait gives up: the select then completes on it rather
    // than stay queued on `done` and take a status no one waits for.
    Chan<std::monostate> abandon(0);
    AsyncSelect(OnRecv(done,
                       [settle](std::optional<grpc::Status> s) {
                         settle(s.has_value()
                                    ? std::move(s)
                                    : grpc::Status(grpc::StatusCode::UNKNOWN,
                                                   "test: done closed"));
                       }),
                OnRecv(abandon, [settle] { settle(std::nullopt); }));
    std::unique_lock<std::mutex> lock(outcome->mu);
    if (!outcome->settled_cv.wait_for(
            lock, absl::ToChronoNanoseconds(timeout),
            [&] { return outcome->settled; })) {
      lock.unlock();
      abandon.Close().IgnoreError();
      lock.lock();
      // Settles at once: by either case, whichever claimed the select (a
      // status that won at the last moment is still returned).
      outcome->settled_cv.wait(lock, [&] { return outcome->settled; });
    }
    if (!outcome->status.has_value()) {
      return grpc::Status(grpc::StatusCode::UNKNOWN, "test: call hung");
    }
    return *std::move(outcome->status);
  }
};

// Sends raw bytes as the request message of `method` through a generic stub
// (no serialisation on the client side); the reply's bytes go to *response.
inline grpc::Status CallRaw(grpc::Channel* channel, const std::string& method,
                            const std::string& bytes,
                            std::string* response = nullptr) {
  grpc::GenericStub stub(channel->shared_from_this());
  grpc::ClientContext ctx;
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
  grpc::Slice slice(bytes);
  grpc::ByteBuffer request(&slice, 1);
  grpc::ByteBuffer reply;
  Chan<grpc::Status> done(1);
  stub.UnaryCall(&ctx, method, grpc::StubOptions(), &request, &reply,
                 [&](grpc::Status s) { done.TrySend(std::move(s)).IgnoreError(); });
  grpc::Status s = *done.Recv();
  if (s.ok() && response != nullptr) {
    std::vector<grpc::Slice> slices;
    (void)reply.Dump(&slices);
    response->clear();
    for (const grpc::Slice& sl : slices) {
      response->append(reinterpret_cast<const char*>(sl.begin()), sl.size());
    }
  }
  return s;
}

// A bidirectional call of `method` through a generic stub: writes each of
// `messages` as raw bytes, half-closes, reads every reply's bytes into
// *replies, and returns the call's status (bounded: 10 s).
inline grpc::Status StreamRaw(grpc::Channel* channel, const std::string& method,
                              const std::vector<std::string>& messages,
                              std::vector<std::string>* replies) {
  grpc::GenericStub stub(channel->shared_from_this());
  grpc::ClientContext ctx;
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
  grpc::CompletionQueue cq;
  void* tag;
  bool ok;
  auto call = stub.PrepareCall(&ctx, method, &cq);
  call->StartCall(nullptr);
  cq.Next(&tag, &ok);
  for (const std::string& m : messages) {
    grpc::Slice slice(m);
    grpc::ByteBuffer b(&slice, 1);
    call->Write(b, nullptr);
    cq.Next(&tag, &ok);  // a write after the server ended the call fails: fine
  }
  call->WritesDone(nullptr);
  cq.Next(&tag, &ok);
  for (;;) {
    grpc::ByteBuffer reply;
    call->Read(&reply, nullptr);
    if (!cq.Next(&tag, &ok) || !ok) break;
    std::vector<grpc::Slice> slices;
    (void)reply.Dump(&slices);
    std::string bytes;
    for (const grpc::Slice& sl : slices) {
      bytes.append(reinterpret_cast<const char*>(sl.begin()), sl.size());
    }
    replies->push_back(std::move(bytes));
  }
  grpc::Status status;
  call->Finish(&status, nullptr);
  cq.Next(&tag, &ok);
  cq.Shutdown();
  while (cq.Next(&tag, &ok)) {
  }
  return status;
}

// A stub whose channel reads ahead at most 64 KiB per stream, whatever the
// bandwidth (no BDP probing): a reply larger than that which the client does
// not read holds the server's write in flight.
inline std::unique_ptr<v1::Gateway::Stub> NarrowWindowStub(int port) {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_HTTP2_BDP_PROBE, 0);
  args.SetInt(GRPC_ARG_HTTP2_STREAM_LOOKAHEAD_BYTES, 64 << 10);
  return v1::Gateway::NewStub(grpc::CreateCustomChannel(
      "127.0.0.1:" + std::to_string(port), grpc::InsecureChannelCredentials(),
      args));
}

// grpc.health.v1.Health/Check for `service`, encoded by hand (the messages
// are one string field and one enum field): 1 SERVING, 2 NOT_SERVING, -1 on
// an RPC error.
inline int HealthCheck(grpc::Channel* channel, const std::string& service) {
  std::string req;
  if (!service.empty()) {
    req.push_back('\x0a');
    req.push_back(static_cast<char>(service.size()));
    req += service;
  }
  std::string resp;
  grpc::Status s =
      CallRaw(channel, "/grpc.health.v1.Health/Check", req, &resp);
  if (!s.ok()) return -1;
  if (resp.size() == 2 && resp[0] == '\x08') return resp[1];
  return 0;  // UNKNOWN (field absent)
}

class ServerTest : public ::testing::Test {
 protected:
  // Override to change the config before the server starts.
  virtual void Configure(ServerConfig& config) { (void)config; }

  void SetUp() override {
    ServerConfig config;
    config.listen = "127.0.0.1:0";
    config.admin_listen = "127.0.0.1:0";
    config.workers = 2;
    config.queue_depth = 16;
    config.drain_timeout = absl::Seconds(2);
    Configure(config);
    auto block = [this](const HandlerCall& call) -> absl::StatusOr<std::string> {
      started_.Send(std::monostate{}).IgnoreError();
      absl::Status out = absl::OkStatus();
      Select(OnRecv(release_, [] {}),
             OnDone(call.ctx, [&] { out = call.ctx.Err(); }));
      if (!out.ok()) return out;
      return std::string(call.payload);
    };
    ASSERT_TRUE(registry_.Register("block", block).ok());
    ASSERT_TRUE(registry_.Register("block_declaring_a_minute", block,
                                   [](std::string_view) { return absl::Minutes(1); })
                    .ok());
    ASSERT_TRUE(registry_.Register("block_then_fail", [this](const HandlerCall&)
                                                -> absl::StatusOr<std::string> {
      started_.Send(std::monostate{}).IgnoreError();
      release_.Recv();
      return absl::FailedPreconditionError("test handler failed");
    }).ok());
    ASSERT_TRUE(registry_.Register("cancel", [](const HandlerCall&)
                                                -> absl::StatusOr<std::string> {
      return absl::CancelledError("test handler cancelled");
    }).ok());
    ASSERT_TRUE(registry_.Register("count", [this](const HandlerCall& call)
                                                -> absl::StatusOr<std::string> {
      count_runs_.fetch_add(1);
      return std::string(call.payload);
    }).ok());
    ASSERT_TRUE(registry_.Register("throw", [](const HandlerCall&)
                                                -> absl::StatusOr<std::string> {
      throw std::runtime_error("test handler threw");
    }).ok());
    ServerOptions options;
    options.config = config;
    options.registry = &registry_;
    auto server = HandoffServer::Start(options);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
    channel_ = grpc::CreateChannel(
        "127.0.0.1:" + std::to_string(server_->port()),
        grpc::InsecureChannelCredentials());
    stub_ = v1::Gateway::NewStub(channel_);
  }

  void TearDown() override {
    release_.Close().IgnoreError();  // frees any blocked handler
    stub_.reset();
    channel_.reset();
    server_.reset();
  }

  // Starts a Call to "block" (or another handler that signals `started_`)
  // and waits until a worker runs it.
  std::unique_ptr<AsyncCall<v1::CallRequest, v1::CallReply>> StartBlocked(
      absl::Duration deadline = absl::Seconds(30),
      const std::string& handler = "block") {
    auto call = std::make_unique<AsyncCall<v1::CallRequest, v1::CallReply>>();
    call->request.set_handler(handler);
    call->ctx.set_deadline(absl::ToChronoTime(absl::Now() + deadline));
    StartCall(call.get());
    EXPECT_TRUE(started_.Recv().has_value());
    return call;
  }

  // The callback of an async call: its status goes to call->done.
  template <typename Call>
  static std::function<void(grpc::Status)> ReportTo(Call* call) {
    return [call](grpc::Status s) { call->done.TrySend(std::move(s)).IgnoreError(); };
  }

  // Start a Call, Echo, Work or Batch call without waiting for it; its
  // status reaches call->done.
  template <typename Call>
  void StartCall(Call* call) {
    stub_->async()->Call(&call->ctx, &call->request, &call->reply, ReportTo(call));
  }
  void StartEcho(AsyncCall<v1::EchoRequest, v1::EchoReply>* call) {
    stub_->async()->Echo(&call->ctx, &call->request, &call->reply, ReportTo(call));
  }
  void StartWork(AsyncCall<v1::WorkRequest, v1::WorkReply>* call) {
    stub_->async()->Work(&call->ctx, &call->request, &call->reply, ReportTo(call));
  }
  void StartBatch(AsyncCall<v1::BatchRequest, v1::BatchReply>* call) {
    stub_->async()->Batch(&call->ctx, &call->request, &call->reply, ReportTo(call));
  }

  // Starts `n` Echo calls, each with `deadline` from now (none if infinite).
  std::vector<std::unique_ptr<AsyncCall<v1::EchoRequest, v1::EchoReply>>>
  StartEchoes(int n, absl::Duration deadline = absl::InfiniteDuration()) {
    std::vector<std::unique_ptr<AsyncCall<v1::EchoRequest, v1::EchoReply>>>
        calls;
    for (int i = 0; i < n; ++i) {
      calls.push_back(
          std::make_unique<AsyncCall<v1::EchoRequest, v1::EchoReply>>());
      if (deadline != absl::InfiniteDuration()) {
        calls.back()->ctx.set_deadline(
            absl::ToChronoTime(absl::Now() + deadline));
      }
      StartEcho(calls.back().get());
    }
    return calls;
  }

  grpc::Status Echo(const std::string& payload, v1::EchoReply* reply,
                    absl::Duration deadline = absl::Seconds(10)) {
    grpc::ClientContext ctx;
    ctx.set_deadline(absl::ToChronoTime(absl::Now() + deadline));
    v1::EchoRequest req;
    req.set_payload(payload);
    return stub_->Echo(&ctx, req, reply);
  }

  // A Call of `handler` with `payload`, its deadline `deadline` from now.
  grpc::Status CallHandler(const std::string& handler, v1::CallReply* reply,
                           const std::string& payload = "",
                           absl::Duration deadline = absl::Seconds(10)) {
    grpc::ClientContext ctx;
    ctx.set_deadline(absl::ToChronoTime(absl::Now() + deadline));
    v1::CallRequest req;
    req.set_handler(handler);
    req.set_payload(payload);
    return stub_->Call(&ctx, req, reply);
  }

  DispatcherStats Stats() { return server_->core().dispatcher().Stats(); }
  WorkCounters& Work() { return server_->core().work_counters(); }

  HandlerRegistry registry_;
  Chan<std::monostate> started_{64};  // one value per "block" run
  Chan<std::monostate> release_{0};   // send once per run to release it
  std::atomic<int> count_runs_{0};
  std::unique_ptr<HandoffServer> server_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::Gateway::Stub> stub_;
};

}  // namespace handoff::testing

#endif  // HANDOFF_TESTS_INTEGRATION_SERVER_SERVER_FIXTURE_H_
