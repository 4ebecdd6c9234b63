// LocalDescriptors: types from .proto sources and protosets written by the
// test, with their imports found, or named when they are not.
#include "client/local_descriptors.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include <google/protobuf/descriptor.pb.h>
#include <gtest/gtest.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "client/dynamic_call.h"
#include "handoff/v1/gateway.pb.h"

namespace handoff {
namespace {

namespace fs = std::filesystem;
namespace pb = google::protobuf;

// A directory of its own per test and process, removed after it. Nothing is
// shared under /tmp: a parent directory common to every run stayed behind
// owned by the first user to run the suite, and every test failed in SetUp
// for any other user (and two runs at once could remove each other's files).
class LocalDescriptorsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    root_ = fs::path(absl::StrCat(::testing::TempDir(), "local_descriptors_test_", getpid(),
                                  "_", info->name()));
    fs::remove_all(root_);
    fs::create_directories(root_);
  }
  void TearDown() override { fs::remove_all(root_); }

  std::string Write(const std::string& relative, const std::string& text) {
    const fs::path path = root_ / relative;
    fs::create_directories(path.parent_path());
    std::ofstream(path, std::ios::binary) << text;
    return path.string();
  }

  std::string Path(const std::string& relative) const { return (root_ / relative).string(); }

  // api/echo.proto imports one file from third/ and one of Protobuf's own.
  std::string WriteEchoApi() {
    Write("third/common/types.proto", R"(syntax = "proto3";
package common;
message Blob { bytes payload = 1; }
)");
    return Write("api/echo.proto", R"(syntax = "proto3";
package demo.v1;
import "common/types.proto";
import "google/protobuf/empty.proto";
message EchoRequest { bytes payload = 1; }
service Demo {
  rpc Echo(EchoRequest) returns (common.Blob);
  rpc Ping(google.protobuf.Empty) returns (common.Blob);
}
)");
  }

  fs::path root_;
};

TEST_F(LocalDescriptorsTest, AProtoFileFindsItsImportsInTheImportPathsAndInProtobuf) {
  const std::string proto = WriteEchoApi();
  auto local = LocalDescriptors::FromProtoFile(proto, {Path("third")});
  ASSERT_TRUE(local.ok()) << local.status();
  auto echo = FindMethod((*local)->pool(), "demo.v1.Demo.Echo");
  ASSERT_TRUE(echo.ok()) << echo.status();
  EXPECT_EQ((*echo)->input_type()->full_name(), "demo.v1.EchoRequest");
  EXPECT_EQ((*echo)->output_type()->full_name(), "common.Blob");
  auto ping = FindMethod((*local)->pool(), "demo.v1.Demo/Ping");
  ASSERT_TRUE(ping.ok()) << ping.status();
  EXPECT_EQ((*ping)->input_type()->full_name(), "google.protobuf.Empty");
}

TEST_F(LocalDescriptorsTest, AnImportFoundNowhereSaysWhereItWasLookedFor) {
  const std::string proto = WriteEchoApi();
  auto local = LocalDescriptors::FromProtoFile(proto, {});
  ASSERT_FALSE(local.ok());
  EXPECT_EQ(local.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StrContains(local.status().message(), "common/types.proto"))
      << local.status();
  EXPECT_TRUE(absl::StrContains(local.status().message(), "looked in " + Path("api")))
      << local.status();
}

TEST_F(LocalDescriptorsTest, ASyntaxErrorNamesTheFileLineAndColumn) {
  const std::string proto = Write("bad.proto", "syntax = \"proto3\";\nmessage X { int32 a = 1 }\n");
  auto local = LocalDescriptors::FromProtoFile(proto, {});
  ASSERT_FALSE(local.ok());
  EXPECT_EQ(local.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StartsWith(local.status().message(), "bad.proto:2:25: ")) << local.status();
}

TEST_F(LocalDescriptorsTest, AProtoFileThatIsNotThereIsNotFound) {
  auto local = LocalDescriptors::FromProtoFile(Path("nope.proto"), {});
  ASSERT_FALSE(local.ok());
  EXPECT_EQ(local.status().code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(absl::StrContains(local.status().message(), "nope.proto")) << local.status();
}

TEST_F(LocalDescriptorsTest, AnImportOfAFileTheBinaryHoldsMustStillBeFound) {
  // handoff/v1/gateway.proto is compiled into this binary, but it is not
  // Protobuf's own: an import of it comes from the import paths or nowhere.
  const std::string proto = Write("api.proto", R"(syntax = "proto3";
import "handoff/v1/gateway.proto";
service Wrapper { rpc Echo(handoff.v1.EchoRequest) returns (handoff.v1.EchoReply); }
)");
  auto local = LocalDescriptors::FromProtoFile(proto, {});
  ASSERT_FALSE(local.ok());
  EXPECT_TRUE(absl::StrContains(local.status().message(), "handoff/v1/gateway.proto"))
      << local.status();
}

TEST_F(LocalDescriptorsTest, AProtosetOfTheGatewaysOwnDescriptors) {
  pb::FileDescriptorSet set;
  v1::EchoRequest::descriptor()->file()->CopyTo(set.add_file());
  const std::string path = Write("gateway.protoset", set.SerializeAsString());
  auto local = LocalDescriptors::FromProtoset(path);
  ASSERT_TRUE(local.ok()) << local.status();
  auto echo = FindMethod((*local)->pool(), "handoff.v1.Gateway.Echo");
  ASSERT_TRUE(echo.ok()) << echo.status();
  EXPECT_EQ((*echo)->input_type()->full_name(), "handoff.v1.EchoRequest");
}

// What `handoff describe` with no symbol describes: the services of the
// files named, --proto's without those of what it imports, and every file's
// of a protoset.
TEST_F(LocalDescriptorsTest, ServiceNamesAreThoseOfTheFilesNamedNotOfTheirImports) {
  Write("third/common/types.proto", R"(syntax = "proto3";
package common;
message Blob { bytes payload = 1; }
service Imported { rpc Get(Blob) returns (Blob); }
)");
  const std::string proto = Write("api/two.proto", R"(syntax = "proto3";
package demo;
import "common/types.proto";
service Zeta { rpc Get(common.Blob) returns (common.Blob); }
service Alpha { rpc Get(common.Blob) returns (common.Blob); }
)");
  auto local = LocalDescriptors::FromProtoFile(proto, {Path("third")});
  ASSERT_TRUE(local.ok()) << local.status();
  EXPECT_EQ((*local)->ServiceNames(), (std::vector<std::string>{"demo.Alpha", "demo.Zeta"}));

  pb::FileDescriptorSet set;
  v1::EchoRequest::descriptor()->file()->CopyTo(set.add_file());
  auto protoset = LocalDescriptors::FromProtoset(Write("gw.protoset", set.SerializeAsString()));
  ASSERT_TRUE(protoset.ok()) << protoset.status();
  EXPECT_EQ((*protoset)->ServiceNames(), std::vector<std::string>{"handoff.v1.Gateway"});
}

TEST_F(LocalDescriptorsTest, AProtosetMayLeaveProtobufsOwnTypesOut) {
  pb::FileDescriptorSet set;
  pb::FileDescriptorProto* file = set.add_file();
  file->set_name("ping.proto");
  file->set_package("demo");
  file->set_syntax("proto3");
  file->add_dependency("google/protobuf/empty.proto");
  pb::MethodDescriptorProto* ping = file->add_service()->add_method();
  file->mutable_service(0)->set_name("Pinger");
  ping->set_name("Ping");
  ping->set_input_type(".google.protobuf.Empty");
  ping->set_output_type(".google.protobuf.Empty");
  auto local = LocalDescriptors::FromProtoset(Write("ping.protoset", set.SerializeAsString()));
  ASSERT_TRUE(local.ok()) << local.status();
  EXPECT_TRUE(FindMethod((*local)->pool(), "demo.Pinger.Ping").ok());
}

TEST_F(LocalDescriptorsTest, AProtosetWithoutAnImportSaysSo) {
  pb::FileDescriptorSet set;
  pb::FileDescriptorProto* file = set.add_file();
  file->set_name("api.proto");
  file->add_dependency("common/types.proto");
  auto local = LocalDescriptors::FromProtoset(Write("api.protoset", set.SerializeAsString()));
  ASSERT_FALSE(local.ok());
  EXPECT_EQ(local.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StrContains(local.status().message(), "common/types.proto")) << local.status();
  EXPECT_TRUE(absl::StrContains(local.status().message(), "--include_imports")) << local.status();
}

// Two files that define one name are not one file twice: the message said
// so whatever Add refused.
TEST_F(LocalDescriptorsTest, AProtosetWhoseFilesDefineOneNameTwiceSaysSo) {
  pb::FileDescriptorSet set;
  for (const char* name : {"a.proto", "b.proto"}) {
    pb::FileDescriptorProto* file = set.add_file();
    file->set_name(name);
    file->set_package("p");
    file->add_message_type()->set_name("M");
  }
  auto local = LocalDescriptors::FromProtoset(Write("two.protoset", set.SerializeAsString()));
  ASSERT_FALSE(local.ok());
  EXPECT_EQ(local.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StrContains(local.status().message(),
                                "b.proto defines a name another file of the set defines too"))
      << local.status();
}

TEST_F(LocalDescriptorsTest, AFileThatIsNoProtosetSaysWhatAProtosetIs) {
  const std::string proto = WriteEchoApi();
  auto local = LocalDescriptors::FromProtoset(proto);
  ASSERT_FALSE(local.ok());
  EXPECT_EQ(local.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StrContains(local.status().message(), "is not a FileDescriptorSet"))
      << local.status();
}

// What cannot be read as a file is named as ReadFile names it, as for
// -d @FILE and --cacert. A directory read as a protoset was "not a
// FileDescriptorSet", and as a .proto "no such file".
TEST_F(LocalDescriptorsTest, ADirectoryIsNamedAsOneForProtoAndProtoset) {
  const std::string needle = absl::StrCat("cannot read ", root_.string(), ": Is a directory");
  auto protoset = LocalDescriptors::FromProtoset(root_.string());
  ASSERT_FALSE(protoset.ok());
  EXPECT_TRUE(absl::StrContains(protoset.status().message(), needle)) << protoset.status();
  auto proto = LocalDescriptors::FromProtoFile(root_.string(), {});
  ASSERT_FALSE(proto.ok());
  EXPECT_TRUE(absl::StrContains(proto.status().message(), needle)) << proto.status();
}

// A FIFO nothing writes to is an error at once. FromProtoset opened it with
// std::ifstream, which waits for a writer: `handoff call --protoset=FIFO`
// hung for ever. Should it wait, a writer comes after 10 s and closes at
// once, so that the test fails rather than hangs.
TEST_F(LocalDescriptorsTest, AFifoNothingWritesToIsAnErrorAtOnce) {
  const std::string fifo = Path("set.fifo");
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  absl::Notification returned;
  std::atomic<bool> writer_came{false};
  std::thread unblock([&] {
    if (returned.WaitForNotificationWithTimeout(absl::Seconds(10))) return;
    writer_came = true;
    const int fd = open(fifo.c_str(), O_WRONLY | O_NONBLOCK);
    if (fd >= 0) close(fd);
  });
  auto protoset = LocalDescriptors::FromProtoset(fifo);
  returned.Notify();
  unblock.join();
  EXPECT_FALSE(writer_came) << "FromProtoset waited for a writer";
  ASSERT_FALSE(protoset.ok());
  EXPECT_TRUE(absl::StrContains(protoset.status().message(),
                                absl::StrCat("cannot read ", fifo, ": a FIFO nothing was written to")))
      << protoset.status();
}

}  // namespace
}  // namespace handoff
