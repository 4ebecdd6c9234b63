// Copyright 2026 The handoff Authors.
//
// The `handoff` CLI, its load generator and handoff::Client against a real
// handoffd that requires mutual TLS (--tls_cert_file, --tls_key_file,
// --tls_client_ca_file). The certificates are the server tests' test data
// (tests/integration/server/testdata/tls).

#include <algorithm>

#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>
#include <grpcpp/security/credentials.h>
#include <gtest/gtest.h>

#include "absl/strings/match.h"
#include "client/client.h"
#include "handoffd_process.h"
#include "tests/util/tls_testdata.h"

namespace handoff::testing {
namespace {

using testutil::TlsTestFile;

std::shared_ptr<grpc::ChannelCredentials> ClientCredentials() {
  return testutil::TlsTestClientCredentials("ca.pem", /*with_client_cert=*/true);
}

class MutualTlsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto h = StartHandoffd(HANDOFFD,
                           {"--workers=2", "--tls_cert_file=" + TlsTestFile("server.pem"),
                            "--tls_key_file=" + TlsTestFile("server.key"),
                            "--tls_client_ca_file=" + TlsTestFile("ca.pem")},
                           ClientCredentials());
    ASSERT_TRUE(h.ok()) << h.status();
    handoffd_ = new Handoffd(*std::move(h));
  }
  static void TearDownTestSuite() {
    EXPECT_EQ(handoffd_->process->Stop(), 0);
    delete handoffd_;
  }
  static ProcessResult Cli(std::vector<std::string> args) {
    args.insert(args.begin(), HANDOFF_CLI);
    return testing::Run(args, absl::Seconds(60));
  }
  static std::string Addr() { return "--addr=" + handoffd_->address; }

  static Handoffd* handoffd_;
};

Handoffd* MutualTlsTest::handoffd_ = nullptr;

TEST_F(MutualTlsTest, CliWithClientCertificateIsServed) {
  ProcessResult r = Cli({"health", Addr(), "--cacert=" + TlsTestFile("ca.pem"),
                         "--cert=" + TlsTestFile("client.pem"),
                         "--key=" + TlsTestFile("client.key")});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "SERVING\n");
  r = Cli({"call", "handoff.v1.Gateway.Echo", "-d", R"({"payload":"aGk="})", Addr(),
           "--cacert=" + TlsTestFile("ca.pem"), "--cert=" + TlsTestFile("client.pem"),
           "--key=" + TlsTestFile("client.key")});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "{\"payload\":\"aGk=\"}\n");
}

TEST_F(MutualTlsTest, CliWithoutClientCertificateIsRefused) {
  ProcessResult r = Cli({"call", "handoff.v1.Gateway.Echo", "-d", "{}", Addr(),
                         "--cacert=" + TlsTestFile("ca.pem")});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(absl::StrContains(r.err, "UNAVAILABLE")) << r.err;
}

// A TLS server closes a plaintext connection at its first bytes, and gRPC
// says only "Socket closed": the CLI adds what that likely means, for each
// of its commands. A server that refuses the connection outright gets no
// such hint (CliTest.AnUnreachableAddressIsUnavailable).
TEST_F(MutualTlsTest, PlaintextToTheTlsServerHintsAtTls) {
  for (const std::vector<std::string>& command :
       {std::vector<std::string>{"health"}, {"list"},
        {"call", "handoff.v1.Gateway.Echo", "-d", "{}"}}) {
    std::vector<std::string> args = command;
    args.push_back(Addr());
    ProcessResult r = Cli(args);
    EXPECT_EQ(r.exit_code, 1) << command[0];
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_TRUE(absl::StrContains(r.err, "UNAVAILABLE: ")) << r.err;
    EXPECT_TRUE(absl::EndsWith(r.err, "Socket closed; the server may expect TLS: try --tls "
                                      "(or --cacert with its CA)\n"))
        << r.err;
  }
  ProcessResult r = Cli({"load", "--insecure", "--call", "handoff.v1.Gateway.Echo", "-n", "1",
                         "-c", "1", handoffd_->address});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(absl::StrContains(r.err, "UNAVAILABLE: server reflection at ")) << r.err;
  EXPECT_TRUE(absl::EndsWith(
      r.err, "Socket closed; the server may expect TLS: try without --insecure\n"))
      << r.err;
}

// A mutual-TLS server closes the connection of a TLS client without a
// certificate, and gRPC says only "Socket closed", as it does for a
// plaintext client: the CLI and load add what that likely means.
TEST_F(MutualTlsTest, TlsWithoutAClientCertificateHintsAtOne) {
  for (const std::vector<std::string>& command :
       {std::vector<std::string>{"health"}, {"list"},
        {"call", "handoff.v1.Gateway.Echo", "-d", "{}"}}) {
    std::vector<std::string> args = command;
    args.push_back(Addr());
    args.push_back("--cacert=" + TlsTestFile("ca.pem"));
    ProcessResult r = Cli(args);
    EXPECT_EQ(r.exit_code, 1) << command[0];
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_TRUE(absl::EndsWith(r.err, "Socket closed; the server may require a client "
                                      "certificate: try --cert and --key\n"))
        << r.err;
  }
  ProcessResult r = Cli({"load", "--cacert", TlsTestFile("ca.pem"), "--call",
                         "handoff.v1.Gateway.Echo", "-n", "1", "-c", "1", handoffd_->address});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(absl::EndsWith(r.err, "Socket closed; the server may require a client "
                                    "certificate: try --cert and --key\n"))
      << r.err;
}

TEST_F(MutualTlsTest, CertificateWithoutKeyIsAUsageErrorNamingBoth) {
  ProcessResult r = Cli({"call", "handoff.v1.Gateway.Echo", "-d", "{}", Addr(),
                         "--cacert=" + TlsTestFile("ca.pem"),
                         "--cert=" + TlsTestFile("client.pem")});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(absl::StrContains(r.err, "--cert needs --key")) << r.err;
  r = Cli({"load", "--key", TlsTestFile("client.key"), "--call",
           "handoff.v1.Gateway.Echo", "-n", "1", "-c", "1", handoffd_->address});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(absl::StrContains(r.err, "--key needs --cert")) << r.err;
}

// gRPC, given a key that is not its certificate's, made no connection and
// said only "UNAVAILABLE: empty address list". Each command and load name
// the two files instead, as they do a file that is no PEM of its kind.
TEST_F(MutualTlsTest, AKeyThatIsNotTheCertificatesIsNamedWithIt) {
  const std::string cert = TlsTestFile("client.pem");
  const std::string key = TlsTestFile("server.key");
  const std::string expected =
      "--key: '" + key + "' is not the private key of --cert '" + cert + "'\n";
  for (const std::vector<std::string>& command :
       {std::vector<std::string>{"health"}, {"list"},
        {"call", "handoff.v1.Gateway.Echo", "-d", "{}"}}) {
    std::vector<std::string> args = command;
    for (std::string flag : {Addr(), "--cacert=" + TlsTestFile("ca.pem"), "--cert=" + cert,
                             "--key=" + key}) {
      args.push_back(std::move(flag));
    }
    ProcessResult r = Cli(args);
    EXPECT_EQ(r.exit_code, 1) << command[0];
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_TRUE(absl::EndsWith(r.err, expected)) << r.err;
  }
  ProcessResult r = Cli({"load", "--cacert", TlsTestFile("ca.pem"), "--cert", cert, "--key",
                         key, "--call", "handoff.v1.Gateway.Echo", "-n", "1", "-c", "1",
                         handoffd_->address});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(absl::EndsWith(r.err, expected)) << r.err;
}

TEST_F(MutualTlsTest, LoadWithClientCertificateGetsEveryCallAnswered) {
  ProcessResult r = Cli({"load", "--cacert", TlsTestFile("ca.pem"), "--cert",
                         TlsTestFile("client.pem"), "--key", TlsTestFile("client.key"),
                         "--call", "handoff.v1.Gateway.Echo", "-d",
                         R"({"payload":"aGk="})", "-n", "200", "-c", "4", "-O",
                         "json", handoffd_->address});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  google::protobuf::Struct report;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(r.out, &report).ok()) << r.out;
  const auto& f = report.fields();
  EXPECT_EQ(f.at("count").number_value(), 200);
  EXPECT_EQ(f.at("statusCodeDistribution").struct_value().fields().at("OK").number_value(),
            200);
}

// The calls of a load run, and its reflection lookup, get an answer (50 OK
// calls), or none at all (exit 1, "cannot connect" or a TLS failure). A
// failed handshake fails the lookup at once, so the run needs no short
// --connect-timeout: one would only risk cutting short the run that should
// be served, on a slow machine.
void ExpectServed(const ProcessResult& r, bool served) {
  if (!served) {
    EXPECT_EQ(r.exit_code, 1) << r.out;
    return;
  }
  ASSERT_EQ(r.exit_code, 0) << r.err;
  google::protobuf::Struct report;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(r.out, &report).ok()) << r.out;
  EXPECT_EQ(report.fields().at("statusCodeDistribution").struct_value().fields().at("OK")
                .number_value(),
            50);
}

TEST_F(MutualTlsTest, LoadWithSkipTlsTrustsTheServerWithoutItsCa) {
  const std::vector<std::string> load = {
      "load", "--cert", TlsTestFile("client.pem"), "--key", TlsTestFile("client.key"),
      "--call", "handoff.v1.Gateway.Echo", "-n", "50", "-c", "2",
      "-O", "json", handoffd_->address};
  // The test CA is not among the system's roots.
  ExpectServed(Cli(load), false);
  std::vector<std::string> skip = load;
  skip.insert(skip.begin() + 1, "--skipTLS");
  ExpectServed(Cli(skip), true);
}

TEST_F(MutualTlsTest, LoadChecksTheServersCertificateAgainstCname) {
  // The certificate names localhost and 127.0.0.1.
  auto load = [](const std::string& cname) {
    return std::vector<std::string>{
        "load", "--cacert", TlsTestFile("ca.pem"), "--cert", TlsTestFile("client.pem"),
        "--key", TlsTestFile("client.key"), "--cname", cname, "--call",
        "handoff.v1.Gateway.Echo", "-n", "50", "-c", "2", "-O", "json", handoffd_->address};
  };
  ExpectServed(Cli(load("elsewhere.example")), false);
  ExpectServed(Cli(load("localhost")), true);
}

// A server with a certificate no root of the client's vouches for (a
// self-signed one under test) is reached by call, list and health with
// --skipTLS, as by load's, and by none of them without it.
TEST_F(MutualTlsTest, CliWithSkipTlsTrustsTheServerWithoutItsCa) {
  for (const std::vector<std::string>& command :
       {std::vector<std::string>{"health"}, {"list"},
        {"call", "handoff.v1.Gateway.Echo", "-d", "{}"}}) {
    std::vector<std::string> args = command;
    args.insert(args.end(), {Addr(), "--cert=" + TlsTestFile("client.pem"),
                             "--key=" + TlsTestFile("client.key")});
    ProcessResult r = Cli(args);
    // The test CA is not among the system's roots.
    EXPECT_EQ(r.exit_code, 1) << command[0] << ": " << r.err;
    args.push_back("--skipTLS");
    r = Cli(args);
    EXPECT_EQ(r.exit_code, 0) << command[0] << ": " << r.err;
  }
}

// --cname is the name the server's certificate is checked against, and
// --authority the :authority, which names it too unless --cname does.
TEST_F(MutualTlsTest, CliChecksTheServersCertificateAgainstCnameAndAuthority) {
  // The certificate names localhost and 127.0.0.1.
  auto health = [](std::vector<std::string> names) {
    std::vector<std::string> args = {"health", Addr(), "--cacert=" + TlsTestFile("ca.pem"),
                                     "--cert=" + TlsTestFile("client.pem"),
                                     "--key=" + TlsTestFile("client.key")};
    args.insert(args.end(), names.begin(), names.end());
    return Cli(args);
  };
  ProcessResult r = health({"--cname=elsewhere.example"});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  r = health({"--cname=localhost"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  r = health({"--authority=elsewhere.example"});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  r = health({"--authority=elsewhere.example", "--cname=localhost"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  r = Cli({"call", "handoff.v1.Gateway.Echo", "-d", "{}", Addr(), "--cname=localhost",
           "--authority=elsewhere.example", "--cacert=" + TlsTestFile("ca.pem"),
           "--cert=" + TlsTestFile("client.pem"), "--key=" + TlsTestFile("client.key")});
  EXPECT_EQ(r.exit_code, 0) << r.err;
}

TEST_F(MutualTlsTest, LoadInsecureWithTlsFilesIsAUsageError) {
  ProcessResult r = Cli({"load", "--insecure", "--cacert", TlsTestFile("ca.pem"),
                         "--call", "handoff.v1.Gateway.Echo", "-n", "1", "-c", "1",
                         handoffd_->address});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(absl::StrContains(r.err, "--insecure is plaintext")) << r.err;
}

TEST_F(MutualTlsTest, ClientLibraryWithCredentialsIsServed) {
  auto client = Client::Connect(
      {.target = handoffd_->address, .credentials = ClientCredentials()});
  ASSERT_TRUE(client.ok()) << client.status();
  v1::EchoRequest request;
  request.set_payload("over mutual tls");
  auto reply = (*client)->Echo(request, {.timeout = absl::Seconds(10)});
  ASSERT_TRUE(reply.ok()) << reply.status();
  EXPECT_EQ(reply->payload(), "over mutual tls");
}

}  // namespace
}  // namespace handoff::testing
