// Copyright 2026 The handoff Authors.
//
// --tls_reload_interval: certificate files replaced on disk reach the
// connections accepted after, without a restart; open connections keep
// theirs. The files are replaced the way Kubernetes updates a mounted
// Secret (and so cert-manager's): the names are symlinks through "..data",
// a symlink to a directory of the current files, which a rename swaps for
// one to a new directory, so that the key and the certificate change at
// once. The second certificate is testdata/tls/server_rotated.pem, signed by
// the same CA as server.pem.

#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "grpc/support/log.h"
#include "grpcpp/grpcpp.h"
#include "grpcpp/security/credentials.h"
#include "gtest/gtest.h"
#include "handoff/v1/gateway.grpc.pb.h"
#include "server/server.h"
#include "tests/util/tls_testdata.h"

namespace handoff {
namespace {

namespace fs = std::filesystem;
using testutil::TlsTestClientCredentials;
using testutil::TlsTestFile;
using testutil::TlsTestPem;

// How long a reload may take to show, at an interval of 1s: a bound for a
// hang, not a wait.
constexpr absl::Duration kReloadBound = absl::Seconds(30);

// A directory laid out as a mounted Kubernetes Secret: tls.crt and tls.key
// are symlinks to ..data/tls.crt and ..data/tls.key, and ..data to the
// directory of the current pair.
class SecretDir {
 public:
  SecretDir(const std::string& cert, const std::string& key)
      : dir_(absl::StrCat(::testing::TempDir(), "handoff_tls_reload_", getpid(),
                          "_", next_id_++)) {
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    Publish(cert, key);
    fs::create_symlink("..data/tls.crt", dir_ / "tls.crt");
    fs::create_symlink("..data/tls.key", dir_ / "tls.key");
  }
  ~SecretDir() { fs::remove_all(dir_); }

  std::string cert_file() const { return (dir_ / "tls.crt").string(); }
  std::string key_file() const { return (dir_ / "tls.key").string(); }

  // Replaces both files at once with copies of the test files `cert` and
  // `key`: a new directory, then a rename of a symlink to it over ..data.
  void Publish(const std::string& cert, const std::string& key) {
    const std::string version = absl::StrCat("..v", ++versions_);
    fs::create_directory(dir_ / version);
    fs::copy_file(TlsTestFile(cert), dir_ / version / "tls.crt");
    fs::copy_file(TlsTestFile(key), dir_ / version / "tls.key");
    fs::create_symlink(version, dir_ / "..data_tmp");
    fs::rename(dir_ / "..data_tmp", dir_ / "..data");
  }

 private:
  static inline int next_id_ = 0;
  fs::path dir_;
  int versions_ = 0;
};

ServerConfig ReloadConfig(const SecretDir& secret, absl::Duration interval) {
  ServerConfig config;
  config.listen = "127.0.0.1:0";
  config.admin_listen = "";
  config.workers = 2;
  config.tls_cert_file = secret.cert_file();
  config.tls_key_file = secret.key_file();
  config.tls_reload_interval = interval;
  return config;
}

std::unique_ptr<HandoffServer> Start(ServerConfig config) {
  ServerOptions options;
  options.config = std::move(config);
  auto server = HandoffServer::Start(options);
  EXPECT_TRUE(server.ok()) << server.status();
  return server.ok() ? std::move(*server) : nullptr;
}

// A channel of its own: a local subchannel pool, so that it opens a new
// connection (and handshake) rather than share one with an earlier channel
// to the same address.
std::shared_ptr<grpc::Channel> NewConnection(
    const HandoffServer& server,
    std::shared_ptr<grpc::ChannelCredentials> credentials) {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  return grpc::CreateCustomChannel(
      absl::StrCat("127.0.0.1:", server.port()), std::move(credentials), args);
}

struct EchoResult {
  grpc::Status status;
  std::string server_cert;  // the PEM certificate the server presented
};

// One Echo on `channel`; a failed handshake fails fast (no wait_for_ready).
EchoResult Echo(const std::shared_ptr<grpc::Channel>& channel) {
  auto stub = v1::Gateway::NewStub(channel);
  grpc::ClientContext ctx;
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
  v1::EchoRequest request;
  request.set_payload("over tls");
  v1::EchoReply reply;
  EchoResult result;
  result.status = stub->Echo(&ctx, request, &reply);
  if (auto auth = ctx.auth_context()) {
    for (const grpc::string_ref& pem : auth->FindPropertyValues("x509_pem_cert")) {
      result.server_cert.assign(pem.data(), pem.size());
    }
  }
  return result;
}

// New connections until one is served with `cert_pem`; false if none is
// within kReloadBound. The last result is left in `last`.
bool PollUntilServedWith(const HandoffServer& server,
                         const std::shared_ptr<grpc::ChannelCredentials>& credentials,
                         const std::string& cert_pem, EchoResult* last) {
  const absl::Time deadline = absl::Now() + kReloadBound;
  while (absl::Now() < deadline) {
    *last = Echo(NewConnection(server, credentials));
    if (last->status.ok() && last->server_cert == cert_pem) return true;
    absl::SleepFor(absl::Milliseconds(50));
  }
  return false;
}

TEST(TlsReloadTest, NewConnectionsGetTheReplacedCertificateOldOnesKeepWorking) {
  SecretDir secret("server.pem", "server.key");
  auto server = Start(ReloadConfig(secret, absl::Seconds(1)));
  ASSERT_NE(server, nullptr);
  auto credentials = TlsTestClientCredentials("ca.pem");
  auto old_connection = NewConnection(*server, credentials);
  EchoResult before = Echo(old_connection);
  ASSERT_TRUE(before.status.ok()) << before.status.error_message();
  ASSERT_EQ(before.server_cert, TlsTestPem("server.pem"));

  secret.Publish("server_rotated.pem", "server_rotated.key");
  EchoResult fresh;
  EXPECT_TRUE(PollUntilServedWith(*server, credentials,
                                  TlsTestPem("server_rotated.pem"), &fresh))
      << fresh.status.error_code() << ": " << fresh.status.error_message();

  // The connection opened before the rotation still serves calls, on the
  // handshake (and certificate) it had.
  EchoResult old_after = Echo(old_connection);
  ASSERT_TRUE(old_after.status.ok()) << old_after.status.error_message();
  EXPECT_EQ(old_after.server_cert, TlsTestPem("server.pem"));
}

TEST(TlsReloadTest, MutualTlsStillRequiresAClientCertificateAfterAReload) {
  SecretDir secret("server.pem", "server.key");
  ServerConfig config = ReloadConfig(secret, absl::Seconds(1));
  config.tls_client_ca_file = TlsTestFile("ca.pem");
  auto server = Start(config);
  ASSERT_NE(server, nullptr);

  secret.Publish("server_rotated.pem", "server_rotated.key");
  EchoResult with_cert;
  ASSERT_TRUE(PollUntilServedWith(
      *server, TlsTestClientCredentials("ca.pem", /*with_client_cert=*/true),
      TlsTestPem("server_rotated.pem"), &with_cert))
      << with_cert.status.error_code() << ": " << with_cert.status.error_message();

  EchoResult without_cert =
      Echo(NewConnection(*server, TlsTestClientCredentials("ca.pem")));
  EXPECT_EQ(without_cert.status.error_code(), grpc::StatusCode::UNAVAILABLE)
      << without_cert.status.error_message();
}

TEST(TlsReloadTest, ZeroIntervalReadsTheFilesOnlyAtStart) {
  // Two servers on the same files: the one that reloads every second shows
  // when a reload could have happened; the one at 0 must not have.
  SecretDir secret("server.pem", "server.key");
  auto once = Start(ReloadConfig(secret, absl::ZeroDuration()));
  auto watching = Start(ReloadConfig(secret, absl::Seconds(1)));
  ASSERT_NE(once, nullptr);
  ASSERT_NE(watching, nullptr);
  auto credentials = TlsTestClientCredentials("ca.pem");

  secret.Publish("server_rotated.pem", "server_rotated.key");
  EchoResult witness;
  ASSERT_TRUE(PollUntilServedWith(*watching, credentials,
                                  TlsTestPem("server_rotated.pem"), &witness))
      << witness.status.error_code() << ": " << witness.status.error_message();

  EchoResult fresh = Echo(NewConnection(*once, credentials));
  ASSERT_TRUE(fresh.status.ok()) << fresh.status.error_message();
  EXPECT_EQ(fresh.server_cert, TlsTestPem("server.pem"));

  // A restart reads them.
  once.reset();
  auto restarted = Start(ReloadConfig(secret, absl::ZeroDuration()));
  ASSERT_NE(restarted, nullptr);
  EchoResult after_restart = Echo(NewConnection(*restarted, credentials));
  ASSERT_TRUE(after_restart.status.ok()) << after_restart.status.error_message();
  EXPECT_EQ(after_restart.server_cert, TlsTestPem("server_rotated.pem"));
}

// gRPC 1.51 does not keep the last good pair when the files it reads do not
// load together: it logs "Update handshaker factory failed" and fails every
// new handshake until a good pair is read. (A file it cannot read at all,
// a missing one, leaves the last pair in use.) Connections open before keep
// working. This pins that behaviour, which README documents.
TEST(TlsReloadTest, APairThatDoesNotLoadFailsNewHandshakesUntilAGoodOneIsRead) {
  SecretDir secret("server.pem", "server.key");
  auto server = Start(ReloadConfig(secret, absl::Seconds(1)));
  ASSERT_NE(server, nullptr);
  auto credentials = TlsTestClientCredentials("ca.pem");
  auto old_connection = NewConnection(*server, credentials);
  ASSERT_TRUE(Echo(old_connection).status.ok());

  secret.Publish("server_rotated.pem", "server.key");  // not its key
  const absl::Time deadline = absl::Now() + kReloadBound;
  EchoResult fresh;
  do {
    fresh = Echo(NewConnection(*server, credentials));
    if (!fresh.status.ok()) break;
    absl::SleepFor(absl::Milliseconds(50));
  } while (absl::Now() < deadline);
  EXPECT_EQ(fresh.status.error_code(), grpc::StatusCode::UNAVAILABLE)
      << "new connections kept being served with the last good pair";

  EchoResult old_after = Echo(old_connection);
  EXPECT_TRUE(old_after.status.ok()) << old_after.status.error_message();

  secret.Publish("server_rotated.pem", "server_rotated.key");
  EXPECT_TRUE(PollUntilServedWith(*server, credentials,
                                  TlsTestPem("server_rotated.pem"), &fresh))
      << fresh.status.error_code() << ": " << fresh.status.error_message();
}

TEST(TlsReloadTest, AKeyOfAnotherCertificateStillStopsTheStart) {
  // The watcher would take it and fail every handshake; the start refuses
  // it as it does without a reload interval.
  SecretDir secret("server.pem", "client.key");
  ServerOptions options;
  options.config = ReloadConfig(secret, absl::Seconds(1));
  auto server = HandoffServer::Start(options);
  ASSERT_FALSE(server.ok());
  EXPECT_EQ(server.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(server.status().message().find("--tls_key_file: gRPC refused"),
            absl::string_view::npos)
      << server.status();
}

}  // namespace
}  // namespace handoff
