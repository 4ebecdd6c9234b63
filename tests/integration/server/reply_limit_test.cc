// Copyright 2026 The handoff Authors.
//
// Replies over --max_message_bytes, one test per method that can produce
// one, against an in-process handoffd: the client is answered
// RESOURCE_EXHAUSTED in handoffd's words, naming the reply's size, the
// limit and the flag, and the call is counted and logged with that status.
//
// The client's channel receives at most what the server sends at most, as a
// gRPC client at its defaults does with handoffd at its defaults (4 MiB
// each), only smaller. Before handoffd checked its replies, such a reply
// went out, the client refused it (gRPC's `Received message larger than
// max`), and handoffd counted and logged the call OK.

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "tests/integration/server/server_fixture.h"

namespace handoff::testing {
namespace {

constexpr int kLimit = 64 << 10;

class ReplyLimitTest : public ServerTest {
 protected:
  void Configure(ServerConfig& c) override {
    c.max_message_bytes = kLimit;
    path_ = absl::StrCat(::testing::TempDir(), "handoff_reply_limit_", getpid(), "_",
                         ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::remove(path_.c_str());
    c.access_log = path_;
    // Replies with its payload twice over: a request under the limit gets a
    // reply over it. Counts its runs.
    ASSERT_TRUE(registry_.Register("double", [this](const HandlerCall& call)
                                                 -> absl::StatusOr<std::string> {
      count_runs_.fetch_add(1);
      std::string out(call.payload);
      out += call.payload;
      return out;
    }).ok());
  }

  void SetUp() override {
    ServerTest::SetUp();
    if (HasFatalFailure()) return;
    grpc::ChannelArguments args;
    args.SetMaxReceiveMessageSize(kLimit);
    channel_ = grpc::CreateCustomChannel("127.0.0.1:" + std::to_string(server_->port()),
                                         grpc::InsecureChannelCredentials(), args);
    stub_ = v1::Gateway::NewStub(channel_);
  }

  void TearDown() override {
    ServerTest::TearDown();
    std::remove(path_.c_str());
  }

  // The access log's lines, once every call is recorded (each is at its
  // OnDone, which may follow the client's status).
  std::vector<std::string> Logged() {
    EXPECT_TRUE(WaitUntil([&] { return server_->core().metrics().in_flight.load() == 0; }));
    EXPECT_EQ(server_->ReopenAccessLog().Recv(), absl::OkStatus());
    std::ifstream in(path_);
    std::vector<std::string> out;
    for (std::string line; std::getline(in, line);) out.push_back(line);
    return out;
  }

  // The status handoffd answered, counted and logged for the one call made
  // of `method`, whose reply was `reply_bytes` long (0: not checked).
  void ExpectRefusedAndRecorded(const grpc::Status& s, Method method, const char* name,
                                size_t reply_bytes = 0) {
    EXPECT_EQ(s.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << s.error_message();
    EXPECT_TRUE(absl::StrContains(s.error_message(), "--max_message_bytes"))
        << s.error_message();
    EXPECT_TRUE(absl::StrContains(s.error_message(), absl::StrCat("limit of ", kLimit)))
        << s.error_message();
    if (reply_bytes > 0) {
      EXPECT_TRUE(absl::StrContains(s.error_message(), absl::StrCat(reply_bytes, " bytes")))
          << s.error_message();
    }
    const std::vector<std::string> lines = Logged();
    ASSERT_EQ(lines.size(), 1u);
    EXPECT_TRUE(absl::StrContains(lines[0], absl::StrCat("\"method\":\"", name, "\"")))
        << lines[0];
    EXPECT_TRUE(absl::StrContains(lines[0], "\"code\":\"RESOURCE_EXHAUSTED\"")) << lines[0];
    EXPECT_TRUE(absl::StrContains(lines[0], "--max_message_bytes")) << lines[0];
    const Metrics& m = server_->core().metrics();
    EXPECT_EQ(m.calls(method, absl::StatusCode::kResourceExhausted), 1);
    EXPECT_EQ(m.calls(method, absl::StatusCode::kOk), 0);
  }

  // A client whose policy makes each call up to three times while it is
  // answered RESOURCE_EXHAUSTED.
  void UseAStubThatRetriesResourceExhausted() {
    grpc::ChannelArguments args;
    args.SetMaxReceiveMessageSize(kLimit);
    args.SetServiceConfigJSON(R"({"methodConfig": [{
        "name": [{"service": "handoff.v1.Gateway"}],
        "retryPolicy": {"maxAttempts": 3, "initialBackoff": "0.01s",
                        "maxBackoff": "0.01s", "backoffMultiplier": 1,
                        "retryableStatusCodes": ["RESOURCE_EXHAUSTED"]}}]})");
    stub_ = v1::Gateway::NewStub(grpc::CreateCustomChannel(
        "127.0.0.1:" + std::to_string(server_->port()), grpc::InsecureChannelCredentials(),
        args));
  }

  std::string path_;
};

// A batch whose reply would fit with only each item's payload back (what
// handoffd checks before it runs a batch), but not with the timings every
// item's reply carries: each item sleeps 1 ms, so its ran_us alone adds 3
// bytes.
v1::BatchRequest BatchOverTheLimitOnlyOnceRun() {
  v1::BatchRequest req;
  v1::BatchReply least;
  for (int i = 0; i < 610; ++i) {
    v1::WorkRequest* item = req.add_items();
    item->set_payload(std::string(100, 'x'));
    item->set_sleep_us(1000);
    least.add_items()->mutable_reply()->set_payload(item->payload());
  }
  EXPECT_LT(req.ByteSizeLong(), static_cast<size_t>(kLimit));
  EXPECT_LE(least.ByteSizeLong(), static_cast<size_t>(kLimit));
  EXPECT_GT(least.ByteSizeLong() + 610 * 3, static_cast<size_t>(kLimit));
  return req;
}

// A WorkRequest of exactly kLimit bytes, with cpu_us 1: its reply carries
// the payload back with ran_us and cpu_us_done, each at least 1, so it is
// at least 2 bytes longer than the request.
v1::WorkRequest WorkAtTheLimit() {
  v1::WorkRequest req;
  req.set_cpu_us(1);
  req.set_payload(std::string(kLimit, 'x'));
  const size_t over = req.ByteSizeLong() - kLimit;
  req.set_payload(std::string(kLimit - over, 'x'));
  EXPECT_EQ(req.ByteSizeLong(), static_cast<size_t>(kLimit));
  return req;
}

// A registered handler's reply over the limit.
TEST_F(ReplyLimitTest, ACallWhoseHandlerRepliesOverTheLimitIsResourceExhausted) {
  const std::string payload(40 << 10, 'x');
  v1::CallReply reply;
  grpc::Status s = CallHandler("double", &reply, payload);
  v1::CallReply expected;
  expected.set_payload(payload + payload);
  ExpectRefusedAndRecorded(s, Method::kCall, "Call", expected.ByteSizeLong());
}

// The reply is checked, not the client's limit: a client that accepts more
// than --max_message_bytes is refused the same reply, as the flag says.
TEST_F(ReplyLimitTest, TheLimitIsTheServersWhateverTheClientAccepts) {
  stub_ = v1::Gateway::NewStub(grpc::CreateChannel(
      "127.0.0.1:" + std::to_string(server_->port()), grpc::InsecureChannelCredentials()));
  v1::CallReply reply;
  grpc::Status s = CallHandler("double", &reply, std::string(40 << 10, 'x'));
  ExpectRefusedAndRecorded(s, Method::kCall, "Call");
}

// No attempt could be answered otherwise, and a handler may have done what
// it does: the refusal tells gRPC's retry not to make the call again
// (grpc-retry-pushback-ms: -1), even for a client whose policy retries
// RESOURCE_EXHAUSTED, the code of an overloaded server.
TEST_F(ReplyLimitTest, AReplyOverTheLimitIsNotRetried) {
  UseAStubThatRetriesResourceExhausted();
  // Without the pushback, the policy makes each call three times.
  v1::CallReply reply;
  grpc::Status s = CallHandler("double", &reply, std::string(40 << 10, 'x'));
  EXPECT_EQ(s.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << s.error_message();
  EXPECT_EQ(count_runs_.load(), 1);

  grpc::ClientContext ctx;
  v1::BatchReply batch;
  s = stub_->Batch(&ctx, BatchOverTheLimitOnlyOnceRun(), &batch);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << s.error_message();
  EXPECT_EQ(Work().completed.load(), 610);
}

// A reply at the limit goes out: the limit is inclusive, as gRPC's is on
// requests. Echo's reply is the size of its request, so it is never over.
TEST_F(ReplyLimitTest, AReplyAtTheLimitGoesOut) {
  v1::CallReply expected;
  expected.set_payload(std::string(kLimit, 'x'));
  const size_t over = expected.ByteSizeLong() - kLimit;
  const std::string half((kLimit - over) / 2, 'x');
  ASSERT_EQ(((kLimit - over) % 2), 0);
  v1::CallReply reply;
  grpc::Status s = CallHandler("double", &reply, half);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(reply.ByteSizeLong(), static_cast<size_t>(kLimit));

  v1::EchoRequest echo;
  echo.set_payload(std::string(kLimit - 4, 'x'));  // 1 byte of tag, 3 of length
  ASSERT_EQ(echo.ByteSizeLong(), static_cast<size_t>(kLimit));
  v1::EchoReply echoed;
  s = Echo(echo.payload(), &echoed);
  EXPECT_TRUE(s.ok()) << s.error_message();
}

// A Work request at the limit: its reply, a few bytes longer, is over it.
TEST_F(ReplyLimitTest, AWorkAtTheLimitWhoseReplyIsOverItIsResourceExhausted) {
  grpc::ClientContext ctx;
  v1::WorkReply reply;
  grpc::Status s = stub_->Work(&ctx, WorkAtTheLimit(), &reply);
  ExpectRefusedAndRecorded(s, Method::kWork, "Work");
}

// Items whose payloads alone, coming back, would make a reply over the
// limit, though the request is under it (each item's reply is wrapped
// twice, where its request is wrapped once): refused before any item runs,
// since their work could only be thrown away.
TEST_F(ReplyLimitTest, ABatchWhoseReplyCannotFitIsRefusedBeforeAnyItemRuns) {
  v1::BatchRequest req;
  for (int i = 0; i < 1000; ++i) req.add_items()->set_payload(std::string(60, 'x'));
  ASSERT_LT(req.ByteSizeLong(), static_cast<size_t>(kLimit));
  grpc::ClientContext ctx;
  v1::BatchReply reply;
  grpc::Status s = stub_->Batch(&ctx, req, &reply);
  // 1,000 items of 2 + (2 + (2 + 60)) bytes.
  ExpectRefusedAndRecorded(s, Method::kBatch, "Batch", 66000);
  EXPECT_TRUE(absl::StrContains(s.error_message(),
                                 "batch of 1000 items: its reply would be at least 66000 bytes"))
      << s.error_message();
  EXPECT_EQ(Work().started.load(), 0);
}

// Items whose replies add up over the limit only with their timings: the
// whole Batch is refused (its items are one reply), once they have run.
TEST_F(ReplyLimitTest, ABatchWhoseRepliesAddUpOverTheLimitIsResourceExhaustedAsAWhole) {
  grpc::ClientContext ctx;
  v1::BatchReply reply;
  grpc::Status s = stub_->Batch(&ctx, BatchOverTheLimitOnlyOnceRun(), &reply);
  ExpectRefusedAndRecorded(s, Method::kBatch, "Batch");
  EXPECT_TRUE(absl::StrContains(s.error_message(), "batch of 610 items: reply is"))
      << s.error_message();
  EXPECT_EQ(Work().completed.load(), 610);
}

// A Stream job's reply over the limit ends the stream with that status, as
// a failed job does: the replies ahead of it are written first.
TEST_F(ReplyLimitTest, AStreamReplyOverTheLimitEndsTheStreamAfterTheRepliesAheadOfIt) {
  grpc::ClientContext ctx;
  auto stream = stub_->Stream(&ctx);
  v1::WorkRequest small;
  small.set_payload("ahead");
  ASSERT_TRUE(stream->Write(small));
  stream->Write(WorkAtTheLimit());  // may fail once the stream has ended
  stream->WritesDone();
  std::vector<std::string> payloads;
  v1::WorkReply reply;
  while (stream->Read(&reply)) payloads.push_back(reply.payload());
  grpc::Status s = stream->Finish();
  EXPECT_EQ(payloads, std::vector<std::string>{"ahead"});
  ExpectRefusedAndRecorded(s, Method::kStream, "Stream");
}

// A Stream whose first reply is over the limit ends with nothing sent
// but its status, which gRPC's retry takes as an attempt it may make
// again, messages and all (it keeps them for that): the refusal carries
// the same pushback as a unary call's, and the job runs once.
TEST_F(ReplyLimitTest, AStreamEndedByAReplyOverTheLimitIsNotRetried) {
  UseAStubThatRetriesResourceExhausted();
  grpc::ClientContext ctx;
  auto stream = stub_->Stream(&ctx);
  ASSERT_TRUE(stream->Write(WorkAtTheLimit()));
  stream->WritesDone();
  v1::WorkReply reply;
  EXPECT_FALSE(stream->Read(&reply));
  grpc::Status s = stream->Finish();
  EXPECT_EQ(s.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << s.error_message();
  ASSERT_TRUE(WaitUntil([&] { return server_->core().metrics().in_flight.load() == 0; }));
  EXPECT_EQ(Work().started.load(), 1);
}

}  // namespace
}  // namespace handoff::testing
