// Copyright 2026 The handoff Authors.
//
// The Gateway methods' normal behaviour, the built-in services, and the
// admin HTTP port, against an in-process handoffd.

#include <sched.h>
#include <sys/stat.h>
#include <unistd.h>

#include <asio.hpp>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>

#include <cstdio>
#include <fstream>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "tests/integration/server/http_get.h"
#include "server/stream_call.h"
#include "tests/integration/server/server_fixture.h"
#include "tests/util/threads.h"

namespace handoff::testing {
namespace {

using GatewayTest = ServerTest;

// Pads `req`'s payload until the request is exactly `bytes` long: its reply,
// which carries the payload back with its timings, is then a few bytes over
// a --max_message_bytes of `bytes`.
void FillTo(v1::WorkRequest& req, int64_t bytes) {
  req.set_payload(std::string(bytes, 'x'));
  while (static_cast<int64_t>(req.ByteSizeLong()) != bytes) {  // the length's varint shrinks too
    const int64_t off = static_cast<int64_t>(req.ByteSizeLong()) - bytes;
    req.set_payload(std::string(req.payload().size() - off, 'x'));
  }
}

TEST_F(GatewayTest, EchoReturnsThePayload) {
  v1::EchoReply reply;
  ASSERT_TRUE(Echo("hello", &reply).ok());
  EXPECT_EQ(reply.payload(), "hello");
  // Counted at the call's OnDone, which may follow the client's status.
  EXPECT_TRUE(WaitUntil([&] {
    return server_->core().metrics().calls(Method::kEcho, absl::StatusCode::kOk) == 1;
  }));
}

TEST_F(GatewayTest, WorkReportsItsRun) {
  grpc::ClientContext ctx;
  v1::WorkRequest req;
  req.set_cpu_us(2000);
  req.set_sleep_us(5000);
  req.set_payload("p");
  v1::WorkReply reply;
  ASSERT_TRUE(stub_->Work(&ctx, req, &reply).ok());
  EXPECT_EQ(reply.payload(), "p");
  EXPECT_GE(reply.ran_us(), 7000u);
  EXPECT_GE(reply.cpu_us_done(), 2000u);
  EXPECT_LT(reply.worker(), 2u);
  EXPECT_EQ(Work().started.load(), 1);
  EXPECT_EQ(Work().completed.load(), 1);
}

TEST_F(GatewayTest, CallRunsARegisteredHandler) {
  ASSERT_TRUE(registry_.Register("upper", [](const HandlerCall& c)
                                              -> absl::StatusOr<std::string> {
    std::string s(c.payload);
    for (char& ch : s) ch = static_cast<char>(std::toupper(ch));
    return s;
  }).ok());
  v1::CallReply reply;
  ASSERT_TRUE(CallHandler("upper", &reply, "abc").ok());
  EXPECT_EQ(reply.payload(), "ABC");
}

TEST_F(GatewayTest, HandlerStatusIsTheCallStatus) {
  ASSERT_TRUE(registry_.Register("deny", [](const HandlerCall&)
                                             -> absl::StatusOr<std::string> {
    return absl::PermissionDeniedError("no");
  }).ok());
  v1::CallReply reply;
  EXPECT_EQ(CallHandler("deny", &reply).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
}

TEST_F(GatewayTest, BatchGivesEveryItemItsOwnReplyInOrder) {
  grpc::ClientContext ctx;
  v1::BatchRequest req;
  for (int i = 0; i < 10; ++i) {
    v1::WorkRequest* item = req.add_items();
    item->set_cpu_us(100);
    item->set_payload(std::to_string(i));
  }
  v1::BatchReply reply;
  ASSERT_TRUE(stub_->Batch(&ctx, req, &reply).ok());
  ASSERT_EQ(reply.items_size(), 10);
  for (int i = 0; i < 10; ++i) {
    EXPECT_EQ(reply.items(i).code(), 0);
    EXPECT_EQ(reply.items(i).reply().payload(), std::to_string(i));
  }
}

TEST_F(GatewayTest, BatchItemOutOfRangeNamesTheItem) {
  grpc::ClientContext ctx;
  v1::BatchRequest req;
  req.add_items();
  req.add_items()->set_cpu_us(20'000'000);
  v1::BatchReply reply;
  grpc::Status s = stub_->Batch(&ctx, req, &reply);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_TRUE(absl::StrContains(s.error_message(), "items[1].cpu_us"))
      << s.error_message();
}

// An item too long for the batch's deadline, where that deadline is the
// server's (the client set none), says so in its slot, as a Work call does.
TEST_F(GatewayTest, ABatchItemTooLongForTheDefaultDeadlineNamesTheFlag) {
  grpc::ClientContext ctx;  // no deadline: --default_deadline, 10 s
  v1::BatchRequest req;
  req.add_items();
  req.add_items()->set_cpu_us(10'000'000);
  v1::BatchReply reply;
  ASSERT_TRUE(stub_->Batch(&ctx, req, &reply).ok());
  ASSERT_EQ(reply.items_size(), 2);
  EXPECT_EQ(reply.items(0).code(), 0);
  EXPECT_EQ(reply.items(1).code(), static_cast<int>(grpc::StatusCode::DEADLINE_EXCEEDED));
  EXPECT_TRUE(absl::StartsWith(reply.items(1).message(), "deadline too short: "))
      << reply.items(1).message();
  EXPECT_TRUE(absl::EndsWith(reply.items(1).message(),
                             "; the client set no deadline, and --default_deadline is 10s"))
      << reply.items(1).message();
}

// Writes `n` requests whose replies (1 MiB each) the client never reads.
void WriteRepliesNobodyReads(
    grpc::ClientReaderWriter<v1::WorkRequest, v1::WorkReply>& stream, int n) {
  v1::WorkRequest req;
  req.set_payload(std::string(1 << 20, 'x'));
  for (int i = 0; i < n; ++i) {
    if (!stream.Write(req)) return;
  }
}

// Reads what is left of the stream, then its status.
grpc::Status ReadToTheEnd(
    grpc::ClientReaderWriter<v1::WorkRequest, v1::WorkReply>& stream) {
  v1::WorkReply reply;
  while (stream.Read(&reply)) {
  }
  return stream.Finish();
}

class AccessLogTest : public ServerTest {
 protected:
  void Configure(ServerConfig& c) override {
    path_ = absl::StrCat(::testing::TempDir(), "handoff_access_log_", getpid(), "_",
                         ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::remove(path_.c_str());
    c.access_log = path_;
  }
  void TearDown() override {
    ServerTest::TearDown();
    std::remove(path_.c_str());
  }
  // Each line of the log, parsed as JSON. A call is recorded at its OnDone,
  // which may come after its client has the status, so first no call may
  // be in flight; then ReopenAccessLog, which is handled only once the
  // lines recorded before it are written.
  std::vector<google::protobuf::Struct> Logged() {
    EXPECT_TRUE(WaitUntil([&] { return server_->core().metrics().in_flight.load() == 0; }));
    EXPECT_EQ(server_->ReopenAccessLog().Recv(), absl::OkStatus());
    std::ifstream in(path_);
    std::vector<google::protobuf::Struct> out;
    for (std::string line; std::getline(in, line);) {
      google::protobuf::Struct entry;
      EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(line, &entry).ok()) << line;
      out.push_back(std::move(entry));
    }
    return out;
  }
  static std::string Field(const google::protobuf::Struct& entry, const std::string& key) {
    auto it = entry.fields().find(key);
    if (it == entry.fields().end()) return "<absent>";
    if (it->second.has_number_value()) return absl::StrCat(it->second.number_value());
    return it->second.string_value();
  }

  std::string path_;
};

// --access_log: one JSON line per call, the unknown method's too, each with
// the client's address, its method and code, and a failure's message.
TEST_F(AccessLogTest, EachCallIsOneJsonLineWithItsPeerMethodCodeAndFailure) {
  v1::EchoReply reply;
  ASSERT_TRUE(Echo("x", &reply).ok());
  grpc::Status unknown = CallRaw(channel_.get(), "/no.Such/Method", "");
  ASSERT_EQ(unknown.error_code(), grpc::StatusCode::UNIMPLEMENTED);
  // One call in the reactor's path that fails: a Work out of range.
  v1::WorkRequest bad;
  bad.set_cpu_us(-1);
  grpc::ClientContext ctx;
  v1::WorkReply work;
  ASSERT_EQ(stub_->Work(&ctx, bad, &work).error_code(), grpc::StatusCode::INVALID_ARGUMENT);

  const std::vector<google::protobuf::Struct> lines = Logged();
  ASSERT_EQ(lines.size(), 3u);
  // By method, not in the order the calls were made: each is recorded at
  // its OnDone, which may come after the client's next call.
  absl::flat_hash_map<std::string, const google::protobuf::Struct*> by_method;
  for (const auto& line : lines) {
    EXPECT_TRUE(absl::StartsWith(Field(line, "peer"), "ipv4:127.0.0.1:")) << Field(line, "peer");
    EXPECT_TRUE(absl::EndsWith(Field(line, "time"), "Z")) << Field(line, "time");
    EXPECT_NE(Field(line, "duration_us"), "<absent>");
    by_method[Field(line, "method")] = &line;
  }
  ASSERT_EQ(by_method.size(), 3u);
  for (const char* method : {"Echo", "unknown", "Work"}) {
    ASSERT_TRUE(by_method.contains(method)) << method;
  }
  const google::protobuf::Struct& echo = *by_method["Echo"];
  const google::protobuf::Struct& unknown_line = *by_method["unknown"];
  const google::protobuf::Struct& work_line = *by_method["Work"];
  EXPECT_EQ(Field(echo, "code"), "OK");
  EXPECT_EQ(Field(echo, "message"), "<absent>");
  EXPECT_EQ(Field(unknown_line, "code"), "UNIMPLEMENTED");
  EXPECT_TRUE(absl::StrContains(Field(unknown_line, "message"), "/no.Such/Method"))
      << Field(unknown_line, "message");
  EXPECT_EQ(Field(work_line, "code"), "INVALID_ARGUMENT");
  EXPECT_TRUE(absl::StrContains(Field(work_line, "message"), "cpu_us"))
      << Field(work_line, "message");

  const std::string metrics = HttpGet(server_->admin_port(), "/metrics");
  EXPECT_TRUE(absl::StrContains(metrics, "\nhandoff_access_log_dropped_total 0\n")) << metrics;
}

// A call its client cancels is logged with its client's address too, the
// call gRPC ended: the peer gRPC names once it is done with a cancelled call
// is "unknown". (A Stream's: AStreamTheClientCancelsIsLoggedCancelled...)
TEST_F(AccessLogTest, ACancelledCallIsLoggedWithItsPeer) {
  AsyncCall<v1::WorkRequest, v1::WorkReply> work;
  work.request.set_sleep_us(20'000'000);
  StartWork(&work);
  ASSERT_TRUE(WaitUntil([&] { return Work().started.load() == 1; }));
  work.ctx.TryCancel();
  EXPECT_EQ(work.Wait().error_code(), grpc::StatusCode::CANCELLED);

  const std::vector<google::protobuf::Struct> lines = Logged();
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(Field(lines[0], "code"), "CANCELLED");
  EXPECT_EQ(Field(lines[0], "cancelled_by"), "client");
  EXPECT_TRUE(absl::StartsWith(Field(lines[0], "peer"), "ipv4:127.0.0.1:"))
      << Field(lines[0], "peer");
}

// A client's cancel is logged as the client's ("cancelled_by":"client"); a
// handler's own CANCELLED is logged as its answer, with its message and
// without that field. The two lines differed only in their messages, and
// a handler returning a Context's error has the Context's words too.
TEST_F(AccessLogTest, AClientsCancelIsLoggedAsTheClientsAndAHandlersCancelledAsItsAnswer) {
  v1::CallReply reply;
  EXPECT_EQ(CallHandler("cancel", &reply).error_code(), grpc::StatusCode::CANCELLED);
  ASSERT_TRUE(WaitUntil([&] { return server_->core().metrics().in_flight.load() == 0; }));
  auto blocked = StartBlocked();
  blocked->ctx.TryCancel();
  EXPECT_EQ(blocked->Wait().error_code(), grpc::StatusCode::CANCELLED);

  const std::vector<google::protobuf::Struct> lines = Logged();
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(Field(lines[0], "code"), "CANCELLED");
  EXPECT_EQ(Field(lines[0], "message"), "test handler cancelled");
  EXPECT_EQ(Field(lines[0], "cancelled_by"), "<absent>");
  EXPECT_EQ(Field(lines[1], "code"), "CANCELLED");
  EXPECT_EQ(Field(lines[1], "cancelled_by"), "client");
}

// A Stream is one line, at its end.
TEST_F(AccessLogTest, AStreamIsOneLineAtItsEnd) {
  grpc::ClientContext ctx;
  auto stream = stub_->Stream(&ctx);
  for (int i = 0; i < 3; ++i) {
    v1::WorkRequest req;
    req.set_payload(std::to_string(i));
    ASSERT_TRUE(stream->Write(req));
  }
  ASSERT_TRUE(stream->WritesDone());
  v1::WorkReply reply;
  int replies = 0;
  while (stream->Read(&reply)) ++replies;
  ASSERT_TRUE(stream->Finish().ok());
  EXPECT_EQ(replies, 3);
  // Logged in OnDone, which may follow the client's Finish; counted out of
  // flight after it.
  ASSERT_TRUE(WaitUntil([&] { return server_->core().metrics().in_flight.load() == 0; }));

  const std::vector<google::protobuf::Struct> lines = Logged();
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(Field(lines[0], "method"), "Stream");
  EXPECT_EQ(Field(lines[0], "code"), "OK");
}

// A Batch is one call, logged and counted with its own status: OK, though
// one of its items failed. The items count as jobs, the failed one (refused
// at admission: its cpu_us outlasts the batch's deadline) not even there.
TEST_F(AccessLogTest, ABatchIsOneLineWithItsOwnStatusWhateverItsItems) {
  grpc::ClientContext ctx;
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(5)));
  v1::BatchRequest req;
  req.add_items()->set_payload("runs");
  req.add_items()->set_cpu_us(6'000'000);
  v1::BatchReply reply;
  ASSERT_TRUE(stub_->Batch(&ctx, req, &reply).ok());
  ASSERT_EQ(reply.items_size(), 2);
  EXPECT_EQ(reply.items(0).code(), 0);
  EXPECT_EQ(reply.items(1).code(), static_cast<int>(grpc::StatusCode::DEADLINE_EXCEEDED));

  const std::vector<google::protobuf::Struct> lines = Logged();
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(Field(lines[0], "method"), "Batch");
  EXPECT_EQ(Field(lines[0], "code"), "OK");
  EXPECT_EQ(Field(lines[0], "message"), "<absent>");
  const Metrics& m = server_->core().metrics();
  EXPECT_EQ(m.calls(Method::kBatch, absl::StatusCode::kOk), 1);
  EXPECT_EQ(m.calls(Method::kBatch, absl::StatusCode::kDeadlineExceeded), 0);
  EXPECT_TRUE(WaitUntil([&] { return Stats().completed == 1; }));
  EXPECT_EQ(Stats().rejected() + Stats().expired, 0);
  EXPECT_EQ(Work().started.load(), 1);
}

// A Stream the client cancels is logged CANCELLED, with the Context's words
// and its client's address (which gRPC calls "unknown" by the stream's end).
TEST_F(AccessLogTest, AStreamTheClientCancelsIsLoggedCancelledWithItsReason) {
  grpc::ClientContext ctx;
  auto stream = stub_->Stream(&ctx);
  v1::WorkRequest endless;
  endless.set_sleep_us(30'000'000);
  ASSERT_TRUE(stream->Write(endless));
  ASSERT_TRUE(WaitUntil([&] { return Work().started.load() == 1; }));
  ctx.TryCancel();
  EXPECT_EQ(stream->Finish().error_code(), grpc::StatusCode::CANCELLED);
  ASSERT_TRUE(WaitUntil([&] { return server_->core().metrics().in_flight.load() == 0; }));

  const std::vector<google::protobuf::Struct> lines = Logged();
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(Field(lines[0], "method"), "Stream");
  EXPECT_EQ(Field(lines[0], "code"), "CANCELLED");
  EXPECT_EQ(Field(lines[0], "message"), "context canceled");
  EXPECT_EQ(Field(lines[0], "cancelled_by"), "client");
  EXPECT_TRUE(absl::StartsWith(Field(lines[0], "peer"), "ipv4:127.0.0.1:"))
      << Field(lines[0], "peer");
}

// The same words when a reply's write is held by flow control as the client
// cancels: gRPC may fail the write before it calls OnCancel (the stream
// ended as "the client went away").
TEST_F(AccessLogTest, AStreamCancelledWithAWriteHeldIsLoggedWithTheSameReason) {
  grpc::ClientContext ctx;
  auto stub = NarrowWindowStub(server_->port());
  auto stream = stub->Stream(&ctx);
  WriteRepliesNobodyReads(*stream, 3);
  ASSERT_TRUE(WaitUntil([&] { return Work().completed.load() >= 2; }));
  ctx.TryCancel();
  EXPECT_EQ(ReadToTheEnd(*stream).error_code(), grpc::StatusCode::CANCELLED);
  ASSERT_TRUE(WaitUntil([&] { return server_->core().metrics().in_flight.load() == 0; }));

  const std::vector<google::protobuf::Struct> lines = Logged();
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(Field(lines[0], "code"), "CANCELLED");
  EXPECT_EQ(Field(lines[0], "message"), "context canceled");
  EXPECT_EQ(Field(lines[0], "cancelled_by"), "client");
}

// The client's item count sizes the Batch's reply channel (seeds/001: an
// untrusted size is checked), so a count over --max_batch_items is refused
// before any item runs.
class SmallBatchCapTest : public ServerTest {
  void Configure(ServerConfig& c) override { c.max_batch_items = 4; }
};

TEST_F(SmallBatchCapTest, ABatchOverTheItemCapIsRefusedAndNoItemRuns) {
  v1::BatchRequest req;
  for (int i = 0; i < 5; ++i) req.add_items();
  grpc::ClientContext ctx;
  v1::BatchReply reply;
  grpc::Status s = stub_->Batch(&ctx, req, &reply);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(s.error_message(),
            "items: more than 4, the cap on items in a batch (--max_batch_items)");
  EXPECT_EQ(Work().started.load(), 0);
  EXPECT_EQ(Stats().completed, 0);
  // At the cap, every item runs.
  req.mutable_items()->RemoveLast();
  grpc::ClientContext at_cap;
  s = stub_->Batch(&at_cap, req, &reply);
  EXPECT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(reply.items_size(), 4);
}

// The cap is checked on the bytes, before the request is built: 2 million
// empty items are 4 MiB on the wire and over 100 MB built. The message says
// only that the count is over the cap, since counting stops there.
TEST_F(SmallBatchCapTest, AnOversizedBatchIsRefusedOnItsBytes) {
  std::string bytes;
  for (int i = 0; i < (1 << 21) - 8; ++i) bytes.append("\x0a\x00", 2);
  grpc::Status s = CallRaw(channel_.get(), "/handoff.v1.Gateway/Batch", bytes);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << s.error_message();
  EXPECT_EQ(s.error_message(),
            "items: more than 4, the cap on items in a batch (--max_batch_items)");
  EXPECT_EQ(Work().started.load(), 0);
}

TEST_F(GatewayTest, BatchHasOneDeadline) {
  grpc::ClientContext ctx;
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Milliseconds(300)));
  v1::BatchRequest req;
  req.add_items();
  req.add_items()->set_sleep_us(30'000'000);
  v1::BatchReply reply;
  EXPECT_EQ(stub_->Batch(&ctx, req, &reply).error_code(),
            grpc::StatusCode::DEADLINE_EXCEEDED);
  ASSERT_TRUE(WaitUntil([&] { return Work().stopped_early.load() == 1; }));
}

class ManyCallsTest : public ServerTest {
  void Configure(ServerConfig& c) override { c.queue_depth = 256; }
};

// seeds/002: each request carries its own reply channel, so each of many
// calls in flight at once gets its own reply and never another's. All of
// them are queued behind the two held workers before any runs; then both
// workers answer them, Echo and Work mixed, each payload different.
TEST_F(ManyCallsTest, EachOfManyCallsInFlightGetsItsOwnReply) {
  auto held = StartBlocked();
  auto held_too = StartBlocked();
  constexpr int kCalls = 200;
  auto payload = [](int i) { return absl::StrCat("call ", i, " ", std::string(i, 'x')); };
  std::vector<std::unique_ptr<AsyncCall<v1::EchoRequest, v1::EchoReply>>> echoes;
  std::vector<std::unique_ptr<AsyncCall<v1::WorkRequest, v1::WorkReply>>> works;
  for (int i = 0; i < kCalls; ++i) {
    if (i % 2 == 0) {
      echoes.push_back(std::make_unique<AsyncCall<v1::EchoRequest, v1::EchoReply>>());
      echoes.back()->request.set_payload(payload(i));
      StartEcho(echoes.back().get());
    } else {
      works.push_back(std::make_unique<AsyncCall<v1::WorkRequest, v1::WorkReply>>());
      works.back()->request.set_payload(payload(i));
      StartWork(works.back().get());
    }
  }
  ASSERT_TRUE(WaitUntil([&] { return Stats().queued == kCalls; }))
      << "queued: " << Stats().queued;
  ASSERT_TRUE(release_.Send(std::monostate{}).ok());
  ASSERT_TRUE(release_.Send(std::monostate{}).ok());
  EXPECT_TRUE(held->Wait().ok());
  EXPECT_TRUE(held_too->Wait().ok());
  for (size_t k = 0; k < echoes.size(); ++k) {
    ASSERT_TRUE(echoes[k]->Wait().ok()) << "echo " << 2 * k;
    EXPECT_EQ(echoes[k]->reply.payload(), payload(2 * k));
  }
  for (size_t k = 0; k < works.size(); ++k) {
    ASSERT_TRUE(works[k]->Wait().ok()) << "work " << 2 * k + 1;
    EXPECT_EQ(works[k]->reply.payload(), payload(2 * k + 1));
  }
  // A worker counts its run after the run has sent the reply, which may
  // reach us first.
  EXPECT_TRUE(WaitUntil([&] { return Stats().completed == kCalls + 2; }))
      << "completed: " << Stats().completed;
}

class OneWorkerBatchTest : public ServerTest {
  void Configure(ServerConfig& c) override {
    c.workers = 1;
    c.queue_depth = 2;  // and so a batch window of 2
  }
};

// Items refused at admission get RESOURCE_EXHAUSTED in their own slot; the
// batch itself succeeds with the others' replies.
TEST_F(OneWorkerBatchTest, FullQueueFailsItemsNotTheBatch) {
  auto blocked = StartBlocked();
  // Two Echo calls leave room for one job: one is held by the dispatcher,
  // one waits in the queue.
  auto echoes = StartEchoes(2);
  ASSERT_TRUE(WaitUntil([&] { return Stats().queued == 2; }));
  AsyncCall<v1::BatchRequest, v1::BatchReply> batch;
  for (int i = 0; i < 5; ++i) batch.request.add_items()->set_payload(std::to_string(i));
  StartBatch(&batch);
  // Item 0 takes the last place; each later one is refused in its turn.
  ASSERT_TRUE(WaitUntil([&] { return Stats().rejected() == 4; }));
  EXPECT_EQ(Stats().rejected_full, 4) << "refused for want of room";
  ASSERT_TRUE(release_.Send(std::monostate{}).ok());
  EXPECT_TRUE(blocked->Wait().ok());
  for (auto& c : echoes) EXPECT_TRUE(c->Wait().ok());
  ASSERT_TRUE(batch.Wait().ok());
  ASSERT_EQ(batch.reply.items_size(), 5);
  EXPECT_EQ(batch.reply.items(0).code(), 0);
  EXPECT_EQ(batch.reply.items(0).reply().payload(), "0");
  for (int i = 1; i < 5; ++i) {
    const v1::BatchItemReply& item = batch.reply.items(i);
    EXPECT_EQ(item.code(), static_cast<int>(grpc::StatusCode::RESOURCE_EXHAUSTED)) << i;
    EXPECT_FALSE(item.message().empty());
  }
}

class OneWorkerDeepQueueTest : public ServerTest {
  void Configure(ServerConfig& c) override {
    c.workers = 1;
    c.queue_depth = 32;
  }
};

// Admission counts Work by what it asks for (cpu_us + sleep_us), not by the
// mean cost of past jobs. By the mean, after one long call every item of
// the next Batch but the one that found the worker idle waited behind the
// long call's cost: 18 of 20 items refused, batch after batch, since the
// refused items could not run to bring the mean down.
TEST_F(OneWorkerDeepQueueTest, ShortBatchItemsAfterALongCallAreNotRefusedForItsCost) {
  {
    grpc::ClientContext ctx;
    v1::WorkRequest req;
    req.set_sleep_us(600'000);
    v1::WorkReply reply;
    ASSERT_TRUE(stub_->Work(&ctx, req, &reply).ok());
  }
  // The reply leaves from inside the run, so the worker may not be back on
  // the idle list yet. Admission counts such a run only at what is left of
  // its cost (OwnCostTest.ARunIsCountedOnlyForWhatIsLeftOfItsCost); waiting
  // for the worker keeps this test to the count of the queued items.
  ASSERT_TRUE(WaitUntil([&] { return Stats().idle == 1; }));
  grpc::ClientContext ctx;
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Milliseconds(400)));
  v1::BatchRequest batch;
  for (int i = 0; i < 20; ++i) batch.add_items()->set_cpu_us(1000);
  v1::BatchReply reply;
  grpc::Status s = stub_->Batch(&ctx, batch, &reply);
  ASSERT_TRUE(s.ok()) << s.error_message();
  ASSERT_EQ(reply.items_size(), 20);
  for (int i = 0; i < 20; ++i) {
    EXPECT_EQ(reply.items(i).code(), 0) << i << ": " << reply.items(i).message();
  }
  EXPECT_EQ(Stats().rejected(), 0);
}

// Holds the one timer thread that marks Contexts done at their deadlines, as
// a slow Done() callback or a loaded machine may (dispatcher.h): until the
// hold ends, deadlines pass by the clock alone.
class TimerThreadHold {
 public:
  TimerThreadHold() {
    const std::thread::id self = std::this_thread::get_id();
    for (;;) {
      auto [ctx, cancel] = WithTimeout(Context::Background(), absl::Milliseconds(20));
      ctx_ = ctx;  // its timer fires only while the Context lives
      bool inline_run = false;
      AsyncSelect(OnDone(ctx_, [this, self, &inline_run] {
        if (std::this_thread::get_id() == self) {  // armed too late: retry
          inline_run = true;
          return;
        }
        held_.Send(std::monostate{}).IgnoreError();
        release_.Recv();
      }));
      if (!inline_run) break;
    }
    held_.Recv();
  }
  ~TimerThreadHold() { release_.Close().IgnoreError(); }

 private:
  Context ctx_;
  Chan<std::monostate> held_{1};
  Chan<std::monostate> release_{0};
};

// AsyncCall::Wait gives up at its bound even while the timer thread is held,
// as the tests below hold it while they wait. Its bound used to be a
// Context's timeout, which only that thread marks: a call that never ended
// held the test until the client's deadline (here 10 s), or for good on a
// call without one.
TEST_F(ServerTest, AsyncCallWaitGivesUpAtItsBoundThoughTheTimerIsHeld) {
  auto call = StartBlocked(absl::Seconds(10));
  TimerThreadHold hold;
  // The old Wait answered with the client's DEADLINE_EXCEEDED, 10 s on.
  const grpc::Status s = call->Wait(absl::Milliseconds(200));
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNKNOWN)
      << s.error_code() << " " << s.error_message();
  EXPECT_EQ(s.error_message(), "test: call hung");
  if (s.error_message() != "test: call hung") return;  // the call has ended
  // The Wait that gave up left nothing behind: the call, released, ends as
  // ever, and the next Wait has its status.
  ASSERT_TRUE(release_.Send(std::monostate{}).ok());
  const grpc::Status later = call->Wait();
  EXPECT_TRUE(later.ok()) << later.error_code() << " " << later.error_message();
}

class CappedOneWorkerTest : public ServerTest {
  void Configure(ServerConfig& c) override {
    c.workers = 1;
    c.default_deadline = absl::Milliseconds(500);
    c.max_deadline = absl::Milliseconds(500);
  }
};

// A batch whose deadline passed while its items waited is DEADLINE_EXCEEDED,
// even when the timer thread lags and only the clock says so: its items,
// dropped at the worker for that deadline, do not make it an OK batch.
TEST_F(CappedOneWorkerTest, BatchLateForItsDeadlineIsDeadlineExceededThoughTheTimerLags) {
  auto blocked = StartBlocked();
  AsyncCall<v1::BatchRequest, v1::BatchReply> batch;
  batch.ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(30)));
  batch.request.add_items();
  batch.request.add_items();
  StartBatch(&batch);
  ASSERT_TRUE(WaitUntil([&] { return Stats().queued == 2; }));
  // The server's deadline (capped at 500 ms) began before this moment.
  const absl::Time late = absl::Now() + absl::Milliseconds(500);
  {
    TimerThreadHold hold;
    ASSERT_TRUE(WaitUntil([&] { return absl::Now() > late; }));
    ASSERT_TRUE(release_.Send(std::monostate{}).ok());
    grpc::Status s = batch.Wait();
    EXPECT_EQ(s.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED)
        << s.error_code() << " " << s.error_message();
    // Answered at the first item dropped for the deadline: the second is
    // dropped as the worker reaches it.
    EXPECT_TRUE(WaitUntil([&] { return Stats().expired == 2; })) << Stats().expired;
  }
  blocked->Wait();
  ASSERT_TRUE(WaitUntil(
      [&] { return server_->core().metrics().in_flight.load() == 0; }));
  EXPECT_EQ(server_->core().metrics().calls(Method::kBatch,
                                            absl::StatusCode::kDeadlineExceeded),
            1);
}

class CappedOneWorkerSmallWindowTest : public ServerTest {
  void Configure(ServerConfig& c) override {
    c.workers = 1;
    c.default_deadline = absl::Milliseconds(500);
    c.max_deadline = absl::Milliseconds(500);
    c.batch_window = 2;
  }
};

// One worker held, a batch of twenty items two at a time, its deadline
// passed with the timer thread held: only the clock says it has ended. Once
// the worker drops the first item for that deadline, the batch is answered
// and submits nothing more. It used to submit the other eighteen there and
// then, each refused at once for the deadline and counted nowhere.
//
// The client sets no deadline (the server's is --default_deadline, 500 ms),
// so only the server's own check can end the batch while the timer is held:
// a batch that merely stopped submitting waited for the held timer, and
// with the client's deadline of 30 s this test passed all the same, gRPC's
// cancel at 30 s answering it DEADLINE_EXCEEDED. The test's own bound here
// is one the server never sees: past it the client cancels, and the call is
// CANCELLED.
TEST_F(CappedOneWorkerSmallWindowTest, ABatchPastItsDeadlineSubmitsNoMoreItemsThoughTheTimerLags) {
  auto blocked = StartBlocked();
  AsyncCall<v1::BatchRequest, v1::BatchReply> batch;
  for (int i = 0; i < 20; ++i) batch.request.add_items()->set_sleep_us(1000);
  StartBatch(&batch);
  ASSERT_TRUE(WaitUntil([&] { return Stats().queued == 2; }));
  const Metrics& m = server_->core().metrics();
  EXPECT_EQ(m.batch_items_submitted.load(), 2);
  const absl::Time late = absl::Now() + absl::Milliseconds(500);
  {
    TimerThreadHold hold;
    ASSERT_TRUE(WaitUntil([&] { return absl::Now() > late; }));
    ASSERT_TRUE(release_.Send(std::monostate{}).ok());
    grpc::Status s = batch.Wait();
    if (s.error_message() == "test: call hung") {
      // The call, with no deadline of the client's, would outlive the test.
      batch.ctx.TryCancel();
      s = batch.Wait();
    }
    EXPECT_EQ(s.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED)
        << s.error_code() << " " << s.error_message();
    EXPECT_EQ(s.error_message(),
              "context deadline exceeded; the client set no deadline, and "
              "--default_deadline is 500ms");
    EXPECT_EQ(batch.reply.items_size(), 0);
    ASSERT_TRUE(WaitUntil([&] { return Stats().expired == 2 && Stats().queued == 0; }));
  }
  EXPECT_EQ(m.batch_items_submitted.load(), 2);
  EXPECT_EQ(Stats().rejected(), 0);
  EXPECT_EQ(Work().started.load(), 0);
  blocked->Wait();
  ASSERT_TRUE(WaitUntil([&] { return m.in_flight.load() == 0; }));
  EXPECT_EQ(m.calls(Method::kBatch, absl::StatusCode::kDeadlineExceeded), 1);
}

// A stream that ends past its deadline (capped at 500 ms) is
// DEADLINE_EXCEEDED, even when the timer thread lags and only the clock says
// so, as a unary call's late reply is.
TEST_F(CappedOneWorkerTest, StreamEndingPastItsDeadlineIsDeadlineExceededThoughTheTimerLags) {
  grpc::ClientContext ctx;
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(30)));
  auto stream = stub_->Stream(&ctx);
  v1::WorkRequest req;
  req.set_payload("on time");
  ASSERT_TRUE(stream->Write(req));
  v1::WorkReply reply;
  ASSERT_TRUE(stream->Read(&reply));
  // The server's deadline for the stream began before this moment.
  const absl::Time late = absl::Now() + absl::Milliseconds(500);
  {
    TimerThreadHold hold;
    ASSERT_TRUE(WaitUntil([&] { return absl::Now() > late; }));
    stream->WritesDone();
    EXPECT_FALSE(stream->Read(&reply));
    const grpc::Status s = stream->Finish();
    EXPECT_EQ(s.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED)
        << s.error_code() << " " << s.error_message();
  }
  const Metrics& m = server_->core().metrics();
  ASSERT_TRUE(WaitUntil([&] { return m.in_flight.load() == 0; }));
  EXPECT_EQ(m.calls(Method::kStream, absl::StatusCode::kDeadlineExceeded), 1);
  EXPECT_EQ(m.calls(Method::kStream, absl::StatusCode::kOk), 0);
}

// gRPC's cancel of a call whose deadline has passed stops its job at once:
// it is not left to the timer thread, which may lag, to mark the deadline.
TEST_F(CappedOneWorkerTest, ACancelAfterTheDeadlineStopsTheJobThoughTheTimerLags) {
  AsyncCall<v1::CallRequest, v1::CallReply> call;
  call.request.set_handler("block");
  call.ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(30)));
  StartCall(&call);
  ASSERT_TRUE(started_.Recv().has_value());
  // The server's deadline (capped at 500 ms) began before this moment.
  const absl::Time late = absl::Now() + absl::Milliseconds(500);
  const Metrics& m = server_->core().metrics();
  TimerThreadHold hold;
  ASSERT_TRUE(WaitUntil([&] { return absl::Now() > late; }));
  call.ctx.TryCancel();
  EXPECT_EQ(call.Wait().error_code(), grpc::StatusCode::CANCELLED);
  // With the timer held, only the cancel can end the call and its job.
  ASSERT_TRUE(WaitUntil([&] { return m.in_flight.load() == 0; },
                        absl::Seconds(5)));
  EXPECT_TRUE(WaitUntil([&] { return Stats().busy == 0; }, absl::Seconds(5)));
  // Its deadline had passed: that is how the call ended.
  EXPECT_EQ(m.calls(Method::kCall, absl::StatusCode::kDeadlineExceeded), 1);
}

// A handler's failure answered past the call's deadline is DEADLINE_EXCEEDED,
// as a late OK is: a client whose deadline it was had DEADLINE_EXCEEDED from
// its own timer by then, and one whose deadline the server set (capped here
// at 500 ms) is told so. The handler is held on a latch past the deadline
// with the timer thread held too, so that only the clock says it passed; it
// was answered, counted and logged FAILED_PRECONDITION.
TEST_F(CappedOneWorkerTest, AFailureAnsweredPastTheDeadlineIsDeadlineExceededThoughTheTimerLags) {
  AsyncCall<v1::CallRequest, v1::CallReply> call;
  call.request.set_handler("block_then_fail");
  call.ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(30)));
  StartCall(&call);
  ASSERT_TRUE(started_.Recv().has_value());
  // The server's deadline (capped at 500 ms) began before this moment.
  const absl::Time late = absl::Now() + absl::Milliseconds(500);
  {
    TimerThreadHold hold;
    ASSERT_TRUE(WaitUntil([&] { return absl::Now() > late; }));
    ASSERT_TRUE(release_.Send(std::monostate{}).ok());
    const grpc::Status s = call.Wait();
    EXPECT_EQ(s.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED)
        << s.error_code() << " " << s.error_message();
  }
  const Metrics& m = server_->core().metrics();
  ASSERT_TRUE(WaitUntil([&] { return m.in_flight.load() == 0; }));
  EXPECT_EQ(m.calls(Method::kCall, absl::StatusCode::kDeadlineExceeded), 1);
  EXPECT_EQ(m.calls(Method::kCall, absl::StatusCode::kFailedPrecondition), 0);
}

class BatchWindowTest : public ServerTest {
  void Configure(ServerConfig& c) override {
    c.workers = 1;
    c.queue_depth = 8;
    c.batch_window = 3;
  }
};

// A batch larger than the queue, on a server with nothing else to do, runs
// in full: it keeps --batch_window items in flight and starts the next as
// each finishes, rather than filling the queue with its own items and having
// the rest refused as "queue full".
TEST_F(BatchWindowTest, BatchLargerThanTheQueueRunsInFullWindowByWindow) {
  auto blocked = StartBlocked();
  AsyncCall<v1::BatchRequest, v1::BatchReply> batch;
  for (int i = 0; i < 40; ++i) batch.request.add_items()->set_payload(std::to_string(i));
  StartBatch(&batch);
  // The worker is held: the first window waits, and nothing more comes.
  ASSERT_TRUE(WaitUntil([&] { return Stats().queued == 3; }));
  ASSERT_TRUE(release_.Send(std::monostate{}).ok());
  EXPECT_TRUE(blocked->Wait().ok());
  ASSERT_TRUE(batch.Wait().ok());
  ASSERT_EQ(batch.reply.items_size(), 40);
  for (int i = 0; i < 40; ++i) {
    EXPECT_EQ(batch.reply.items(i).code(), 0) << batch.reply.items(i).message();
    EXPECT_EQ(batch.reply.items(i).reply().payload(), std::to_string(i));
  }
  EXPECT_EQ(Stats().rejected(), 0) << "no item refused for want of room";
}

class StreamWindowOverQueueTest : public ServerTest {
  void Configure(ServerConfig& c) override {
    c.workers = 1;
    c.queue_depth = 3;
    c.stream_window = 16;
  }
};

// As a batch's: a stream's window is never more than --queue_depth, so
// that a stream on a server with nothing else to do never fills the queue
// with its own jobs and ends RESOURCE_EXHAUSTED ("queue full") by itself.
TEST_F(StreamWindowOverQueueTest, AStreamsWindowIsCappedAtTheQueueDepth) {
  auto blocked = StartBlocked();
  grpc::ClientContext ctx;
  auto stream = stub_->Stream(&ctx);
  const int n = 10;
  std::thread writer([&] {
    for (int i = 0; i < n; ++i) {
      v1::WorkRequest req;
      req.set_payload(std::to_string(i));
      ASSERT_TRUE(stream->Write(req));
    }
    stream->WritesDone();
  });
  // The worker is held: the stream's first window of 3 waits in the queue.
  ASSERT_TRUE(WaitUntil([&] { return Stats().queued == 3; }));
  ASSERT_TRUE(release_.Send(std::monostate{}).ok());
  EXPECT_TRUE(blocked->Wait().ok());
  v1::WorkReply reply;
  int got = 0;
  while (stream->Read(&reply)) {
    EXPECT_EQ(reply.payload(), std::to_string(got));
    ++got;
  }
  writer.join();
  EXPECT_EQ(got, n);
  const grpc::Status s = stream->Finish();
  EXPECT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(Stats().rejected(), 0) << "no job refused for want of room";
}

class StreamTest : public ServerTest {
  void Configure(ServerConfig& c) override { c.stream_window = 4; }
};

TEST_F(StreamTest, RepliesComeBackInRequestOrder) {
  grpc::ClientContext ctx;
  auto stream = stub_->Stream(&ctx);
  const int n = 40;
  // Later requests are cheaper, so they finish first on the other worker:
  // the order of the replies is the stream's doing, not the workers'.
  std::thread writer([&] {
    for (int i = 0; i < n; ++i) {
      v1::WorkRequest req;
      req.set_sleep_us(static_cast<uint32_t>((n - i) * 100));
      req.set_payload(std::to_string(i));
      ASSERT_TRUE(stream->Write(req));
    }
    stream->WritesDone();
  });
  v1::WorkReply reply;
  int got = 0;
  while (stream->Read(&reply)) {
    EXPECT_EQ(reply.payload(), std::to_string(got));
    ++got;
  }
  writer.join();
  EXPECT_EQ(got, n);
  grpc::Status s = stream->Finish();
  EXPECT_TRUE(s.ok()) << s.error_message();
}

TEST_F(StreamTest, WindowBoundsJobsInFlight) {
  grpc::ClientContext ctx;
  auto stream = stub_->Stream(&ctx);
  // Each job holds its worker until the stream is cancelled; the server must
  // stop at the window. Shorter than each job's deadline (the default 10 s),
  // so that admission lets jobs queue behind them: the window, not the
  // deadline, is what stops them.
  for (int i = 0; i < 2; ++i) {
    v1::WorkRequest req;
    req.set_sleep_us(8'000'000);
    ASSERT_TRUE(stream->Write(req));
  }
  ASSERT_TRUE(WaitUntil([&] { return Work().started.load() == 2; }));
  for (int i = 0; i < 6; ++i) {
    v1::WorkRequest req;
    ASSERT_TRUE(stream->Write(req));
  }
  // 2 running + 2 queued = the window of 4: the rest stay unread. Nothing
  // tells of a message not read, so the test gives an unbounded window time
  // to show itself: this wait can only pass wrongly, never fail wrongly.
  ASSERT_TRUE(WaitUntil([&] { return Stats().queued >= 2; }));
  EXPECT_FALSE(WaitUntil([&] { return Stats().queued > 2; }, absl::Milliseconds(200)))
      << "queued: " << Stats().queued;
  ctx.TryCancel();
  EXPECT_EQ(stream->Finish().error_code(), grpc::StatusCode::CANCELLED);
  ASSERT_TRUE(WaitUntil([&] { return Work().stopped_early.load() == 2; }));
  // The two that waited were dropped unrun. Each is accounted for once it
  // is started or dropped (a job leaves the queue a moment before either is
  // counted), so a wrong start cannot slip past the check.
  ASSERT_TRUE(WaitUntil([&] { return Work().started.load() + Stats().expired == 4; }));
  EXPECT_EQ(Work().started.load(), 2);
  EXPECT_EQ(Stats().expired, 2);
}

// Each Stream job has --default_deadline of its own, whatever the stream's
// deadline: a job that ends at its own says so. The client set 30 s and was
// told only "context deadline exceeded" after 1 s, or that "the deadline"
// was too short for a cpu_us well within it.
class StreamJobDeadlineTest : public ServerTest {
  void Configure(ServerConfig& c) override { c.default_deadline = absl::Seconds(1); }
};

TEST_F(StreamJobDeadlineTest, AJobEndedByItsOwnDeadlineNamesTheFlag) {
  for (auto [cpu_us, sleep_us, prefix] :
       {std::tuple{0u, 5'000'000u, "context deadline exceeded"},
        std::tuple{2'000'000u, 0u, "deadline too short: "}}) {
    grpc::ClientContext ctx;
    ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(30)));
    auto stream = stub_->Stream(&ctx);
    v1::WorkRequest req;
    req.set_cpu_us(cpu_us);
    req.set_sleep_us(sleep_us);
    ASSERT_TRUE(stream->Write(req));
    v1::WorkReply reply;
    EXPECT_FALSE(stream->Read(&reply));
    const grpc::Status s = stream->Finish();
    EXPECT_EQ(s.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED) << s.error_message();
    EXPECT_TRUE(absl::StartsWith(s.error_message(), prefix)) << s.error_message();
    EXPECT_TRUE(absl::EndsWith(s.error_message(),
                               "; each Stream job has --default_deadline, 1s, of its own"))
        << s.error_message();
  }
}

// The stream ends at its first failed job, and that stops the jobs after it
// still running: nobody will read their replies (seeds/004: the first error
// cancels the other workers). A job fails here at its own deadline, 4 s after
// it was sent; one sent 2 s later, which would run to its own deadline 4 s
// after that, is stopped with the stream instead. (Each 2 s is the margin a
// loaded machine has to be late by before the test could not tell.)
class StreamFailureTest : public ServerTest {
  void Configure(ServerConfig& c) override {
    c.workers = 3;
    c.stream_window = 4;
    c.default_deadline = absl::Seconds(4);
  }
};

TEST_F(StreamFailureTest, TheFirstFailedJobStopsTheJobsStillRunningAfterIt) {
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
  auto stream = stub_->Stream(&ctx);
  v1::WorkRequest endless;
  endless.set_sleep_us(30'000'000);
  ASSERT_TRUE(stream->Write(endless));  // fails at its deadline, 4 s on
  v1::WorkRequest timer;
  timer.set_sleep_us(2'000'000);
  ASSERT_TRUE(stream->Write(timer));
  // The timer's job ends well before the first fails: the last job is sent
  // then, and its own deadline is 4 s after that.
  ASSERT_TRUE(WaitUntil([&] { return Work().completed.load() == 1; }));
  const auto last_sent = std::chrono::steady_clock::now();
  ASSERT_TRUE(stream->Write(endless));
  ASSERT_TRUE(WaitUntil([&] { return Work().started.load() == 3; }));
  v1::WorkReply reply;
  while (stream->Read(&reply)) {
  }
  EXPECT_EQ(stream->Finish().error_code(), grpc::StatusCode::DEADLINE_EXCEEDED);
  // Both endless jobs stopped: the last one before its own deadline could.
  ASSERT_TRUE(WaitUntil([&] { return Work().stopped_early.load() == 2; }));
  EXPECT_LT(std::chrono::steady_clock::now(), last_sent + std::chrono::seconds(4))
      << "the last job ran on to its own deadline";
  EXPECT_EQ(Work().completed.load(), 1);
}

// A job that fails while the reply ahead of it is still owed (here held in
// its write: the client reads slowly) ends the stream there, and stops then
// the jobs after it, queued or running: nobody will read their replies. They
// used to run on until the stream ended, which was when the client read.
// The second job fails at its deadline, 2 s after it is read; the third is
// read more than 0.2 s after it and sleeps 1.8 s, so it would complete after
// that deadline, and before its own. The failure stops it first whatever the
// timer's lag: the timer fires deadlines in order, and the failed job's
// callback cancels the third's job before the third's sleep can end.
class StreamFailureBehindAnOwedReplyTest : public ServerTest {
 protected:
  void Configure(ServerConfig& c) override {
    c.workers = 2;
    c.stream_window = 4;
    c.default_deadline = absl::Seconds(2);
  }

  // Starts `stream` with a 1 MiB reply that the client does not read, held
  // in its write by flow control: the stream owes it until the client reads.
  static void OweAHeldReply(
      grpc::ClientReaderWriter<v1::WorkRequest, v1::WorkReply>& stream) {
    v1::WorkRequest big;
    big.set_payload(std::string(1 << 20, 'x'));
    ASSERT_TRUE(stream.Write(big));
  }

  // Owes a held reply, then starts a job that will fail at its deadline,
  // 2 s on, and returns over 0.2 s after that job was read: a job read now
  // and meant to outlast that deadline has 1.8 s of its own left.
  void OweAHeldReplyAndStartAJobThatWillFail(
      grpc::ClientReaderWriter<v1::WorkRequest, v1::WorkReply>& stream) {
    OweAHeldReply(stream);
    ASSERT_TRUE(WaitUntil([&] { return Work().completed.load() == 1; }));
    v1::WorkRequest endless;
    endless.set_sleep_us(60'000'000);
    ASSERT_TRUE(stream.Write(endless));
    ASSERT_TRUE(WaitUntil([&] { return Work().started.load() == 2; }));
    const absl::Time second_read_by = MonotonicNow();
    ASSERT_TRUE(WaitUntil(
        [&] { return MonotonicNow() > second_read_by + absl::Milliseconds(200); }));
  }

  // Reads the reply owed, then expects the stream to end with the failed
  // job's status, counted once, and no job's cancel counted as the call's.
  void ExpectTheStreamEndsAtTheFailedJob(
      grpc::ClientReaderWriter<v1::WorkRequest, v1::WorkReply>& stream) {
    v1::WorkReply reply;
    ASSERT_TRUE(stream.Read(&reply));
    EXPECT_EQ(reply.payload().size(), size_t{1} << 20);
    EXPECT_FALSE(stream.Read(&reply));
    const grpc::Status s = stream.Finish();
    EXPECT_EQ(s.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED) << s.error_message();
    // The failed job's own deadline, not the stream's.
    EXPECT_EQ(s.error_message(),
              "context deadline exceeded; each Stream job has --default_deadline, 2s, of its own");
    const Metrics& m = server_->core().metrics();
    ASSERT_TRUE(WaitUntil([&] { return m.in_flight.load() == 0; }));
    EXPECT_EQ(m.calls(Method::kStream, absl::StatusCode::kDeadlineExceeded), 1);
    EXPECT_EQ(m.calls(Method::kStream, absl::StatusCode::kCancelled), 0);
  }
};

TEST_F(StreamFailureBehindAnOwedReplyTest, AFailedJobStopsTheJobRunningBehindIt) {
  grpc::ClientContext ctx;
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(30)));
  auto stub = NarrowWindowStub(server_->port());
  auto stream = stub->Stream(&ctx);
  OweAHeldReplyAndStartAJobThatWillFail(*stream);
  v1::WorkRequest behind;
  behind.set_sleep_us(1'800'000);
  ASSERT_TRUE(stream->Write(behind));
  ASSERT_TRUE(WaitUntil([&] { return Work().started.load() == 3; }));
  // Both end, the client still not reading: the failed job at its deadline,
  // and the one behind it stopped then, not completed.
  ASSERT_TRUE(WaitUntil([&] {
    return Work().stopped_early.load() + Work().completed.load() == 3;
  }));
  EXPECT_EQ(Work().stopped_early.load(), 2);
  EXPECT_EQ(Work().completed.load(), 1) << "the job behind the failed one ran on";
  ExpectTheStreamEndsAtTheFailedJob(*stream);
}

class StreamFailureOnOneWorkerTest : public StreamFailureBehindAnOwedReplyTest {
  void Configure(ServerConfig& c) override {
    StreamFailureBehindAnOwedReplyTest::Configure(c);
    c.workers = 1;
  }
};

// The jobs queued behind a failed job are dropped unrun: its worker, freed by
// the failure, does not start them (it used to, each in turn).
TEST_F(StreamFailureOnOneWorkerTest, TheJobsQueuedBehindAFailedJobNeverStart) {
  grpc::ClientContext ctx;
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(30)));
  auto stub = NarrowWindowStub(server_->port());
  auto stream = stub->Stream(&ctx);
  OweAHeldReplyAndStartAJobThatWillFail(*stream);
  // Admission counts the running job until its deadline: the jobs sent
  // later have the room to wait for it, and are queued, not refused.
  v1::WorkRequest quick;
  quick.set_sleep_us(1000);
  ASSERT_TRUE(stream->Write(quick));
  ASSERT_TRUE(stream->Write(quick));
  ASSERT_TRUE(WaitUntil([&] { return Stats().queued == 2; }))
      << "rejected: " << Stats().rejected();
  ASSERT_TRUE(WaitUntil([&] { return Work().stopped_early.load() == 1; }));
  // Each queued job is accounted for once it is started or dropped (a job
  // leaves the queue a moment before its drop is counted).
  ASSERT_TRUE(WaitUntil([&] { return Work().started.load() + Stats().expired == 4; }));
  EXPECT_EQ(Work().started.load(), 2) << "a job queued behind the failed one ran";
  EXPECT_EQ(Stats().expired, 2);
  ExpectTheStreamEndsAtTheFailedJob(*stream);
}

// The fixture of a test whose StreamCall hook, the first time it runs (on
// a server thread), holds a moment open until a worker has decided about a
// job: started it or dropped it unrun (counted expired). The test sets
// current_, then waits for hook_done_ and checks hook_saw_it_: a worker that
// never came to the job in the moment fails the test, it does not pass it.
template <typename Self>
class StreamHookHoldTest : public ServerTest {
 protected:
  void TearDown() override {
    current_ = nullptr;
    ServerTest::TearDown();
  }

  // In the hook: the test's fixture, the first time only; null after it,
  // and outside the test.
  static Self* FirstCall() {
    Self* t = current_;
    return t != nullptr && !t->hook_ran_.exchange(true) ? t : nullptr;
  }

  // In the hook: waits until the job has started (Work's started at
  // `started`) or been dropped.
  void HoldUntilDecided(int64_t started) {
    hook_saw_it_.store(WaitUntil(
        [this, started] { return Work().started.load() == started || Stats().expired == 1; }));
    hook_done_.store(true);
  }

  static inline Self* current_ = nullptr;
  std::atomic<bool> hook_ran_{false};
  std::atomic<bool> hook_saw_it_{false};  // the worker decided in the moment
  std::atomic<bool> hook_done_{false};
};

// A job queued behind a slot that fails, and taken by a worker after the
// failure is decided but before the failure's cancel reaches the job, is
// dropped unrun as the cancel would have dropped it (counted expired, never
// started). It used to start, and stop at once. The test holds that moment
// open (StreamCall's hook, on the thread that failed the slot) and frees a
// worker in it. The stream owes a reply held in its write (so the failed
// slot is not the head, and the stream's end is not decided at once); one
// worker runs a "block" Call; the other runs a job that sleeps a second and
// whose reply will be over --max_message_bytes, and a job is queued behind
// it. The reply fails its slot; the hook releases the Call, and waits until
// its worker has taken the job behind and decided about it. (Should the
// sleep end before the job behind is queued, the stream reads no more and
// the hook finds no job to take: the test fails, it does not pass.)
class StreamSlotFailureWindowTest : public StreamHookHoldTest<StreamSlotFailureWindowTest> {
 protected:
  static constexpr int kLimit = 2 << 20;

  void Configure(ServerConfig& c) override {
    c.workers = 2;
    c.stream_window = 4;
    c.max_message_bytes = kLimit;
    c.default_deadline = absl::Seconds(30);
  }

  void TearDown() override {
    StreamCall::hooks_for_test.slot_failed.store(nullptr);
    StreamHookHoldTest::TearDown();
  }

  // The hook: once, frees a worker (the blocked Call's) and waits for it to
  // take the job behind the failed slot, and start it or drop it.
  static void FreeAWorker() {
    StreamSlotFailureWindowTest* t = FirstCall();
    if (t == nullptr) return;
    EXPECT_TRUE(t->release_.Send(std::monostate{}).ok());
    t->HoldUntilDecided(3);
  }
};

TEST_F(StreamSlotFailureWindowTest, AJobTakenAsTheSlotAheadFailsIsDroppedUnrun) {
  current_ = this;
  StreamCall::hooks_for_test.slot_failed.store(&FreeAWorker);
  grpc::ClientContext ctx;
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(30)));
  auto stub = NarrowWindowStub(server_->port());
  auto stream = stub->Stream(&ctx);
  v1::WorkRequest big;
  big.set_payload(std::string(1 << 20, 'x'));
  ASSERT_TRUE(stream->Write(big));  // its reply is held: the client does not read
  ASSERT_TRUE(WaitUntil([&] { return Work().completed.load() == 1; }));
  auto blocked = StartBlocked();
  v1::WorkRequest at_the_limit;  // its reply is a few bytes longer
  at_the_limit.set_sleep_us(1'000'000);
  FillTo(at_the_limit, kLimit);
  ASSERT_TRUE(stream->Write(at_the_limit));
  ASSERT_TRUE(WaitUntil([&] { return Work().started.load() == 2; }));
  v1::WorkRequest behind;
  behind.set_payload("behind");
  ASSERT_TRUE(stream->Write(behind));
  ASSERT_TRUE(WaitUntil([&] { return Stats().queued == 1; }))
      << "rejected: " << Stats().rejected();
  ASSERT_TRUE(WaitUntil([&] { return hook_done_.load(); }));
  EXPECT_TRUE(hook_saw_it_.load()) << "no worker took the job behind in the moment";
  ASSERT_TRUE(WaitUntil([&] { return Work().started.load() + Stats().expired == 3; }));
  EXPECT_EQ(Work().started.load(), 2) << "the job behind the failed slot started";
  EXPECT_EQ(Stats().expired, 1);
  v1::WorkReply reply;
  ASSERT_TRUE(stream->Read(&reply));
  EXPECT_EQ(reply.payload().size(), size_t{1} << 20);
  EXPECT_FALSE(stream->Read(&reply));
  const grpc::Status s = stream->Finish();
  EXPECT_EQ(s.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << s.error_message();
  EXPECT_TRUE(blocked->Wait().ok());
}

// A job a worker takes while the slot ahead of it has failed, but before the
// stream has decided that failure, is dropped unrun (counted expired, never
// started): the slot ahead's deadline has passed, so its slot can only fail
// (GatewayCore::Answer makes any answer past the deadline DEADLINE_EXCEEDED),
// and the job's reply would never be written. It used to start, and run to
// its end. The job ahead sleeps past its own --default_deadline; the hook
// (StreamCall's, on the thread that answers the job ahead's slot, before the
// stream looks at it) holds that moment open while the test writes the job
// behind and an idle worker takes it, and waits until it has started or been
// dropped. The job behind has a deadline of its own a full --default_deadline
// later, so it is not dropped for that.
class StreamSlotAheadExpiredTest : public StreamHookHoldTest<StreamSlotAheadExpiredTest> {
 protected:
  void Configure(ServerConfig& c) override {
    c.workers = 2;
    c.stream_window = 4;
    c.default_deadline = absl::Seconds(1);
  }

  void TearDown() override {
    StreamCall::hooks_for_test.job_answered.store(nullptr);
    StreamHookHoldTest::TearDown();
  }

  // The hook: once (the job ahead's answer), says it holds the moment, and
  // waits for the job behind to be taken and started or dropped.
  static void HoldTheAnswer() {
    StreamSlotAheadExpiredTest* t = FirstCall();
    if (t == nullptr) return;
    t->holding_.store(true);
    t->HoldUntilDecided(2);
  }

  std::atomic<bool> holding_{false};
};

TEST_F(StreamSlotAheadExpiredTest, AJobTakenAfterTheSlotAheadExpiredIsDroppedUnrun) {
  current_ = this;
  StreamCall::hooks_for_test.job_answered.store(&HoldTheAnswer);
  grpc::ClientContext ctx;
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(30)));
  auto stream = stub_->Stream(&ctx);
  v1::WorkRequest ahead;
  ahead.set_sleep_us(10'000'000);  // past its job's 1 s
  ASSERT_TRUE(stream->Write(ahead));
  ASSERT_TRUE(WaitUntil([&] { return Work().started.load() == 1; }));
  ASSERT_TRUE(WaitUntil([&] { return holding_.load(); }, absl::Seconds(10)))
      << "the job ahead was never answered";
  v1::WorkRequest behind;
  behind.set_payload("behind");
  ASSERT_TRUE(stream->Write(behind));
  ASSERT_TRUE(WaitUntil([&] { return hook_done_.load(); }));
  EXPECT_TRUE(hook_saw_it_.load()) << "no worker took the job behind in the moment";
  EXPECT_EQ(Work().started.load(), 1) << "the job behind the expired slot started";
  EXPECT_EQ(Work().completed.load(), 0);
  EXPECT_EQ(Stats().expired, 1);
  v1::WorkReply reply;
  EXPECT_FALSE(stream->Read(&reply));
  const grpc::Status s = stream->Finish();
  EXPECT_EQ(s.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED) << s.error_message();
  EXPECT_TRUE(absl::StrContains(s.error_message(), "--default_deadline")) << s.error_message();
}

// As above, for a job ahead that ended before its deadline, with a reply
// over --max_message_bytes: the job's answer is on its way to the stream (the
// hook, on the job's worker, holds it before it is handed on), and the job
// behind, taken then by the other worker, is dropped unrun: the slot ahead
// can only fail. It used to start, and run to its end.
class StreamSlotAheadAnsweredTooLargeTest : public StreamSlotAheadExpiredTest {
 protected:
  static constexpr int kLimit = 1 << 20;

  void TearDown() override {
    StreamCall::hooks_for_test.job_outcome.store(nullptr);
    StreamSlotAheadExpiredTest::TearDown();
  }

  void Configure(ServerConfig& c) override {
    StreamSlotAheadExpiredTest::Configure(c);
    c.default_deadline = absl::Seconds(30);
    c.max_message_bytes = kLimit;
  }
};

TEST_F(StreamSlotAheadAnsweredTooLargeTest, AJobTakenAsTheSlotAheadIsAnsweredTooLargeIsDroppedUnrun) {
  current_ = this;
  StreamCall::hooks_for_test.job_outcome.store(&HoldTheAnswer);
  grpc::ClientContext ctx;
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(30)));
  auto stream = stub_->Stream(&ctx);
  v1::WorkRequest ahead;  // its reply is a few bytes longer
  FillTo(ahead, kLimit);
  ASSERT_TRUE(stream->Write(ahead));
  ASSERT_TRUE(WaitUntil([&] { return holding_.load(); })) << "the job ahead was never answered";
  v1::WorkRequest behind;
  behind.set_payload("behind");
  ASSERT_TRUE(stream->Write(behind));
  ASSERT_TRUE(WaitUntil([&] { return hook_done_.load(); }));
  EXPECT_TRUE(hook_saw_it_.load()) << "no worker took the job behind in the moment";
  EXPECT_EQ(Work().started.load(), 1) << "the job behind the failing slot started";
  EXPECT_EQ(Work().completed.load(), 1);
  EXPECT_EQ(Stats().expired, 1);
  v1::WorkReply reply;
  EXPECT_FALSE(stream->Read(&reply));
  const grpc::Status s = stream->Finish();
  EXPECT_EQ(s.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << s.error_message();
}

// A stream whose call gRPC ends after a job's start has decided to send its
// headers, and before they are handed to gRPC, never has them out: gRPC
// answers OnSendInitialMetadataDone(false). The stream still ends once, and
// is freed: its client has CANCELLED, the call is counted CANCELLED once and
// stops counting in flight, and the job that started stops. The hook (on the
// job's worker, between the decision and the send) cancels the call from the
// client and waits until the server has seen it (the stream's Context done).
class StreamHeadersNeverSentTest : public ServerTest {
 protected:
  void TearDown() override {
    StreamCall::hooks_for_test.headers_decided.store(nullptr);
    client_ctx_ = nullptr;
    ServerTest::TearDown();
  }

  static void CancelTheCall(const Context& stream_ctx) {
    grpc::ClientContext* ctx = client_ctx_.exchange(nullptr);
    if (ctx == nullptr) return;
    ctx->TryCancel();
    hook_saw_the_cancel_.store(WaitUntil([&] { return stream_ctx.IsDone(); }));
    hook_done_.store(true);
  }

  static inline std::atomic<grpc::ClientContext*> client_ctx_{nullptr};
  static inline std::atomic<bool> hook_saw_the_cancel_{false};
  static inline std::atomic<bool> hook_done_{false};
};

TEST_F(StreamHeadersNeverSentTest, AStreamEndedBeforeItsJobsHeadersGoOutEndsOnceAndIsFreed) {
  grpc::ClientContext ctx;
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(30)));
  client_ctx_.store(&ctx);
  StreamCall::hooks_for_test.headers_decided.store(&CancelTheCall);
  auto stream = stub_->Stream(&ctx);
  v1::WorkRequest req;
  req.set_sleep_us(10'000'000);
  stream->Write(req);  // may fail: the hook cancels the call as the job starts
  ASSERT_TRUE(WaitUntil([&] { return hook_done_.load(); }));
  EXPECT_TRUE(hook_saw_the_cancel_.load()) << "the server never saw the cancel";
  const grpc::Status s = stream->Finish();
  EXPECT_EQ(s.error_code(), grpc::StatusCode::CANCELLED) << s.error_message();
  const Metrics& m = server_->core().metrics();
  ASSERT_TRUE(WaitUntil([&] { return m.in_flight.load() == 0; })) << "the stream was never freed";
  EXPECT_EQ(m.calls(Method::kStream, absl::StatusCode::kCancelled), 1);
  EXPECT_EQ(m.calls(Method::kStream, absl::StatusCode::kOk), 0);
  ASSERT_TRUE(WaitUntil([&] { return Work().stopped_early.load() == 1; }));
  EXPECT_EQ(Work().completed.load(), 0);
}

// A job a worker takes as its stream's Context is done (the client cancels,
// or the drain timeout's CancelAll), past the worker's check of the job's
// Context, and that reaches its start before the stream has heard (its
// Context watch has yet to run), is dropped unrun (counted expired, never
// started): nobody will read its reply. It used to start, and stop at once.
// The hooks hold that moment: the worker's, as the job is about to start,
// cancels the call from the client and waits until the stream's watch is
// called; the watch's, before the stream hears, waits until the worker has
// started the job or dropped it.
class StreamContextDoneAsAJobStartsTest
    : public StreamHookHoldTest<StreamContextDoneAsAJobStartsTest> {
 protected:
  void TearDown() override {
    StreamCall::hooks_for_test.job_starting.store(nullptr);
    StreamCall::hooks_for_test.context_done.store(nullptr);
    client_ctx_ = nullptr;
    StreamHookHoldTest::TearDown();
  }

  // The worker's hook: once, cancels the call and waits for the stream's
  // Context to be done, its watch held before the stream hears.
  static void CancelTheCall() {
    grpc::ClientContext* ctx = client_ctx_.exchange(nullptr);
    StreamContextDoneAsAJobStartsTest* t = current_;
    if (ctx == nullptr || t == nullptr) return;
    ctx->TryCancel();
    t->worker_saw_the_hold_.store(WaitUntil([t] { return t->holding_.load(); }));
  }

  // The watch's hook: once, holds the moment until the worker has started
  // the job or dropped it.
  static void HoldTheWatch() {
    StreamContextDoneAsAJobStartsTest* t = FirstCall();
    if (t == nullptr) return;
    t->holding_.store(true);
    t->HoldUntilDecided(1);
  }

  static inline std::atomic<grpc::ClientContext*> client_ctx_{nullptr};
  std::atomic<bool> holding_{false};
  std::atomic<bool> worker_saw_the_hold_{false};
};

TEST_F(StreamContextDoneAsAJobStartsTest, AJobReachingItsStartAfterTheStreamsContextIsDoneIsDroppedUnrun) {
  current_ = this;
  grpc::ClientContext ctx;
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(30)));
  client_ctx_.store(&ctx);
  StreamCall::hooks_for_test.context_done.store(&HoldTheWatch);
  StreamCall::hooks_for_test.job_starting.store(&CancelTheCall);
  auto stream = stub_->Stream(&ctx);
  v1::WorkRequest req;
  req.set_sleep_us(10'000'000);
  stream->Write(req);  // may fail: the hook cancels the call as the job starts
  ASSERT_TRUE(WaitUntil([&] { return hook_done_.load(); }));
  EXPECT_TRUE(worker_saw_the_hold_.load()) << "the stream's watch never ran";
  EXPECT_TRUE(hook_saw_it_.load()) << "the worker did not decide in the moment";
  ASSERT_TRUE(WaitUntil([&] { return Work().started.load() + Stats().expired == 1; }));
  EXPECT_EQ(Work().started.load(), 0) << "the job started after the stream's Context was done";
  EXPECT_EQ(Stats().expired, 1);
  const grpc::Status s = stream->Finish();
  EXPECT_EQ(s.error_code(), grpc::StatusCode::CANCELLED) << s.error_message();
  const Metrics& m = server_->core().metrics();
  ASSERT_TRUE(WaitUntil([&] { return m.in_flight.load() == 0; })) << "the stream was never freed";
  EXPECT_EQ(m.calls(Method::kStream, absl::StatusCode::kCancelled), 1);
}

TEST_F(StreamTest, FirstFailingJobEndsTheStream) {
  grpc::ClientContext ctx;
  auto stream = stub_->Stream(&ctx);
  v1::WorkRequest ok;
  ok.set_payload("first");
  ASSERT_TRUE(stream->Write(ok));
  v1::WorkReply reply;
  ASSERT_TRUE(stream->Read(&reply));
  EXPECT_EQ(reply.payload(), "first");
  v1::WorkRequest bad;
  bad.set_cpu_us(20'000'000);
  stream->Write(bad);
  stream->WritesDone();
  while (stream->Read(&reply)) {
  }
  grpc::Status s = stream->Finish();
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_TRUE(absl::StrContains(s.error_message(), "cpu_us"));
}

// A message whose cpu_us alone outlasts the stream's whole deadline can never
// succeed: refused DEADLINE_EXCEEDED at admission, as the same unary Work is,
// not handed to a worker. (The stream read the message's cpu_us after moving
// it into the job, so the dispatcher took every stream job to need no time:
// admission let this one through, and a worker skipped it.)
TEST_F(StreamTest, AJobLongerThanTheStreamsWholeDeadlineIsRefusedAtOnce) {
  grpc::ClientContext ctx;
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(5)));
  auto stream = stub_->Stream(&ctx);
  v1::WorkRequest req;
  req.set_cpu_us(10'000'000);
  ASSERT_TRUE(stream->Write(req));
  stream->WritesDone();
  v1::WorkReply reply;
  EXPECT_FALSE(stream->Read(&reply));
  grpc::Status s = stream->Finish();
  EXPECT_EQ(s.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED) << s.error_message();
  EXPECT_TRUE(absl::StrContains(s.error_message(), "expected run")) << s.error_message();
  EXPECT_EQ(Work().started.load(), 0);
  EXPECT_EQ(Work().skipped.load(), 0) << "reached a worker";
}

// A message that will not become a job ends the stream in request order:
// the reply to the message before it (still running when it arrives: it
// runs a second, and the bad one is sent once it has started) is written
// first.
TEST_F(StreamTest, BadMessageEndsTheStreamAfterTheRepliesBeforeIt) {
  grpc::ClientContext ctx;
  auto stream = stub_->Stream(&ctx);
  v1::WorkRequest first;
  first.set_sleep_us(1'000'000);
  first.set_payload("first");
  ASSERT_TRUE(stream->Write(first));
  ASSERT_TRUE(WaitUntil([&] { return Work().started.load() == 1; }));
  v1::WorkRequest bad;
  bad.set_cpu_us(20'000'000);
  stream->Write(bad);
  stream->WritesDone();
  v1::WorkReply reply;
  ASSERT_TRUE(stream->Read(&reply));
  EXPECT_EQ(reply.payload(), "first");
  EXPECT_FALSE(stream->Read(&reply));
  grpc::Status s = stream->Finish();
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  // Named by its number: the stream's status is all the client hears of it.
  EXPECT_TRUE(absl::StartsWith(s.error_message(), "message 2: cpu_us: ")) << s.error_message();
}

// A job that fails while one ahead of it still runs ends the stream there,
// once that one's reply is written; the messages after it are not run
// meanwhile. Here the second job is refused at once (its cpu_us outlasts the
// stream's deadline) while the first sleeps a second, and a third, which
// the other worker would run at once, is sent behind it: it used to be read
// and run, its reply thrown away.
TEST_F(StreamTest, NothingAfterAFailedJobRunsWhileAJobAheadOfItDoes) {
  grpc::ClientContext ctx;
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(5)));
  auto stream = stub_->Stream(&ctx);
  v1::WorkRequest first;
  first.set_sleep_us(1'000'000);
  first.set_payload("first");
  ASSERT_TRUE(stream->Write(first));
  v1::WorkRequest too_long;
  too_long.set_cpu_us(6'000'000);
  ASSERT_TRUE(stream->Write(too_long));
  v1::WorkRequest after;
  after.set_payload("after");
  stream->Write(after);
  stream->WritesDone();
  v1::WorkReply reply;
  ASSERT_TRUE(stream->Read(&reply));
  EXPECT_EQ(reply.payload(), "first");
  EXPECT_FALSE(stream->Read(&reply));
  const grpc::Status s = stream->Finish();
  EXPECT_EQ(s.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED) << s.error_message();
  EXPECT_TRUE(absl::StrContains(s.error_message(), "expected run")) << s.error_message();
  // Both workers idle again, not merely not busy: a worker counts its run
  // complete after it stops counting itself busy, and only then goes idle.
  ASSERT_TRUE(WaitUntil([&] {
    return server_->core().metrics().in_flight.load() == 0 && Stats().idle == 2 &&
           Stats().queued == 0;
  }));
  EXPECT_EQ(Work().started.load(), 1) << "a job after the failed one ran";
  EXPECT_EQ(Stats().completed, 1);
}

// Bytes that do not parse as a WorkRequest end the stream INTERNAL, as on the
// unary methods, after the replies owed; they are not taken for the client
// closing its side (which would end it OK). The status names the message.
TEST_F(StreamTest, BytesThatDoNotParseEndTheStreamInternal) {
  v1::WorkRequest first;
  first.set_payload("first");
  std::vector<std::string> replies;
  grpc::Status s = StreamRaw(channel_.get(), "/handoff.v1.Gateway/Stream",
                             {first.SerializeAsString(), "\x0f\xff\xff\xff"},
                             &replies);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INTERNAL) << s.error_message();
  EXPECT_EQ(s.error_message(), "message 2: request does not parse as handoff.v1.WorkRequest");
  ASSERT_EQ(replies.size(), 1u);
  v1::WorkReply reply;
  ASSERT_TRUE(reply.ParseFromString(replies[0]));
  EXPECT_EQ(reply.payload(), "first");
  // Counted at the call's OnDone, which may follow the client's status.
  EXPECT_TRUE(WaitUntil([&] {
    return absl::StrContains(
        server_->Admin("/metrics").body,
        "handoff_calls_total{method=\"Stream\",code=\"INTERNAL\"} 1");
  })) << server_->Admin("/metrics").body;
}

// A drain ends a stream UNAVAILABLE only if the client still had more to
// send: one that has closed its side gets the replies it is owed, then OK.
TEST_F(StreamTest, StreamTheClientClosedEndsOkThoughTheDrainBegins) {
  grpc::ClientContext ctx;
  auto stream = stub_->Stream(&ctx);
  v1::WorkRequest req;
  req.set_sleep_us(1'000'000);  // still running when the drain begins
  req.set_payload("owed");
  ASSERT_TRUE(stream->Write(req));
  ASSERT_TRUE(stream->WritesDone());
  ASSERT_TRUE(WaitUntil([&] { return Work().started.load() == 1; }));
  server_->BeginDrain();
  if (Work().completed.load() != 0) GTEST_SKIP() << "the job ended before the drain began";
  v1::WorkReply reply;
  ASSERT_TRUE(stream->Read(&reply));
  EXPECT_EQ(reply.payload(), "owed");
  EXPECT_FALSE(stream->Read(&reply));
  grpc::Status s = stream->Finish();
  EXPECT_TRUE(s.ok()) << s.error_code() << " " << s.error_message();
}

// The same with the stream's window full when the drain begins: the server
// had read no further than the window, so the half-close, sent long before,
// was still unread, and the stream stopped reading as the drain began. It
// ended UNAVAILABLE after every reply, and a client that retries UNAVAILABLE
// ran the whole stream again elsewhere.
class FullStreamWindowTest : public ServerTest {
  void Configure(ServerConfig& c) override { c.stream_window = 2; }
};

TEST_F(FullStreamWindowTest, AClientThatClosedBehindAFullWindowEndsOkThoughTheDrainBegins) {
  grpc::ClientContext ctx;
  auto stream = stub_->Stream(&ctx);
  v1::WorkRequest req;
  req.set_sleep_us(1'000'000);  // both still running when the drain begins
  for (const char* payload : {"first", "second"}) {
    req.set_payload(payload);
    ASSERT_TRUE(stream->Write(req));
  }
  ASSERT_TRUE(stream->WritesDone());
  // Both jobs read: the window is full, and nothing more is read until a
  // reply is written.
  ASSERT_TRUE(WaitUntil([&] { return Work().started.load() == 2; }));
  server_->BeginDrain();
  if (Work().completed.load() != 0) GTEST_SKIP() << "a job ended before the drain began";
  v1::WorkReply reply;
  ASSERT_TRUE(stream->Read(&reply));
  EXPECT_EQ(reply.payload(), "first");
  ASSERT_TRUE(stream->Read(&reply));
  EXPECT_EQ(reply.payload(), "second");
  EXPECT_FALSE(stream->Read(&reply));
  grpc::Status s = stream->Finish();
  EXPECT_TRUE(s.ok()) << s.error_code() << " " << s.error_message();
  const Metrics& m = server_->core().metrics();
  ASSERT_TRUE(WaitUntil([&] { return m.in_flight.load() == 0; }));
  EXPECT_EQ(m.calls(Method::kStream, absl::StatusCode::kOk), 1);
  EXPECT_EQ(m.calls(Method::kStream, absl::StatusCode::kUnavailable), 0);
}

// What the drain reads past a full window is never run: a client with more
// to send gets the replies it is owed, then UNAVAILABLE in place of the rest.
TEST_F(FullStreamWindowTest, AMessageReadPastAFullWindowInTheDrainIsNotRun) {
  grpc::ClientContext ctx;
  auto stream = stub_->Stream(&ctx);
  v1::WorkRequest req;
  req.set_sleep_us(1'000'000);  // both still running when the drain begins
  for (const char* payload : {"first", "second", "unread"}) {
    req.set_payload(payload);
    ASSERT_TRUE(stream->Write(req));
  }
  ASSERT_TRUE(WaitUntil([&] { return Work().started.load() == 2; }));
  server_->BeginDrain();
  if (Work().completed.load() != 0) GTEST_SKIP() << "a job ended before the drain began";
  v1::WorkReply reply;
  ASSERT_TRUE(stream->Read(&reply));
  EXPECT_EQ(reply.payload(), "first");
  ASSERT_TRUE(stream->Read(&reply));
  EXPECT_EQ(reply.payload(), "second");
  EXPECT_FALSE(stream->Read(&reply));
  grpc::Status s = stream->Finish();
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAVAILABLE) << s.error_message();
  const Metrics& m = server_->core().metrics();
  ASSERT_TRUE(WaitUntil([&] { return m.in_flight.load() == 0; }));
  EXPECT_EQ(Work().started.load(), 2);
  EXPECT_EQ(Stats().rejected(), 0);
  EXPECT_EQ(m.calls(Method::kStream, absl::StatusCode::kUnavailable), 1);
}

// A message racing the drain's start is either run and answered, or the
// stream ends UNAVAILABLE in its place: never OK without its reply. The
// client's half-close races the drain as well: a stream that answered ends
// OK only if the server has read that half-close by the time the reply is
// written; if it is still on its way, the server cannot tell the client from
// one with more to send, and ends the stream UNAVAILABLE.
TEST_F(StreamTest, AMessageRacingTheDrainIsNeverDropped) {
  grpc::ClientContext ctx;
  auto stream = stub_->Stream(&ctx);
  v1::WorkRequest req;
  req.set_payload("raced");
  ASSERT_TRUE(stream->Write(req));
  ASSERT_TRUE(stream->WritesDone());
  server_->BeginDrain();
  v1::WorkReply reply;
  const bool answered = stream->Read(&reply);
  grpc::Status s = stream->Finish();
  if (answered) {
    EXPECT_EQ(reply.payload(), "raced");
    EXPECT_TRUE(s.ok() || s.error_code() == grpc::StatusCode::UNAVAILABLE)
        << s.error_code() << " " << s.error_message();
  } else {
    EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAVAILABLE) << s.error_message();
  }
}

// A stream with more to send is told to go elsewhere once its replies are
// written, rather than holding the drain open.
TEST_F(StreamTest, OpenStreamEndsUnavailableAfterItsRepliesWhenTheDrainBegins) {
  grpc::ClientContext ctx;
  auto stream = stub_->Stream(&ctx);
  v1::WorkRequest req;
  req.set_sleep_us(1'000'000);  // still running when the drain begins
  req.set_payload("owed");
  ASSERT_TRUE(stream->Write(req));
  ASSERT_TRUE(WaitUntil([&] { return Work().started.load() == 1; }));
  server_->BeginDrain();
  if (Work().completed.load() != 0) GTEST_SKIP() << "the job ended before the drain began";
  v1::WorkReply reply;
  ASSERT_TRUE(stream->Read(&reply));
  EXPECT_EQ(reply.payload(), "owed");
  EXPECT_FALSE(stream->Read(&reply));
  grpc::Status s = stream->Finish();
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAVAILABLE) << s.error_message();
}

// A cap of 1 s: short beside the clients' deadlines, and long enough for a
// loaded machine to carry a 1 MiB request and run its job before it.
class CappedStreamTest : public ServerTest {
  void Configure(ServerConfig& c) override {
    c.default_deadline = absl::Seconds(1);
    c.max_deadline = absl::Seconds(1);
  }
};

// The stream watches its own Context: capped by --max_deadline, an idle
// stream ends at the cap with handoffd's DEADLINE_EXCEEDED, not at the
// client's later deadline with the client's own.
TEST_F(CappedStreamTest, IdleStreamEndsAtTheCappedDeadline) {
  grpc::ClientContext ctx;
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(30)));
  auto stream = stub_->Stream(&ctx);
  v1::WorkReply reply;
  EXPECT_FALSE(stream->Read(&reply));
  grpc::Status s = stream->Finish();
  EXPECT_EQ(s.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED);
  // Which says the deadline was cut: the client's own was 30 s.
  EXPECT_EQ(s.error_message(),
            "context deadline exceeded; the client's deadline was cut to --max_deadline, 1s");
}

// A job that runs into the stream's capped deadline says the same: the
// deadline that stopped it was the stream's, cut from the client's 30 s.
TEST_F(CappedStreamTest, AJobStoppedByTheCappedDeadlineSaysItWasCut) {
  grpc::ClientContext ctx;
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(30)));
  auto stream = stub_->Stream(&ctx);
  v1::WorkRequest req;
  req.set_sleep_us(5'000'000);
  ASSERT_TRUE(stream->Write(req));
  v1::WorkReply reply;
  EXPECT_FALSE(stream->Read(&reply));
  grpc::Status s = stream->Finish();
  EXPECT_EQ(s.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED);
  EXPECT_EQ(s.error_message(),
            "context deadline exceeded; the client's deadline was cut to --max_deadline, 1s");
}

// The stream's deadline ends it at once even when a reply's write is held
// by flow control (the client stopped reading): not only at the client's
// own, later deadline.
TEST_F(CappedStreamTest, StreamWhoseClientStopsReadingEndsAtTheCappedDeadline) {
  grpc::ClientContext ctx;
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(20)));
  auto stub = NarrowWindowStub(server_->port());
  auto stream = stub->Stream(&ctx);
  WriteRepliesNobodyReads(*stream, 2);
  ASSERT_TRUE(WaitUntil([&] { return Work().completed.load() >= 1; }));
  // Over on the server well before the client's deadline.
  const Metrics& m = server_->core().metrics();
  ASSERT_TRUE(WaitUntil([&] { return m.in_flight.load() == 0; },
                        absl::Seconds(10)));
  EXPECT_EQ(m.calls(Method::kStream, absl::StatusCode::kDeadlineExceeded), 1);
  grpc::Status s = ReadToTheEnd(*stream);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED);
  // handoffd's status, not the client's own at its deadline.
  EXPECT_EQ(s.error_message(),
            "context deadline exceeded; the client's deadline was cut to --max_deadline, 1s");
}

class ShortDrainTest : public ServerTest {
  void Configure(ServerConfig& c) override {
    c.drain_timeout = absl::Milliseconds(300);
  }
};

// A stream still owed replies its client does not read outlasts the drain;
// at the drain timeout it is cut off like any call, UNAVAILABLE, though a
// reply's write is still held by flow control, and the shutdown ends on
// time instead of waiting for the client.
TEST_F(ShortDrainTest, StreamWhoseClientStopsReadingIsUnavailableAtTheDrainTimeout) {
  grpc::ClientContext ctx;
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(20)));
  auto stub = NarrowWindowStub(server_->port());
  auto stream = stub->Stream(&ctx);
  WriteRepliesNobodyReads(*stream, 2);
  ASSERT_TRUE(WaitUntil([&] { return Work().completed.load() == 2; }));
  const ShutdownReport report = server_->Shutdown();
  EXPECT_FALSE(report.drained);
  // Answered at the drain timeout's cancel, not left for the second the
  // stop allows the calls it cut off.
  EXPECT_TRUE(report.answered_after_cancel);
  EXPECT_EQ(server_->core().metrics().calls(Method::kStream,
                                            absl::StatusCode::kUnavailable),
            1);
  // The status reached the client; what else it says depends on when the
  // closing connection overtook it.
  grpc::Status s = ReadToTheEnd(*stream);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAVAILABLE) << s.error_message();
}

// A handler that ignores its Context keeps its worker after the drain's
// cancel, and no one can stop it. Its call is still answered at the drain
// timeout, and Shutdown returns after --stop_grace naming the stuck worker,
// instead of waiting for the handler (handoffd then exits 1 without it).
TEST_F(ShortDrainTest, AHandlerThatIgnoresItsContextDoesNotHoldTheShutdown) {
  // The fixture's channels, which its TearDown closes: the worker is freed
  // if an assertion ends the test early.
  ASSERT_TRUE(registry_.Register("deaf", [this](const HandlerCall&)
                                             -> absl::StatusOr<std::string> {
    started_.Send(std::monostate{}).IgnoreError();
    release_.Recv();  // no select on ctx.Done(): the defect under test
    return std::string("late");
  }).ok());

  AsyncCall<v1::CallRequest, v1::CallReply> call;
  call.request.set_handler("deaf");
  call.ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(30)));
  StartCall(&call);
  ASSERT_TRUE(started_.Recv().has_value());

  // Bounded, so that a Shutdown waiting for the handler fails the test
  // rather than hanging it.
  Chan<ShutdownReport> reported(1);
  std::thread stopper([&] { reported.Send(server_->Shutdown()).IgnoreError(); });
  std::optional<ShutdownReport> report;
  auto [limit, cancel] = WithTimeout(Context::Background(), absl::Seconds(20));
  Select(OnRecv(reported, [&](std::optional<ShutdownReport> r) { report = r; }),
         OnDone(limit, [] {}));
  cancel();
  if (!report.has_value()) release_.Close().IgnoreError();
  stopper.join();
  ASSERT_TRUE(report.has_value()) << "Shutdown waited for the handler";
  EXPECT_FALSE(report->drained);
  EXPECT_TRUE(absl::IsDeadlineExceeded(report->workers)) << report->workers;
  EXPECT_TRUE(absl::StrContains(report->workers.message(),
                                "1 of 2 workers still running a job"))
      << report->workers;
  grpc::Status s = call.Wait();
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAVAILABLE) << s.error_message();

  // Once the handler returns, its worker ends and the server is destroyed.
  ASSERT_TRUE(release_.Send(std::monostate{}).ok());
  server_.reset();
}

// A call cut off at the drain timeout had begun to run: its handler may have
// done what it does (sent a mail, charged a card). Its UNAVAILABLE says so
// to gRPC's retry (gRFC A6's server pushback, grpc-retry-pushback-ms < 0),
// or a client with a retry policy for UNAVAILABLE, as handoff's own client
// and README's advice have, made it again on the next replica, and the
// handler ran twice for one call.
TEST_F(ShortDrainTest, ACallCutOffAtTheDrainTimeoutIsNotRetriedOnAnotherReplica) {
  ServerOptions options;
  options.config.listen = "127.0.0.1:0";
  options.config.admin_listen = "127.0.0.1:0";
  options.config.workers = 2;
  options.config.queue_depth = 16;
  options.registry = &registry_;
  auto next = HandoffServer::Start(options);
  ASSERT_TRUE(next.ok()) << next.status();
  // pick_first takes this server's address while it listens, and the next
  // replica's once its port has closed.
  grpc::ChannelArguments args;
  args.SetServiceConfigJSON(
      R"({"methodConfig":[{"name":[{}],"retryPolicy":{"maxAttempts":4,)"
      R"("initialBackoff":"0.05s","maxBackoff":"0.2s","backoffMultiplier":2,)"
      R"("retryableStatusCodes":["UNAVAILABLE"]}}]})");
  auto channel = grpc::CreateCustomChannel(
      absl::StrCat("ipv4:127.0.0.1:", server_->port(), ",127.0.0.1:", (*next)->port()),
      grpc::InsecureChannelCredentials(), args);
  auto stub = v1::Gateway::NewStub(channel);
  AsyncCall<v1::CallRequest, v1::CallReply> call;
  call.request.set_handler("block");
  call.ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
  stub->async()->Call(&call.ctx, &call.request, &call.reply, ReportTo(&call));
  ASSERT_TRUE(started_.Recv().has_value());
  ASSERT_EQ(server_->core().metrics().in_flight.load(), 1) << "ran on the first server";

  std::thread stopper([&] { server_->Shutdown(); });
  // Either the call ends, or its handler starts again on the next replica
  // (the retry's attempt then holds the call until it is released).
  bool ran_again = false;
  std::optional<grpc::Status> status;
  Select(OnRecv(call.done, [&](std::optional<grpc::Status> s) { status = s; }),
         OnRecv(started_, [&] { ran_again = true; }));
  stopper.join();
  EXPECT_FALSE(ran_again) << "the handler ran a second time for one call";
  if (ran_again) {
    ASSERT_TRUE(release_.Send(std::monostate{}).ok());
    status = call.Wait();
  }
  ASSERT_TRUE(status.has_value());
  EXPECT_EQ(status->error_code(), grpc::StatusCode::UNAVAILABLE) << status->error_message();
  EXPECT_EQ((*next)->core().metrics().calls(Method::kCall, absl::StatusCode::kOk), 0);
}

// A handler that polls its Context ends at the drain's cancel: the shutdown
// reports every worker stopped.
TEST_F(ShortDrainTest, AHandlerThatPollsItsContextEndsAtTheDrainTimeout) {
  std::unique_ptr<AsyncCall<v1::CallRequest, v1::CallReply>> call = StartBlocked();
  ShutdownReport report = server_->Shutdown();
  EXPECT_FALSE(report.drained);
  EXPECT_TRUE(report.workers.ok()) << report.workers;
  EXPECT_EQ(call->Wait().error_code(), grpc::StatusCode::UNAVAILABLE);
}

// Cancels `ctx` 30 ms before `deadline` (the server allows 100 ms), and says
// whether that was in time: a thread that oversleeps the deadline leaves the
// server's timer to report the same code, and the cancel's path untested.
// The moment of the cancel is the input here, not a synchronisation.
bool CancelJustBeforeTheDeadline(grpc::ClientContext& ctx, absl::Time deadline) {
  absl::SleepFor(deadline - absl::Milliseconds(30) - absl::Now());
  const absl::Time cancelled_at = absl::Now();
  ctx.TryCancel();
  return cancelled_at < deadline;
}

// Once the stream is over on the server: it was counted DEADLINE_EXCEEDED.
void ExpectTheStreamEndedAsItsDeadline(const Metrics& m) {
  ASSERT_TRUE(WaitUntil([&] { return m.in_flight.load() == 0; }));
  EXPECT_EQ(m.calls(Method::kStream, absl::StatusCode::kDeadlineExceeded), 1);
  EXPECT_EQ(m.calls(Method::kStream, absl::StatusCode::kCancelled), 0);
}

// As for a unary call (StatusTableTest.ClientCancelAtItsDeadline...): a
// client's cancel just before its deadline ends the stream as the deadline.
TEST_F(GatewayTest, StreamCancelledAtItsDeadlineCountsAsDeadlineExceeded) {
  grpc::ClientContext ctx;
  const absl::Time deadline = absl::Now() + absl::Seconds(2);
  ctx.set_deadline(absl::ToChronoTime(deadline));
  auto stream = stub_->Stream(&ctx);
  v1::WorkRequest req;
  req.set_payload("first");
  ASSERT_TRUE(stream->Write(req));
  v1::WorkReply reply;
  ASSERT_TRUE(stream->Read(&reply));  // the stream is open on the server
  const bool in_time = CancelJustBeforeTheDeadline(ctx, deadline);
  EXPECT_FALSE(stream->Read(&reply));
  stream->Finish();  // CANCELLED: the client cancelled
  if (!in_time) GTEST_SKIP() << "this thread overslept the deadline";
  ExpectTheStreamEndedAsItsDeadline(server_->core().metrics());
}

// The same with a reply's write held by flow control: gRPC fails the write,
// which may reach the stream before OnCancel does, and the stream ends by
// the same rule (it was counted CANCELLED, "the client went away").
TEST_F(GatewayTest, StreamCancelledAtItsDeadlineWithAWriteHeldCountsAsDeadlineExceeded) {
  grpc::ClientContext ctx;
  const absl::Time deadline = absl::Now() + absl::Seconds(2);
  ctx.set_deadline(absl::ToChronoTime(deadline));
  auto stub = NarrowWindowStub(server_->port());
  auto stream = stub->Stream(&ctx);
  WriteRepliesNobodyReads(*stream, 3);
  // The first reply is being written, and held; the second waits behind it.
  ASSERT_TRUE(WaitUntil([&] { return Work().completed.load() >= 2; }));
  const bool in_time = CancelJustBeforeTheDeadline(ctx, deadline);
  ReadToTheEnd(*stream);
  if (!in_time) GTEST_SKIP() << "this thread overslept the deadline";
  ExpectTheStreamEndedAsItsDeadline(server_->core().metrics());
}

class WaitPolicyTest : public ServerTest {
  void Configure(ServerConfig& c) override {
    c.workers = 1;
    c.queue_depth = 1;
    c.queue_policy = QueuePolicy::kWait;
  }
};

TEST_F(WaitPolicyTest, FullQueueWaitsForRoomInsteadOfFailing) {
  auto blocked = StartBlocked();
  auto calls = StartEchoes(4);  // 2 fit (channel + dispatcher), 2 wait
  ASSERT_TRUE(WaitUntil([&] { return Stats().queued == 4; }));
  ASSERT_TRUE(release_.Send(std::monostate{}).ok());
  EXPECT_TRUE(blocked->Wait().ok());
  for (auto& c : calls) EXPECT_TRUE(c->Wait().ok());
}

TEST_F(WaitPolicyTest, WaitingCallStillHasItsDeadline) {
  auto blocked = StartBlocked();
  auto calls = StartEchoes(3, absl::Milliseconds(300));
  for (auto& c : calls) {
    EXPECT_EQ(c->Wait().error_code(), grpc::StatusCode::DEADLINE_EXCEEDED);
  }
  ASSERT_TRUE(release_.Send(std::monostate{}).ok());
  EXPECT_TRUE(blocked->Wait().ok());
}

// handoff_queue_depth is the jobs in the queue (and the one the dispatcher
// holds); the calls waiting for room under --queue_policy=wait are not in it
// yet, and are handoff_queue_waiters. They were counted in the queue's depth,
// which then read 4 with a queue of 1.
TEST_F(WaitPolicyTest, CallsWaitingForRoomAreWaitersNotTheQueuesDepth) {
  auto blocked = StartBlocked();
  auto calls = StartEchoes(4);  // 2 fit (channel + dispatcher), 2 wait
  std::string metrics;
  EXPECT_TRUE(WaitUntil(
      [&] {
        metrics = server_->Admin("/metrics").body;
        return absl::StrContains(metrics, "\nhandoff_queue_waiters 2\n") &&
               absl::StrContains(metrics, "\nhandoff_queue_depth 2\n");
      },
      absl::Seconds(5)))
      << metrics;
  ASSERT_TRUE(release_.Send(std::monostate{}).ok());
  EXPECT_TRUE(blocked->Wait().ok());
  for (auto& c : calls) EXPECT_TRUE(c->Wait().ok());
  metrics = server_->Admin("/metrics").body;
  EXPECT_TRUE(absl::StrContains(metrics, "\nhandoff_queue_waiters 0\n")) << metrics;
  EXPECT_TRUE(absl::StrContains(metrics, "\nhandoff_queue_depth 0\n")) << metrics;
}

// Waiting for room cannot help a job whose work alone outlasts its deadline:
// under --queue_policy=wait too it is DEADLINE_EXCEEDED at once, not after
// waiting behind busy workers until the deadline.
TEST_F(WaitPolicyTest, WorkLongerThanItsWholeDeadlineIsDeadlineExceededAtOnce) {
  auto blocked = StartBlocked();
  AsyncCall<v1::WorkRequest, v1::WorkReply> call;
  call.ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(5)));
  call.request.set_cpu_us(10'000'000);
  StartWork(&call);
  // Answered while the only worker is still blocked.
  grpc::Status s = call.Wait();
  EXPECT_EQ(s.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED);
  EXPECT_TRUE(absl::StrContains(s.error_message(), "expected run"))
      << s.error_message();
  // What is left is stated as under reject: to the millisecond at this size,
  // not to the nanosecond (ghz and `handoff load` list errors by message).
  const std::string message = s.error_message();
  const size_t from = message.find("exceeds the ") + std::string("exceeds the ").size();
  absl::Duration left;
  ASSERT_TRUE(absl::ParseDuration(message.substr(from, message.find(' ', from) - from), &left))
      << message;
  EXPECT_EQ(left, absl::Trunc(left, absl::Milliseconds(1))) << message;
  EXPECT_EQ(Stats().queued, 0);
  ASSERT_TRUE(release_.Send(std::monostate{}).ok());
  EXPECT_TRUE(blocked->Wait().ok());
  EXPECT_EQ(Work().started.load(), 0);
}

// A Work that waited in the queue until less of its deadline was left than
// its cpu_us is skipped by the worker that takes it: counted in
// handoff_work_jobs_skipped_total, as its HELP says, and in
// handoff_jobs_expired_in_queue_total. The worker's pre-run check (the
// dispatcher's) catches it before RunWork, whose own skip was the only one
// counted, so the counter stayed 0 however many Works were skipped. Timed by
// the server's deadlines alone: the blocker ends at its own deadline, 1.5 s
// in, and the Work, due at 3 s, then has 1.5 s left for 2 s of CPU.
TEST_F(WaitPolicyTest, AWorkSkippedByItsWorkerForTooLittleTimeLeftIsCountedSkipped) {
  auto blocked = StartBlocked(absl::Milliseconds(1500));
  AsyncCall<v1::WorkRequest, v1::WorkReply> call;
  call.ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(3)));
  call.request.set_cpu_us(2'000'000);
  StartWork(&call);
  EXPECT_EQ(blocked->Wait().error_code(), grpc::StatusCode::DEADLINE_EXCEEDED);
  grpc::Status s = call.Wait();
  EXPECT_EQ(s.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED);
  ASSERT_TRUE(absl::StartsWith(s.error_message(), "skipped: ")) << s.error_message();
  EXPECT_EQ(Stats().expired, 1);
  EXPECT_EQ(Work().started.load(), 0);
  EXPECT_EQ(Work().skipped.load(), 1);
  const std::string r = HttpGet(server_->admin_port(), "/metrics");
  EXPECT_TRUE(absl::StrContains(r, "\nhandoff_work_jobs_skipped_total 1\n")) << r;
}

// gRPC would share a port with SO_REUSEPORT; a gateway must not: a second
// server on a port in use fails to start and names the flag.
TEST_F(GatewayTest, ASecondServerOnTheSamePortFailsToStart) {
  ServerConfig config;
  config.listen = "127.0.0.1:" + std::to_string(server_->port());
  config.admin_listen = "";
  config.workers = 1;
  HandlerRegistry registry;
  ServerOptions options;
  options.config = config;
  options.registry = &registry;
  absl::StatusOr<std::unique_ptr<HandoffServer>> second =
      HandoffServer::Start(options);
  ASSERT_FALSE(second.ok()) << "a second server shares port " << server_->port();
  EXPECT_EQ(second.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_TRUE(absl::StrContains(second.status().message(), "--listen"))
      << second.status();
  // The first still serves.
  v1::EchoRequest req;
  req.set_payload("still mine");
  v1::EchoReply reply;
  grpc::ClientContext ctx;
  ASSERT_TRUE(stub_->Echo(&ctx, req, &reply).ok());
  EXPECT_EQ(reply.payload(), "still mine");
}

// A one-worker server's options for listening on the Unix socket at `path`.
ServerOptions OnUnixSocket(const std::string& path, HandlerRegistry& registry) {
  ServerOptions options;
  options.config.listen = "unix:" + path;
  options.config.admin_listen = "";
  options.config.workers = 1;
  options.registry = &registry;
  return options;
}

// Echo over the Unix socket at `path`.
grpc::Status EchoOverUnixSocket(const std::string& path, const std::string& payload) {
  auto stub = v1::Gateway::NewStub(
      grpc::CreateChannel("unix:" + path, grpc::InsecureChannelCredentials()));
  grpc::ClientContext ctx;
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
  v1::EchoRequest req;
  req.set_payload(payload);
  v1::EchoReply reply;
  grpc::Status s = stub->Echo(&ctx, req, &reply);
  if (s.ok() && reply.payload() != payload) {
    return grpc::Status(grpc::StatusCode::INTERNAL, "echoed '" + reply.payload() + "'");
  }
  return s;
}

// gRPC unlinks a Unix socket's file before it binds: a second server on the
// path of one that serves came up beside it and took its socket away, and
// removed the second's file when the first stopped. It fails to start
// instead; a socket file nobody listens on (a crashed server's) is reused.
TEST(UnixSocketTest, ASecondServerOnAServedSocketFailsToStartAndTheFirstKeepsIt) {
  const std::string path =
      absl::StrCat(::testing::TempDir(), "handoff-unix-", getpid(), ".sock");
  unlink(path.c_str());
  HandlerRegistry registry;
  ServerOptions options = OnUnixSocket(path, registry);
  absl::StatusOr<std::unique_ptr<HandoffServer>> first = HandoffServer::Start(options);
  ASSERT_TRUE(first.ok()) << first.status();
  struct stat before {};
  ASSERT_EQ(stat(path.c_str(), &before), 0);

  for (const std::string& address : {"unix:" + path, "unix://" + path}) {
    options.config.listen = address;
    absl::StatusOr<std::unique_ptr<HandoffServer>> second =
        HandoffServer::Start(options);
    ASSERT_FALSE(second.ok()) << address << " was taken from the first server";
    EXPECT_EQ(second.status().code(), absl::StatusCode::kUnavailable);
    EXPECT_TRUE(absl::StrContains(second.status().message(),
                                  "--listen: cannot listen on '" + address +
                                      "': a server already answers on that socket"))
        << second.status();
  }
  // The first's socket file is the one it bound, and it still serves.
  struct stat after {};
  ASSERT_EQ(stat(path.c_str(), &after), 0);
  EXPECT_EQ(after.st_ino, before.st_ino);
  const grpc::Status served = EchoOverUnixSocket(path, "still mine");
  EXPECT_TRUE(served.ok()) << served.error_message();
  first->reset();
  unlink(path.c_str());
}

TEST(UnixSocketTest, ASocketFileNobodyListensOnIsReused) {
  const std::string path =
      absl::StrCat(::testing::TempDir(), "handoff-stale-", getpid(), ".sock");
  unlink(path.c_str());
  {
    // A socket file left behind, as by a server that was killed.
    asio::io_context io;
    asio::local::stream_protocol::acceptor stale(
        io, asio::local::stream_protocol::endpoint(path));
  }
  struct stat left {};
  ASSERT_EQ(stat(path.c_str(), &left), 0) << "no stale socket file to test with";
  HandlerRegistry registry;
  absl::StatusOr<std::unique_ptr<HandoffServer>> server =
      HandoffServer::Start(OnUnixSocket(path, registry));
  ASSERT_TRUE(server.ok()) << server.status();
  const grpc::Status served = EchoOverUnixSocket(path, "in the old one's place");
  EXPECT_TRUE(served.ok()) << served.error_message();
  server->reset();
  unlink(path.c_str());
}

TEST_F(GatewayTest, ItsWorkersRunUnderSchedBatchByDefault) {
  // One call has been served, so the workers are up.
  v1::EchoRequest req;
  v1::EchoReply reply;
  grpc::ClientContext ctx;
  ASSERT_TRUE(stub_->Echo(&ctx, req, &reply).ok());
  int workers = 0;
  for (const testutil::ThreadInfo& t : testutil::ThreadsOfThisProcess()) {
    if (!absl::StartsWith(t.name, "handoff-work-")) continue;
    ++workers;
    EXPECT_EQ(t.policy, SCHED_BATCH) << t.name;
  }
  EXPECT_EQ(workers, 2);
}

TEST_F(GatewayTest, HealthIsServingUntilDrain) {
  EXPECT_EQ(HealthCheck(channel_.get(), ""), 1);
  EXPECT_EQ(HealthCheck(channel_.get(), "handoff.v1.Gateway"), 1);
  server_->BeginDrain();
  EXPECT_EQ(HealthCheck(channel_.get(), ""), 2);
  EXPECT_EQ(HealthCheck(channel_.get(), "handoff.v1.Gateway"), 2);
}

TEST_F(GatewayTest, ReflectionListsTheGateway) {
  // ServerReflectionRequest{list_services: "*"} (field 7), on the v1alpha
  // bidi stream that grpcurl and ghz use.
  grpc::GenericStub stub(channel_);
  grpc::ClientContext ctx;
  grpc::CompletionQueue cq;
  auto call = stub.PrepareCall(&ctx,
      "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo", &cq);
  void* tag;
  bool ok;
  call->StartCall(reinterpret_cast<void*>(1));
  ASSERT_TRUE(cq.Next(&tag, &ok) && ok);
  std::string req = "\x3a\x01*";
  grpc::Slice slice(req);
  grpc::ByteBuffer buf(&slice, 1);
  call->Write(buf, reinterpret_cast<void*>(2));
  ASSERT_TRUE(cq.Next(&tag, &ok) && ok);
  grpc::ByteBuffer resp;
  call->Read(&resp, reinterpret_cast<void*>(3));
  ASSERT_TRUE(cq.Next(&tag, &ok) && ok);
  std::vector<grpc::Slice> slices;
  ASSERT_TRUE(resp.Dump(&slices).ok());
  std::string bytes;
  for (auto& sl : slices) bytes.append(reinterpret_cast<const char*>(sl.begin()), sl.size());
  EXPECT_TRUE(absl::StrContains(bytes, "handoff.v1.Gateway"));
  EXPECT_TRUE(absl::StrContains(bytes, "grpc.health.v1.Health"));
  ctx.TryCancel();
  grpc::Status st;
  call->Finish(&st, reinterpret_cast<void*>(4));
  ASSERT_TRUE(cq.Next(&tag, &ok));
  cq.Shutdown();
  while (cq.Next(&tag, &ok)) {
  }
}

TEST_F(GatewayTest, AdminPortServesPrometheusMetrics) {
  v1::EchoReply reply;
  ASSERT_TRUE(Echo("x", &reply).ok());
  v1::CallReply call_reply;
  ASSERT_TRUE(CallHandler("count", &call_reply).ok());
  // The reply can reach us before its worker has counted the run and itself
  // idle again, and before the call is counted (at its OnDone).
  ASSERT_TRUE(WaitUntil([&] { return Stats().idle == 2; }));
  ASSERT_TRUE(WaitUntil([&] { return server_->core().metrics().in_flight.load() == 0; }));
  std::string r = HttpGet(server_->admin_port(), "/metrics");
  EXPECT_TRUE(absl::StartsWith(r, "HTTP/1.1 200")) << r;
  for (const char* want :
       {"handoff_calls_total{method=\"Echo\",code=\"OK\"} 1",
        "handoff_call_duration_seconds_bucket{method=\"Echo\",le=\"+Inf\"} 1",
        "handoff_queue_depth 0", "\nhandoff_queue_waiters 0\n", "handoff_workers_idle",
        "handoff_workers_busy 0", "handoff_jobs_expired_in_queue_total 0",
        "handoff_calls_in_flight", "handoff_work_jobs_started_total 0",
        "handoff_jobs_rejected_total{reason=\"queue_full\"} 0",
        "handoff_jobs_rejected_total{reason=\"deadline\"} 0",
        // No Work has run to teach the overhead; the Echo taught the mean.
        "\nhandoff_admission_declared_job_overhead_seconds 0.000000\n",
        "\nhandoff_admission_undeclared_job_cost_seconds 0.",
        // One per registered handler: "count" has run, "throw" has not.
        "\nhandoff_admission_handler_job_cost_seconds{handler=\"count\"} 0.",
        "\nhandoff_admission_handler_job_cost_seconds{handler=\"throw\"} 0.000000\n",
        // Neither declares its cost: no overhead learned.
        "\nhandoff_admission_handler_declared_overhead_seconds{handler=\"count\"} 0.000000\n",
        "\nhandoff_build_info{version=\"" HANDOFF_VERSION "\"} 1\n"}) {
    EXPECT_TRUE(absl::StrContains(r, want)) << want;
  }
  EXPECT_FALSE(absl::StrContains(
      r, "\nhandoff_admission_undeclared_job_cost_seconds 0.000000\n"))
      << "the Echo's run taught no mean";
  EXPECT_FALSE(absl::StrContains(
      r, "\nhandoff_admission_handler_job_cost_seconds{handler=\"count\"} 0.000000\n"))
      << "the Call's run taught its handler nothing";
  EXPECT_TRUE(absl::StartsWith(HttpGet(server_->admin_port(), "/healthz"),
                               "HTTP/1.1 200"));
  EXPECT_TRUE(absl::StartsWith(HttpGet(server_->admin_port(), "/readyz"),
                               "HTTP/1.1 200"));
  EXPECT_TRUE(absl::StartsWith(HttpGet(server_->admin_port(), "/nope"),
                               "HTTP/1.1 404"));
  server_->BeginDrain();
  EXPECT_TRUE(absl::StartsWith(HttpGet(server_->admin_port(), "/readyz"),
                               "HTTP/1.1 503"));
}

}  // namespace
}  // namespace handoff::testing
