// Copyright 2026 The handoff Authors.
//
// Limits on what one HTTP/2 connection may hold of handoffd: its open calls
// (--max_concurrent_streams). gRPC's own defaults leave them unbounded.

#include <memory>
#include <string>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "handoff/v1/gateway.grpc.pb.h"
#include "tests/integration/server/server_fixture.h"

namespace handoff::testing {
namespace {

// Two calls open on one connection fill it: a third waits in the client,
// unsent (a free worker would run it at once), until one of them ends, while
// another connection is served as ever.
class MaxConcurrentStreamsTest : public ServerTest {
  void Configure(ServerConfig& c) override {
    c.max_concurrent_streams = 2;
    c.workers = 3;  // one left free: a call that reached the server would run
  }
};

TEST_F(MaxConcurrentStreamsTest, AConnectionsCallsBeyondTheLimitWaitForOneToEnd) {
  auto first = StartBlocked();
  auto second = StartBlocked();
  v1::CallReply reply;
  grpc::Status third = CallHandler("count", &reply, "", absl::Milliseconds(300));
  EXPECT_EQ(third.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED)
      << third.error_message();
  EXPECT_EQ(count_runs_.load(), 0);

  // A channel of its own subchannel pool is a second connection.
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  auto other = grpc::CreateCustomChannel(
      "127.0.0.1:" + std::to_string(server_->port()),
      grpc::InsecureChannelCredentials(), args);
  auto other_stub = v1::Gateway::NewStub(other);
  grpc::ClientContext ctx;
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
  v1::CallRequest count;
  count.set_handler("count");
  grpc::Status s = other_stub->Call(&ctx, count, &reply);
  EXPECT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(count_runs_.load(), 1);

  // One of the two ends (whichever handler takes the release), and with it
  // the connection has room again.
  ASSERT_TRUE(release_.Send(std::monostate{}).ok());
  grpc::Status ended(grpc::StatusCode::UNKNOWN, "test: neither call ended");
  AsyncCall<v1::CallRequest, v1::CallReply>* open = nullptr;
  auto [timeout, cancel] = WithTimeout(Context::Background(), absl::Seconds(20));
  Select(OnRecv(first->done, [&](std::optional<grpc::Status> st) {
           ended = *st;
           open = second.get();
         }),
         OnRecv(second->done, [&](std::optional<grpc::Status> st) {
           ended = *st;
           open = first.get();
         }),
         OnDone(timeout, [] {}));
  cancel();
  ASSERT_NE(open, nullptr) << "neither call ended";
  EXPECT_TRUE(ended.ok()) << ended.error_message();
  s = CallHandler("count", &reply);
  EXPECT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(count_runs_.load(), 2);
  ASSERT_TRUE(release_.Send(std::monostate{}).ok());
  EXPECT_TRUE(open->Wait().ok());
}

}  // namespace
}  // namespace handoff::testing
