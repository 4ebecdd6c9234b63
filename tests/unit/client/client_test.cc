// handoff::Client against an in-process FakeGateway.
#include "client/client.h"

#include <unistd.h>

#include <cmath>

#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/security/server_credentials.h>
#include <grpcpp/server_builder.h>
#include <gtest/gtest.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/blocking_counter.h"
#include "client/deadline.h"
#include "client/metadata.h"
#include "client/status.h"
#include "client/status_details.h"
#include "fake_gateway.h"
#include "goaway_h2_server.h"
#include "scripted_h2_server.h"
#include "tests/util/ports.h"
#include "tests/util/tls_testdata.h"

namespace handoff {
namespace {

using testing::FakeServer;

class ClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = FakeServer::Start();
    auto client = Client::Connect({.target = server_.address});
    ASSERT_TRUE(client.ok()) << client.status();
    client_ = *std::move(client);
  }
  void TearDown() override { server_.server->Shutdown(); }

  FakeServer server_;
  std::unique_ptr<Client> client_;
};

v1::EchoRequest EchoOf(const std::string& payload) {
  v1::EchoRequest r;
  r.set_payload(payload);
  return r;
}

TEST_F(ClientTest, EchoReturnsThePayload) {
  auto reply = client_->Echo(EchoOf("hi"), {.timeout = absl::Seconds(10)});
  ASSERT_TRUE(reply.ok()) << reply.status();
  EXPECT_EQ(reply->payload(), "hi");
}

TEST_F(ClientTest, EchoAsyncAndEchoFutureReturnThePayload) {
  absl::Notification done;
  absl::StatusOr<v1::EchoReply> got;
  client_->EchoAsync(EchoOf("cb"), {}, [&](absl::StatusOr<v1::EchoReply> r) {
    got = std::move(r);
    done.Notify();
  });
  auto future = client_->EchoFuture(EchoOf("fut"));
  done.WaitForNotification();
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->payload(), "cb");
  auto f = future.get();
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_EQ(f->payload(), "fut");
}

TEST_F(ClientTest, AStatusKeepsTheErrorDetailsTheServerSent) {
  auto plain = client_->Echo(EchoOf("status:5:gone"), {.timeout = absl::Seconds(10)});
  ASSERT_EQ(plain.status().code(), absl::StatusCode::kNotFound) << plain.status();
  EXPECT_FALSE(plain.status().GetPayload(kRpcStatusPayloadUrl).has_value());
  auto details = StatusDetails(plain.status());
  ASSERT_TRUE(details.ok()) << details.status();
  EXPECT_TRUE(details->empty());

  auto rich = client_->Echo(EchoOf("details:5:gone"), {.timeout = absl::Seconds(10)});
  ASSERT_EQ(rich.status().code(), absl::StatusCode::kNotFound) << rich.status();
  EXPECT_EQ(rich.status().message(), "gone");
  const auto payload = rich.status().GetPayload(kRpcStatusPayloadUrl);
  ASSERT_TRUE(payload.has_value());
  EXPECT_EQ(std::string(*payload), testing::RpcStatusWithDetails(5, "gone"));
  details = StatusDetails(rich.status());
  ASSERT_TRUE(details.ok()) << details.status();
  ASSERT_EQ(details->size(), 2u);
  EXPECT_EQ((*details)[0].TypeName(), "handoff.v1.EchoReply");
  v1::EchoReply detail;
  ASSERT_TRUE(detail.ParseFromString((*details)[0].value));
  EXPECT_EQ(detail.payload(), "detail");
  EXPECT_EQ((*details)[1].type_url, "type.googleapis.com/example.NotDescribed");
  EXPECT_EQ((*details)[1].value, "xyz");
}

TEST(StatusDetailsTest, APayloadThatIsNotAGoogleRpcStatusIsInvalidArgument) {
  absl::Status status = absl::NotFoundError("gone");
  status.SetPayload(kRpcStatusPayloadUrl, absl::Cord("\xff"));  // a truncated tag
  EXPECT_EQ(StatusDetails(status).status().code(), absl::StatusCode::kInvalidArgument);
  status.SetPayload(kRpcStatusPayloadUrl, absl::Cord("\x0a\x01x"));  // code as a string
  auto wrong_type = StatusDetails(status);
  EXPECT_EQ(wrong_type.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StrContains(wrong_type.status().message(), "field 1"))
      << wrong_type.status();
  status.SetPayload(kRpcStatusPayloadUrl, absl::Cord("\x1a\x01\xff"));  // a detail not an Any
  wrong_type = StatusDetails(status);
  EXPECT_EQ(wrong_type.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StrContains(wrong_type.status().message(), "detail 1")) << wrong_type.status();
}

TEST_F(ClientTest, WorkPastItsDeadlineIsDeadlineExceeded) {
  v1::WorkRequest req;
  req.set_sleep_us(30'000'000);
  auto reply = client_->Work(req, {.timeout = absl::Milliseconds(100)});
  EXPECT_EQ(reply.status().code(), absl::StatusCode::kDeadlineExceeded);
  // The server held the call on a connected channel: nothing to add.
  EXPECT_FALSE(absl::StrContains(reply.status().message(), "no connection"))
      << reply.status();
}

TEST(ClientWithoutServerTest, ADeadlinePassedWithNoConnectionSaysSoInItsMessage) {
  testing::RefusingPort refusing;
  ASSERT_NE(refusing.port(), 0);
  auto client = Client::Connect({.target = absl::StrCat("127.0.0.1:", refusing.port())});
  ASSERT_TRUE(client.ok()) << client.status();
  // wait_for_ready: the call waits out its deadline for a connection that
  // never comes, rather than failing at the first refusal.
  const CallOptions options = {.timeout = absl::Milliseconds(100), .wait_for_ready = true};

  auto echo = (*client)->Echo(EchoOf("x"), options);
  EXPECT_EQ(echo.status().code(), absl::StatusCode::kDeadlineExceeded) << echo.status();
  EXPECT_TRUE(absl::StrContains(echo.status().message(),
                                "; the channel had no connection at the deadline ("))
      << echo.status();

  auto stream = (*client)->Stream({v1::WorkRequest()}, options);
  EXPECT_EQ(stream.status().code(), absl::StatusCode::kDeadlineExceeded) << stream.status();
  EXPECT_TRUE(absl::StrContains(stream.status().message(), "no connection at the deadline"))
      << stream.status();
}

// Until a call is on a connection gRPC gives the target as its peer, and a
// Unix socket's target reads like a connection's address: the hint is still
// given when nothing listens there.
TEST(ClientWithoutServerTest, ADeadlinePassedWithNoServerOnAUnixSocketSaysSo) {
  const std::string target =
      absl::StrCat("unix:", ::testing::TempDir(), "handoff-nobody-", getpid(), ".sock");
  auto client = Client::Connect({.target = target});
  ASSERT_TRUE(client.ok()) << client.status();
  auto echo = (*client)->Echo(
      EchoOf("x"), {.timeout = absl::Milliseconds(100), .wait_for_ready = true});
  EXPECT_EQ(echo.status().code(), absl::StatusCode::kDeadlineExceeded) << echo.status();
  EXPECT_TRUE(absl::StrContains(echo.status().message(), "no connection at the deadline"))
      << echo.status();
}

TEST_F(ClientTest, CancelTokenCancelsAWorkInFlight) {
  v1::WorkRequest req;
  req.set_sleep_us(30'000'000);
  auto token = std::make_shared<CancelToken>();
  auto future = client_->WorkFuture(req, {.timeout = absl::Seconds(60), .cancel = token});
  // Cancel only once the server holds the call, so the cancellation
  // travels to the server rather than stopping the call locally.
  server_.service->work_started().WaitForNotification();
  token->Cancel();
  auto reply = future.get();
  EXPECT_EQ(reply.status().code(), absl::StatusCode::kCancelled);
  // A call started after Cancel fails at once.
  auto late = client_->Echo(EchoOf("late"), {.cancel = token});
  EXPECT_EQ(late.status().code(), absl::StatusCode::kCancelled);
}

TEST_F(ClientTest, UnavailableIsRetriedByTheChannel) {
  auto reply = client_->Echo(EchoOf("unavailable:2"), {.timeout = absl::Seconds(10)});
  ASSERT_TRUE(reply.ok()) << reply.status();
  EXPECT_EQ(server_.service->echo_calls(), 3);
}

TEST_F(ClientTest, RetriesStopAtMaxAttempts) {
  auto reply = client_->Echo(EchoOf("unavailable:10"), {.timeout = absl::Seconds(10)});
  EXPECT_EQ(reply.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(server_.service->echo_calls(), RetryPolicy{}.max_attempts);
}

// The policy's durations reach gRPC in a form it parses, however long:
// written with "%g", a backoff of a million hours was "3.6e+09s", and every
// call on the channel failed; past protobuf's 10,000 years, so did one in
// fixed notation.
TEST_F(ClientTest, AVeryLongMaxBackoffIsStillAPolicyGrpcTakes) {
  auto client = Client::Connect(
      {.target = server_.address,
       .retry = RetryPolicy{.initial_backoff = absl::Milliseconds(1),
                            .max_backoff = absl::Hours(100'000'000)}});
  ASSERT_TRUE(client.ok()) << client.status();
  auto reply = (*client)->Echo(EchoOf("unavailable:2"), {.timeout = absl::Seconds(10)});
  ASSERT_TRUE(reply.ok()) << reply.status();
  EXPECT_EQ(server_.service->echo_calls(), 3);
}

TEST_F(ClientTest, NoRetryWhenDisabled) {
  auto client = Client::Connect({.target = server_.address, .retry = std::nullopt});
  ASSERT_TRUE(client.ok());
  auto reply = (*client)->Echo(EchoOf("unavailable:1"));
  EXPECT_EQ(reply.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(server_.service->echo_calls(), 1);
}

TEST_F(ClientTest, StreamRepliesInOrder) {
  std::vector<v1::WorkRequest> requests(5);
  for (int i = 0; i < 5; ++i) requests[i].set_payload(std::to_string(i));
  auto replies = client_->Stream(requests, {.timeout = absl::Seconds(10)});
  ASSERT_TRUE(replies.ok()) << replies.status();
  ASSERT_EQ(replies->size(), 5u);
  for (int i = 0; i < 5; ++i) EXPECT_EQ((*replies)[i].payload(), std::to_string(i));
}

TEST_F(ClientTest, AStreamOfNoRequestsEndsOkWithNoReplies) {
  auto replies = client_->StreamFuture({}).get();
  ASSERT_TRUE(replies.ok()) << replies.status();
  EXPECT_TRUE(replies->empty());
}

// A Stream answers each request with one reply: a server that ends the
// stream OK with fewer (here after the first of three) fails it INTERNAL,
// saying so, as a unary call ended OK without its reply does. The stream
// used to end OK with one reply, the other two lost without a word.
TEST_F(ClientTest, AStreamEndedOkBeforeAnsweringEveryRequestIsInternal) {
  std::vector<v1::WorkRequest> requests(3);
  requests[0].set_payload("a");
  requests[1].set_payload("status:0:");
  requests[2].set_payload("c");
  auto replies = client_->Stream(requests, {.timeout = absl::Seconds(10)});
  EXPECT_EQ(replies.status().code(), absl::StatusCode::kInternal) << replies.status();
  EXPECT_EQ(replies.status().message(),
            "the server ended the stream OK with 1 replies to 3 requests, where Stream "
            "answers each request with one");
}

// Metadata gRPC cannot send fails the call, naming the header: gRPC C++
// itself aborts the process on it.
TEST_F(ClientTest, MetadataGrpcCannotSendFailsTheCallNotTheProcess) {
  auto reply = client_->Echo(EchoOf("hi"), {.timeout = absl::Seconds(10),
                                            .metadata = {{"x y", "1"}}});
  EXPECT_TRUE(absl::IsInvalidArgument(reply.status())) << reply.status();
  EXPECT_EQ(reply.status().message(),
            R"(metadata key "x y": ' ' is not allowed in a key (only 0-9, a-z, '-', '_' and '.'))");
  auto replies = client_->Stream(std::vector<v1::WorkRequest>(2),
                                 {.timeout = absl::Seconds(10),
                                  .metadata = {{"user", "Jos\xc3\xa9"}}});
  EXPECT_TRUE(absl::IsInvalidArgument(replies.status())) << replies.status();
  EXPECT_EQ(replies.status().message(),
            R"(metadata "user": its value holds byte 0xc3; a value is printable ASCII, )"
            "unless its key ends in -bin");
  // The channel is fine, and a -bin key takes any bytes.
  reply = client_->Echo(EchoOf("hi"), {.timeout = absl::Seconds(10),
                                       .metadata = {{"trace-bin", "\xc3\x01"}}});
  EXPECT_TRUE(reply.ok()) << reply.status();
}

// Why ValidateMetadata refuses the keys it calls gRPC's own: given to gRPC
// C++ itself (not through handoff::Client, which now refuses them), each
// reaches the server dropped or with gRPC's value in its place, and the call
// goes on OK, grpc-status alone failing it. A neighbour of theirs arrives as
// given. Should a gRPC upgrade send one of them, this fails, and the key can
// be let through again.
TEST_F(ClientTest, GrpcDropsOrAltersTheKeysItReserves) {
  auto stub = v1::Gateway::NewStub(
      grpc::CreateChannel(server_.address, grpc::InsecureChannelCredentials()));
  auto received = [&](const std::string& key) -> std::pair<grpc::Status, std::string> {
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
    context.AddMetadata(key, "x");
    v1::EchoReply reply;
    const grpc::Status status = stub->Echo(&context, EchoOf("header:" + key), &reply);
    return {status, reply.payload()};
  };
  const auto given = received("grpc-x");
  ASSERT_TRUE(given.first.ok()) << given.first.error_message();
  EXPECT_EQ(given.second, "x");
  for (const std::string& key : ReservedMetadataKeys()) {
    const auto [status, value] = received(key);
    if (key == "grpc-status") {
      EXPECT_EQ(status.error_code(), grpc::StatusCode::UNIMPLEMENTED) << status.error_message();
      continue;
    }
    EXPECT_TRUE(status.ok()) << key << ": " << status.error_message();
    if (key == "user-agent") {
      EXPECT_TRUE(absl::StartsWith(value, "grpc-c++/")) << value;
    } else if (key == "grpc-retry-pushback-ms") {
      EXPECT_EQ(value, "-9223372036854775808");
    } else {
      EXPECT_EQ(value, "") << key << " arrived";
    }
  }
}

// A key gRPC keeps for itself fails the call before it is made, naming the
// key and what sets it: it was sent, dropped by gRPC, and the call was OK as
// if the caller had not asked for, say, a timeout.
TEST_F(ClientTest, AKeyGrpcKeepsForItselfFailsTheCallNamingIt) {
  const int64_t calls = server_.service->echo_calls();
  auto reply = client_->Echo(EchoOf("header:grpc-timeout"),
                             {.timeout = absl::Seconds(10), .metadata = {{"grpc-timeout", "1S"}}});
  EXPECT_TRUE(absl::IsInvalidArgument(reply.status())) << reply.status();
  EXPECT_EQ(reply.status().message(),
            "metadata key \"grpc-timeout\" is gRPC's own: gRPC sets it from the call's deadline "
            "and drops this one; use --timeout (CallOptions::timeout in the library)");
  EXPECT_EQ(server_.service->echo_calls(), calls);
}

// A server that recycles a connection (handoffd's --max_connection_age)
// refuses the calls that crossed its GOAWAY unprocessed. gRPC makes such a
// call again on a new connection, whatever the retry policy, so no caller
// sees it fail: a client with retries off included.
class ClientGoawayTest : public ::testing::TestWithParam<bool> {};

TEST_P(ClientGoawayTest, ACallAGoawayRefusedIsMadeAgainOnANewConnection) {
  testing::GoawayH2Server server;
  ClientOptions options{.target = server.address()};
  if (!GetParam()) options.retry = std::nullopt;
  auto client = Client::Connect(options);
  ASSERT_TRUE(client.ok()) << client.status();
  // Two calls at once, so that both are on the first connection when the
  // server reads them (streams 1 and 3) and sends its GOAWAY.
  absl::BlockingCounter both(2);
  absl::StatusOr<v1::EchoReply> replies[2];
  for (auto& reply : replies) {
    (*client)->EchoAsync(EchoOf("x"), {.timeout = absl::Seconds(20)},
                         [&](absl::StatusOr<v1::EchoReply> r) {
                           reply = std::move(r);
                           both.DecrementCount();
                         });
  }
  both.Wait();
  for (const auto& reply : replies) EXPECT_TRUE(reply.ok()) << reply.status();
  EXPECT_EQ(server.requests(), 3);
}

INSTANTIATE_TEST_SUITE_P(Retries, ClientGoawayTest, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& info) {
                           return info.param ? "PolicyOn" : "PolicyOff";
                         });

// A unary call has one reply. gRPC C++ takes a callback call's answer
// that ended OK with none as a success, leaving the reply empty, and one
// with two as the first: either would hand the caller a reply the server
// never gave.
TEST(ClientCardinalityTest, AUnaryCallEndedOkWithoutAReplyOrWithTwoIsInternal) {
  for (bool two : {false, true}) {
    SCOPED_TRACE(two ? "two replies" : "no reply");
    v1::EchoReply hi;
    hi.set_payload("hi");
    testing::ScriptedH2Server server([&](uint32_t stream_id) {
      return two ? testing::OkAfterTwoReplies(stream_id, hi.SerializeAsString())
                 : testing::OkWithoutReply(stream_id);
    });
    auto client = Client::Connect({.target = server.address(), .retry = std::nullopt});
    ASSERT_TRUE(client.ok()) << client.status();
    auto reply = (*client)->Echo(EchoOf("x"), {.timeout = absl::Seconds(20)});
    EXPECT_EQ(reply.status().code(), absl::StatusCode::kInternal) << reply.status();
    EXPECT_TRUE(absl::StrContains(reply.status().message(),
                                  two ? "more than one reply" : "without a reply"))
        << reply.status();
  }
}

// A BatchReply has one item per request item, in order (gateway.proto): one
// the server answered OK with another count fails INTERNAL, saying both, as
// a Stream short of its replies does. It used to be handed on, OK, with the
// caller left to find that items(i) was no longer request item i's answer.
TEST(ClientBatchTest, ABatchAnsweredOkWithAnItemCountOtherThanTheRequestsIsInternal) {
  v1::BatchReply one;
  one.add_items()->mutable_reply()->set_payload("0");
  testing::ScriptedH2Server server([&](uint32_t stream_id) {
    return testing::OkWithReply(stream_id, one.SerializeAsString());
  });
  auto client = Client::Connect({.target = server.address(), .retry = std::nullopt});
  ASSERT_TRUE(client.ok()) << client.status();
  v1::BatchRequest request;
  for (int i = 0; i < 3; ++i) request.add_items()->set_payload(std::to_string(i));
  auto reply = (*client)->Batch(request, {.timeout = absl::Seconds(20)});
  EXPECT_EQ(reply.status().code(), absl::StatusCode::kInternal) << reply.status();
  EXPECT_EQ(reply.status().message(),
            "the server answered a Batch of 3 items OK with 1 items, where it answers "
            "each item with one");
  request.mutable_items()->DeleteSubrange(1, 2);
  auto matching = (*client)->Batch(request, {.timeout = absl::Seconds(20)});
  ASSERT_TRUE(matching.ok()) << matching.status();
  EXPECT_EQ(matching->items(0).reply().payload(), "0");
}

// A server that goes silent under a call (its host gone, or a network that
// drops the packets: no FIN, no RST) is found by keepalive: the unanswered
// ping ends the call UNAVAILABLE. Without it, a call with no deadline on
// such a connection waited for ever, and a Client could not ask for it.
TEST(ClientKeepaliveTest, AServerThatGoesSilentUnderACallEndsItUnavailable) {
  testing::ScriptedH2Server silent([](uint32_t) { return std::string(); });
  auto client = Client::Connect({.target = silent.address(),
                                 .retry = std::nullopt,
                                 .keepalive = absl::Milliseconds(200),
                                 .keepalive_timeout = absl::Milliseconds(200)});
  ASSERT_TRUE(client.ok()) << client.status();
  auto token = std::make_shared<CancelToken>();
  auto echo = (*client)->EchoFuture(EchoOf("x"), {.cancel = token});  // no deadline
  const bool ended = echo.wait_for(std::chrono::seconds(20)) == std::future_status::ready;
  token->Cancel();  // so that a call keepalive did not end lets go of the server
  ASSERT_TRUE(ended) << "the call was still waiting after 20 s";
  EXPECT_EQ(echo.get().status().code(), absl::StatusCode::kUnavailable);
}

TEST(ClientConnectTest, AKeepaliveThatIsNotPositiveFailsConnect) {
  for (absl::Duration d : {absl::ZeroDuration(), -absl::Seconds(1)}) {
    auto a = Client::Connect({.target = "127.0.0.1:1", .keepalive = d});
    EXPECT_EQ(a.status().code(), absl::StatusCode::kInvalidArgument) << d;
    EXPECT_TRUE(absl::StrContains(a.status().message(), "keepalive")) << a.status();
    auto b = Client::Connect({.target = "127.0.0.1:1", .keepalive_timeout = d});
    EXPECT_EQ(b.status().code(), absl::StatusCode::kInvalidArgument) << d;
    EXPECT_TRUE(absl::StrContains(b.status().message(), "keepalive_timeout")) << b.status();
  }
}

// A reply that does not parse as its type: gRPC's typed reads end on it as
// at the end of the stream, so a Stream ended OK with the reply lost, and a
// unary call read as one the server ended without a reply.
TEST(ClientBadReplyTest, AReplyThatDoesNotParseIsInternalNamingItsType) {
  testing::ScriptedH2Server server([](uint32_t stream_id) {
    return testing::OkWithReply(stream_id, "\xff\xff\xff");
  });
  auto client = Client::Connect({.target = server.address(), .retry = std::nullopt});
  ASSERT_TRUE(client.ok()) << client.status();
  auto echo = (*client)->Echo(EchoOf("x"), {.timeout = absl::Seconds(20)});
  EXPECT_EQ(echo.status().code(), absl::StatusCode::kInternal) << echo.status();
  EXPECT_TRUE(absl::StrContains(echo.status().message(),
                                "a reply that does not parse as handoff.v1.EchoReply"))
      << echo.status();
  auto stream = (*client)->Stream({v1::WorkRequest()}, {.timeout = absl::Seconds(20)});
  EXPECT_EQ(stream.status().code(), absl::StatusCode::kInternal) << stream.status();
  EXPECT_TRUE(absl::StrContains(stream.status().message(),
                                "a reply that does not parse as handoff.v1.WorkReply"))
      << stream.status();
}

// A timeout is a span: it must not move with the wall clock, so the
// deadline is a point on the monotonic clock (deadline.h says why).
TEST(DeadlineInTest, IsTheTimeoutAheadOnTheMonotonicClock) {
  const gpr_timespec before = gpr_now(GPR_CLOCK_MONOTONIC);
  const gpr_timespec d = DeadlineIn(absl::Milliseconds(50));
  const gpr_timespec after = gpr_now(GPR_CLOCK_MONOTONIC);
  EXPECT_EQ(d.clock_type, GPR_CLOCK_MONOTONIC);
  EXPECT_GE(gpr_time_cmp(d, gpr_time_add(before, gpr_time_from_millis(50, GPR_TIMESPAN))), 0);
  EXPECT_LE(gpr_time_cmp(d, gpr_time_add(after, gpr_time_from_millis(50, GPR_TIMESPAN))), 0);
}

TEST(DeadlineInTest, AnInfiniteTimeoutIsNoDeadlineAndANegativeOneIsNow) {
  EXPECT_EQ(gpr_time_cmp(DeadlineIn(absl::InfiniteDuration()), gpr_inf_future(GPR_CLOCK_MONOTONIC)), 0);
  EXPECT_EQ(gpr_time_cmp(DeadlineIn(absl::Hours(1e9)), gpr_inf_future(GPR_CLOCK_MONOTONIC)), 0);
  const gpr_timespec d = DeadlineIn(absl::Seconds(-5));
  EXPECT_LE(gpr_time_cmp(d, gpr_now(GPR_CLOCK_MONOTONIC)), 0);
  EXPECT_GE(gpr_time_cmp(d, gpr_time_sub(gpr_now(GPR_CLOCK_MONOTONIC), gpr_time_from_seconds(1, GPR_TIMESPAN))), 0);
}

TEST(ClientConnectTest, EmptyTargetIsInvalid) {
  EXPECT_EQ(Client::Connect({}).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(ClientConnectTest, UnreachableServerFailsWithUnavailable) {
  auto client = Client::Connect({.target = "127.0.0.1:1", .retry = std::nullopt});
  ASSERT_TRUE(client.ok());
  auto reply = (*client)->Echo(EchoOf("x"), {.timeout = absl::Seconds(10)});
  EXPECT_EQ(reply.status().code(), absl::StatusCode::kUnavailable);
  absl::Status waited = (*client)->WaitForConnected(absl::Milliseconds(50));
  EXPECT_EQ(waited.code(), absl::StatusCode::kUnavailable);
  EXPECT_TRUE(absl::StrContains(waited.message(), "127.0.0.1:1")) << waited;
  // A negative timeout only looks. As a wall-clock time before 1970 it was
  // gRPC's "no deadline", and this waited for ever.
  EXPECT_EQ((*client)->WaitForConnected(-absl::InfiniteDuration()).code(),
            absl::StatusCode::kUnavailable);
}

// gRPC does not refuse a retry policy it cannot take: it makes a channel
// whose every call fails, for a reason that does not name the policy.
TEST(ClientConnectTest, ARetryPolicyGrpcWouldRefuseFailsConnectNamingTheField) {
  const struct {
    const char* field;
    RetryPolicy policy;
  } cases[] = {
      {"max_attempts", {.max_attempts = 1}},
      {"initial_backoff", {.initial_backoff = absl::ZeroDuration()}},
      {"initial_backoff", {.initial_backoff = absl::Microseconds(50)}},
      {"max_backoff", {.max_backoff = absl::InfiniteDuration()}},
      {"max_backoff", {.max_backoff = -absl::Seconds(1)}},
      {"backoff_multiplier", {.backoff_multiplier = 0}},
      {"backoff_multiplier", {.backoff_multiplier = std::nan("")}},
      {"retryable_codes", {.retryable_codes = {}}},
      {"retryable_codes", {.retryable_codes = {grpc::StatusCode::OK}}},
      // Within the enum's range (0 to 31), so that the cast itself is no
      // undefined behaviour, and past gRPC's codes.
      {"retryable_codes", {.retryable_codes = {static_cast<grpc::StatusCode>(20)}}},
  };
  for (const auto& c : cases) {
    auto client = Client::Connect({.target = "127.0.0.1:1", .retry = c.policy});
    EXPECT_EQ(client.status().code(), absl::StatusCode::kInvalidArgument) << c.field;
    EXPECT_TRUE(absl::StrContains(client.status().message(), c.field)) << client.status();
  }
}

// A reply over gRPC's default receive limit (4 MiB), from a server that
// sends one (handoffd with --max_message_bytes raised): the Client takes it
// once ClientOptions::max_receive_message_bytes allows it. Without the
// option, a Client made by Connect refused it, RESOURCE_EXHAUSTED, with no
// way to raise the limit short of building its own channel.
TEST(ClientMessageSizeTest, AReplyOverGrpcsDefaultLimitIsTakenUpToMaxReceiveMessageBytes) {
  testing::FakeGateway service;
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
  builder.RegisterService(&service);
  builder.SetMaxReceiveMessageSize(-1);
  builder.SetMaxSendMessageSize(-1);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  ASSERT_NE(server, nullptr);
  const std::string target = absl::StrCat("127.0.0.1:", port);
  const std::string big(5 << 20, 'x');

  auto by_default = Client::Connect({.target = target});
  ASSERT_TRUE(by_default.ok()) << by_default.status();
  auto refused = (*by_default)->Echo(EchoOf(big), {.timeout = absl::Seconds(30)});
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kResourceExhausted) << refused.status();

  auto raised = Client::Connect({.target = target, .max_receive_message_bytes = 8 << 20});
  ASSERT_TRUE(raised.ok()) << raised.status();
  auto echo = (*raised)->Echo(EchoOf(big), {.timeout = absl::Seconds(30)});
  ASSERT_TRUE(echo.ok()) << echo.status();
  EXPECT_EQ(echo->payload().size(), big.size());
  std::vector<v1::WorkRequest> requests(1);
  requests[0].set_payload(big);
  auto replies = (*raised)->Stream(requests, {.timeout = absl::Seconds(30)});
  ASSERT_TRUE(replies.ok()) << replies.status();
  ASSERT_EQ(replies->size(), 1u);
  EXPECT_EQ((*replies)[0].payload().size(), big.size());

  auto lowered = Client::Connect({.target = target, .max_receive_message_bytes = 1000});
  ASSERT_TRUE(lowered.ok()) << lowered.status();
  auto small = (*lowered)->Echo(EchoOf(std::string(2000, 'x')), {.timeout = absl::Seconds(30)});
  EXPECT_EQ(small.status().code(), absl::StatusCode::kResourceExhausted) << small.status();
  EXPECT_TRUE(absl::StrContains(small.status().message(), "vs. 1000")) << small.status();
  server->Shutdown();
}

TEST(ClientConnectTest, AMaxReceiveMessageBytesUnderOneFailsConnect) {
  for (int bytes : {0, -1}) {
    auto client = Client::Connect({.target = "127.0.0.1:1", .max_receive_message_bytes = bytes});
    EXPECT_EQ(client.status().code(), absl::StatusCode::kInvalidArgument) << bytes;
    EXPECT_TRUE(absl::StrContains(client.status().message(), "max_receive_message_bytes"))
        << client.status();
  }
}

// A TLS server whose certificate names handoff.test alone, reached at
// 127.0.0.1 (as behind a load balancer's address, or in a test): gRPC checks
// the certificate against the target's host, which it does not name, and
// so refuses the connection, unless cname names what it is checked against.
TEST(ClientCnameTest, ACertificateForAnotherNameIsAcceptedWithCnameNamingIt) {
  testing::FakeGateway service;
  grpc::SslServerCredentialsOptions tls;
  tls.pem_key_cert_pairs.push_back(
      {testutil::TlsTestPem("named.key"), testutil::TlsTestPem("named.pem")});
  int port = 0;
  grpc::ServerBuilder builder;
  builder.AddListeningPort("127.0.0.1:0", grpc::SslServerCredentials(tls), &port);
  builder.RegisterService(&service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  ASSERT_NE(server, nullptr);
  const std::string target = absl::StrCat("127.0.0.1:", port);
  // The certificate is self-signed: it is its own root.
  auto credentials = testutil::TlsTestClientCredentials("named.pem");

  auto echo = [&](const std::string& cname) {
    auto client = Client::Connect(
        {.target = target, .credentials = credentials, .cname = cname, .retry = std::nullopt});
    EXPECT_TRUE(client.ok()) << client.status();
    if (!client.ok()) return absl::StatusOr<v1::EchoReply>(client.status());
    return (*client)->Echo(EchoOf("hi"), {.timeout = absl::Seconds(20)});
  };
  absl::StatusOr<v1::EchoReply> refused = echo("");
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kUnavailable) << refused.status();
  absl::StatusOr<v1::EchoReply> elsewhere = echo("elsewhere.test");
  EXPECT_EQ(elsewhere.status().code(), absl::StatusCode::kUnavailable) << elsewhere.status();
  EXPECT_EQ(service.echo_calls(), 0);

  absl::StatusOr<v1::EchoReply> served = echo("handoff.test");
  ASSERT_TRUE(served.ok()) << served.status();
  EXPECT_EQ(served->payload(), "hi");
  EXPECT_EQ(service.echo_calls(), 1);
  // gRPC names the server by the override in the :authority too.
  EXPECT_EQ(service.last_authority(), "handoff.test");
  server->Shutdown();
}

// Plaintext has no certificate to check cname against: it would be dropped
// without a word.
TEST(ClientConnectTest, ACnameWithoutCredentialsFailsConnectNamingIt) {
  auto client = Client::Connect({.target = "127.0.0.1:1", .cname = "handoff.test"});
  EXPECT_EQ(client.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StrContains(client.status().message(), "cname")) << client.status();
}

// A Batch item's code is a google.rpc.Code, the numbers absl::StatusCode
// has; BatchItemStatus makes it a Status with the item's message.
TEST(BatchItemStatusTest, EachCodeIsTheStatusOfThatCodeWithTheItemsMessage) {
  for (int code = 0; code <= 16; ++code) {
    v1::BatchItemReply item;
    item.set_code(code);
    item.set_message("why");
    absl::Status status = BatchItemStatus(item);
    EXPECT_EQ(static_cast<int>(status.code()), code) << status;
    if (code != 0) {
      EXPECT_EQ(status.message(), "why") << status;
    }
  }
  v1::BatchItemReply ok;
  EXPECT_TRUE(BatchItemStatus(ok).ok());
}

// A cast would make a number no google.rpc.Code has into an absl::Status
// with a code no switch over absl::StatusCode handles.
TEST(BatchItemStatusTest, ACodeOutsideGoogleRpcCodeIsUnknownNamingIt) {
  for (int code : {-1, 17, 1000}) {
    v1::BatchItemReply item;
    item.set_code(code);
    item.set_message("why");
    absl::Status status = BatchItemStatus(item);
    EXPECT_EQ(status.code(), absl::StatusCode::kUnknown) << code;
    EXPECT_TRUE(absl::StrContains(status.message(), absl::StrCat("code ", code))) << status;
    EXPECT_TRUE(absl::EndsWith(status.message(), ": why")) << status;
  }
}

}  // namespace
}  // namespace handoff
