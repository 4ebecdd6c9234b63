// Copyright 2026 The handoff Authors.
//
// handoffd with TLS on its gRPC port, and with mutual TLS: who is served and
// who is refused, and the errors that name a bad TLS flag. The certificates
// are test data (testdata/tls/make_certs.sh): a CA, a server certificate for
// localhost and 127.0.0.1 signed by it, a client certificate signed by it,
// and a second CA that signed nothing of the server's.

#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <initializer_list>
#include <memory>
#include <string>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "grpcpp/grpcpp.h"
#include "grpcpp/security/credentials.h"
#include "gtest/gtest.h"
#include "handoff/v1/gateway.grpc.pb.h"
#include "server/server.h"
#include "tests/util/tls_testdata.h"

namespace handoff {
namespace {

using testutil::TlsTestClientCredentials;
using testutil::TlsTestFile;

ServerConfig TlsConfig() {
  ServerConfig config;
  config.listen = "127.0.0.1:0";
  config.admin_listen = "";
  config.workers = 2;
  config.tls_cert_file = TlsTestFile("server.pem");
  config.tls_key_file = TlsTestFile("server.key");
  return config;
}

// TlsConfig(), requiring client certificates signed by the CA in `ca_file`.
ServerConfig MutualTlsConfig(const std::string& ca_file) {
  ServerConfig config = TlsConfig();
  config.tls_client_ca_file = TlsTestFile(ca_file);
  return config;
}

class TlsServerTest : public ::testing::Test {
 protected:
  void StartServer(ServerConfig config) {
    ServerOptions options;
    options.config = std::move(config);
    auto server = HandoffServer::Start(options);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
  }

  // One Echo over `credentials`; a refused connection fails fast (no
  // wait_for_ready), so the deadline only bounds a hang.
  grpc::Status Echo(std::shared_ptr<grpc::ChannelCredentials> credentials,
                    v1::EchoReply* reply) {
    auto channel = grpc::CreateChannel(
        "127.0.0.1:" + std::to_string(server_->port()), credentials);
    auto stub = v1::Gateway::NewStub(channel);
    grpc::ClientContext ctx;
    ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
    v1::EchoRequest request;
    request.set_payload("over tls");
    return stub->Echo(&ctx, request, reply);
  }

  std::unique_ptr<HandoffServer> server_;
};

TEST_F(TlsServerTest, ClientTrustingTheCaIsServed) {
  StartServer(TlsConfig());
  v1::EchoReply reply;
  grpc::Status s = Echo(TlsTestClientCredentials("ca.pem"), &reply);
  ASSERT_TRUE(s.ok()) << s.error_code() << ": " << s.error_message();
  EXPECT_EQ(reply.payload(), "over tls");
}

TEST_F(TlsServerTest, PlaintextClientIsRefused) {
  StartServer(TlsConfig());
  v1::EchoReply reply;
  grpc::Status s = Echo(grpc::InsecureChannelCredentials(), &reply);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAVAILABLE) << s.error_message();
}

TEST_F(TlsServerTest, ClientTrustingAnotherCaFailsTheHandshake) {
  StartServer(TlsConfig());
  v1::EchoReply reply;
  grpc::Status s = Echo(TlsTestClientCredentials("other_ca.pem"), &reply);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAVAILABLE) << s.error_message();
}

TEST_F(TlsServerTest, MutualTlsServesAClientWithACertificateFromTheCa) {
  StartServer(MutualTlsConfig("ca.pem"));
  v1::EchoReply reply;
  grpc::Status s = Echo(TlsTestClientCredentials("ca.pem", /*with_client_cert=*/true), &reply);
  ASSERT_TRUE(s.ok()) << s.error_code() << ": " << s.error_message();
  EXPECT_EQ(reply.payload(), "over tls");
}

TEST_F(TlsServerTest, MutualTlsRefusesAClientWithoutACertificate) {
  StartServer(MutualTlsConfig("ca.pem"));
  v1::EchoReply reply;
  grpc::Status s = Echo(TlsTestClientCredentials("ca.pem"), &reply);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAVAILABLE) << s.error_message();
}

TEST_F(TlsServerTest, MutualTlsRefusesACertificateFromAnotherCa) {
  // The server's own CA file names only other_ca: the client's certificate,
  // signed by ca, does not chain to it.
  StartServer(MutualTlsConfig("other_ca.pem"));
  v1::EchoReply reply;
  grpc::Status s = Echo(TlsTestClientCredentials("ca.pem", /*with_client_cert=*/true), &reply);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAVAILABLE) << s.error_message();
}

// Start() must fail, with a message that contains each of `words`.
void ExpectStartFails(const ServerConfig& config,
                      std::initializer_list<std::string> words) {
  ServerOptions options;
  options.config = config;
  auto server = HandoffServer::Start(options);
  ASSERT_FALSE(server.ok());
  EXPECT_EQ(server.status().code(), absl::StatusCode::kInvalidArgument)
      << server.status();
  for (const std::string& w : words) {
    EXPECT_TRUE(absl::StrContains(server.status().message(), w))
        << "'" << w << "' not in: " << server.status().message();
  }
}

TEST(TlsConfigTest, UnreadableFileNamesTheFlagAndThePath) {
  ServerConfig config = TlsConfig();
  config.tls_cert_file = TlsTestFile("missing.pem");
  ExpectStartFails(config, {"--tls_cert_file", "missing.pem", "cannot read"});
}

TEST(TlsConfigTest, ADirectoryIsAFileThatCannotBeRead) {
  ServerConfig config = TlsConfig();
  config.tls_cert_file = ::testing::TempDir();
  ExpectStartFails(config, {"--tls_cert_file", "cannot read", "Is a directory"});
}

// A plain open() of a FIFO waits for a writer: start-up used to hang here,
// before handoffd listened.
TEST(TlsConfigTest, AFifoNobodyWritesToIsRefusedAtOnce) {
  ServerConfig config = TlsConfig();
  config.tls_key_file = ::testing::TempDir() + "tls_test_key_fifo_" + std::to_string(getpid());
  ASSERT_EQ(mkfifo(config.tls_key_file.c_str(), 0600), 0);
  ExpectStartFails(config, {"--tls_key_file", "a FIFO nothing was written to"});
  unlink(config.tls_key_file.c_str());
}

TEST(TlsConfigTest, SwappedCertificateAndKeyAreRefused) {
  ServerConfig config = TlsConfig();
  std::swap(config.tls_cert_file, config.tls_key_file);
  ExpectStartFails(config, {"--tls_cert_file", "no PEM certificate"});
}

TEST(TlsConfigTest, ClientCaFileWithoutACertificateIsRefused) {
  ServerConfig config = TlsConfig();
  config.tls_client_ca_file = TlsTestFile("server.key");
  ExpectStartFails(config, {"--tls_client_ca_file", "no PEM certificate"});
}

TEST(TlsConfigTest, KeyOfAnotherCertificateIsRefusedNamingTheKeyFlag) {
  // Both files are well-formed PEM; only gRPC, opening the port, finds that
  // they do not belong together. Start() must say so, not blame the address.
  ServerConfig config = TlsConfig();
  config.tls_key_file = TlsTestFile("client.key");
  ExpectStartFails(config, {"--tls_key_file", "client.key", "server.pem"});
}

// A CA file with a certificate's PEM header around a body that is no
// certificate (cut short, mangled by a copy) passes the check for a header;
// gRPC refuses it when the port opens. The message names that file, not the
// key, which is good.
TEST(TlsConfigTest, ACaFileGrpcCannotReadIsRefusedNamingTheCaFlag) {
  const std::string bad_ca = absl::StrCat(::testing::TempDir(), "handoff_bad_ca_", getpid(), ".pem");
  {
    std::ofstream out(bad_ca);
    out << "-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n";
  }
  ServerOptions options;
  options.config = TlsConfig();
  options.config.tls_client_ca_file = bad_ca;
  auto server = HandoffServer::Start(options);
  std::remove(bad_ca.c_str());
  ASSERT_FALSE(server.ok());
  EXPECT_EQ(server.status().code(), absl::StatusCode::kInvalidArgument) << server.status();
  EXPECT_TRUE(absl::StartsWith(server.status().message(),
                               absl::StrCat("--tls_client_ca_file: gRPC refused '", bad_ca, "'")))
      << server.status();
}

}  // namespace
}  // namespace handoff
