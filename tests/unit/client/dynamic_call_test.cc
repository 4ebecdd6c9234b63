// CallMethod against a hand-made HTTP/2 server that answers a unary call as
// no gRPC server would: the call must fail, not pass off what came as the
// reply.

#include "client/dynamic_call.h"

#include <optional>
#include <string>
#include <vector>

#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <gtest/gtest.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "handoff/v1/gateway.pb.h"
#include "scripted_h2_server.h"
#include "tests/util/ports.h"

namespace handoff {
namespace {

const google::protobuf::MethodDescriptor& Echo() {
  return *v1::EchoRequest::descriptor()->file()->FindServiceByName("Gateway")->FindMethodByName(
      "Echo");
}

// What CallMethod made of the server's answer: its status, and the replies
// it handed on.
struct Outcome {
  absl::Status status;
  std::vector<std::string> replies;
};

Outcome CallEcho(const testing::ScriptedH2Server& server) {
  auto channel = grpc::CreateChannel(server.address(), grpc::InsecureChannelCredentials());
  Outcome outcome;
  outcome.status =
      CallMethod(channel, Echo(), {v1::EchoRequest().SerializeAsString()},
                 {.timeout = absl::Seconds(20)},
                 [&](const std::string& reply) { outcome.replies.push_back(reply); });
  return outcome;
}

TEST(CallMethodTest, AUnaryCallEndedOkWithoutAReplyIsInternal) {
  testing::ScriptedH2Server server(testing::OkWithoutReply);
  Outcome outcome = CallEcho(server);
  EXPECT_EQ(outcome.status.code(), absl::StatusCode::kInternal) << outcome.status;
  EXPECT_TRUE(absl::StrContains(outcome.status.message(), "OK without a reply"))
      << outcome.status;
  EXPECT_TRUE(outcome.replies.empty());
}

TEST(CallMethodTest, AUnaryCallAnsweredTwiceIsInternalAndHandsOnNeither) {
  v1::EchoReply hi;
  hi.set_payload("hi");
  testing::ScriptedH2Server server([&](uint32_t stream_id) {
    return testing::OkAfterTwoReplies(stream_id, hi.SerializeAsString());
  });
  Outcome outcome = CallEcho(server);
  EXPECT_EQ(outcome.status.code(), absl::StatusCode::kInternal) << outcome.status;
  EXPECT_TRUE(absl::StrContains(outcome.status.message(), "more than one reply"))
      << outcome.status;
  EXPECT_TRUE(outcome.replies.empty());
}

TEST(CallMethodTest, AUnaryCallAnsweredOnceHandsOnItsReply) {
  v1::EchoReply hi;
  hi.set_payload("hi");
  testing::ScriptedH2Server server([&](uint32_t stream_id) {
    return testing::OkWithReply(stream_id, hi.SerializeAsString());
  });
  Outcome outcome = CallEcho(server);
  EXPECT_TRUE(outcome.status.ok()) << outcome.status;
  EXPECT_EQ(outcome.replies, std::vector<std::string>{hi.SerializeAsString()});
}

// A call by name that misses its deadline without ever having had a
// connection says so, as Client's calls do (ClientWithoutServerTest):
// gRPC's "Deadline Exceeded" alone does not tell a server that cannot be
// reached from a slow one. `handoff call --proto` to a server that was
// down said only that.
TEST(CallMethodWithoutServerTest, ADeadlinePassedWithNoConnectionSaysSoInItsMessage) {
  testing::RefusingPort refusing;
  ASSERT_NE(refusing.port(), 0);
  auto channel = grpc::CreateChannel(absl::StrCat("127.0.0.1:", refusing.port()),
                                     grpc::InsecureChannelCredentials());
  absl::Status status =
      CallMethod(channel, Echo(), {v1::EchoRequest().SerializeAsString()},
                 {.timeout = absl::Milliseconds(100), .wait_for_ready = true},
                 [](const std::string&) {});
  EXPECT_EQ(status.code(), absl::StatusCode::kDeadlineExceeded) << status;
  EXPECT_TRUE(absl::StrContains(status.message(),
                                "; the channel had no connection at the deadline ("))
      << status;
}

// A DEADLINE_EXCEEDED the server answered came over a connection: no hint.
TEST(CallMethodTest, ADeadlineTheServerAnsweredIsNotBlamedOnTheConnection) {
  testing::ScriptedH2Server server([](uint32_t stream_id) {
    return testing::H2Frame(/*HEADERS*/ 1, /*END_STREAM|END_HEADERS*/ 0x5, stream_id,
                            testing::GrpcHead() + testing::GrpcStatus(4));
  });
  Outcome outcome = CallEcho(server);
  EXPECT_EQ(outcome.status.code(), absl::StatusCode::kDeadlineExceeded) << outcome.status;
  EXPECT_FALSE(absl::StrContains(outcome.status.message(), "no connection")) << outcome.status;
}

}  // namespace
}  // namespace handoff
