// ReflectionDatabase against a scripted reflection server on loopback: a
// stream that ends UNAVAILABLE (a recycled connection) is replaced, within
// a bound, and other failures are not retried.

#include "client/reflection_database.h"
#include "client/service_listing.h"

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <google/protobuf/descriptor.pb.h>
#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/security/server_credentials.h>
#include <grpcpp/server.h>
#include <grpcpp/server_builder.h>
#include <gtest/gtest.h>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "grpc/reflection/v1alpha/reflection.grpc.pb.h"
#include "tests/util/ports.h"

namespace handoff {
namespace {

using grpc::reflection::v1alpha::ServerReflection;
using grpc::reflection::v1alpha::ServerReflectionRequest;
using grpc::reflection::v1alpha::ServerReflectionResponse;

// How the n-th reflection stream behaves: it answers `answers` list_services
// requests with one service, "fake.v1.Thing", then ends with `end` (or, if
// `end` is OK, goes on answering until the client half-closes). With an
// `error_code`, each answer is instead an error_response with that code.
struct Script {
  int answers;
  grpc::Status end;
  std::optional<int> error_code = std::nullopt;
  // After the client half-closes, keep the stream open until it cancels.
  bool ignores_half_close = false;
  // With a code, a request for a file (not the list) is answered with an
  // error_response of that code.
  std::optional<int> lookup_error_code = std::nullopt;
  // With a file, a request for a file is answered with this one.
  std::optional<google::protobuf::FileDescriptorProto> file = std::nullopt;
  // Each request is answered with an empty response: no list, no file, no
  // error.
  bool empty_answers = false;
  // Requests are read and never answered: the stream stays open until the
  // client's deadline cancels it (a reflection service that hangs).
  bool never_answers = false;
};

class ScriptedReflection final : public ServerReflection::Service {
 public:
  explicit ScriptedReflection(std::vector<Script> streams) : streams_(std::move(streams)) {}

  grpc::Status ServerReflectionInfo(
      grpc::ServerContext* context,
      grpc::ServerReaderWriter<ServerReflectionResponse, ServerReflectionRequest>* stream)
      override {
    Script script{0, grpc::Status(grpc::StatusCode::INTERNAL, "no script for this stream")};
    {
      absl::MutexLock lock(&mu_);
      if (static_cast<size_t>(streams_seen_) < streams_.size()) {
        script = streams_[streams_seen_];
      }
      ++streams_seen_;
    }
    ServerReflectionRequest request;
    for (int answered = 0; script.end.ok() || answered < script.answers; ++answered) {
      if (script.never_answers) {
        while (!context->IsCancelled()) absl::SleepFor(absl::Milliseconds(1));
        return grpc::Status::OK;
      }
      if (!stream->Read(&request)) {
        // The sync API has no wait on a cancel: look every millisecond.
        while (script.ignores_half_close && !context->IsCancelled()) {
          absl::SleepFor(absl::Milliseconds(1));
        }
        return grpc::Status::OK;
      }
      ServerReflectionResponse response;
      const bool lookup = !request.has_list_services();
      if (script.empty_answers) {
        // Nothing set.
      } else if (script.error_code.has_value() ||
                 (lookup && script.lookup_error_code.has_value())) {
        response.mutable_error_response()->set_error_code(
            script.error_code.value_or(script.lookup_error_code.value_or(0)));
        response.mutable_error_response()->set_error_message("scripted error");
      } else if (lookup && script.file.has_value()) {
        response.mutable_file_descriptor_response()->add_file_descriptor_proto(
            script.file->SerializeAsString());
      } else {
        response.mutable_list_services_response()->add_service()->set_name("fake.v1.Thing");
      }
      stream->Write(response);
    }
    return script.end;
  }

  int streams_seen() {
    absl::MutexLock lock(&mu_);
    return streams_seen_;
  }

 private:
  const std::vector<Script> streams_;
  absl::Mutex mu_;
  int streams_seen_ ABSL_GUARDED_BY(mu_) = 0;
};

class ReflectionDatabaseTest : public ::testing::Test {
 protected:
  void Serve(std::vector<Script> streams) {
    service_ = std::make_unique<ScriptedReflection>(std::move(streams));
    int port = 0;
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
    builder.RegisterService(service_.get());
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    channel_ = grpc::CreateChannel(absl::StrCat("127.0.0.1:", port),
                                   grpc::InsecureChannelCredentials());
  }

  void TearDown() override {
    if (server_ != nullptr) server_->Shutdown();
  }

  std::unique_ptr<ScriptedReflection> service_;
  std::unique_ptr<grpc::Server> server_;
  std::shared_ptr<grpc::Channel> channel_;
};

const grpc::Status kGoingAway(grpc::StatusCode::UNAVAILABLE, "going away");

TEST_F(ReflectionDatabaseTest, AStreamRefusedUnavailableIsReplacedAndTheLookupAnswered) {
  Serve({{0, kGoingAway}, {0, grpc::Status::OK}});
  ReflectionDatabase db(channel_, absl::Seconds(30));
  auto services = db.ListServices();
  ASSERT_TRUE(services.ok()) << services.status();
  EXPECT_EQ(*services, std::vector<std::string>{"fake.v1.Thing"});
  EXPECT_EQ(service_->streams_seen(), 2);
}

TEST_F(ReflectionDatabaseTest, AStreamClosedUnavailableAfterAnsweringIsReplacedForTheNextLookup) {
  // The first stream answers once and is then closed, as a server closes a
  // recycled connection's streams at the end of its grace.
  Serve({{1, kGoingAway}, {0, grpc::Status::OK}});
  ReflectionDatabase db(channel_, absl::Seconds(30));
  ASSERT_TRUE(db.ListServices().ok());
  auto again = db.ListServices();
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(*again, std::vector<std::string>{"fake.v1.Thing"});
  EXPECT_EQ(service_->streams_seen(), 2);
}

TEST_F(ReflectionDatabaseTest, AServerThatStaysUnavailableFailsTheLookupAfterThreeStreams) {
  Serve({{0, kGoingAway}, {0, kGoingAway}, {0, kGoingAway}, {0, grpc::Status::OK}});
  ReflectionDatabase db(channel_, absl::Seconds(30));
  auto services = db.ListServices();
  EXPECT_EQ(services.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_TRUE(absl::StrContains(services.status().message(), "going away"))
      << services.status();
  EXPECT_EQ(service_->streams_seen(), 3);
  // The session has failed: later lookups say so without asking again.
  EXPECT_EQ(db.ListServices().status(), services.status());
  EXPECT_EQ(service_->streams_seen(), 3);
}

TEST_F(ReflectionDatabaseTest, AnyOtherFailureIsNotAskedAgain) {
  Serve({{0, grpc::Status(grpc::StatusCode::PERMISSION_DENIED, "no token")},
         {0, grpc::Status::OK}});
  ReflectionDatabase db(channel_, absl::Seconds(30));
  auto services = db.ListServices();
  EXPECT_EQ(services.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_TRUE(absl::StrContains(services.status().message(),
                                "server reflection failed: no token"))
      << services.status();
  EXPECT_EQ(service_->streams_seen(), 1);
}

// An error_response's code is the server's to fill in. Code 0 (OK) built
// a StatusOr from an OK status, which aborts in a debug build of Abseil;
// one past gRPC's 16 is no code at all. Both are UNKNOWN, saying so.
TEST_F(ReflectionDatabaseTest, AnErrorAnswerWithNoErrorCodeIsUnknown) {
  for (int code : {0, 99, -1}) {
    Serve({{0, grpc::Status::OK, code}});
    {
      // Gone before the server shuts down, which waits for its stream.
      ReflectionDatabase db(channel_, absl::Seconds(30));
      auto services = db.ListServices();
      EXPECT_EQ(services.status().code(), absl::StatusCode::kUnknown) << code;
      EXPECT_TRUE(absl::StrContains(services.status().message(),
                                    absl::StrCat("error with code ", code, ": scripted error")))
          << services.status();
    }
    server_->Shutdown();
    server_.reset();
  }
}

TEST_F(ReflectionDatabaseTest, AnErrorAnswerKeepsTheServersCode) {
  Serve({{0, grpc::Status::OK, static_cast<int>(grpc::StatusCode::NOT_FOUND)}});
  ReflectionDatabase db(channel_, absl::Seconds(30));
  auto services = db.ListServices();
  EXPECT_EQ(services.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(services.status().message(), "scripted error");
}

// A session with no deadline ends its stream by cancelling it: draining it
// waited for ever on a server that keeps a half-closed stream open.
TEST_F(ReflectionDatabaseTest, ASessionWithoutADeadlineDoesNotWaitForTheServerToEndIt) {
  Serve({{0, grpc::Status::OK, std::nullopt, /*ignores_half_close=*/true}});
  {
    ReflectionDatabase db(channel_, absl::InfiniteDuration());
    ASSERT_TRUE(db.ListServices().ok());
  }  // returns: this test would otherwise end at ctest's timeout
  EXPECT_EQ(service_->streams_seen(), 1);
}

// A lookup that runs out of time says whether the server was reached at
// all: gRPC's "Deadline Exceeded", or "no answer within 300ms", read alike
// for a server that is down and one whose reflection hangs.
TEST_F(ReflectionDatabaseTest, ADeadlineOnAReachedServerSaysItsReflectionDidNotAnswer) {
  Script silent{0, grpc::Status::OK};
  silent.never_answers = true;
  Serve({silent});
  ReflectionDatabase db(channel_, absl::Milliseconds(300));
  auto services = db.ListServices();
  EXPECT_EQ(services.status().code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(std::string(services.status().message()),
            "the server was reached, but its reflection gave no answer within 300ms");
  EXPECT_EQ(service_->streams_seen(), 1);
}

// A server reached without a reflection service answers UNIMPLEMENTED at
// once, as gRPC answers any method it does not serve.
TEST_F(ReflectionDatabaseTest, AServerWithoutReflectionIsSaidToHaveNone) {
  Serve({{0, grpc::Status(grpc::StatusCode::UNIMPLEMENTED, "")}});
  ReflectionDatabase db(channel_, absl::Seconds(30));
  auto services = db.ListServices();
  EXPECT_EQ(services.status().code(), absl::StatusCode::kUnimplemented);
  EXPECT_EQ(std::string(services.status().message()),
            "the server does not support reflection (grpc.reflection.v1alpha)");
}

TEST_F(ReflectionDatabaseTest, ADeadlineWithoutAConnectionSaysTheServerWasNotReached) {
  testing::RefusingPort refusing;
  ASSERT_NE(refusing.port(), 0);
  // wait_for_ready: the refused connections are waited out, to the deadline.
  ReflectionDatabase db(grpc::CreateChannel(absl::StrCat("127.0.0.1:", refusing.port()),
                                            grpc::InsecureChannelCredentials()),
                        absl::Milliseconds(300), /*wait_for_ready=*/true);
  auto services = db.ListServices();
  EXPECT_EQ(services.status().code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_TRUE(absl::StartsWith(services.status().message(),
                               "the server could not be reached (the channel had no "
                               "connection at the deadline: "))
      << services.status();
  EXPECT_TRUE(absl::EndsWith(services.status().message(), "): no answer within 300ms"))
      << services.status();
}

// Metadata gRPC cannot send fails the session, naming the header, and is
// never sent: gRPC C++ would abort the process.
TEST_F(ReflectionDatabaseTest, MetadataGrpcCannotSendFailsTheSession) {
  Serve({{0, grpc::Status::OK}});
  ReflectionDatabase db(channel_, absl::Seconds(30), /*wait_for_ready=*/false,
                        {{"X-Token", "secret"}});
  auto services = db.ListServices();
  EXPECT_EQ(services.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StrContains(services.status().message(), "X-Token")) << services.status();
  EXPECT_EQ(service_->streams_seen(), 0);
}

// `handoff list`: a service reflection does not describe (NOT_FOUND, as
// for gRPC's health service) is listed without methods.
TEST_F(ReflectionDatabaseTest, AListingShowsAServiceReflectionDoesNotDescribeWithoutMethods) {
  Serve({{0, grpc::Status::OK, std::nullopt, false, /*lookup_error_code=*/5}});
  ReflectionDatabase db(channel_, absl::Seconds(10));
  absl::StatusOr<std::string> listing = ServiceListing(db, "");
  ASSERT_TRUE(listing.ok()) << listing.status();
  EXPECT_EQ(*listing, "fake.v1.Thing\n");
}

// A lookup that fails otherwise (here the stream ends INTERNAL after the
// list) fails the listing: it printed the services' names without their
// methods, and exited 0.
TEST_F(ReflectionDatabaseTest, AListingWhoseLookupFailsFailsNamingTheService) {
  Serve({{1, grpc::Status(grpc::StatusCode::INTERNAL, "broken")}});
  ReflectionDatabase db(channel_, absl::Seconds(10));
  absl::StatusOr<std::string> listing = ServiceListing(db, "");
  EXPECT_EQ(listing.status().code(), absl::StatusCode::kInternal) << listing.status();
  EXPECT_TRUE(absl::StrContains(listing.status().message(), "describing fake.v1.Thing"))
      << listing.status();
}

// A file the server describes but protobuf cannot build (a type it does
// not define, an import it never sends) fails the listing INTERNAL, with
// protobuf's reason: the service was listed without methods, as if
// reflection did not describe it, exit 0, after protobuf had logged its
// reasons on stderr, a few lines per lookup.
TEST_F(ReflectionDatabaseTest, AListingOfAServiceWhoseFileDoesNotBuildFailsWithProtobufsReason) {
  google::protobuf::FileDescriptorProto undefined_type;
  undefined_type.set_name("fake/thing.proto");
  undefined_type.set_package("fake.v1");
  auto* service = undefined_type.add_service();
  service->set_name("Thing");
  auto* rpc = service->add_method();
  rpc->set_name("Do");
  rpc->set_input_type(".fake.v1.Missing");
  rpc->set_output_type(".fake.v1.Missing");
  google::protobuf::FileDescriptorProto missing_import;
  missing_import.set_name("fake/thing.proto");
  missing_import.set_package("fake.v1");
  missing_import.add_dependency("fake/nowhere.proto");
  missing_import.add_service()->set_name("Thing");
  for (const auto& [file, reason] :
       {std::pair(undefined_type, "\".fake.v1.Missing\" is not defined"),
        std::pair(missing_import, "Import \"fake/nowhere.proto\" was not found")}) {
    Serve({{0, grpc::Status::OK, std::nullopt, false, std::nullopt, file}});
    {
      ReflectionDatabase db(channel_, absl::Seconds(10));
      ::testing::internal::CaptureStderr();
      absl::StatusOr<std::string> listing = ServiceListing(db, "");
      const std::string logged = ::testing::internal::GetCapturedStderr();
      EXPECT_EQ(listing.status().code(), absl::StatusCode::kInternal) << listing.status();
      EXPECT_TRUE(absl::StrContains(
          listing.status().message(),
          "describing fake.v1.Thing: reflection described fake/thing.proto as protobuf "
          "cannot build it"))
          << listing.status();
      EXPECT_TRUE(absl::StrContains(listing.status().message(), reason)) << listing.status();
      EXPECT_EQ(logged, "");
    }
    server_->Shutdown();
    server_.reset();
  }
}

// An answer to the list of services that holds no list (an empty
// response, or one of another kind) is no list of no services: `handoff
// list` printed nothing and exited 0.
TEST_F(ReflectionDatabaseTest, AnAnswerWithoutAListOfServicesIsInternal) {
  Serve({{0, grpc::Status::OK, std::nullopt, false, std::nullopt, std::nullopt,
          /*empty_answers=*/true}});
  ReflectionDatabase db(channel_, absl::Seconds(10));
  auto services = db.ListServices();
  EXPECT_EQ(services.status().code(), absl::StatusCode::kInternal) << services.status();
  EXPECT_TRUE(absl::StrContains(services.status().message(), "without a list of services"))
      << services.status();
}

// Only the service asked for; one the server does not list is NotFound.
TEST_F(ReflectionDatabaseTest, AListingOfOneServiceTheServerDoesNotListIsNotFound) {
  Serve({{0, grpc::Status::OK}});
  ReflectionDatabase db(channel_, absl::Seconds(10));
  absl::StatusOr<std::string> listing = ServiceListing(db, "other.v1.Thing");
  EXPECT_EQ(listing.status().code(), absl::StatusCode::kNotFound) << listing.status();
  EXPECT_EQ(listing.status().message(), "no service 'other.v1.Thing'");
}

}  // namespace
}  // namespace handoff
