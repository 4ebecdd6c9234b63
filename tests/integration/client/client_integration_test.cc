// handoff::Client and the `handoff` CLI against a real handoffd.
#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>
#include <gtest/gtest.h>

#include "absl/strings/match.h"
#include "absl/synchronization/notification.h"
#include "client/client.h"
#include "handoffd_process.h"

namespace handoff::testing {
namespace {

class HandoffdTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto h = StartHandoffd(HANDOFFD, {"--workers=2"});
    ASSERT_TRUE(h.ok()) << h.status();
    handoffd_ = new Handoffd(*std::move(h));
  }
  static void TearDownTestSuite() {
    // SIGTERM drains and exits 0 (DESIGN.md, shutdown).
    EXPECT_EQ(handoffd_->process->Stop(), 0);
    delete handoffd_;
  }
  void SetUp() override {
    auto client = Client::Connect({.target = handoffd_->address});
    ASSERT_TRUE(client.ok()) << client.status();
    client_ = *std::move(client);
  }
  static ProcessResult Cli(std::vector<std::string> args) {
    args.insert(args.begin(), HANDOFF_CLI);
    return testing::Run(args, absl::Seconds(60));
  }

  static Handoffd* handoffd_;
  std::unique_ptr<Client> client_;
};

Handoffd* HandoffdTest::handoffd_ = nullptr;

TEST_F(HandoffdTest, Echo) {
  v1::EchoRequest req;
  req.set_payload("ping");
  auto reply = client_->Echo(req, {.timeout = absl::Seconds(5)});
  ASSERT_TRUE(reply.ok()) << reply.status();
  EXPECT_EQ(reply->payload(), "ping");
}

TEST_F(HandoffdTest, WorkShorterThanDeadline) {
  v1::WorkRequest req;
  req.set_cpu_us(200);
  req.set_sleep_us(1000);
  auto reply = client_->WorkFuture(req, {.timeout = absl::Seconds(5)}).get();
  ASSERT_TRUE(reply.ok()) << reply.status();
  EXPECT_GE(reply->ran_us(), 1000u);
  EXPECT_LT(reply->worker(), 2u);
}

TEST_F(HandoffdTest, WorkLongerThanDeadlineIsDeadlineExceeded) {
  v1::WorkRequest req;
  req.set_sleep_us(5'000'000);
  auto reply = client_->Work(req, {.timeout = absl::Milliseconds(200)});
  EXPECT_EQ(reply.status().code(), absl::StatusCode::kDeadlineExceeded);
}

TEST_F(HandoffdTest, CancelTokenEndsWork) {
  v1::WorkRequest req;
  req.set_sleep_us(30'000'000);
  auto token = std::make_shared<CancelToken>();
  absl::Notification done;
  absl::StatusOr<v1::WorkReply> got;
  client_->WorkAsync(req, {.timeout = absl::Seconds(60), .cancel = token},
                     [&](absl::StatusOr<v1::WorkReply> r) {
                       got = std::move(r);
                       done.Notify();
                     });
  token->Cancel();
  ASSERT_TRUE(done.WaitForNotificationWithTimeout(absl::Seconds(30)));
  EXPECT_EQ(got.status().code(), absl::StatusCode::kCancelled);
}

TEST_F(HandoffdTest, Batch) {
  v1::BatchRequest req;
  for (int i = 0; i < 4; ++i) req.add_items()->set_payload(std::to_string(i));
  auto reply = client_->Batch(req, {.timeout = absl::Seconds(5)});
  ASSERT_TRUE(reply.ok()) << reply.status();
  ASSERT_EQ(reply->items_size(), 4);
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(reply->items(i).code(), 0);
    EXPECT_EQ(reply->items(i).reply().payload(), std::to_string(i));
  }
}

TEST_F(HandoffdTest, StreamInOrder) {
  std::vector<v1::WorkRequest> requests(20);
  for (int i = 0; i < 20; ++i) requests[i].set_payload(std::to_string(i));
  auto replies = client_->Stream(requests, {.timeout = absl::Seconds(10)});
  ASSERT_TRUE(replies.ok()) << replies.status();
  ASSERT_EQ(replies->size(), 20u);
  for (int i = 0; i < 20; ++i) EXPECT_EQ((*replies)[i].payload(), std::to_string(i));
}

TEST_F(HandoffdTest, OutOfRangeFieldIsInvalidArgument) {
  v1::WorkRequest req;
  req.set_cpu_us(4'000'000'000u);  // over the 10 s cap
  auto reply = client_->Work(req, {.timeout = absl::Seconds(5)});
  EXPECT_EQ(reply.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(HandoffdTest, CliHealthListCall) {
  const std::string addr = "--addr=" + handoffd_->address;
  auto health = Cli({"health", addr});
  EXPECT_EQ(health.exit_code, 0) << health.err;
  EXPECT_EQ(health.out, "SERVING\n");

  auto list = Cli({"list", addr});
  EXPECT_EQ(list.exit_code, 0) << list.err;
  EXPECT_TRUE(absl::StrContains(list.out, "handoff.v1.Gateway\n")) << list.out;
  EXPECT_TRUE(absl::StrContains(list.out, "grpc.health.v1.Health\n")) << list.out;

  auto echo = Cli({"call", "handoff.v1.Gateway.Echo", "-d", R"({"payload":"aGk="})", addr});
  EXPECT_EQ(echo.exit_code, 0) << echo.err;
  EXPECT_EQ(echo.out, "{\"payload\":\"aGk=\"}\n");

  auto late = Cli({"call", "handoff.v1.Gateway.Work", "-d", R"({"sleepUs":5000000})",
                   "--timeout=200ms", addr});
  EXPECT_EQ(late.exit_code, 1);
  EXPECT_TRUE(absl::StrContains(late.err, "DEADLINE_EXCEEDED")) << late.err;

  auto unknown = Cli({"call", "handoff.v1.Gateway.Nope", "-d", "{}", addr});
  EXPECT_EQ(unknown.exit_code, 1);
  EXPECT_TRUE(absl::StrContains(unknown.err, "no method 'Nope'")) << unknown.err;
}

}  // namespace
}  // namespace handoff::testing
