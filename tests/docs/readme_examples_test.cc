// Copyright 2026 The handoff Authors.
//
// README's examples of registering a handler, declaring a handler's cost
// ("Registering a handler") and the C++ client and its Batch items ("C++
// client library"),
// included from README itself (extract_snippets.cmake) where a reader would
// put them, and checked to do what README says of them. The channel
// runtime's example is readme_dispatch_example_test.cc.

#include <memory>
#include <string>
#include <vector>

#include <google/protobuf/util/json_util.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "client/client.h"
#include "dispatch/context.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "handoff/v1/gateway.grpc.pb.h"
#include "server/handler_registry.h"
#include "server/server.h"
#include "tests/util/ports.h"

// The handler README's cost example registers; README leaves its body to
// the reader.
absl::StatusOr<std::string> MakeThumbnail(const handoff::HandlerCall& call) {
  return std::string(call.payload.substr(0, 16));
}

// At namespace scope, as in a file linked into handoffd. Their #includes are
// the headers above again, which their guards leave empty.
#include "registering_a_handler.inc"
#include "handler_cost.inc"
#include "client_library.inc"
#include "client_batch.inc"

namespace handoff {
namespace {

TEST(ReadmeExamplesTest, TheReverseHandlerReversesItsPayload) {
  ASSERT_TRUE(kRegistered);
  std::shared_ptr<const RegisteredHandler> reverse =
      DefaultHandlerRegistry().Find("reverse");
  ASSERT_NE(reverse, nullptr);
  absl::StatusOr<std::string> out =
      reverse->run(HandlerCall{Context::Background(), 0, "abc"});
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(*out, "cba");
  EXPECT_EQ(reverse->cost, nullptr);
}

// README's grpcurl line, as any client sends it: the request in JSON (bytes
// in base64), over gRPC to a server of the default registry, the reply
// printed as JSON.
TEST(ReadmeExamplesTest, TheReverseHandlerAnswersREADMEsJsonOverGrpc) {
  ServerOptions options;  // registry: DefaultHandlerRegistry(), as handoffd's
  options.config.listen = "127.0.0.1:0";
  options.config.admin_listen = "";
  absl::StatusOr<std::unique_ptr<HandoffServer>> server = HandoffServer::Start(options);
  ASSERT_TRUE(server.ok()) << server.status();
  v1::CallRequest request;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(
                  R"({"handler":"reverse","payload":"YWJj"})", &request)
                  .ok());
  auto stub = v1::Gateway::NewStub(grpc::CreateChannel(
      absl::StrCat("127.0.0.1:", (*server)->port()), grpc::InsecureChannelCredentials()));
  grpc::ClientContext ctx;
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
  v1::CallReply reply;
  const grpc::Status s = stub->Call(&ctx, request, &reply);
  ASSERT_TRUE(s.ok()) << s.error_code() << " " << s.error_message();
  std::string json;
  ASSERT_TRUE(google::protobuf::util::MessageToJsonString(reply, &json).ok());
  EXPECT_EQ(json, R"({"payload":"Y2Jh"})");
}

TEST(ReadmeExamplesTest, TheReverseHandlerReturnsItsContextsErrorOnceDone) {
  auto [ctx, cancel] = WithCancel(Context::Background());
  cancel();
  absl::StatusOr<std::string> out =
      DefaultHandlerRegistry().Find("reverse")->run(HandlerCall{ctx, 0, "abc"});
  EXPECT_EQ(out.status().code(), absl::StatusCode::kCancelled) << out.status();
}

// README warns that a handler must never return an OK absl::Status: the
// StatusOr it becomes, in the handler's own return statement, ends the
// process in Debian's Abseil, out of handoffd's reach.
TEST(ReadmeExamplesTest, AnOkStatusReturnedByAHandlerAbortsTheProcess) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        const Handler careless = [](const HandlerCall& call) -> absl::StatusOr<std::string> {
          return call.ctx.Err();  // the Context is not done: OK
        };
        (void)careless(HandlerCall{Context::Background(), 0, "abc"});
      },
      "An OK status is not a valid constructor argument to StatusOr");
}

// README's example registers "reverse", which handoffd registers already
// (server/reverse_handler.cc): linked into handoffd as printed, a second
// registration of a name ends the process at startup, saying which name.
TEST(ReadmeExamplesTest, TheExampleLinkedIntoHandoffdAsPrintedAbortsOnItsTakenName) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      RegisterHandler("reverse",
                      [](const HandlerCall&) -> absl::StatusOr<std::string> {
                        return std::string();
                      }),
      "RegisterHandler: ALREADY_EXISTS: handler 'reverse' is already registered");
}

TEST(ReadmeExamplesTest, TheThumbnailCostIsAboutTwoMillisecondsAMegabyte) {
  ASSERT_TRUE(kThumbnail);
  std::shared_ptr<const RegisteredHandler> thumbnail =
      DefaultHandlerRegistry().Find("thumbnail");
  ASSERT_NE(thumbnail, nullptr);
  ASSERT_NE(thumbnail->cost, nullptr);
  EXPECT_EQ(thumbnail->cost(std::string(1'000'000, 'x')), absl::Milliseconds(2));
  EXPECT_EQ(thumbnail->cost(""), absl::ZeroDuration());
}

TEST(ReadmeExamplesTest, DoSomeWorkRunsAWorkCallAgainstHandoffd) {
  ServerOptions options;
  options.config.listen = "127.0.0.1:0";
  options.config.admin_listen = "";
  absl::StatusOr<std::unique_ptr<HandoffServer>> server =
      HandoffServer::Start(options);
  ASSERT_TRUE(server.ok()) << server.status();

  absl::Status s =
      DoSomeWork(absl::StrCat("127.0.0.1:", (*server)->port()));
  // README's example handles its 100 ms deadline passing; a machine too
  // loaded to connect and run 1 ms of work in that time is no failure.
  if (s.code() == absl::StatusCode::kDeadlineExceeded) {
    GTEST_SKIP() << "the call missed the example's 100 ms deadline: " << s;
  }
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_EQ((*server)->core().work_counters().completed.load(), 1);
}

TEST(ReadmeExamplesTest, DoSomeWorkWithNoServerSaysItCouldNotConnect) {
  testing::RefusingPort refusing;  // a server that is down
  ASSERT_NE(refusing.port(), 0);
  absl::Status s = DoSomeWork(absl::StrCat("127.0.0.1:", refusing.port()));
  // UNAVAILABLE once the retries have run out; if the deadline comes first,
  // DEADLINE_EXCEEDED, saying that there was no connection.
  if (s.code() == absl::StatusCode::kDeadlineExceeded) {
    EXPECT_TRUE(absl::StrContains(s.message(), "no connection at the deadline")) << s;
  } else {
    EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable) << s;
  }
}

// An item whose cpu_us the call's deadline cannot fit is refused in its own
// slot, DEADLINE_EXCEEDED, beside one that runs: the Batch itself is OK.
TEST(ReadmeExamplesTest, ItemStatusesGivesEachBatchItemItsOwnStatus) {
  ServerOptions options;
  options.config.listen = "127.0.0.1:0";
  options.config.admin_listen = "";
  absl::StatusOr<std::unique_ptr<HandoffServer>> server = HandoffServer::Start(options);
  ASSERT_TRUE(server.ok()) << server.status();
  auto client = Client::Connect({.target = absl::StrCat("127.0.0.1:", (*server)->port())});
  ASSERT_TRUE(client.ok()) << client.status();

  v1::BatchRequest batch;
  batch.add_items()->set_cpu_us(1000);
  batch.add_items()->set_cpu_us(5'000'000);  // 5 s, in the example's 1 s
  absl::StatusOr<std::vector<absl::Status>> statuses = ItemStatuses(**client, batch);
  // As DoSomeWork's: a machine too loaded to connect and run 1 ms of work
  // within the example's deadline is no failure.
  if (statuses.status().code() == absl::StatusCode::kDeadlineExceeded ||
      (statuses.ok() && statuses->size() == 2 &&
       (*statuses)[0].code() == absl::StatusCode::kDeadlineExceeded)) {
    GTEST_SKIP() << "the batch missed the example's 1 s deadline";
  }
  ASSERT_TRUE(statuses.ok()) << statuses.status();
  ASSERT_EQ(statuses->size(), 2u);
  EXPECT_TRUE((*statuses)[0].ok()) << (*statuses)[0];
  EXPECT_EQ((*statuses)[1].code(), absl::StatusCode::kDeadlineExceeded) << (*statuses)[1];
}

}  // namespace
}  // namespace handoff
