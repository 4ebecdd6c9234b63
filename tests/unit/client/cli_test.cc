// The `handoff` CLI as a user runs it, against handoff_fake_gateway (health
// and reflection enabled): replies, exit codes, and one-line errors.
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>

#include <cstdio>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>
#include <gtest/gtest.h>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "scripted_h2_server.h"
#include "subprocess.h"
#include "tests/util/ports.h"
#include "tests/util/wait_until.h"

namespace handoff::testing {
namespace {

class CliTest : public ::testing::Test {
 protected:
  // A fake gateway process started with `flags`, and the address it said
  // it serves on.
  struct FakeProcess {
    Process process;
    std::string address;
  };
  static absl::StatusOr<FakeProcess> StartFake(std::vector<std::string> flags = {}) {
    flags.insert(flags.begin(), HANDOFF_FAKE_GATEWAY);
    auto process = Process::Start(flags);
    if (!process.ok()) return process.status();
    // The fake prints its address once it is serving.
    auto line = process->ReadLine(absl::Seconds(30));
    if (!line.ok()) return line.status();
    absl::string_view rest = *line;
    if (!absl::ConsumePrefix(&rest, "listening on ")) {
      return absl::InternalError(absl::StrCat("the fake said '", *line, "'"));
    }
    return FakeProcess{*std::move(process), std::string(rest)};
  }

  static void SetUpTestSuite() {
    auto fake = StartFake();
    ASSERT_TRUE(fake.ok()) << fake.status();
    server_ = new Process(std::move(fake->process));
    addr_ = new std::string(fake->address);
  }
  static void TearDownTestSuite() {
    delete server_;
    delete addr_;
  }

  static ProcessResult Cli(std::vector<std::string> args) {
    args.insert(args.begin(), HANDOFF_CLI);
    return testing::Run(args, absl::Seconds(60));
  }
  static std::string Addr() { return "--addr=" + *addr_; }

  // `args` and the server's address are bad usage: exit 2, nothing on
  // stdout, "handoff: <message>" on stderr.
  void ExpectUsageError(std::vector<std::string> args, absl::string_view message) {
    const std::string what = absl::StrJoin(args, " ");
    args.push_back(Addr());
    const ProcessResult r = Cli(args);
    EXPECT_EQ(r.exit_code, 2) << what << ": " << r.err;
    EXPECT_EQ(r.out, "") << what;
    EXPECT_EQ(r.err, absl::StrCat("handoff: ", message, "\n")) << what;
  }

  // A file name under the test's temporary directory, this process's own:
  // two runs at once on one machine (two builds' suites, or a user's and
  // root's) must not write or remove each other's files.
  static std::string TempPath(absl::string_view name) {
    return absl::StrCat(::testing::TempDir(), "cli_test_", getpid(), "_", name);
  }

  // A .proto of handoff.v1.Gateway.Echo whose payloads are strings where
  // the server's are bytes: the same field on the wire, but JSON that only
  // these types take ("hi there" is no base64). Returns its path.
  static std::string StringEchoProto(const std::string& name) {
    const std::string path = TempPath(name + "_string_echo.proto");
    std::ofstream(path) << R"(syntax = "proto3";
package handoff.v1;
message EchoRequest { string payload = 1; }
message EchoReply { string payload = 1; }
service Gateway { rpc Echo(EchoRequest) returns (EchoReply); }
)";
    return path;
  }

  // One line on stderr, nothing on stdout.
  static void ExpectOneLineError(const ProcessResult& r, const std::string& needle) {
    EXPECT_NE(r.exit_code, 0);
    EXPECT_EQ(r.out, "");
    EXPECT_TRUE(absl::StartsWith(r.err, "handoff: ")) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_TRUE(absl::StrContains(r.err, needle)) << r.err;
  }

  static Process* server_;
  static std::string* addr_;
};

Process* CliTest::server_ = nullptr;
std::string* CliTest::addr_ = nullptr;

// --help lists the CLI's flags. Abseil lists by default only the flags of a
// file named for the binary, and said "No flags matched".
TEST_F(CliTest, HelpListsEveryFlag) {
  ProcessResult r = Cli({"--help"});
  for (const char* flag : {"--addr ", "--timeout ", "--tls ", "--cacert ", "--cert ",
                           "--key ", "-d ", "--data ", "--pretty ", "--proto ",
                           "--import_paths ", "--protoset ", "--metadata ", "--reflect_metadata ",
                           "--verbose ", "--wait_for_ready ", "--emit_defaults ", "--skipTLS ",
                           "--cname ", "--authority ", "--max_recv_message_size ",
                           "--connect_timeout ", "--user_agent "}) {
    EXPECT_TRUE(absl::StrContains(r.out + r.err, flag)) << flag << " in:\n" << r.out << r.err;
  }
  EXPECT_FALSE(absl::StrContains(r.out + r.err, "No flags matched")) << r.out << r.err;
  EXPECT_FALSE(absl::StrContains(r.out + r.err, "handoff: handoff:")) << r.out << r.err;
}

// Help asked for is no failure: Abseil's ParseCommandLine exited 1 after
// printing it. An unknown flag or a bad value beside it still fails.
TEST_F(CliTest, HelpExitsZero) {
  for (const char* flag : {"--help", "-help", "-h", "--helpfull", "--help=addr"}) {
    ProcessResult r = Cli({flag});
    EXPECT_EQ(r.exit_code, 0) << flag << ": " << r.err;
    EXPECT_TRUE(absl::StartsWith(r.out, "handoff: the client of handoffd.")) << flag << r.out;
    EXPECT_TRUE(absl::StrContains(r.out, "  --addr (default: \"localhost:50051\")\n"
                                         "      server address, host:port\n"))
        << flag << r.out;
  }
  EXPECT_TRUE(absl::StrContains(Cli({"--help"}).out, "Flags from client/cli/main.cc:\n"));
  // The closing lines name every help flag it takes.
  for (const char* named : {"--helpfull", "--help=TEXT", "--helpon=FILE", "--helpmatch=TEXT"}) {
    EXPECT_TRUE(absl::StrContains(Cli({"--help"}).out, named)) << named;
  }
  EXPECT_FALSE(absl::StrContains(Cli({"--help"}).out, "--flagfile"));
  EXPECT_TRUE(absl::StrContains(Cli({"--helpfull"}).out, "--flagfile"));
  EXPECT_FALSE(absl::StrContains(Cli({"--help=addr"}).out, "--pretty"));
  EXPECT_EQ(Cli({"--help", "--no_such_flag"}).exit_code, 1);
  EXPECT_EQ(Cli({"--help", "--timeout=soon"}).exit_code, 1);
  // -d's value, not a help flag.
  EXPECT_NE(Cli({"list", "-d", "--help", Addr()}).exit_code, 0);
}

// Abseil's rarer help flags went to its ParseCommandLine, which printed its
// own help and exited 1, as for bad usage: they exit 0 with handoff's help,
// filtered as Abseil documents them.
TEST_F(CliTest, AbseilsRarerHelpFlagsExitZeroWithHandoffsFilteredHelp) {
  constexpr char kAddr[] = "  --addr (default: \"localhost:50051\")\n";
  for (const char* flag : {"--helpshort", "--helppackage", "--helpon=main", "--helpmatch=cli/"}) {
    const ProcessResult r = Cli({flag});
    EXPECT_EQ(r.exit_code, 0) << flag << ": " << r.err;
    EXPECT_TRUE(absl::StartsWith(r.out, "handoff: the client of handoffd.")) << flag << r.out;
    EXPECT_TRUE(absl::StrContains(r.out, kAddr)) << flag << r.out;
    EXPECT_TRUE(absl::StrContains(r.out, "Flags from client/cli/main.cc:\n")) << flag << r.out;
    // Abseil's own flags (--flagfile) are in no file of those.
    EXPECT_FALSE(absl::StrContains(r.out, "--flagfile")) << flag << r.out;
  }
  // --helpon is a file's base name, not any part of it; --helpmatch any part.
  EXPECT_FALSE(absl::StrContains(Cli({"--helpon=mai"}).out, kAddr));
  EXPECT_TRUE(absl::StrContains(Cli({"--helpmatch=flags"}).out, "--flagfile"));
  const ProcessResult none = Cli({"--helpon=no_such_file"});
  EXPECT_EQ(none.exit_code, 0) << none.err;
  EXPECT_TRUE(absl::StrContains(none.out, "No flags are defined in a file named 'no_such_file'."))
      << none.out;
  // Without "=VALUE" the name would be taken for a command: bad usage.
  const ProcessResult bare = Cli({"--helpon", "main"});
  EXPECT_EQ(bare.exit_code, 2) << bare.err;
  EXPECT_EQ(bare.err, "handoff: --helpon needs a file name: --helpon=FILE (FILE.cc's flags)\n");
  EXPECT_EQ(Cli({"--helpmatch"}).exit_code, 2);
  EXPECT_EQ(Cli({"--helpshort", "--no_such_flag"}).exit_code, 1);
}

TEST_F(CliTest, CallPrintsTheReplyAsJson) {
  auto r = Cli({"call", "handoff.v1.Gateway.Echo", "-d", R"({"payload":"aGk="})", Addr()});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "{\"payload\":\"aGk=\"}\n");
}

TEST_F(CliTest, CallAcceptsSlashSpelling) {
  auto r = Cli({"call", "handoff.v1.Gateway/Echo", "--data={}", Addr()});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "{}\n");
}

TEST_F(CliTest, CallStreamWithArray) {
  auto r = Cli({"call", "handoff.v1.Gateway.Stream", "-d",
                R"([{"payload":"YQ=="},{"payload":"Yg=="}])", Addr()});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "{\"payload\":\"YQ==\"}\n{\"payload\":\"Yg==\"}\n");
}

// No request data is no message on a stream the client writes, as grpcurl
// sends (its reader is at its end at once): the stream is closed at once,
// where one default message was sent, which the server answered. A method
// that takes one request still gets a default one.
TEST_F(CliTest, CallStreamWithoutDataSendsNoMessage) {
  for (const std::vector<std::string>& data :
       {std::vector<std::string>{}, {"-d", ""}, {"-d", " \n"}}) {
    std::vector<std::string> args = {"call", "handoff.v1.Gateway.Stream", Addr()};
    args.insert(args.end(), data.begin(), data.end());
    auto r = Cli(args);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out, "") << absl::StrJoin(data, " ");
  }
  auto r = Cli({"call", "handoff.v1.Gateway.Echo", Addr()});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "{}\n");
}

// A stream's messages as grpcurl takes them, one after another, from -d or
// from stdin by -d @-. They were refused: "Parsing terminated before end of
// input".
TEST_F(CliTest, CallStreamWithMessagesOneAfterAnother) {
  auto r = Cli({"call", "handoff.v1.Gateway.Stream", "-d",
                "{\"payload\":\"YQ==\"} {\"payload\":\"Yg==\"}", Addr()});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "{\"payload\":\"YQ==\"}\n{\"payload\":\"Yg==\"}\n");
  r = testing::Run({HANDOFF_CLI, "call", "handoff.v1.Gateway.Stream", "-d", "@-", Addr()},
                   absl::Seconds(60), "{\"payload\":\"YQ==\"}\n{\"payload\":\"Yg==\"}\n");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "{\"payload\":\"YQ==\"}\n{\"payload\":\"Yg==\"}\n");
  // A unary method still takes one.
  ExpectOneLineError(
      Cli({"call", "handoff.v1.Gateway.Echo", "-d", "{} {}", Addr()}),
      "takes one request, got 2");
}

// The CLI with a pipe on stdin that the test writes as it goes, and its
// stdout read line by line, each read bounded.
class PipedCli {
 public:
  explicit PipedCli(const std::vector<std::string>& args) {
    int in[2], out[2], err[2];
    if (pipe(in) != 0 || pipe(out) != 0 || pipe(err) != 0) return;
    pid_ = fork();
    if (pid_ == 0) {
      dup2(in[0], STDIN_FILENO);
      dup2(out[1], STDOUT_FILENO);
      dup2(err[1], STDERR_FILENO);
      close(in[0]), close(in[1]), close(out[0]), close(out[1]), close(err[0]), close(err[1]);
      std::vector<char*> argv;
      for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
      argv.push_back(nullptr);
      execv(argv[0], argv.data());
      _exit(127);
    }
    close(in[0]);
    close(out[1]);
    close(err[1]);
    in_ = in[1];
    out_ = out[0];
    err_ = err[0];
  }
  ~PipedCli() {
    CloseStdin();
    if (out_ >= 0) close(out_);
    if (err_ >= 0) close(err_);
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }
  bool Write(const std::string& text) {
    return write(in_, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  }
  void CloseStdin() {
    if (in_ >= 0) close(in_);
    in_ = -1;
  }
  // The next line of stdout, or what came of it if `timeout` passed first
  // or stdout closed.
  absl::StatusOr<std::string> ReadLine(absl::Duration timeout) {
    const absl::Time deadline = absl::Now() + timeout;
    for (;;) {
      if (size_t nl = buffered_.find('\n'); nl != std::string::npos) {
        std::string line = buffered_.substr(0, nl);
        buffered_.erase(0, nl + 1);
        return line;
      }
      const int ms = static_cast<int>(absl::ToInt64Milliseconds(deadline - absl::Now()));
      pollfd fd{out_, POLLIN, 0};
      if (ms <= 0 || poll(&fd, 1, ms) <= 0) {
        return absl::DeadlineExceededError(absl::StrCat("no line yet; have '", buffered_, "'"));
      }
      char buffer[4096];
      const ssize_t n = read(out_, buffer, sizeof buffer);
      if (n <= 0) return absl::OutOfRangeError(absl::StrCat("stdout closed; had '", buffered_, "'"));
      buffered_.append(buffer, static_cast<size_t>(n));
    }
  }
  // All of stderr, once it has exited (Wait).
  std::string Stderr() {
    std::string all;
    char buffer[4096];
    for (ssize_t n; (n = read(err_, buffer, sizeof buffer)) > 0;) all.append(buffer, n);
    return all;
  }
  // The exit code, once it has exited within `timeout`; -2 if not.
  int Wait(absl::Duration timeout) {
    const absl::Time deadline = absl::Now() + timeout;
    int status = 0;
    while (absl::Now() < deadline) {
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      }
      absl::SleepFor(absl::Milliseconds(10));
    }
    return -2;
  }

 private:
  pid_t pid_ = -1;
  int in_ = -1;
  int out_ = -1;
  int err_ = -1;
  std::string buffered_;
};

// -d @ sends a stream's requests as they come on stdin, as grpcurl does:
// the reply to the first is awaited before the second is written. All of
// stdin was read first, so nothing was sent, and nothing answered, until
// it closed.
TEST_F(CliTest, DataFromStdinIsSentMessageByMessageAsItComes) {
  PipedCli cli({HANDOFF_CLI, "call", "handoff.v1.Gateway.Stream", "-d", "@", Addr(),
                "--timeout=60s"});
  ASSERT_TRUE(cli.Write("{\"payload\":\"YQ==\"}\n"));
  auto first = cli.ReadLine(absl::Seconds(20));
  ASSERT_TRUE(first.ok()) << "no reply to the first request while stdin is open: "
                          << first.status();
  EXPECT_EQ(*first, "{\"payload\":\"YQ==\"}");
  ASSERT_TRUE(cli.Write("{\"payload\":\"Yg==\"}"));
  auto second = cli.ReadLine(absl::Seconds(20));
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(*second, "{\"payload\":\"Yg==\"}");
  cli.CloseStdin();
  EXPECT_EQ(cli.Wait(absl::Seconds(30)), 0) << cli.Stderr();
}

// A bad message part-way through stdin ends the call once those before it
// are sent, and the CLI fails naming it by its place, as for -d's text.
TEST_F(CliTest, ABadMessageOnStdinPartWayIsNamedByItsPlace) {
  PipedCli cli({HANDOFF_CLI, "call", "handoff.v1.Gateway.Stream", "-d", "@", Addr(),
                "--timeout=60s"});
  ASSERT_TRUE(cli.Write("{\"payload\":\"YQ==\"}\n"));
  auto first = cli.ReadLine(absl::Seconds(20));
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(*first, "{\"payload\":\"YQ==\"}");
  ASSERT_TRUE(cli.Write("{\"payload\":1}\n"));
  // Stdin left open: the bad message alone ends the call.
  ASSERT_EQ(cli.Wait(absl::Seconds(30)), 1);
  EXPECT_EQ(cli.Stderr(),
            "handoff: -d: INVALID_ARGUMENT: bad JSON for handoff.v1.WorkRequest, message 2: "
            "(payload): invalid value 1 for type TYPE_BYTES\n");
  auto rest = cli.ReadLine(absl::Seconds(1));
  EXPECT_EQ(rest.status().code(), absl::StatusCode::kOutOfRange) << rest.status();
}

// -d and --data are one flag by two names: given both, the request was
// -d's, and --data's was dropped without a word.
TEST_F(CliTest, DataGivenByBothItsNamesIsAUsageError) {
  ExpectUsageError({"call", "handoff.v1.Gateway.Echo", "-d", "{}", R"(--data={"payload":"YQ=="})"},
                   "-d and --data are one flag; give it once");
  ExpectUsageError({"call", "handoff.v1.Gateway.Echo", "-d", "", "--data={}"},
                   "-d and --data are one flag; give it once");
}

// As grpcurl's -emit-defaults: a reply's fields at their default print too.
// Without it, an Echo of nothing printed "{}", and there was no flag to see
// the field.
TEST_F(CliTest, EmitDefaultsPrintsTheFieldsAtTheirDefault) {
  auto r = Cli({"call", "handoff.v1.Gateway.Echo", "--emit_defaults", "-d", "{}", Addr()});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "{\"payload\":\"\"}\n");
  r = Cli({"call", "handoff.v1.Gateway.Echo", "-d", "{}", Addr()});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "{}\n");
  ExpectUsageError({"list", "--emit_defaults"},
                   "--emit_defaults does not apply to list (only to call)");
}

// -d @ reads stdin, as grpcurl's -d @ and handoff load's (ghz's) do: it
// was taken for a file with an empty name, "cannot read : No such file or
// directory".
TEST_F(CliTest, DataAtAloneReadsStdinAsGrpcurlsDoes) {
  auto r = testing::Run({HANDOFF_CLI, "call", "handoff.v1.Gateway.Echo", "-d", "@", Addr()},
                        absl::Seconds(60), R"({"payload":"aGk="})");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "{\"payload\":\"aGk=\"}\n");
  // It reads stdin as -d @- does, so another flag that would is bad usage.
  ExpectUsageError({"call", "handoff.v1.Gateway.Echo", "-d", "@", "--cacert=-"},
                   "-d and --cacert both read stdin; stdin can be read once");
}

// A grpcurl flag that has a handoff equivalent is bad usage naming it: a
// user moving from grpcurl had only Abseil's "Unknown command line flag
// 'plaintext'", exit 1.
TEST_F(CliTest, AGrpcurlFlagIsAUsageErrorNamingHandoffsOwn) {
  ExpectUsageError({"call", "handoff.v1.Gateway.Echo", "-plaintext", "-d", "{}"},
                   "-plaintext is grpcurl's; handoff speaks plaintext unless given --tls, "
                   "--cacert, --cert or --skipTLS");
  ExpectUsageError({"call", "handoff.v1.Gateway.Echo", "-H", "a: b", "-d", "{}"},
                   "-H is grpcurl's; handoff's is --metadata, a JSON object: "
                   "--metadata='{\"name\":\"value\"}'");
  ExpectUsageError({"call", "handoff.v1.Gateway.Echo", "-emit-defaults", "-d", "{}"},
                   "-emit-defaults is grpcurl's; handoff's is --emit_defaults");
  ExpectUsageError({"list", "-max-time=3"}, "-max-time is grpcurl's; handoff's is --timeout");
  // Not "a flag of load": load's --insecure is plaintext.
  ExpectUsageError({"health", "-insecure"},
                   "-insecure is grpcurl's; handoff's is --skipTLS (load's --insecure is "
                   "plaintext, these commands' default)");
  ExpectUsageError({"list", "-servername=x"}, "-servername is grpcurl's; handoff's is --cname");
  // It was Abseil's unknown flag, or "-i is a flag of load, not of list":
  // load's parser read -import-path=. as its -i.
  ExpectUsageError({"describe", "--proto=x.proto", "-import-path", "."},
                   "-import-path is grpcurl's; handoff's is --import_paths, comma-separated");
  ExpectUsageError({"list", "-import-path=."},
                   "-import-path is grpcurl's; handoff's is --import_paths, comma-separated");
}

// grpcurl's -connect-timeout, -expand-headers and -msg-template start with
// a letter of load's (ghz's) -c, -e and -m, and load's check, run after
// this one, read them as those: "-c is a flag of load, not of list" named
// the wrong tool for a flag load has not got.
TEST_F(CliTest, GrpcurlsConnectTimeoutIsNamedNotReadAsLoadsC) {
  ExpectUsageError({"list", "-connect-timeout=3"},
                   "-connect-timeout is grpcurl's; handoff's is --connect_timeout");
}

TEST_F(CliTest, GrpcurlsExpandHeadersIsNamedNotReadAsLoadsE) {
  ExpectUsageError({"call", "handoff.v1.Gateway.Echo", "-expand-headers", "-d", "{}"},
                   "-expand-headers is grpcurl's; handoff has no such flag");
}

TEST_F(CliTest, GrpcurlsMsgTemplateIsNamedNotReadAsLoadsM) {
  ExpectUsageError({"describe", "-msg-template", "handoff.v1.EchoRequest"},
                   "-msg-template is grpcurl's; handoff has no such flag");
  ExpectUsageError({"list", "-msg-template"},
                   "-msg-template is grpcurl's; handoff has no such flag");
}

// Every flag of grpcurl's (cmd/grpcurl) that handoff has not by the same
// name is bad usage naming it, given to call, list or describe alike:
// those without a mapped one were Abseil's "Unknown command line flag",
// exit 1, or load's check's message for the wrong tool.
TEST_F(CliTest, EveryGrpcurlFlagIsAUsageErrorNamingIt) {
  // The flags handoff has by grpcurl's name take part in its own parsing.
  const std::vector<std::pair<std::string, std::string>> grpcurls = {
      {"plaintext",
       "handoff speaks plaintext unless given --tls, --cacert, --cert or --skipTLS"},
      {"insecure",
       "handoff's is --skipTLS (load's --insecure is plaintext, these commands' default)"},
      {"alts", "handoff has no such flag"},
      {"alts-handshaker-service", "handoff has no such flag"},
      {"alts-target-service-account", "handoff has no such flag"},
      {"expand-headers", "handoff has no such flag"},
      {"user-agent", "handoff's is --user_agent"},
      {"format", "handoff has no such flag"},
      {"allow-unknown-fields", "handoff has no such flag"},
      {"connect-timeout", "handoff's is --connect_timeout"},
      {"format-error", "handoff has no such flag"},
      {"keepalive-time", "handoff has no such flag"},
      {"max-time", "handoff's is --timeout"},
      {"max-msg-sz", "handoff's is --max_recv_message_size"},
      {"emit-defaults", "handoff's is --emit_defaults"},
      {"keep-proto-names", "handoff has no such flag"},
      {"protoset-out", "handoff has no such flag"},
      {"proto-out-dir", "handoff has no such flag"},
      {"msg-template", "handoff has no such flag"},
      {"v", "handoff's is --verbose"},
      {"vv", "handoff has no such flag"},
      {"servername", "handoff's is --cname"},
      {"H", "handoff's is --metadata, a JSON object: --metadata='{\"name\":\"value\"}'"},
      {"rpc-header",
       "handoff's is --metadata, a JSON object: --metadata='{\"name\":\"value\"}'"},
      {"reflect-header",
       "handoff's is --reflect_metadata, a JSON object: "
       "--reflect_metadata='{\"name\":\"value\"}'"},
      {"import-path", "handoff's is --import_paths, comma-separated"},
      {"use-reflection", "handoff has no such flag"},
      {"unix", "handoff has no such flag"},
  };
  for (const auto& [name, answer] : grpcurls) {
    const std::string message = absl::StrCat("-", name, " is grpcurl's; ", answer);
    ExpectUsageError({"list", absl::StrCat("-", name, "=1")}, message);
    ExpectUsageError({"describe", absl::StrCat("--", name, "=1")}, message);
    ExpectUsageError({"call", "handoff.v1.Gateway.Echo", absl::StrCat("-", name), "-d", "{}"},
                     message);
  }
}

// --max_recv_message_size bounds the messages the server may send, as
// grpcurl's -max-msg-sz does: a reply past it fails the call
// RESOURCE_EXHAUSTED, one within it that gRPC's 4 MiB would refuse can be
// allowed. The CLI had no such flag: Abseil's "Unknown command line flag",
// exit 1, and no reply over 4 MiB could be read.
TEST_F(CliTest, MaxRecvMessageSizeBoundsTheRepliesAsGrpcurlsMaxMsgSz) {
  // A 60 000-byte payload: its reply is over a 50 000-byte limit, which
  // reflection's replies for the Gateway are well within.
  const std::string data =
      absl::StrCat(R"({"payload":")", std::string(80'000, 'A'), R"("})");
  auto r = Cli({"call", "handoff.v1.Gateway.Echo", "--max_recv_message_size=50000", "-d", data,
                Addr()});
  EXPECT_EQ(r.exit_code, 64 + 8) << r.err;
  EXPECT_EQ(r.out, "");
  EXPECT_TRUE(absl::StartsWith(r.err, "handoff: handoff.v1.Gateway.Echo: RESOURCE_EXHAUSTED: "))
      << r.err;
  r = Cli({"call", "handoff.v1.Gateway.Echo", "--max_recv_message_size=70000", "-d", data,
           Addr()});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, absl::StrCat(data, "\n"));
  ExpectUsageError({"list", "--max_recv_message_size=-1"},
                   "--max_recv_message_size is negative; want bytes, 0 for gRPC's 4 MiB");
  ExpectUsageError({"call", "handoff.v1.Gateway.Echo", "-max-msg-sz", "9", "-d", "{}"},
                   "-max-msg-sz is grpcurl's; handoff's is --max_recv_message_size");
}

// Plaintext has no certificate for --cname to name: it would be dropped.
TEST_F(CliTest, CnameWithoutTlsIsAUsageError) {
  ExpectUsageError({"health", "--cname=localhost"},
                   "--cname names the server's TLS certificate: it needs --tls (or --cacert, "
                   "--cert or --skipTLS)");
}

// --pretty indents each reply and ends it with one newline, as without it.
// Protobuf's indented JSON ends in a newline of its own, and the CLI added
// one: every reply was followed by an empty line.
TEST_F(CliTest, PrettyRepliesAreIndentedAndNotFollowedByAnEmptyLine) {
  auto r = Cli({"call", "handoff.v1.Gateway.Stream", "--pretty", "-d",
                R"([{"payload":"YQ=="},{"payload":"Yg=="}])", Addr()});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "{\n \"payload\": \"YQ==\"\n}\n{\n \"payload\": \"Yg==\"\n}\n");
}

TEST_F(CliTest, CallStreamThatFailsPrintsTheRepliesBeforeTheError) {
  // The third message ends the stream with INVALID_ARGUMENT ("status:3:...",
  // base64): the two replies the server sent before it are output too.
  auto r = Cli({"call", "handoff.v1.Gateway.Stream", "-d",
                R"([{"payload":"YQ=="},{"payload":"Yg=="},)"
                R"({"payload":"c3RhdHVzOjM6dGhpcmQgaXMgYmFk"}])",
                Addr()});
  EXPECT_EQ(r.exit_code, 64 + 3);
  EXPECT_EQ(r.out, "{\"payload\":\"YQ==\"}\n{\"payload\":\"Yg==\"}\n");
  EXPECT_EQ(r.err,
            "handoff: handoff.v1.Gateway.Stream: INVALID_ARGUMENT: third is bad\n");
}

// The same with many large messages after the bad one, more than the
// stream's flow control lets the client write before the server ends it: a
// write then fails, and the replies came to nothing, as the reads began only
// after the last write.
TEST_F(CliTest, CallStreamThatFailsEarlyPrintsTheRepliesBeforeTheError) {
  const std::string path = TempPath("stream_fails_early.json");
  {
    std::ofstream data(path);
    data << R"([{"payload":"YQ=="},{"payload":"Yg=="},)"
         << R"({"payload":"c3RhdHVzOjM6dGhpcmQgaXMgYmFk"})";
    const std::string large(87'384, 'A');  // 64 KiB in base64
    for (int i = 0; i < 500; ++i) data << R"(,{"payload":")" << large << R"("})";
    data << "]";
  }
  // 40 s, not the default 10 s: the 44 MB of JSON took over 10 s to parse
  // and send under AddressSanitizer on a loaded machine. A client that does
  // not read while it writes still ends at that deadline, its error not the
  // server's.
  auto r = Cli({"call", "handoff.v1.Gateway.Stream", "-d", "@" + path, "--timeout=40s",
                Addr()});
  std::remove(path.c_str());
  EXPECT_EQ(r.exit_code, 64 + 3);
  EXPECT_EQ(r.out, "{\"payload\":\"YQ==\"}\n{\"payload\":\"Yg==\"}\n");
  EXPECT_EQ(r.err,
            "handoff: handoff.v1.Gateway.Stream: INVALID_ARGUMENT: third is bad\n");
}

TEST_F(CliTest, CallPrintsTheErrorDetailsAfterTheError) {
  // "details:5:gone": NOT_FOUND, with an EchoReply and a type no one
  // describes as its details. The first is typed by reflection.
  auto r = Cli({"call", "handoff.v1.Gateway.Echo", "-d", R"({"payload":"ZGV0YWlsczo1OmdvbmU="})",
                Addr()});
  EXPECT_EQ(r.exit_code, 64 + 5);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err,
            "handoff: handoff.v1.Gateway.Echo: NOT_FOUND: gone\n"
            "handoff: detail 1: handoff.v1.EchoReply {\"payload\":\"ZGV0YWls\"}\n"
            "handoff: detail 2: type.googleapis.com/example.NotDescribed (3 bytes, a type the "
            "server does not describe)\n");
  // Typed by the file given, when one is: its payload is a string.
  const std::string proto = StringEchoProto("details");
  r = Cli({"call", "handoff.v1.Gateway.Echo", "--proto=" + proto, "-d",
           R"({"payload":"details:5:gone"})", Addr()});
  EXPECT_EQ(r.exit_code, 64 + 5);
  EXPECT_EQ(r.err,
            "handoff: handoff.v1.Gateway.Echo: NOT_FOUND: gone\n"
            "handoff: detail 1: handoff.v1.EchoReply {\"payload\":\"detail\"}\n"
            "handoff: detail 2: type.googleapis.com/example.NotDescribed (3 bytes, a type not in " +
                proto + ")\n");
  std::remove(proto.c_str());
}

// A server's status message is the server's to write: a newline in it made
// the error two lines, the second forged at will ("handoff: ..."), and an
// escape sequence went to the terminal as it was. Each control character is
// printed escaped; UTF-8 as it is.
TEST_F(CliTest, AServersStatusMessageIsPrintedOnOneLineWithItsControlCharactersEscaped) {
  const std::string proto = StringEchoProto("control");
  auto r = Cli({"call", "handoff.v1.Gateway.Echo", "--proto=" + proto, "-d",
                R"({"payload":"status:13:line one\nhandoff: line two\u001b[31m \u00fc"})",
                Addr()});
  std::remove(proto.c_str());
  ExpectOneLineError(r, "INTERNAL: line one\\nhandoff: line two\\x1b[31m \xc3\xbc\n");
}

// `handoff call` of a unary method whose server ended the call OK without
// a reply printed nothing and exited 0, as if it had answered.
TEST_F(CliTest, AUnaryCallEndedOkWithoutAReplyIsAnError) {
  ScriptedH2Server server(OkWithoutReply);
  const std::string proto = StringEchoProto("noreply");
  auto r = Cli({"call", "handoff.v1.Gateway.Echo", "--proto=" + proto, "-d", "{}",
                "--addr=" + server.address()});
  std::remove(proto.c_str());
  ExpectOneLineError(r,
                     "handoff: handoff.v1.Gateway.Echo: INTERNAL: the server ended the call OK "
                     "without a reply, where handoff.v1.Gateway.Echo returns one");
}

TEST_F(CliTest, CallDeadlineExceeded) {
  auto r = Cli({"call", "handoff.v1.Gateway.Work", "-d", R"({"sleepUs":30000000})",
                "--timeout=100ms", Addr()});
  ExpectOneLineError(r, "DEADLINE_EXCEEDED");
}

// A call that ends with a status other than OK exits 64 plus its code, as
// grpcurl's does, so that a script can tell DEADLINE_EXCEEDED (68) from
// NOT_FOUND (69), and CANCELLED (65) or UNKNOWN (66) from the CLI's own 1
// and 2. Every such call exited 1. A failure of the CLI's own, before any
// call (a file it cannot read, a method reflection does not know, two
// messages for a unary method), stays 1.
TEST_F(CliTest, ACallEndedWithAStatusExitsSixtyFourPlusItsCodeAsGrpcurls) {
  const std::string proto = StringEchoProto("exit_codes");
  for (const auto& [payload, code] :
       {std::pair("status:1:cancelled", 65), std::pair("status:2:unknown", 66),
        std::pair("status:5:gone", 69), std::pair("status:16:who", 80)}) {
    auto r = Cli({"call", "handoff.v1.Gateway.Echo", "--proto=" + proto, "-d",
                  absl::StrCat(R"({"payload":")", payload, R"("})"), Addr()});
    EXPECT_EQ(r.exit_code, code) << payload << ": " << r.err;
    EXPECT_EQ(r.out, "") << payload;
  }
  std::remove(proto.c_str());
  auto late = Cli({"call", "handoff.v1.Gateway.Work", "-d", R"({"sleepUs":30000000})",
                   "--timeout=100ms", Addr()});
  EXPECT_EQ(late.exit_code, 64 + 4) << late.err;
  // Replies a stream printed before its status do not change the code.
  auto stream = Cli({"call", "handoff.v1.Gateway.Stream", "-d",
                     R"([{"payload":"YQ=="},{"payload":"c3RhdHVzOjM6YmFk"}])", Addr()});
  EXPECT_EQ(stream.exit_code, 64 + 3) << stream.err;
  EXPECT_EQ(stream.out, "{\"payload\":\"YQ==\"}\n");
  // The CLI's own failures, before any call.
  const std::string absent = absl::StrCat("-d=@", TempPath("absent.json"));
  EXPECT_EQ(Cli({"call", "handoff.v1.Gateway.Echo", absent, Addr()}).exit_code, 1);
  EXPECT_EQ(Cli({"call", "handoff.v1.Gateway.Nope", "-d", "{}", Addr()}).exit_code, 1);
  EXPECT_EQ(Cli({"call", "handoff.v1.Gateway.Echo", "-d", "{} {}", Addr()}).exit_code, 1);
}

// A .proto of handoff.v1.Gateway whose replies' payloads are strings where
// the requests' are bytes: a payload that is no UTF-8 (0xff, "/w==") comes
// back as a reply that does not parse. Returns its path.
std::string UnprintableReplyProto(const std::string& name) {
  const std::string path = ::testing::TempDir() + "cli_test_" + std::to_string(getpid()) +
                           "_" + name + "_unprintable.proto";
  std::ofstream(path) << R"(syntax = "proto3";
package handoff.v1;
message EchoRequest { bytes payload = 1; }
message EchoReply { string payload = 1; }
message WorkRequest { bytes payload = 3; }
message WorkReply { string payload = 1; }
service Gateway {
  rpc Echo(EchoRequest) returns (EchoReply);
  rpc Stream(stream WorkRequest) returns (stream WorkReply);
}
)";
  return path;
}

// A reply the CLI cannot print is one line of its own, exit 1: protobuf's
// log ("[libprotobuf ERROR ...] String field ... contains invalid UTF-8")
// came before it, a second line on stderr.
TEST_F(CliTest, AReplyThatDoesNotParseIsOneLineWithoutProtobufsLog) {
  const std::string proto = UnprintableReplyProto("one_line");
  auto r = Cli({"call", "handoff.v1.Gateway.Echo", "--proto=" + proto, "-d",
                R"({"payload":"/w=="})", Addr()});
  std::remove(proto.c_str());
  ExpectOneLineError(r, "handoff: handoff.v1.Gateway.Echo: DATA_LOSS: the reply does not "
                        "parse as handoff.v1.EchoReply");
  EXPECT_EQ(r.exit_code, 1);
}

// A stream reply the CLI cannot print is named even when the call then
// fails: the call's status (and its exit code, 64 plus it) came alone, and
// the reply, with the ones after it, was dropped without a word.
TEST_F(CliTest, AStreamReplyThatCannotBePrintedIsNamedWhenTheCallThenFails) {
  const std::string proto = UnprintableReplyProto("then_fails");
  // "YQ==" is "a"; "c3RhdHVzOjM6YmFk" is "status:3:bad".
  auto r = Cli({"call", "handoff.v1.Gateway.Stream", "--proto=" + proto, "-d",
                R"([{"payload":"YQ=="},{"payload":"/w=="},{"payload":"c3RhdHVzOjM6YmFk"}])",
                Addr()});
  std::remove(proto.c_str());
  EXPECT_EQ(r.exit_code, 64 + 3) << r.err;
  EXPECT_EQ(r.out, "{\"payload\":\"a\"}\n");
  EXPECT_TRUE(absl::StrContains(r.err, "handoff: handoff.v1.Gateway.Stream: DATA_LOSS: reply 2: "
                                       "the reply does not parse as handoff.v1.WorkReply\n"))
      << r.err;
  EXPECT_TRUE(absl::EndsWith(r.err, "handoff: handoff.v1.Gateway.Stream: INVALID_ARGUMENT: bad\n"))
      << r.err;
}

// A stream goes on printing the replies after one it cannot print, as
// grpcurl does ("Failed to format response message 2"), each such reply
// named by its number: the first one ended the printing, the later
// replies were dropped without a word, and the error did not say which
// reply it was. The exit code is as before: 1 for a call that ended OK, 64
// plus the code of one that failed.
TEST_F(CliTest, AStreamGoesOnPrintingTheRepliesAfterOneThatCannotBePrinted) {
  const std::string proto = UnprintableReplyProto("goes_on");
  // "YQ==", "Yg==", "Yw==" are "a", "b", "c"; "/w==" is 0xff, no UTF-8.
  auto r = Cli({"call", "handoff.v1.Gateway.Stream", "--proto=" + proto, "-d",
                R"([{"payload":"YQ=="},{"payload":"/w=="},{"payload":"Yg=="},)"
                R"({"payload":"/w=="},{"payload":"Yw=="}])",
                Addr()});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_EQ(r.out, "{\"payload\":\"a\"}\n{\"payload\":\"b\"}\n{\"payload\":\"c\"}\n");
  EXPECT_EQ(r.err,
            "handoff: handoff.v1.Gateway.Stream: DATA_LOSS: reply 2: the reply does not parse "
            "as handoff.v1.WorkReply\n"
            "handoff: handoff.v1.Gateway.Stream: DATA_LOSS: reply 4: the reply does not parse "
            "as handoff.v1.WorkReply\n");
  // "c3RhdHVzOjM6YmFk" is "status:3:bad": the stream then fails.
  r = Cli({"call", "handoff.v1.Gateway.Stream", "--proto=" + proto, "-d",
           R"([{"payload":"YQ=="},{"payload":"/w=="},{"payload":"Yg=="},)"
           R"({"payload":"c3RhdHVzOjM6YmFk"}])",
           Addr()});
  std::remove(proto.c_str());
  EXPECT_EQ(r.exit_code, 64 + 3) << r.err;
  EXPECT_EQ(r.out, "{\"payload\":\"a\"}\n{\"payload\":\"b\"}\n");
  EXPECT_EQ(r.err,
            "handoff: handoff.v1.Gateway.Stream: DATA_LOSS: reply 2: the reply does not parse "
            "as handoff.v1.WorkReply\n"
            "handoff: handoff.v1.Gateway.Stream: INVALID_ARGUMENT: bad\n");
}

TEST_F(CliTest, TimeoutReadsAsLoadsAndZeroIsNoDeadline) {
  // A bare number is seconds, as in `handoff load -t` and ghz; 0 is no
  // deadline, as ghz's -t 0 is, not one that has already passed.
  for (const char* timeout : {"--timeout=30", "--timeout=0"}) {
    auto r = Cli({"call", "handoff.v1.Gateway.Echo", "-d", R"({"payload":"aGk="})",
                  timeout, Addr()});
    EXPECT_EQ(r.exit_code, 0) << timeout << ": " << r.err;
    EXPECT_EQ(r.out, "{\"payload\":\"aGk=\"}\n") << timeout;
  }
  auto r = Cli({"health", "--timeout=-1s", Addr()});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err,
            "ERROR: Illegal value '-1s' specified for flag 'timeout'; a timeout "
            "cannot be negative; 0 or inf is no deadline\n");
}

TEST_F(CliTest, AnUnknownMethodOrServiceIsAOneLineErrorNamingIt) {
  ExpectOneLineError(Cli({"call", "handoff.v1.Gateway.Nope", "-d", "{}", Addr()}),
                     "has no method 'Nope'");
  ExpectOneLineError(Cli({"call", "nope.Svc.M", "-d", "{}", Addr()}),
                     "unknown service 'nope.Svc'");
}

// A service's name where a method's goes was split at its last dot and
// reported as an unknown service 'handoff.v1', which the server has not.
TEST_F(CliTest, AServiceNameGivenAsAMethodSaysSoAndNamesItsMethods) {
  ExpectOneLineError(Cli({"call", "handoff.v1.Gateway", "-d", "{}", Addr()}),
                     "'handoff.v1.Gateway' is a service, not a method; its methods: Echo, "
                     "Work, Batch, Stream, Call (call one as handoff.v1.Gateway.Echo)");
}

// Protobuf's fully-qualified form, with its leading dot, names the same
// method: it was an unknown service '.handoff.v1.Gateway'.
TEST_F(CliTest, AMethodNameWithALeadingDotIsCalled) {
  auto r = Cli({"call", ".handoff.v1.Gateway.Echo", "-d", R"({"payload":"aGk="})", Addr()});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "{\"payload\":\"aGk=\"}\n");
}

// An empty part (two separators in a row) was read as a part of the
// service's name: unknown service 'handoff.v1.Gateway.'.
TEST_F(CliTest, AMethodNameWithAnEmptyPartIsRefusedNamingIt) {
  for (const char* name : {"handoff.v1.Gateway//Echo", "handoff..v1.Gateway.Echo",
                           "handoff.v1.Gateway./Echo"}) {
    ExpectOneLineError(Cli({"call", name, "-d", "{}", Addr()}),
                       absl::StrCat("method '", name,
                                    "' has an empty part; want package.Service.Method or "
                                    "package.Service/Method"));
  }
}

TEST_F(CliTest, AServiceListedButNotDescribedIsNotCalledUnknown) {
  // gRPC's health service is listed by reflection (handoff list shows it)
  // without a descriptor: "unknown service ... (try: handoff list)" would
  // send the user to a list that names it.
  auto r = Cli({"call", "grpc.health.v1.Health.Check", "-d", "{}", Addr()});
  ExpectOneLineError(r, "lists grpc.health.v1.Health but does not describe it");
  EXPECT_FALSE(absl::StrContains(r.err, "try: handoff list")) << r.err;
  EXPECT_TRUE(absl::StrContains(r.err, "handoff health")) << r.err;
}

TEST_F(CliTest, BadJsonIsAOneLineErrorNamingTheRequestType) {
  ExpectOneLineError(Cli({"call", "handoff.v1.Gateway.Echo", "-d", "{not json", Addr()}),
                     "bad JSON for handoff.v1.EchoRequest");
  ExpectOneLineError(Cli({"call", "handoff.v1.Gateway.Echo", "-d", R"({"nope":1})", Addr()}),
                     "bad JSON for handoff.v1.EchoRequest");
}

TEST_F(CliTest, JsonThatIsNoObjectIsNamedWithoutAnEmptyFieldPath) {
  // Protobuf puts the field's path before its message, and an empty one
  // for the root: ": Root element must be a message."
  auto r = Cli({"call", "handoff.v1.Gateway.Echo", "-d", "null", Addr()});
  ExpectOneLineError(r, "bad JSON for handoff.v1.EchoRequest: Root element must be a message");
  EXPECT_FALSE(absl::StrContains(r.err, ": :")) << r.err;
}

TEST_F(CliTest, AnUnreachableAddressIsUnavailable) {
  // A refused connection is no sign of TLS, wanted or not: no hint.
  for (const std::vector<std::string>& command :
       {std::vector<std::string>{"call", "handoff.v1.Gateway.Echo", "-d", "{}"}, {"health"},
        {"list"}}) {
    for (const char* tls : {"--tls=false", "--tls"}) {
      std::vector<std::string> args = command;
      args.insert(args.end(), {tls, "--addr=127.0.0.1:1"});
      ProcessResult r = Cli(args);
      ExpectOneLineError(r, "UNAVAILABLE");
      EXPECT_FALSE(absl::StrContains(r.err, "TLS")) << r.err;
    }
  }
}

// health --wait_for_ready against a server that never comes: its
// DEADLINE_EXCEEDED says the channel never had a connection, as a call's
// does, where gRPC's "Deadline Exceeded" alone read like a slow server.
TEST_F(CliTest, AHealthCheckThatNeverHadAConnectionSaysSoAtItsDeadline) {
  RefusingPort refusing;
  ASSERT_NE(refusing.port(), 0);
  ExpectOneLineError(Cli({"health", "--wait_for_ready", "--timeout=200ms",
                          absl::StrCat("--addr=127.0.0.1:", refusing.port())}),
                     "DEADLINE_EXCEEDED: Deadline Exceeded; the channel had no connection at "
                     "the deadline (");
}

TEST_F(CliTest, AnAddressWithABadPortIsAUsageError) {
  // gRPC would take 99999 modulo 65536 (port 34463) and a name as port 0,
  // and report a refused connection to a port the user never named.
  for (const char* addr : {"--addr=127.0.0.1:99999", "--addr=localhost:notaport"}) {
    auto r = Cli({"health", addr});
    EXPECT_EQ(r.exit_code, 2) << addr;
    EXPECT_EQ(r.out, "");
    EXPECT_TRUE(absl::StartsWith(r.err, "handoff: --addr: ")) << r.err;
    EXPECT_TRUE(absl::StrContains(r.err, "port from 1 to 65535")) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  }
  auto r = Cli({"load", "--insecure", "--call", "handoff.v1.Gateway.Echo", "-n", "1",
                "-c", "1", "127.0.0.1:99999"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(absl::StrContains(r.err, "port from 1 to 65535")) << r.err;
}

// An empty --addr is bad usage too: it exited 1, as a failed call, with
// an empty context ("handoff: : INVALID_ARGUMENT: --addr is empty").
TEST_F(CliTest, AnEmptyAddressIsAUsageError) {
  for (const std::vector<std::string>& command :
       {std::vector<std::string>{"health"}, {"list"}, {"call", "handoff.v1.Gateway.Echo"}}) {
    std::vector<std::string> args = command;
    args.push_back("--addr=");
    auto r = Cli(args);
    EXPECT_EQ(r.exit_code, 2) << command[0];
    EXPECT_EQ(r.out, "");
    EXPECT_EQ(r.err, "handoff: --addr is empty; want host:port\n");
  }
}

TEST_F(CliTest, TlsToAPlaintextServerIsOneLine) {
  // gRPC logs the failed handshake on stderr itself; the CLI's own line
  // already carries its reason, OpenSSL's "wrong version number" (the
  // server's first bytes were no TLS record), and says what that means.
  for (const std::vector<std::string>& command :
       {std::vector<std::string>{"health"}, {"list"},
        {"call", "handoff.v1.Gateway.Echo", "-d", "{}"}}) {
    std::vector<std::string> args = command;
    args.insert(args.end(), {"--tls", Addr()});
    ProcessResult r = Cli(args);
    ExpectOneLineError(r, "UNAVAILABLE");
    EXPECT_TRUE(absl::EndsWith(r.err, "wrong version number; the server may not speak TLS: "
                                      "try plaintext (no --tls, --cacert, --cert or --key)\n"))
        << r.err;
  }
  // handoff load speaks TLS unless told not to. Its reflection lookup is
  // the first to fail, and the run stops there with the lookup's reason
  // rather than waiting out --connect-timeout (10s) for connections that
  // fail alike.
  ProcessResult r =
      Cli({"load", "--call", "handoff.v1.Gateway.Echo", "-b", "-n", "1", "-c", "1", *addr_});
  ExpectOneLineError(r, "UNAVAILABLE: server reflection at " + *addr_);
  EXPECT_TRUE(absl::EndsWith(
      r.err, "; the server may not speak TLS: try --insecure (plaintext)\n"))
      << r.err;
}

TEST_F(CliTest, HealthPrintsServing) {
  auto r = Cli({"health", Addr()});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "SERVING\n");
}

TEST_F(CliTest, ListNamesEachServiceAndItsMethodsSignatures) {
  auto r = Cli({"list", Addr()});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(absl::StrContains(r.out, "handoff.v1.Gateway\n")) << r.out;
  EXPECT_TRUE(absl::StrContains(
      r.out, "  Echo(handoff.v1.EchoRequest) returns (handoff.v1.EchoReply)\n"))
      << r.out;
  EXPECT_TRUE(absl::StrContains(
      r.out, "  Stream(stream handoff.v1.WorkRequest) returns (stream handoff.v1.WorkReply)\n"))
      << r.out;
}

// describe prints a symbol as .proto source, as grpcurl's describe does:
// a line saying what it is, then its definition.
TEST_F(CliTest, DescribeAServicePrintsItsMethodsWithTheirTypesAndStreaming) {
  auto r = Cli({"describe", "handoff.v1.Gateway", Addr()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err, "");
  EXPECT_TRUE(absl::StartsWith(r.out, "handoff.v1.Gateway is a service:\nservice Gateway {\n"))
      << r.out;
  EXPECT_TRUE(absl::StrContains(
      r.out, "  rpc Echo ( .handoff.v1.EchoRequest ) returns ( .handoff.v1.EchoReply );\n"))
      << r.out;
  EXPECT_TRUE(absl::StrContains(
      r.out,
      "  rpc Stream ( stream .handoff.v1.WorkRequest ) returns "
      "( stream .handoff.v1.WorkReply );\n"))
      << r.out;
  EXPECT_TRUE(absl::EndsWith(r.out, "}\n")) << r.out;
}

TEST_F(CliTest, DescribeAMethodPrintsItsSignature) {
  // A leading dot, protobuf's fully-qualified spelling, names the same.
  for (const std::string name : {"handoff.v1.Gateway.Echo", ".handoff.v1.Gateway.Echo"}) {
    auto r = Cli({"describe", name, Addr()});
    ASSERT_EQ(r.exit_code, 0) << name << ": " << r.err;
    EXPECT_EQ(r.out,
              "handoff.v1.Gateway.Echo is a method:\n"
              "rpc Echo ( .handoff.v1.EchoRequest ) returns ( .handoff.v1.EchoReply );\n")
        << name;
  }
}

TEST_F(CliTest, DescribeAMessagePrintsItsFieldsAsProtoSource) {
  auto r = Cli({"describe", "handoff.v1.WorkRequest", Addr()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out,
            "handoff.v1.WorkRequest is a message:\n"
            "message WorkRequest {\n"
            "  uint32 cpu_us = 1;\n"
            "  uint32 sleep_us = 2;\n"
            "  bytes payload = 3;\n"
            "}\n");
}

TEST_F(CliTest, DescribeAnUnknownSymbolIsAOneLineErrorNamingIt) {
  auto r = Cli({"describe", "handoff.v1.Nope", Addr()});
  ExpectOneLineError(r, "no symbol 'handoff.v1.Nope'");
  EXPECT_EQ(r.exit_code, 1);
  // gRPC's own health service is listed but not described: not unknown.
  ExpectOneLineError(Cli({"describe", "grpc.health.v1.Health", Addr()}),
                     "the server lists grpc.health.v1.Health but does not describe it");
}

// The same with protobuf's leading dot, which names the same symbol: it
// was "no symbol 'grpc.health.v1.Health'", the service the server lists.
TEST_F(CliTest, DescribeAListedButUndescribedServiceSaysSoWithALeadingDotToo) {
  auto r = Cli({"describe", ".grpc.health.v1.Health", Addr()});
  ExpectOneLineError(r, "the server lists grpc.health.v1.Health but does not describe it");
  EXPECT_EQ(r.exit_code, 1);
}

// A symbol with an empty part (`.`, `pkg.Msg.`, two separators in a row)
// is refused as such, as `call` refuses a method with one: it was looked
// up and "no symbol 'pkg.Msg.'", sending the user to look for a name that
// was only mistyped, and `.` was "no symbol ''".
TEST_F(CliTest, DescribeASymbolWithAnEmptyPartIsRefusedNamingIt) {
  for (const std::string name : {".", "handoff.v1.WorkRequest.", "handoff..v1.WorkRequest",
                                 "..handoff.v1.WorkRequest", "handoff.v1.Gateway//Echo",
                                 "handoff.v1.Gateway/"}) {
    auto r = Cli({"describe", name, Addr()});
    ExpectOneLineError(r, absl::StrCat("handoff: describe: INVALID_ARGUMENT: symbol '", name,
                                       "' has an empty part; want package.Name or "
                                       "package.Service/Method\n"));
    EXPECT_EQ(r.exit_code, 1) << name;
  }
  // The same from a file, which needs no server.
  const std::string proto = StringEchoProto("describe_empty_part");
  auto r = Cli({"describe", "handoff.v1.EchoReply.", "--proto=" + proto, "--addr=127.0.0.1:1"});
  std::remove(proto.c_str());
  ExpectOneLineError(r, "symbol 'handoff.v1.EchoReply.' has an empty part");
}

// A method of a service the server lists but does not describe (gRPC's own
// health service) is not unknown either: it was "no symbol", where `call`
// of the same name says what is so.
TEST_F(CliTest, DescribeAMethodOfAListedButUndescribedServiceSaysSo) {
  for (const std::string name : {"grpc.health.v1.Health/Check", "grpc.health.v1.Health.Check",
                                 "/grpc.health.v1.Health/Check", ".grpc.health.v1.Health.Watch"}) {
    auto r = Cli({"describe", name, Addr()});
    ExpectOneLineError(r, "the server lists grpc.health.v1.Health but does not describe it");
    EXPECT_EQ(r.exit_code, 1) << name;
    EXPECT_FALSE(absl::StrContains(r.err, "no symbol")) << r.err;
    EXPECT_TRUE(absl::StrContains(r.err, "handoff health")) << r.err;
  }
}

TEST_F(CliTest, DescribeWithoutASymbolDescribesEveryService) {
  auto r = Cli({"describe", Addr()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(absl::StrContains(r.out, "handoff.v1.Gateway is a service:\nservice Gateway {\n"))
      << r.out;
  EXPECT_TRUE(absl::StrContains(r.out, "grpc.reflection.v1alpha.ServerReflection is a service:\n"))
      << r.out;
  EXPECT_TRUE(absl::StrContains(
      r.out, "grpc.health.v1.Health is a service the server does not describe\n"))
      << r.out;
}

// --proto describes what the file defines, enums included, and needs no
// server: the address is one nothing listens on.
TEST_F(CliTest, DescribeFromAProtoFileNeedsNoServer) {
  const std::string proto = TempPath("describe.proto");
  std::ofstream(proto) << R"(syntax = "proto3";
package demo;
enum Mood { MOOD_UNSPECIFIED = 0; HAPPY = 1; }
message Question { Mood mood = 1; }
service Asker { rpc Ask(Question) returns (Question); }
)";
  const std::string nowhere = "--addr=127.0.0.1:1";
  auto r = Cli({"describe", "demo.Mood", "--proto=" + proto, nowhere});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out,
            "demo.Mood is an enum:\n"
            "enum Mood {\n"
            "  MOOD_UNSPECIFIED = 0;\n"
            "  HAPPY = 1;\n"
            "}\n");
  r = Cli({"describe", "--proto=" + proto, nowhere});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out,
            "demo.Asker is a service:\n"
            "service Asker {\n"
            "  rpc Ask ( .demo.Question ) returns ( .demo.Question );\n"
            "}\n");
  ExpectOneLineError(Cli({"describe", "demo.Nope", "--proto=" + proto, nowhere}),
                     "no symbol 'demo.Nope' in " + proto + " or its imports");
  std::remove(proto.c_str());
}

// A map's entry message and a group's type are messages protobuf makes for
// a field: grpcurl's describe says so ("the entry type for a map field",
// "the type of a group field") and prints the field they belong to, where
// handoff said "a message" and printed a type no .proto source declares.
TEST_F(CliTest, DescribeAMapEntryOrAGroupsTypeNamesTheFieldItIsFor) {
  const std::string proto = TempPath("describe_fields.proto");
  std::ofstream(proto) << R"(syntax = "proto2";
package demo;
message Bag {
  map<string, int32> counts = 1;
  optional group Extra = 2 { optional string note = 3; }
}
)";
  const std::string nowhere = "--addr=127.0.0.1:1";
  auto r = Cli({"describe", "demo.Bag.CountsEntry", "--proto=" + proto, nowhere});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out,
            "demo.Bag.CountsEntry is the entry type for a map field:\n"
            "map<string, int32> counts = 1;\n");
  r = Cli({"describe", "demo.Bag.Extra", "--proto=" + proto, nowhere});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out,
            "demo.Bag.Extra is the type of a group field:\n"
            "optional group Extra = 2 {\n"
            "  optional string note = 3;\n"
            "}\n");
  // The group's field, by its own name, is a group field, as grpcurl says.
  r = Cli({"describe", "demo.Bag.extra", "--proto=" + proto, nowhere});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(absl::StartsWith(r.out, "demo.Bag.extra is a group field:\n")) << r.out;
  std::remove(proto.c_str());
}

// An enum value is described by its enum's name too, `demo.Mood.HAPPY`, as
// grpcurl names it; protobuf's C++ scopes it beside its enum,
// `demo.HAPPY`, and that alone was found: the other was "no symbol".
TEST_F(CliTest, DescribeAnEnumValueByItsEnumsName) {
  const std::string proto = TempPath("describe_enum_value.proto");
  std::ofstream(proto) << R"(syntax = "proto3";
package demo;
enum Mood { MOOD_UNSPECIFIED = 0; HAPPY = 1; }
message Outer { enum Kind { KIND_UNSPECIFIED = 0; BIG = 1; } }
)";
  const std::string nowhere = "--addr=127.0.0.1:1";
  for (const auto& [name, line] :
       {std::pair("demo.Mood.HAPPY", "HAPPY = 1;\n"), std::pair("demo.HAPPY", "HAPPY = 1;\n"),
        std::pair(".demo.Outer.Kind.BIG", "BIG = 1;\n"), std::pair("demo.Outer.BIG", "BIG = 1;\n")}) {
    auto r = Cli({"describe", name, "--proto=" + proto, nowhere});
    EXPECT_EQ(r.exit_code, 0) << name << ": " << r.err;
    EXPECT_EQ(r.out, absl::StrCat(absl::StripPrefix(name, "."), " is an enum value:\n", line))
        << name;
  }
  ExpectOneLineError(Cli({"describe", "demo.Mood.SAD", "--proto=" + proto, nowhere}),
                     "no symbol 'demo.Mood.SAD'");
  std::remove(proto.c_str());
}

// describe takes a method by every spelling `call` takes, `pkg.Svc/Method`
// and `/pkg.Svc/Method` included: those were "no symbol", so a name copied
// from a working call could not be described.
TEST_F(CliTest, DescribeTakesAMethodSpelledAsCallTakesIt) {
  for (const std::string name : {"handoff.v1.Gateway/Echo", "/handoff.v1.Gateway/Echo"}) {
    auto r = Cli({"describe", name, Addr()});
    EXPECT_EQ(r.exit_code, 0) << name << ": " << r.err;
    EXPECT_EQ(r.out,
              "handoff.v1.Gateway.Echo is a method:\n"
              "rpc Echo ( .handoff.v1.EchoRequest ) returns ( .handoff.v1.EchoReply );\n")
        << name;
  }
  ExpectOneLineError(Cli({"describe", "handoff.v1.Gateway/Nope", Addr()}),
                     "no symbol 'handoff.v1.Gateway/Nope'");
}

// A .proto file of messages, a service and options, written at `path`, to
// describe as grpcurl would: its elements are out of grpcurl's order.
std::string WriteShopProto(const std::string& path) {
  std::ofstream(path) << R"(syntax = "proto3";
package demo;
// A bag of things.
message Bag {
  reserved "old";
  reserved 10 to 12, 8;
  map<string, Inner> items = 2;
  oneof choice {
    string name = 4;
    int32 count = 3;
  }
  enum Kind { KIND_UNSPECIFIED = 0; BIG = 1 [deprecated = true]; }
  // The kind of bag.
  Kind kind = 1 [json_name = "k", deprecated = true];
  message Inner { optional string note = 1; repeated int64 sizes = 2; }
  option deprecated = true;
}
service Shop {
  rpc Sell(Bag) returns (stream Bag);
  // Buys a bag.
  rpc Buy(Bag) returns (Bag) { option deprecated = true; }
}
)";
  return path;
}

// `handoff describe SYMBOL` of WriteShopProto's file, with no server; the
// file is written once, under this process's own temporary name.
ProcessResult DescribeShop(const std::string& symbol) {
  static const std::string* proto =
      new std::string(WriteShopProto(absl::StrCat(::testing::TempDir(), "cli_test_", getpid(),
                                                  "_describe_as_grpcurl.proto")));
  return testing::Run({HANDOFF_CLI, "describe", symbol, "--proto=" + *proto,
                       "--addr=127.0.0.1:1"},
                      absl::Seconds(60));
}

// describe prints as grpcurl's describe (protoprint: compact, elements
// sorted, names fully-qualified, doc comments kept): it printed protobuf's
// DebugString, in declaration order, and `rpc Ask(.demo.Q)` unspaced.
TEST_F(CliTest, DescribeAServiceHasItsMethodsByNameSpacedAsGrpcurlSpacesThem) {
  auto r = DescribeShop("demo.Shop");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out,
            "demo.Shop is a service:\n"
            "service Shop {\n"
            "  // Buys a bag.\n"
            "  rpc Buy ( .demo.Bag ) returns ( .demo.Bag ) {\n"
            "    option deprecated = true;\n"
            "  }\n"
            "  rpc Sell ( .demo.Bag ) returns ( stream .demo.Bag );\n"
            "}\n");
}

TEST_F(CliTest, DescribeAMessageHasOptionsThenFieldsByNumberThenNestedTypesThenReserved) {
  auto r = DescribeShop("demo.Bag");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out,
            "demo.Bag is a message:\n"
            "// A bag of things.\n"
            "message Bag {\n"
            "  option deprecated = true;\n"
            "  // The kind of bag.\n"
            "  .demo.Bag.Kind kind = 1 [deprecated = true, json_name = \"k\"];\n"
            "  map<string, .demo.Bag.Inner> items = 2;\n"
            "  oneof choice {\n"
            "    int32 count = 3;\n"
            "    string name = 4;\n"
            "  }\n"
            "  message Inner {\n"
            "    optional string note = 1;\n"
            "    repeated int64 sizes = 2;\n"
            "  }\n"
            "  enum Kind {\n"
            "    KIND_UNSPECIFIED = 0;\n"
            "    BIG = 1 [deprecated = true];\n"
            "  }\n"
            "  reserved 8, 10 to 12;\n"
            "  reserved \"old\";\n"
            "}\n");
}

// A oneof is "a one-of", as grpcurl's describe says: it was "a oneof".
TEST_F(CliTest, DescribeAOneofSaysOneOfAsGrpcurlDoes) {
  auto r = DescribeShop("demo.Bag.choice");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out,
            "demo.Bag.choice is a one-of:\n"
            "oneof choice {\n"
            "  int32 count = 3;\n"
            "  string name = 4;\n"
            "}\n");
}

TEST_F(CliTest, DescribeAFieldAnEnumAValueAndAMethodAreAsGrpcurlPrintsThem) {
  auto r = DescribeShop("demo.Bag.kind");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out,
            "demo.Bag.kind is a field:\n"
            "// The kind of bag.\n"
            ".demo.Bag.Kind kind = 1 [deprecated = true, json_name = \"k\"];\n");
  r = DescribeShop("demo.Bag.Kind");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out,
            "demo.Bag.Kind is an enum:\n"
            "enum Kind {\n"
            "  KIND_UNSPECIFIED = 0;\n"
            "  BIG = 1 [deprecated = true];\n"
            "}\n");
  r = DescribeShop("demo.Bag.Kind.BIG");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "demo.Bag.Kind.BIG is an enum value:\nBIG = 1 [deprecated = true];\n");
  r = DescribeShop("demo.Shop.Sell");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out,
            "demo.Shop.Sell is a method:\n"
            "rpc Sell ( .demo.Bag ) returns ( stream .demo.Bag );\n");
}

TEST_F(CliTest, AnUnknownCommandOrABadLoadFlagExitsTwo) {
  auto r = Cli({"frob"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(absl::StrContains(r.err, "unknown command 'frob'"));
  r = Cli({"load", "-c", "x"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(absl::StrContains(r.err, "-c: want a positive integer"));
}

TEST_F(CliTest, LoadWritesAJsonReportCountingEveryCall) {
  auto r = Cli({"load", "--insecure", "--call", "handoff.v1.Gateway.Echo", "-d",
                R"({"payload":"aGk="})", "-n", "300", "-c", "10", "--connections", "2",
                "-O", "json", *addr_});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  google::protobuf::Struct report;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(r.out, &report).ok()) << r.out;
  const auto& f = report.fields();
  EXPECT_EQ(f.at("count").number_value(), 300);
  EXPECT_EQ(f.at("statusCodeDistribution").struct_value().fields().at("OK").number_value(), 300);
  EXPECT_TRUE(f.at("errorDistribution").struct_value().fields().empty());
  EXPECT_GT(f.at("rps").number_value(), 0);
}

TEST_F(CliTest, LoadSummaryHasNoProgressBarWhenPiped) {
  auto r = Cli({"load", "--insecure", "--call", "handoff.v1.Gateway.Echo", "-n", "50",
                "-c", "5", *addr_});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(absl::StartsWith(r.out, "\nSummary:\n  Count:\t50\n")) << r.out;
  EXPECT_EQ(r.err, "");
}

TEST_F(CliTest, LoadUnknownMethodAndBadHost) {
  ExpectOneLineError(Cli({"load", "--insecure", "--call", "handoff.v1.Gateway.Nope",
                          "-n", "5", "-c", "1", *addr_}),
                     "has no method 'Nope'");
  // A refused connection fails the lookup at once: no --connect-timeout is
  // needed to keep this quick, and a short one could run out first on a
  // slow machine.
  ExpectOneLineError(Cli({"load", "--insecure", "--call", "handoff.v1.Gateway.Echo",
                          "-n", "5", "-c", "1", "127.0.0.1:1"}),
                     "UNAVAILABLE: server reflection at 127.0.0.1:1");
}

// A loopback port whose listener never accepts: the kernel completes the
// TCP handshake into its backlog, and nothing ever speaks HTTP/2 (a hung
// process, say).
class SilentListener {
 public:
  SilentListener() : fd_(socket(AF_INET, SOCK_STREAM, 0)) {
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    EXPECT_EQ(bind(fd_, reinterpret_cast<sockaddr*>(&addr), len), 0);
    EXPECT_EQ(listen(fd_, 16), 0);
    EXPECT_EQ(getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len), 0);
    address_ = absl::StrCat("127.0.0.1:", ntohs(addr.sin_port));
  }
  ~SilentListener() { close(fd_); }
  const std::string& address() const { return address_; }

  // Whether a client has connected, within `timeout`: its connection waits
  // in the backlog, where the listening socket reads as ready.
  bool Connected(absl::Duration timeout) const {
    pollfd p{fd_, POLLIN, 0};
    return poll(&p, 1, static_cast<int>(absl::ToInt64Milliseconds(timeout))) == 1;
  }

 private:
  int fd_;
  std::string address_;
};

TEST_F(CliTest, LoadAgainstAServerThatNeverAnswersNamesItsReflectionAndTheLimit) {
  SilentListener silent;
  // JSON needs the types, so the run stops at the reflection lookup: gRPC's
  // bare "Deadline Exceeded" would not say what waited, or for how long.
  ExpectOneLineError(
      Cli({"load", "--insecure", "--call", "handoff.v1.Gateway.Echo", "-d", "{}",
           "--connect-timeout", "300ms", "-n", "1", "-c", "1", silent.address()}),
      absl::StrCat("DEADLINE_EXCEEDED: server reflection at ", silent.address(),
                   ": the server could not be reached (the channel had no connection at the "
                   "deadline: CONNECTING): no answer within 300ms (--connect-timeout)"));
  // Binary requests can go without types, but not to a server that did not
  // answer: the run fails on the lookup's error, and does not go on to
  // spend a second --connect-timeout on its own connections ("cannot
  // connect to ...", the engines' error, is not reached).
  const std::string bytes = TempPath("silent.bin");
  std::ofstream(bytes) << "\x0a\x02hi";
  ExpectOneLineError(
      Cli({"load", "--insecure", "--call", "handoff.v1.Gateway.Echo", "-B", bytes,
           "--connect-timeout", "300ms", "-n", "1", "-c", "1", silent.address()}),
      absl::StrCat("server reflection at ", silent.address(),
                   ": the server could not be reached (the channel had no connection at the "
                   "deadline: CONNECTING): no answer within 300ms"));
  // `handoff call` bounds its lookup by --timeout, and says so likewise.
  ExpectOneLineError(Cli({"call", "handoff.v1.Gateway.Echo", "-d", "{}", "--timeout=300ms",
                          "--addr=" + silent.address()}),
                     "DEADLINE_EXCEEDED: the server could not be reached (the channel had no "
                     "connection at the deadline: CONNECTING): no answer within 300ms");
  std::remove(bytes.c_str());
}

// --connect_timeout bounds the connection alone, as grpcurl's
// -connect-timeout does: a listener that never answers (its connection
// waits in the backlog, never accepted) fails each command after it,
// naming it, where only --timeout ended the wait. --timeout still bounds
// the whole command when it is the shorter.
TEST_F(CliTest, ConnectTimeoutBoundsTheConnectionAndNamesItself) {
  SilentListener silent;
  const std::string addr = "--addr=" + silent.address();
  for (const std::vector<std::string>& command :
       {std::vector<std::string>{"call", "handoff.v1.Gateway.Echo", "-d", "{}"}, {"list"},
        {"describe"}, {"health"}}) {
    std::vector<std::string> args = command;
    args.insert(args.end(), {"--connect_timeout=300ms", "--timeout=1h", addr});
    const absl::Time start = absl::Now();
    const ProcessResult r = Cli(args);
    // Cli gives up at 60s: ended well before it, and before --timeout.
    EXPECT_LT(absl::Now() - start, absl::Seconds(30)) << command[0];
    ExpectOneLineError(r, absl::StrCat("handoff: ", silent.address(),
                                       ": DEADLINE_EXCEEDED: no connection within 300ms "
                                       "(--connect_timeout)"));
  }
  // The shorter --timeout still ends the command, in its own words.
  ExpectOneLineError(Cli({"list", "--connect_timeout=1h", "--timeout=300ms", addr}),
                     "DEADLINE_EXCEEDED: the server could not be reached (the channel had no "
                     "connection at the deadline: CONNECTING): no answer within 300ms");
  // A server that answers is reached within it, and a bad value is refused
  // as --timeout's is.
  const ProcessResult ok = Cli({"health", "--connect_timeout=5s", Addr()});
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
  EXPECT_EQ(ok.out, "SERVING\n");
  const ProcessResult bad = Cli({"health", "--connect_timeout=-1s", Addr()});
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_TRUE(absl::StrContains(bad.err, "cannot be negative")) << bad.err;
}

// A reflection lookup that runs out of time says whether the server was
// reached: "no answer within 300ms" alone read the same for a server that
// is down and one whose reflection hangs (ReflectionDatabaseTest has the
// second).
TEST_F(CliTest, AReflectionLookupThatNeverHadAConnectionSaysSoAtItsDeadline) {
  RefusingPort refusing;
  ASSERT_NE(refusing.port(), 0);
  const std::string addr = absl::StrCat("--addr=127.0.0.1:", refusing.port());
  for (const std::vector<std::string>& command :
       {std::vector<std::string>{"list"}, {"call", "handoff.v1.Gateway.Echo", "-d", "{}"}}) {
    std::vector<std::string> args = command;
    args.insert(args.end(), {"--wait_for_ready", "--timeout=300ms", addr});
    ProcessResult r = Cli(args);
    ExpectOneLineError(r, "DEADLINE_EXCEEDED: the server could not be reached (the channel "
                          "had no connection at the deadline: ");
    EXPECT_TRUE(absl::EndsWith(r.err, "): no answer within 300ms\n")) << r.err;
  }
}

TEST_F(CliTest, LoadRendersCallTemplatesForEveryCall) {
  // Not JSON until rendered: a run that succeeds rendered it.
  const std::vector<std::string> load = {
      "load", "--insecure", "--call", "handoff.v1.Gateway.Work", "-d",
      R"({"cpu_us": 4{{.RequestNumber}}00000000})", "-m", R"({"x-id":"{{newUUID}}"})",
      "-n", "8", "-c", "1", "-O", "json", *addr_};
  auto r = Cli(load);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  google::protobuf::Struct report;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(r.out, &report).ok()) << r.out;
  // Calls 0 to 2 fit cpu_us's uint32 (4000000000 to 4200000000); the others
  // render a number too big and fail, each alone and unsent.
  const auto& codes = report.fields().at("statusCodeDistribution").struct_value().fields();
  EXPECT_EQ(codes.at("OK").number_value(), 3);
  EXPECT_EQ(codes.at("InvalidArgument").number_value(), 5);
  EXPECT_TRUE(absl::StrContains(r.out, R"(-d renders to {\"cpu_us\": 4300000000})")) << r.out;

  std::vector<std::string> off = load;
  off.insert(off.begin() + 1, "--disable-template-data");
  ExpectOneLineError(Cli(off), "bad JSON for handoff.v1.WorkRequest");
  ExpectOneLineError(Cli({"load", "--insecure", "--call", "handoff.v1.Gateway.Work", "-d",
                          R"({"cpu_us": {{.Count}}})", "-n", "1", "-c", "1", *addr_}),
                     "-d: {{.Count}}: no call data field 'Count'");
}

TEST_F(CliTest, LoadTypesJsonByTheProtoFileItIsGivenNotByTheServer) {
  const std::string proto = StringEchoProto("load");
  const std::vector<std::string> load = {"load", "--insecure", "--call",
                                         "handoff.v1.Gateway.Echo", "-d",
                                         R"({"payload":"hi there"})", "-n", "20", "-c", "2",
                                         "-O", "json", *addr_};
  ExpectOneLineError(Cli(load), "payload");  // not base64: typed by reflection

  std::vector<std::string> with_proto = load;
  with_proto.insert(with_proto.begin() + 1, {"--proto", proto});
  auto with = Cli(with_proto);
  ASSERT_EQ(with.exit_code, 0) << with.err;
  google::protobuf::Struct report;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(with.out, &report).ok()) << with.out;
  EXPECT_EQ(report.fields().at("statusCodeDistribution").struct_value().fields().at("OK")
                .number_value(),
            20);
  std::remove(proto.c_str());
}

TEST_F(CliTest, CallTypesRequestAndReplyByTheProtoFileItIsGiven) {
  const std::string proto = StringEchoProto("call");
  ExpectOneLineError(Cli({"call", "handoff.v1.Gateway.Echo", "-d", R"({"payload":"hi there"})",
                          Addr()}),
                     "payload");
  auto r = Cli({"call", "handoff.v1.Gateway.Echo", "--proto=" + proto, "-d",
                R"({"payload":"hi there"})", Addr()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "{\"payload\":\"hi there\"}\n");  // the reply, typed by the file too
  ExpectOneLineError(Cli({"call", "handoff.v1.Other.Echo", "--proto=" + proto, "-d", "{}",
                          Addr()}),
                     "not in " + proto + " or its imports");
  std::remove(proto.c_str());
}

TEST_F(CliTest, LoadWithBinaryRequestsTakesTheMethodFromTheProtoFile) {
  const std::string proto = TempPath("binary.proto");
  std::ofstream(proto) << R"(syntax = "proto3";
package handoff.v1;
message EchoRequest { bytes payload = 1; }
message EchoReply { bytes payload = 1; }
service Gateway { rpc Echo(EchoRequest) returns (EchoReply); }
)";
  const std::string request = TempPath("binary.bin");
  std::ofstream(request, std::ios::binary) << std::string("\x0a\x02hi", 4);  // payload "hi"
  auto load = [&](const std::string& method, bool with_proto) {
    std::vector<std::string> args = {"load", "--insecure", "-B", request, "--call", method,
                                     "-n", "10", "-c", "1", "-O", "json", *addr_};
    if (with_proto) args.insert(args.begin() + 1, {"--proto", proto});
    return Cli(args);
  };
  auto ok = load("handoff.v1.Gateway.Echo", true);
  ASSERT_EQ(ok.exit_code, 0) << ok.err;
  EXPECT_TRUE(absl::StrContains(ok.out, R"("OK":10)")) << ok.out;
  // The file knows no such method; without it, the calls go out and the
  // server answers UNIMPLEMENTED.
  ExpectOneLineError(load("handoff.v1.Gateway.Nope", true), "has no method 'Nope'");
  auto unchecked = load("handoff.v1.Gateway.Nope", false);
  ASSERT_EQ(unchecked.exit_code, 0) << unchecked.err;
  EXPECT_TRUE(absl::StrContains(unchecked.out, R"("Unimplemented":10)")) << unchecked.out;
  std::remove(proto.c_str());
  std::remove(request.c_str());
}

TEST_F(CliTest, LoadSendsCountDelimitedBinaryRequestsOneByOne) {
  // Two EchoRequests, each after its length, as ghz documents -B's input:
  // the fake fails each with the status its payload names.
  std::string bytes;
  for (const std::string payload : {"status:5:first", "status:6:second"}) {
    bytes.push_back(static_cast<char>(payload.size() + 2));  // field 1, length, payload
    bytes.push_back('\x0a');
    bytes.push_back(static_cast<char>(payload.size()));
    bytes += payload;
  }
  const std::string path = TempPath("delimited.bin");
  std::ofstream(path, std::ios::binary) << bytes;
  auto r = Cli({"load", "--insecure", "--call", "handoff.v1.Gateway.Echo", "-B", path, "-n",
                "4", "-c", "1", "-O", "json", *addr_});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  google::protobuf::Struct report;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(r.out, &report).ok()) << r.out;
  // Round robin over the two messages, as over a -d array.
  const auto& codes = report.fields().at("statusCodeDistribution").struct_value().fields();
  EXPECT_EQ(codes.at("NotFound").number_value(), 2) << r.out;
  EXPECT_EQ(codes.at("AlreadyExists").number_value(), 2) << r.out;
  std::remove(path.c_str());
}

TEST_F(CliTest, LoadStreamOptionsNeedAMethodTheClientStreamsTo) {
  ExpectOneLineError(Cli({"load", "--insecure", "--call", "handoff.v1.Gateway.Echo",
                          "--stream-call-count", "5", "-n", "5", "-c", "1", *addr_}),
                     "this method takes one message");
  auto r = Cli({"load", "--insecure", "--call", "handoff.v1.Gateway.Stream", "-d",
                R"({"payload":"aGk="})", "--stream-call-count", "4", "-n", "5", "-c", "1",
                "-O", "json", *addr_});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(absl::StrContains(r.out, R"("OK":5)")) << r.out;
}

// An empty -d array crashed a run whose calls need a message to cycle
// through (SIGFPE: a message index modulo zero). A client stream without
// the stream options may still send none.
TEST_F(CliTest, LoadRefusesAnEmptyArrayWhereACallNeedsAMessage) {
  ExpectOneLineError(Cli({"load", "--insecure", "--call", "handoff.v1.Gateway.Echo", "-d",
                          "[]", "-n", "2", "-c", "1", *addr_}),
                     "-d: an empty array has no request to send (a unary method takes one)");
  for (const char* option : {"--stream-call-count=3", "--stream-call-duration=100ms"}) {
    ExpectOneLineError(Cli({"load", "--insecure", "--call", "handoff.v1.Gateway.Stream", "-d",
                            "[]", option, "-n", "2", "-c", "1", *addr_}),
                       "-d: an empty array has no message for --stream-call-count or "
                       "--stream-call-duration to send in turn");
  }
  auto r = Cli({"load", "--insecure", "--call", "handoff.v1.Gateway.Stream", "-d", "[]", "-n",
                "2", "-c", "1", "-O", "json", *addr_});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(absl::StrContains(r.out, R"("OK":2)")) << r.out;
}

// No request data on a client (or bidi) stream is no message, as ghz's run
// sends: its message provider has none to give, and the stream is closed at
// once. handoff load sent one default message on each call's stream. A
// method that takes one request still gets a default one.
TEST_F(CliTest, LoadClientStreamWithoutDataSendsNoMessageAsGhzs) {
  const std::string path = TempPath("stream_without_data.log");
  auto debug_log = [&path] {
    std::ifstream in(path);
    return std::string((std::istreambuf_iterator<char>(in)), {});
  };
  for (const std::vector<std::string>& data :
       {std::vector<std::string>{}, {"-d", ""}, {"-d", " \n"}}) {
    SCOPED_TRACE(absl::StrJoin(data, " "));
    std::remove(path.c_str());
    std::vector<std::string> args = {"load", "--insecure", "--call", "handoff.v1.Gateway.Stream",
                                     "-n", "2", "-c", "1", "-O", "json", "--debug", path};
    args.insert(args.end(), data.begin(), data.end());
    args.push_back(*addr_);
    auto r = Cli(args);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_TRUE(absl::StrContains(r.out, R"("OK":2)")) << r.out;
    EXPECT_TRUE(absl::StrContains(debug_log(), R"("messages":0,)")) << debug_log();
  }
  std::remove(path.c_str());
  // ghz's run indexes the messages it has none of, and panics.
  ExpectOneLineError(Cli({"load", "--insecure", "--call", "handoff.v1.Gateway.Stream",
                          "--stream-call-count=3", "-n", "2", "-c", "1", *addr_}),
                     "no request data (-d) has no message for --stream-call-count or "
                     "--stream-call-duration to send in turn");
  auto r = Cli({"load", "--insecure", "--call", "handoff.v1.Gateway.Echo", "-n", "1", "-c", "1",
                "-O", "json", "--debug", path, *addr_});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(absl::StrContains(debug_log(), R"("messages":1,)"))
      << "a unary call's default message: " << debug_log();
  std::remove(path.c_str());
}

// As ghz's: -d @ takes the requests from stdin.
TEST_F(CliTest, LoadReadsTheRequestsFromStdinForDataAt) {
  auto r = testing::Run({HANDOFF_CLI, "load", "--insecure", "--call", "handoff.v1.Gateway.Echo",
                         "-d", "@", "-n", "3", "-c", "1", "-O", "json", *addr_},
                        absl::Seconds(60), R"({"payload":"aGk="})");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(absl::StrContains(r.out, R"("OK":3)")) << r.out;
}

// -O influx-*'s data= tag is the request JSON as ghz writes it back, read
// from -D's file or stdin as from -d; the report saw only -d's text, and
// gave data="null" for a file's requests and for stdin's.
TEST_F(CliTest, LoadInfluxDataTagIsTheRequestFromAFileOrStdinToo) {
  const std::string file = ::testing::TempDir() + "/influx_data_tag_request.json";
  std::ofstream(file) << "{\"payload\": \"aGk=\"}\n";
  const std::string tag = R"(,data="{\"payload\":\"aGk\=\"}",)";
  auto from_file = Cli({"load", "--insecure", "--call", "handoff.v1.Gateway.Echo", "-D", file,
                        "-n", "1", "-c", "1", "-O", "influx-summary", *addr_});
  ASSERT_EQ(from_file.exit_code, 0) << from_file.err;
  EXPECT_TRUE(absl::StrContains(from_file.out, tag)) << from_file.out;
  auto from_stdin =
      testing::Run({HANDOFF_CLI, "load", "--insecure", "--call", "handoff.v1.Gateway.Echo", "-d",
                    "@", "-n", "1", "-c", "1", "-O", "influx-details", *addr_},
                   absl::Seconds(60), R"({"payload":"aGk="})");
  ASSERT_EQ(from_stdin.exit_code, 0) << from_stdin.err;
  EXPECT_TRUE(absl::StrContains(from_stdin.out, tag)) << from_stdin.out;
}

TEST_F(CliTest, LoadSendsReflectMetadataWithTheReflectionCallOnly) {
  auto guarded = StartFake({"--reflection_token=open-sesame"});
  ASSERT_TRUE(guarded.ok()) << guarded.status();
  const std::vector<std::string> load = {"load", "--insecure", "--call",
                                         "handoff.v1.Gateway.Echo", "-d", "{}", "-n", "5",
                                         "-c", "1", "-O", "json", guarded->address};
  // The token in -m is not sent with the reflection call: the server refuses it.
  std::vector<std::string> in_m = load;
  in_m.insert(in_m.begin() + 1, {"-m", R"({"x-reflection-token":"open-sesame"})"});
  ExpectOneLineError(Cli(in_m), "CANCELLED: server reflection failed");

  std::vector<std::string> reflect = load;
  reflect.insert(reflect.begin() + 1,
                 {"--reflect-metadata", R"({"x-reflection-token":"open-sesame"})"});
  auto r = Cli(reflect);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(absl::StrContains(r.out, R"("OK":5)")) << r.out;
}

TEST_F(CliTest, CallAndHealthSendMetadataAndReflectionOnlyReflectMetadata) {
  // The fake answers "header:x-tag" with the call's x-tag header; keys are
  // lower-cased, as ghz's -m's are.
  auto r = Cli({"call", "handoff.v1.Gateway.Echo", "-d", R"({"payload":"aGVhZGVyOngtdGFn"})",
                R"(--metadata={"X-Tag":"hello"})", Addr()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "{\"payload\":\"aGVsbG8=\"}\n");  // "hello"
  EXPECT_EQ(r.err, "");
  // --verbose shows what came back besides the reply, a -bin value in
  // base64, as it went on the wire.
  r = Cli({"call", "handoff.v1.Gateway.Echo", "-d", R"({"payload":"aGVhZGVyOngtdGFn"})",
           R"(--metadata={"x-tag":"hello"})", "--verbose", Addr()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "{\"payload\":\"aGVsbG8=\"}\n");
  EXPECT_TRUE(absl::StrContains(r.err, "handoff: response header: x-asked-for: x-tag\n"))
      << r.err;
  EXPECT_TRUE(absl::StrContains(r.err, "handoff: response trailer: x-answer-bin: aGVsbG8=\n"))
      << r.err;
  // A header gRPC cannot send is bad usage, named before anything connects.
  r = Cli({"call", "handoff.v1.Gateway.Echo", "-d", "{}", R"(--metadata={"x y":"1"})", Addr()});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(absl::StrContains(r.err, "--metadata: metadata key \"x y\"")) << r.err;
  // So is a key gRPC keeps for itself, which gRPC dropped without a word:
  // the call was OK and the server saw no grpc-timeout.
  r = Cli({"call", "handoff.v1.Gateway.Echo", "-d", "{}", R"(--metadata={"grpc-timeout":"1S"})",
           Addr()});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_EQ(r.out, "");
  EXPECT_TRUE(absl::StrContains(
      r.err, "--metadata: metadata key \"grpc-timeout\" is gRPC's own: gRPC sets it from the "
             "call's deadline and drops this one; use --timeout"))
      << r.err;
  r = Cli({"list", "--reflect_metadata=[1]", Addr()});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(absl::StrContains(r.err, "--reflect_metadata: want a JSON object")) << r.err;

  // A server whose reflection wants a token: --metadata does not carry it
  // to reflection, --reflect_metadata does.
  auto guarded = StartFake({"--reflection_token=open-sesame"});
  ASSERT_TRUE(guarded.ok()) << guarded.status();
  const std::string addr = "--addr=" + guarded->address;
  const std::string token = R"({"x-reflection-token":"open-sesame"})";
  ExpectOneLineError(
      Cli({"call", "handoff.v1.Gateway.Echo", "-d", "{}", "--metadata=" + token, addr}),
      "server reflection failed");
  r = Cli({"call", "handoff.v1.Gateway.Echo", "-d", "{}", "--reflect_metadata=" + token, addr});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "{}\n");
  r = Cli({"list", "handoff.v1.Gateway", "--reflect_metadata=" + token, addr});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(absl::StartsWith(r.out, "handoff.v1.Gateway\n")) << r.out;
  // Its health check wants a token of its own, which --metadata carries.
  ExpectOneLineError(Cli({"health", addr}), "health check of");
  r = Cli({"health", R"(--metadata={"x-health-token":"open-sesame"})", addr});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "SERVING\n");
}

// --verbose says the server sent no headers, or no trailers, rather than
// nothing at all: grpcurl's -v prints its sections "(empty)" too, and
// silence could not be told from a --verbose that did nothing.
// --user_agent goes before gRPC's own user-agent, as grpcurl's -user-agent
// goes before grpc-go's, on the call and on the reflection and health
// calls alike; the fake echoes the user-agent the call came with. The flag
// was not there: Abseil's "Unknown command line flag", or, in grpcurl's
// spelling, "handoff has no such flag".
TEST_F(CliTest, UserAgentGoesBeforeGrpcsOwn) {
  // The reply's payload, the user-agent the fake received, decoded.
  const auto user_agent = [](const std::vector<std::string>& flags) {
    std::vector<std::string> args = {"call", "handoff.v1.Gateway.Echo", "-d",
                                     R"({"payload":"aGVhZGVyOnVzZXItYWdlbnQ="})", Addr()};
    args.insert(args.end(), flags.begin(), flags.end());
    const ProcessResult r = Cli(args);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    google::protobuf::Struct reply;
    EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(r.out, &reply).ok()) << r.out;
    std::string decoded;
    const auto payload = reply.fields().find("payload");
    if (payload == reply.fields().end()) return std::string("(no payload)");
    EXPECT_TRUE(absl::Base64Unescape(payload->second.string_value(), &decoded)) << r.out;
    return decoded;
  };
  const std::string own = user_agent({});
  EXPECT_TRUE(absl::StartsWith(own, "grpc-c++/")) << own;
  EXPECT_EQ(user_agent({"--user_agent=my-script/1.2"}), "my-script/1.2 " + own);
  for (const char* command : {"list", "health"}) {
    const ProcessResult r = Cli({command, "--user_agent=my-script/1.2", Addr()});
    EXPECT_EQ(r.exit_code, 0) << command << ": " << r.err;
  }
  ExpectUsageError({"list", "-user-agent=x"}, "-user-agent is grpcurl's; handoff's is --user_agent");
}

TEST_F(CliTest, VerboseSaysSoWhenTheServerSentNoHeadersOrTrailers) {
  auto r = Cli({"call", "handoff.v1.Gateway.Echo", "-d", R"({"payload":"aGk="})", "--verbose",
                Addr()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "{\"payload\":\"aGk=\"}\n");
  EXPECT_TRUE(absl::StrContains(
      r.err, "handoff: response headers: (empty)\nhandoff: response trailers: (empty)\n"))
      << r.err;
  // Once there are some, each is a line of its own, and "(empty)" is not.
  r = Cli({"call", "handoff.v1.Gateway.Echo", "-d", R"({"payload":"aGVhZGVyOngtdGFn"})",
           R"(--metadata={"x-tag":"hello"})", "--verbose", Addr()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_FALSE(absl::StrContains(r.err, "(empty)")) << r.err;
}

// --verbose says a stream's headers when they come, before its replies,
// as grpcurl prints them (its OnReceiveHeaders comes before the first
// OnReceiveResponse): they were said once the call was over, after the
// line for a reply that could not be printed.
TEST_F(CliTest, VerboseSaysAStreamsHeadersBeforeItsReplies) {
  const std::string proto = UnprintableReplyProto("verbose_order");
  auto r = Cli({"call", "handoff.v1.Gateway.Stream", "--proto=" + proto, "--verbose", "-d",
                R"([{"payload":"YQ=="},{"payload":"/w=="},{"payload":"Yg=="}])", Addr()});
  std::remove(proto.c_str());
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_EQ(r.out, "{\"payload\":\"a\"}\n{\"payload\":\"b\"}\n");
  const size_t headers = r.err.find("handoff: response headers: (empty)\n");
  const size_t reply = r.err.find("DATA_LOSS: reply 2:");
  const size_t trailers = r.err.find("handoff: response trailers: (empty)\n");
  ASSERT_NE(headers, std::string::npos) << r.err;
  ASSERT_NE(reply, std::string::npos) << r.err;
  ASSERT_NE(trailers, std::string::npos) << r.err;
  EXPECT_LT(headers, reply) << r.err;
  EXPECT_LT(reply, trailers) << r.err;
}

// --verbose names the method it resolved, as .proto source, first, as
// grpcurl's -v prints "Resolved method descriptor:": a user could not see
// which method (and which types) a --proto or reflection gave the call.
TEST_F(CliTest, VerboseShowsTheResolvedMethodAsGrpcurlDoes) {
  auto r = Cli({"call", "handoff.v1.Gateway.Echo", "-d", "{}", "--verbose", Addr()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(absl::StartsWith(r.err,
                               "handoff: resolved method descriptor: rpc Echo ( "
                               ".handoff.v1.EchoRequest ) returns ( .handoff.v1.EchoReply );\n"))
      << r.err;
}

// --verbose shows the metadata the call sends, before what came back, as
// grpcurl's -v prints "Request metadata to send:" ("(empty)" for none):
// it showed only what the server sent.
TEST_F(CliTest, VerboseShowsTheRequestMetadataAsGrpcurlDoes) {
  auto r = Cli({"call", "handoff.v1.Gateway.Echo", "-d", "{}", "--verbose",
                R"(--metadata={"x-tag":"hello","x-other":"2"})", Addr()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const size_t tag = r.err.find("handoff: request header: x-tag: hello\n");
  const size_t other = r.err.find("handoff: request header: x-other: 2\n");
  const size_t response = r.err.find("handoff: response headers: (empty)\n");
  ASSERT_NE(tag, std::string::npos) << r.err;
  ASSERT_NE(other, std::string::npos) << r.err;
  ASSERT_NE(response, std::string::npos) << r.err;
  EXPECT_LT(tag, response) << r.err;
  EXPECT_LT(other, response) << r.err;
  r = Cli({"call", "handoff.v1.Gateway.Echo", "-d", "{}", "--verbose", Addr()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(absl::StrContains(r.err, "handoff: request headers: (empty)\n")) << r.err;
}

// --verbose ends with how many requests went and replies came, as
// grpcurl's -v ends with "Sent 1 request and received 1 response", before
// a failed call's status: on a stream that ends early, the count is what
// tells the user how far it got.
TEST_F(CliTest, VerboseCountsTheRequestsSentAndTheRepliesReceivedAsGrpcurlDoes) {
  auto r = Cli({"call", "handoff.v1.Gateway.Echo", "-d", "{}", "--verbose", Addr()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(absl::EndsWith(r.err, "handoff: response trailers: (empty)\n"
                                    "handoff: sent 1 request and received 1 response\n"))
      << r.err;
  r = Cli({"call", "handoff.v1.Gateway.Stream", "-d",
           R"({"payload":"YQ=="} {"payload":"Yg=="} {"payload":"Yw=="})", "--verbose", Addr()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(absl::EndsWith(r.err, "handoff: sent 3 requests and received 3 responses\n"))
      << r.err;
  // No request at all on a stream: none went, none came.
  r = Cli({"call", "handoff.v1.Gateway.Stream", "--verbose", Addr()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(absl::EndsWith(r.err, "handoff: sent 0 requests and received 0 responses\n"))
      << r.err;
  // A failed call: the count, then its status.
  r = Cli({"call", "handoff.v1.Gateway.Stream", "-d",
           R"({"payload":"YQ=="} {"payload":"c3RhdHVzOjM6YmFk"})", "--verbose", Addr()});
  EXPECT_EQ(r.exit_code, 64 + 3) << r.err;
  EXPECT_TRUE(absl::EndsWith(r.err, "handoff: sent 2 requests and received 1 response\n"
                                    "handoff: handoff.v1.Gateway.Stream: INVALID_ARGUMENT: bad\n"))
      << r.err;
}

// --verbose says a stream's headers the moment they come, as grpcurl's -v
// does (it waits on the stream's headers before its first reply): they
// were said only with the first reply, or at the call's end, so a stream
// whose first reply was long in coming showed nothing of them meanwhile.
TEST_F(CliTest, VerboseSaysAStreamsHeadersBeforeItsFirstReplyComes) {
  // The fake answers "hold" ("aG9sZA==") with its headers and nothing more
  // until the call is cancelled.
  auto cli = testing::Process::Start({HANDOFF_CLI, "call", "handoff.v1.Gateway.Stream", "-d",
                                      R"({"payload":"aG9sZA=="})", "--verbose", "--timeout=0", Addr()});
  ASSERT_TRUE(cli.ok()) << cli.status();
  // No deadline: the call ends only when the test stops it.
  auto err = cli->WaitForStderr("handoff: response header: x-held: yes\n", absl::Seconds(15));
  EXPECT_TRUE(err.ok()) << err.status();
  cli->Stop();
}

// --engine h2 with an option that engine cannot honour is a pair of flags
// that do not go together: exit 2, naming the option, as ghz-style flag
// errors are (it was 1, as if the server had failed). The other engine, or
// auto, makes the same run.
TEST_F(CliTest, LoadEngineH2WithWhatItCannotDoIsAUsageError) {
  ProcessResult r = Cli({"load", "--insecure", "--call", "handoff.v1.Gateway.Echo", "--engine", "h2",
                     "-e", "-n", "1", *addr_});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_EQ(r.err, "handoff: --engine=h2 cannot make this run's calls: it sends no compressed "
                   "message (-e)\n");
  r = Cli({"load", "--insecure", "--call", "handoff.v1.Gateway.Stream", "--engine", "h2",
           "-n", "1", *addr_});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_TRUE(absl::StrContains(r.err, "it makes unary calls only")) << r.err;
  r = Cli({"load", "--insecure", "--call", "handoff.v1.Gateway.Echo", "--engine", "h2",
           "-n", "1", *addr_});
  EXPECT_EQ(r.exit_code, 0) << r.err;
}

// Whether the --debug log at `path` has logged `msg` yet.
bool Logged(const std::string& path, absl::string_view msg) {
  std::ifstream in(path);
  const std::string text((std::istreambuf_iterator<char>(in)), {});
  return absl::StrContains(text, absl::StrCat("\"msg\":\"", msg, "\""));
}

// Ctrl-C ends a run early, as in ghz: the calls made so far are reported,
// with endReason "cancel", and the exit is 0. On both engines, with a call
// slot still to open 5 minutes in (a step schedule), which the interrupt
// must wake: a -z 5m run that ended only at its time fails the 30 s bounds.
TEST_F(CliTest, LoadInterruptedReportsTheCallsMadeSoFar) {
  for (const char* engine : {"h2", "grpc"}) {
    SCOPED_TRACE(engine);
    const std::string path = TempPath("interrupted.log");
    std::remove(path.c_str());  // a failed pass's (--gtest_repeat), which says "connected"
    auto load = Process::Start(
        {HANDOFF_CLI, "load", "--insecure", "--call", "handoff.v1.Gateway.Echo", "--engine",
         engine, "-z", "5m", "--concurrency-schedule", "step", "--concurrency-start", "1",
         "--concurrency-end", "2", "--concurrency-step-duration", "5m", "--format", "json",
         "--debug", path, *addr_});
    ASSERT_TRUE(load.ok()) << load.status();
    ASSERT_TRUE(WaitUntil([&] { return Logged(path, "connected"); }));
    ASSERT_GT(load->pid(), 0);  // kill(-1, ...) would signal every process
    ASSERT_EQ(kill(load->pid(), SIGINT), 0);
    auto said = load->WaitForStderr("interrupted: ending the run", absl::Seconds(30));
    EXPECT_TRUE(said.ok()) << said.status();
    auto line = load->ReadLine(absl::Seconds(30));
    ASSERT_TRUE(line.ok()) << line.status();
    google::protobuf::Struct report;
    ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(*line, &report).ok()) << *line;
    EXPECT_EQ(report.fields().at("endReason").string_value(), "cancel");
    EXPECT_LT(report.fields().at("total").number_value(), 60e9);
    EXPECT_EQ(load->Wait(absl::Seconds(30)), 0);
    EXPECT_TRUE(Logged(path, "run done"));
    std::remove(path.c_str());
  }
}

// Ctrl-C while the run still connects (to a listener that never speaks
// HTTP/2, with a --connect-timeout of 5 minutes) ends it as ghz's ends: the
// report of a run of no calls, endReason "cancel", exit 0; it killed the
// process, by the signal's default, with no report. On both engines; the
// signal goes once the listener holds the run's connection.
TEST_F(CliTest, LoadInterruptedWhileConnectingWritesTheEmptyReport) {
  const std::string proto = StringEchoProto("connecting");
  for (const char* engine : {"h2", "grpc"}) {
    SCOPED_TRACE(engine);
    SilentListener silent;
    auto load = Process::Start({HANDOFF_CLI, "load", "--insecure", "--proto", proto, "--call",
                                "handoff.v1.Gateway.Echo", "-d", R"({"payload":"hi"})",
                                "--engine", engine, "--connect-timeout", "5m", "-n", "1", "-c",
                                "1", "--format", "json", silent.address()});
    ASSERT_TRUE(load.ok()) << load.status();
    ASSERT_TRUE(silent.Connected(absl::Seconds(30)));
    ASSERT_GT(load->pid(), 0);  // kill(-1, ...) would signal every process
    ASSERT_EQ(kill(load->pid(), SIGINT), 0);
    auto line = load->ReadLine(absl::Seconds(30));
    ASSERT_TRUE(line.ok()) << line.status();
    google::protobuf::Struct report;
    ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(*line, &report).ok()) << *line;
    EXPECT_EQ(report.fields().at("endReason").string_value(), "cancel");
    EXPECT_EQ(report.fields().at("count").number_value(), 0);
    EXPECT_EQ(report.fields().at("total").number_value(), 0);
    EXPECT_EQ(load->Wait(absl::Seconds(30)), 0);
  }
  std::remove(proto.c_str());
}

// A second interrupt quits at once, for a run whose calls will not end: a
// Work of ten minutes, waited for (--duration-stop wait) after the first.
// Against a fake of its own, which says when the Work has reached it.
TEST_F(CliTest, LoadInterruptedTwiceQuitsAtOnce) {
  auto fake = StartFake();
  ASSERT_TRUE(fake.ok()) << fake.status();
  auto load = Process::Start({HANDOFF_CLI, "load", "--insecure", "--call",
                              "handoff.v1.Gateway.Work", "-d", R"({"sleep_us":600000000})",
                              "-z", "5m", "-t", "15m", "-c", "1", "--duration-stop", "wait",
                              fake->address});
  ASSERT_TRUE(load.ok()) << load.status();
  auto started = fake->process.ReadLine(absl::Seconds(30));
  ASSERT_TRUE(started.ok()) << started.status();
  ASSERT_EQ(*started, "work started");
  // The pid is checked before each signal: kill(-1, ...) would signal every
  // process the test may signal.
  ASSERT_GT(load->pid(), 0);
  ASSERT_EQ(kill(load->pid(), SIGINT), 0);
  auto said = load->WaitForStderr("interrupted: ending the run", absl::Seconds(30));
  ASSERT_TRUE(said.ok()) << said.status();
  // The run waits for its Work: no report comes.
  auto report = load->ReadLine(absl::Milliseconds(300));
  ASSERT_TRUE(absl::IsDeadlineExceeded(report.status())) << report.status();
  ASSERT_GT(load->pid(), 0);
  ASSERT_EQ(kill(load->pid(), SIGINT), 0);
  EXPECT_EQ(load->Wait(absl::Seconds(30)), 128 + SIGINT);
}

// Ctrl-C ends `handoff call` at once, by the signal's default action (a
// shell reports 130): a call has no report to give, unlike load's run.
TEST_F(CliTest, CallInterruptedEndsAtOnceByTheSignal) {
  auto fake = StartFake();
  ASSERT_TRUE(fake.ok()) << fake.status();
  auto call = Process::Start({HANDOFF_CLI, "call", "handoff.v1.Gateway.Work", "-d",
                              R"({"sleep_us":600000000})", "--timeout=0",
                              "--addr=" + fake->address});
  ASSERT_TRUE(call.ok()) << call.status();
  auto started = fake->process.ReadLine(absl::Seconds(30));
  ASSERT_TRUE(started.ok()) << started.status();
  ASSERT_EQ(*started, "work started");
  ASSERT_GT(call->pid(), 0);  // kill(-1, ...) would signal every process
  ASSERT_EQ(kill(call->pid(), SIGINT), 0);
  EXPECT_EQ(call->Wait(absl::Seconds(30)), 128 + SIGINT);
}

TEST_F(CliTest, LoadDebugLogsWhatTheRunDecidedAsJsonLines) {
  const std::string path = TempPath("debug.log");
  auto r = Cli({"load", "--insecure", "--call", "handoff.v1.Gateway.Echo", "-n", "7", "-c",
                "1", "--debug", path, *addr_});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::ifstream in(path);
  std::vector<std::string> messages;
  std::string line;
  google::protobuf::Struct last;
  while (std::getline(in, line)) {
    google::protobuf::Struct event;
    ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(line, &event).ok()) << line;
    EXPECT_EQ(event.fields().at("level").string_value(), "debug") << line;
    EXPECT_GT(event.fields().at("ts").number_value(), 1.7e9) << line;
    messages.push_back(event.fields().at("msg").string_value());
    last = event;
  }
  EXPECT_EQ(messages, (std::vector<std::string>{"options parsed", "requests prepared",
                                                "connecting", "connected", "run done"}));
  EXPECT_EQ(last.fields().at("calls").number_value(), 7);
  EXPECT_EQ(last.fields().at("endReason").string_value(), "normal");
  std::remove(path.c_str());

  ExpectOneLineError(Cli({"load", "--insecure", "--call", "handoff.v1.Gateway.Echo", "-n", "1",
                          "-c", "1", "--debug", "/nonexistent/dir/debug.log", *addr_}),
                     "--debug: cannot write /nonexistent/dir/debug.log");
}

// A report that cannot be written (a full disk: /dev/full) fails the run,
// naming where it went. The summary, under the stream's buffer, failed only
// when the stream was flushed, after the check: exit 0, the report lost.
// On stdout the exit was 1, with nothing said.
TEST_F(CliTest, LoadReportThatCannotBeWrittenIsAOneLineErrorNamingWhere) {
  if (access("/dev/full", W_OK) != 0) GTEST_SKIP() << "no /dev/full";
  for (const char* format : {"summary", "csv", "json"}) {
    ExpectOneLineError(Cli({"load", "--insecure", "--call", "handoff.v1.Gateway.Echo", "-n", "2",
                            "-c", "1", "-O", format, "-o", "/dev/full", *addr_}),
                       "-o: UNAVAILABLE: cannot write /dev/full: No space left on device");
  }
  const ProcessResult r = testing::Run(
      {"/bin/sh", "-c",
       absl::StrCat("exec \"$0\" load --insecure --call handoff.v1.Gateway.Echo -n 2 -c 1 ",
                    *addr_, " > /dev/full"),
       HANDOFF_CLI});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err,
            "handoff: load: UNAVAILABLE: cannot write the report to stdout: No space left on "
            "device\n");
}

// call, list and health whose output cannot be written (a full disk) fail
// naming stdout, as load does for its report. They printed into a stream
// whose write had failed and exited 0, the reply lost without a word.
TEST_F(CliTest, CallListAndHealthThatCannotWriteToStdoutFailNamingIt) {
  if (access("/dev/full", W_OK) != 0) GTEST_SKIP() << "no /dev/full";
  const std::string addr = Addr();
  for (const auto& [command, needle] : std::vector<std::pair<std::string, std::string>>{
           {R"(call handoff.v1.Gateway.Echo -d '{"payload":"aGk="}')",
            "handoff: call: UNAVAILABLE: cannot write the reply to stdout: No space left on "
            "device\n"},
           {R"(call handoff.v1.Gateway.Stream -d '[{"payload":"YQ=="},{"payload":"Yg=="}]')",
            "handoff: call: UNAVAILABLE: cannot write the reply to stdout: No space left on "
            "device\n"},
           {"list", "handoff: list: UNAVAILABLE: cannot write the listing to stdout: No space "
                    "left on device\n"},
           {"health", "handoff: health: UNAVAILABLE: cannot write the status to stdout: No space "
                      "left on device\n"}}) {
    const ProcessResult r = testing::Run(
        {"/bin/sh", "-c", absl::StrCat("exec \"$0\" ", command, " ", addr, " > /dev/full"),
         HANDOFF_CLI});
    EXPECT_EQ(r.exit_code, 1) << command;
    EXPECT_EQ(r.err, needle) << command;
  }
}

// Standard input can be read once: two flags that both name it are bad
// usage naming them. The second got nothing, and failed as though its
// input were wrong: `--cert=- --key=-` with both on stdin said "--key:
// 'stdin' holds no PEM private key".
TEST_F(CliTest, TwoFlagsThatBothReadStdinAreAUsageErrorNamingThem) {
  for (const auto& [args, needle] :
       std::vector<std::pair<std::vector<std::string>, std::string>>{
           {{"health", "--cert=-", "--key=-"}, "--cert and --key both read stdin"},
           {{"call", "handoff.v1.Gateway.Echo", "-d", "@-", "--cacert=-"},
            "-d and --cacert both read stdin"},
           {{"call", "handoff.v1.Gateway.Echo", "--data=@-", "--cacert=-", "--cert=-",
             "--key=k"},
            "-d, --cacert and --cert all read stdin"}}) {
    std::vector<std::string> argv = args;
    argv.push_back(Addr());
    const ProcessResult r = Cli(argv);
    EXPECT_EQ(r.exit_code, 2) << args[0] << ": " << r.err;
    EXPECT_EQ(r.out, "");
    EXPECT_EQ(r.err, absl::StrCat("handoff: ", needle, "; stdin can be read once\n"));
  }
}

// Flags written before `load` went to the CLI's own parser, which said
// "Unknown command line flag" (or, for --tls, "unknown command 'load'"):
// load reads its flags after it, and the error says so, naming them.
TEST_F(CliTest, FlagsBeforeLoadAreAUsageErrorNamingThem) {
  for (const auto& [args, named] :
       std::vector<std::pair<std::vector<std::string>, std::string>>{
           {{"--tls", "load", "127.0.0.1:1", "--call", "handoff.v1.Gateway.Echo"}, "--tls"},
           {{"-c", "5", "load", "127.0.0.1:1", "--call", "handoff.v1.Gateway.Echo"}, "-c 5"},
           {{"--timeout=1s", "-n", "3", "load", "127.0.0.1:1"}, "--timeout=1s -n 3"}}) {
    const ProcessResult r = Cli(args);
    EXPECT_EQ(r.exit_code, 2) << args[0] << ": " << r.err;
    EXPECT_EQ(r.out, "");
    EXPECT_EQ(r.err, absl::StrCat("handoff: load takes its flags after it: handoff load "
                                  "HOST:PORT [flags] (see handoff load --help); ",
                                  named, " came before it\n"));
  }
  // A value that reads "load" is no command: -d's here.
  const ProcessResult r = Cli({"-d", "load", "list", Addr()});
  EXPECT_EQ(r.err, "handoff: -d does not apply to list (only to call)\n");
}

// `handoff --help load` asks for load's help: it was the usage error "load
// takes its flags after it; --help came before it", exit 2. It is what
// `handoff load --help` prints, and what follows load is still checked.
TEST_F(CliTest, HelpBeforeLoadPrintsLoadsHelp) {
  const ProcessResult load_help = Cli({"load", "--help"});
  ASSERT_EQ(load_help.exit_code, 0) << load_help.err;
  for (const std::vector<std::string>& args :
       std::vector<std::vector<std::string>>{{"--help", "load"},
                                             {"-h", "load"},
                                             {"-help", "load", "127.0.0.1:1"},
                                             {"--helpfull", "load", "127.0.0.1:1", "-c", "5"}}) {
    const ProcessResult r = Cli(args);
    EXPECT_EQ(r.exit_code, 0) << args[0] << ": " << r.err;
    EXPECT_EQ(r.err, "") << args[0];
    EXPECT_EQ(r.out, load_help.out) << args[0];
  }
  const ProcessResult bad = Cli({"--help", "load", "-c", "x"});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_EQ(bad.err, Cli({"load", "-c", "x", "--help"}).err);
  // Another flag beside the help one is still written before load.
  EXPECT_EQ(Cli({"--help", "--tls", "load"}).exit_code, 2);
}

// A flag of load's given to call, list or health was Abseil's "Unknown
// command line flag 'c'", exit 1: it is bad usage, naming the command whose
// flag it is.
TEST_F(CliTest, ALoadFlagGivenToAnotherCommandIsAUsageErrorNamingLoad) {
  for (const auto& [args, message] :
       std::vector<std::pair<std::vector<std::string>, std::string>>{
           {{"call", "handoff.v1.Gateway.Echo", "-c", "50"}, "-c is a flag of load, not of call"},
           {{"call", "-c50", "handoff.v1.Gateway.Echo"}, "-c is a flag of load, not of call"},
           {{"list", "--concurrency", "5"}, "--concurrency is a flag of load, not of list"},
           {{"health", "-n", "3"}, "-n is a flag of load, not of health"},
           {{"health", "--total=3"}, "--total is a flag of load, not of health"},
           {{"--rps", "10", "list"}, "--rps is a flag of load, not of list"},
           // describe, added after this check, was left out of it: Abseil's
           // "Unknown command line flag 'c'", exit 1.
           {{"describe", "-c", "5", "handoff.v1.Gateway"}, "-c is a flag of load, not of describe"},
           {{"describe", "--concurrency=5"}, "--concurrency is a flag of load, not of describe"},
           {{"call", "handoff.v1.Gateway.Echo", "-z", "1s"}, "-z is a flag of load, not of call"},
           // grpcurl's too, where it means --skipTLS: named as both.
           {{"list", "--insecure"},
            "-insecure is grpcurl's; handoff's is --skipTLS (load's --insecure is plaintext, "
            "these commands' default)"},
           {{"call", "handoff.v1.Gateway.Echo", "--import-paths=a"},
            "--import-paths is a flag of load, not of call (call's is --import_paths)"}}) {
    ExpectUsageError(args, message);
  }
  // A flag neither knows stays Abseil's error.
  EXPECT_EQ(Cli({"list", "--no_such_flag", Addr()}).exit_code, 1);
}

// A --flagfile's lines were not checked as the command line is: a flag of
// load's in one given to call, list or health was Abseil's "Unknown command
// line flag 'c'", and a help flag Abseil's help, exit 1 both. They are the
// command line's usage error, exit 2, naming the file and its line, in a
// file a --flagfile line names too.
TEST_F(CliTest, ALoadOrHelpFlagInAFlagfileIsAUsageErrorNamingTheFile) {
  const std::string c = TempPath("load_c.flags");
  std::ofstream(c) << "# a flag of load's\n\n--tls=false\n  -c=5\n";
  const std::string concurrency = TempPath("load_concurrency.flags");
  std::ofstream(concurrency) << "--concurrency=5\n";
  const std::string nested = TempPath("load_nested.flags");
  std::ofstream(nested) << "--timeout=1s\n--flagfile=" << c << "\n";
  const std::string help = TempPath("help.flags");
  std::ofstream(help) << "--timeout=1s\n--help\n";
  for (const auto& [args, message] :
       std::vector<std::pair<std::vector<std::string>, std::string>>{
           {{"list", "--flagfile=" + c}, c + ":4: -c is a flag of load, not of list"},
           {{"health", "--flagfile", c}, c + ":4: -c is a flag of load, not of health"},
           {{"list", "--flagfile=" + concurrency},
            concurrency + ":1: --concurrency is a flag of load, not of list"},
           {{"call", "handoff.v1.Gateway.Echo", "--flagfile=" + nested},
            c + ":4: -c is a flag of load, not of call"},
           {{"list", "--flagfile=" + help},
            help + ":2: --help cannot be in a flagfile; ask for help on the command line"}}) {
    ExpectUsageError(args, message);
  }
  // A file that cannot be read stays Abseil's error.
  EXPECT_EQ(Cli({"list", "--flagfile=" + TempPath("no_such.flags"), Addr()}).exit_code, 1);
  for (const std::string& file : {c, concurrency, nested, help}) std::remove(file.c_str());
}

// A grpcurl flag in a --flagfile is named as on the command line, after the
// file and line: load's check of the file's lines read -connect-timeout=3 as
// its -c ("f:2: -c is a flag of load, not of list"), and Abseil's parser
// said "Unknown command line flag 'plaintext'", exit 1, naming no file.
TEST_F(CliTest, AGrpcurlFlagInAFlagfileIsNamedAfterTheFile) {
  const std::string connect = TempPath("grpcurl_connect.flags");
  std::ofstream(connect) << "# grpcurl's\n--timeout=1s\n-connect-timeout=3\n";
  const std::string plaintext = TempPath("grpcurl_plaintext.flags");
  std::ofstream(plaintext) << "-plaintext\n";
  const std::string nested = TempPath("grpcurl_nested.flags");
  std::ofstream(nested) << "--flagfile=" << connect << "\n";
  for (const auto& [args, message] :
       std::vector<std::pair<std::vector<std::string>, std::string>>{
           {{"list", "--flagfile=" + connect},
            connect + ":3: -connect-timeout is grpcurl's; handoff's is --connect_timeout"},
           {{"describe", "--flagfile", plaintext},
            plaintext + ":1: -plaintext is grpcurl's; handoff speaks plaintext unless given --tls, "
                   "--cacert, --cert or --skipTLS"},
           {{"call", "handoff.v1.Gateway.Echo", "--flagfile=" + nested, "-d", "{}"},
            connect + ":3: -connect-timeout is grpcurl's; handoff's is --connect_timeout"}}) {
    ExpectUsageError(args, message);
  }
  for (const std::string& file : {connect, plaintext, nested}) std::remove(file.c_str());
}

// A flag given to a command it does not apply to is bad usage naming both,
// where it was ignored without a word (`list --pretty` printed the list as
// ever). A value equal to the default counts: the user still asked for it.
TEST_F(CliTest, AFlagGivenToACommandItDoesNotApplyToIsAUsageErrorNamingBoth) {
  const std::string flagfile = TempPath("pretty.flags");
  std::ofstream(flagfile) << "--pretty\n";
  for (const auto& [args, message] :
       std::vector<std::pair<std::vector<std::string>, std::string>>{
           {{"list", "--pretty"}, "--pretty does not apply to list (only to call)"},
           {{"health", "--pretty=false"}, "--pretty does not apply to health (only to call)"},
           {{"health", "-d", "{}"}, "-d does not apply to health (only to call)"},
           {{"list", "--data={}"}, "--data does not apply to list (only to call)"},
           {{"health", "--proto=x.proto"},
            "--proto does not apply to health (only to call and describe)"},
           {{"list", "--import_paths=a"},
            "--import_paths does not apply to list (only to call and describe)"},
           {{"health", "--protoset=x.pb"},
            "--protoset does not apply to health (only to call and describe)"},
           {{"list", "--verbose"}, "--verbose does not apply to list (only to call)"},
           {{"list", R"(--metadata={"a":"b"})"},
            "--metadata does not apply to list (only to call and health)"},
           {{"health", R"(--reflect_metadata={"a":"b"})"},
            "--reflect_metadata does not apply to health (only to call, list and describe)"},
           // A flagfile's flags are given as the command line's are.
           {{"list", "--flagfile=" + flagfile},
            "--pretty does not apply to list (only to call)"}}) {
    std::vector<std::string> argv = args;
    argv.push_back(Addr());
    const ProcessResult r = Cli(argv);
    EXPECT_EQ(r.exit_code, 2) << args[1] << ": " << r.err;
    EXPECT_EQ(r.out, "");
    EXPECT_EQ(r.err, absl::StrCat("handoff: ", message, "\n"));
  }
  std::remove(flagfile.c_str());
  // Flags that apply to several commands are taken by each of them.
  ProcessResult r = Cli({"health", R"(--metadata={"a":"b"})", "--wait_for_ready",
                         "--timeout=20s", Addr()});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  r = Cli({"list", R"(--reflect_metadata={"a":"b"})", "--wait_for_ready", "--timeout=20s",
           Addr()});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  r = Cli({"call", "handoff.v1.Gateway.Echo", "--data={}", "--pretty", "--verbose",
           R"(--metadata={"a":"b"})", R"(--reflect_metadata={"a":"b"})", "--wait_for_ready",
           "--timeout=20s", Addr()});
  EXPECT_EQ(r.exit_code, 0) << r.err;
}

TEST_F(CliTest, VersionNamesTheProgramAndItsVersion) {
  auto load = Cli({"load", "--version"});
  EXPECT_EQ(load.exit_code, 0) << load.err;
  EXPECT_TRUE(absl::StartsWith(load.out, "handoff load 0.")) << load.out;
  auto cli = Cli({"--version"});
  EXPECT_EQ(cli.exit_code, 0) << cli.err;
  EXPECT_TRUE(absl::StartsWith(cli.out, "handoff 0.")) << cli.out;
  EXPECT_FALSE(absl::StrContains(cli.out, "Debug build")) << cli.out;
}

// A directory where a file was wanted is a one-line error naming it. The
// CLI read each with std::ifstream, which opened the directory and then
// threw from the read: it aborted (SIGABRT, exit 134).
TEST_F(CliTest, ADirectoryWhereAFileWasWantedIsAOneLineErrorNamingIt) {
  const std::string dir = ::testing::TempDir();
  const std::string needle = "cannot read " + dir + ": Is a directory";
  ExpectOneLineError(Cli({"call", "handoff.v1.Gateway.Echo", "-d", "@" + dir, Addr()}), needle);
  // Read before any server is asked: not UNAVAILABLE for a server that is
  // not there.
  ExpectOneLineError(
      Cli({"call", "handoff.v1.Gateway.Echo", "-d", "@" + dir, "--addr=127.0.0.1:1"}), needle);
  ExpectOneLineError(Cli({"health", "--cacert", dir, Addr()}), "--cacert: " + needle);
  ExpectOneLineError(Cli({"health", "--tls", "--cert", dir, "--key", dir, Addr()}),
                     "--cert: " + needle);
  for (const std::vector<std::string>& flags : {std::vector<std::string>{"-D", dir},
                                                std::vector<std::string>{"-M", dir},
                                                std::vector<std::string>{"--config", dir}}) {
    std::vector<std::string> args = {"load", "--insecure", "--call", "handoff.v1.Gateway.Echo",
                                     "-n", "1", "-c", "1"};
    args.insert(args.end(), flags.begin(), flags.end());
    args.push_back(*addr_);
    const ProcessResult r = Cli(args);
    EXPECT_TRUE(r.exit_code == 1 || r.exit_code == 2) << flags[0] << ": " << r.exit_code;
    EXPECT_TRUE(absl::StrContains(r.err, needle)) << flags[0] << ": " << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  }
}

// A file that is no PEM of the kind its flag needs is named by its flag.
// gRPC, given it, said only "UNAVAILABLE: empty address list".
TEST_F(CliTest, ACertificateOrKeyFileThatIsNoPemIsNamedByItsFlag) {
  const std::string garbage = TempPath("garbage.pem");
  std::ofstream(garbage) << "garbage\n";
  ExpectOneLineError(Cli({"health", "--cacert", garbage, Addr()}),
                     "--cacert: '" + garbage + "' holds no PEM certificate");
  ExpectOneLineError(Cli({"health", "--tls", "--cert", garbage, "--key", garbage, Addr()}),
                     "--cert: '" + garbage + "' holds no PEM certificate");
  // "-" is stdin, as for -d @-, and is checked the same way.
  ExpectOneLineError(
      testing::Run({HANDOFF_CLI, "health", "--cacert=-", Addr()}, absl::Seconds(60),
                   "garbage\n"),
      "--cacert: 'stdin' holds no PEM certificate");
  std::remove(garbage.c_str());
}

TEST_F(CliTest, LoadNamesAProtoFileThatIsNotThere) {
  ExpectOneLineError(Cli({"load", "--insecure", "--proto", "/nonexistent/api.proto", "--call",
                          "handoff.v1.Gateway.Echo", "-n", "5", "-c", "1", *addr_}),
                     "--proto: no such file: /nonexistent/api.proto");
}

}  // namespace
}  // namespace handoff::testing
