// Copyright 2026 The handoff Authors.
//
// handoffd's command line and environment, against the real binary: a bad
// value exits non-zero naming the flag; HANDOFF_<FLAG> sets a flag; the
// command line wins over the environment.

#include <sys/resource.h>
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <cstdio>
#include <fstream>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "tests/integration/server/handoffd_process.h"
#include "tests/integration/server/http_get.h"

namespace handoff::testing {
namespace {

void ExpectRejected(std::vector<std::string> flags,
                    std::vector<std::string> env, const std::string& names) {
  HandoffdProcess p(std::move(flags), std::move(env));
  std::optional<int> code = p.Wait(absl::Seconds(10));
  ASSERT_TRUE(code.has_value()) << p.Output();
  EXPECT_NE(*code, 0);
  EXPECT_TRUE(absl::StrContains(p.Output(), names)) << p.Output();
}

// Waits for `p` to exit by itself and expects `want` as its status.
void ExpectExit(HandoffdProcess& p, int want) {
  std::optional<int> code = p.Wait(absl::Seconds(10));
  ASSERT_TRUE(code.has_value()) << p.Output();
  EXPECT_EQ(*code, want) << p.Output();
}

// Stops `p` as an orchestrator does, and expects it to drain and exit 0.
void ExpectCleanStop(HandoffdProcess& p) {
  p.Signal(SIGTERM);
  ExpectExit(p, 0);
}

TEST(CommandLineTest, UnparseableFlagExitsNamingIt) {
  ExpectRejected({"--workers=many"}, {}, "workers");
  ExpectRejected({"--default_deadline=soon"}, {}, "default_deadline");
  ExpectRejected({"--queue_policy=lifo"}, {}, "queue_policy");
}

// Abseil's own message for a duration names the flag and the value, and no
// more; the commonest slip, a number without its unit, is told its unit.
TEST(CommandLineTest, ADurationWithoutAUnitIsToldTheUnitItLacks) {
  HandoffdProcess flag({"--drain_timeout=30"});
  ExpectExit(flag, 1);
  EXPECT_TRUE(absl::StrContains(
      flag.Output(), "Illegal value '30' specified for flag 'drain_timeout'; "
                     "a duration needs a unit, as in 30s or 30ms"))
      << flag.Output();

  ExpectRejected({}, {"HANDOFF_DRAIN_TIMEOUT=30"},
                 "HANDOFF_DRAIN_TIMEOUT='30': invalid value for --drain_timeout: "
                 "Illegal value '30' specified for flag 'drain_timeout'; "
                 "a duration needs a unit, as in 30s or 30ms");
}

TEST(CommandLineTest, OutOfRangeFlagExitsNamingIt) {
  ExpectRejected({"--queue_depth=0"}, {}, "--queue_depth");
  ExpectRejected({"--workers=-2"}, {}, "--workers");
  ExpectRejected({"--default_deadline=5m", "--max_deadline=1m"}, {},
                 "--default_deadline");
}

// --check_config answers for a configuration without serving it, as
// `nginx -t` does: exit 0 and the configuration on one line, the
// environment's part included. It returns by itself, where a handoffd that
// served would wait for a signal.
TEST(CommandLineTest, CheckConfigSaysWhatItWouldRunAndServesNothing) {
  HandoffdProcess p({"--check_config", "--workers=3", "--queue_depth=7"},
                    {"HANDOFF_MAX_DEADLINE=45s"});
  ExpectExit(p, 0);
  EXPECT_TRUE(absl::StrContains(p.Output(), "handoffd: configuration OK: gRPC on "))
      << p.Output();
  EXPECT_TRUE(absl::StrContains(p.Output(), "3 workers, queue 7 (reject)")) << p.Output();
  EXPECT_TRUE(absl::StrContains(p.Output(), "and 45s at most")) << p.Output();
  EXPECT_FALSE(absl::StrContains(p.Output(), "serving gRPC")) << p.Output();
}

TEST(CommandLineTest, CheckConfigSaysOneWorkerInTheSingular) {
  HandoffdProcess p({"--check_config", "--workers=1"});
  ExpectExit(p, 0);
  EXPECT_TRUE(absl::StrContains(p.Output(), ", 1 worker, queue 256")) << p.Output();
}

// And refuses, exit 2, what handoffd would refuse at start: a value out of
// range (here from the environment), a TLS file it cannot read.
TEST(CommandLineTest, CheckConfigRefusesWhatHandoffdWouldRefuse) {
  HandoffdProcess env({"--check_config"}, {"HANDOFF_WORKERS=-3"});
  ExpectExit(env, 2);
  EXPECT_TRUE(absl::StrContains(env.Output(),
                                "HANDOFF_WORKERS=-3: --workers must be between 1 and 4096"))
      << env.Output();
  HandoffdProcess tls({"--check_config", "--tls_cert_file=/nonexistent/cert.pem",
                       "--tls_key_file=/nonexistent/key.pem"});
  ExpectExit(tls, 2);
  EXPECT_TRUE(absl::StrContains(tls.Output(), "--tls_cert_file")) << tls.Output();
  EXPECT_FALSE(absl::StrContains(tls.Output(), "configuration OK")) << tls.Output();
}

// Lines of a file; none if it cannot be read.
std::vector<std::string> FileLines(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

grpc::Status EchoAt(int port, const std::string& payload) {
  auto stub = v1::Gateway::NewStub(grpc::CreateChannel(
      absl::StrCat("127.0.0.1:", port), grpc::InsecureChannelCredentials()));
  grpc::ClientContext ctx;
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
  v1::EchoRequest req;
  req.set_payload(payload);
  v1::EchoReply reply;
  return stub->Echo(&ctx, req, &reply);
}

// `n` Echo calls with gzip-compressed requests, each refused while
// --compressed_requests is off.
void SendGzippedEchoes(int port, int n) {
  auto stub = v1::Gateway::NewStub(grpc::CreateChannel(
      absl::StrCat("127.0.0.1:", port), grpc::InsecureChannelCredentials()));
  for (int i = 0; i < n; ++i) {
    grpc::ClientContext ctx;
    ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
    ctx.set_compression_algorithm(GRPC_COMPRESS_GZIP);
    v1::EchoRequest req;
    req.set_payload("squeezed");
    v1::EchoReply reply;
    ASSERT_EQ(stub->Echo(&ctx, req, &reply).error_code(), grpc::StatusCode::UNIMPLEMENTED);
  }
}

constexpr absl::string_view kGzipDisabled = "Compression algorithm 'gzip' is disabled.";

// gRPC writes a line of its own for each compressed request it refuses: a
// client could fill handoffd's log at will. Ten a minute from each place
// in gRPC's source are written, in gRPC's layout.
TEST(CommandLineTest, GrpcsOwnLinesAreTenAMinuteFromEachPlaceNotOneACall) {
  if (std::getenv("GRPC_VERBOSITY") != nullptr || std::getenv("GRPC_TRACE") != nullptr) {
    GTEST_SKIP() << "GRPC_VERBOSITY or GRPC_TRACE is set: handoffd leaves gRPC's log as it is";
  }
  HandoffdProcess p({});
  const int port = p.Port();
  ASSERT_NE(port, 0) << p.Output();
  SendGzippedEchoes(port, 25);
  ExpectCleanStop(p);
  const std::string out = p.Output();
  std::vector<absl::string_view> lines;
  for (absl::string_view line : absl::StrSplit(out, '\n')) {
    if (absl::StrContains(line, kGzipDisabled)) lines.push_back(line);
  }
  ASSERT_EQ(lines.size(), 10u) << out;
  EXPECT_TRUE(absl::StartsWith(lines[0], "E")) << lines[0];
  EXPECT_TRUE(absl::StrContains(lines[0], "] Compression algorithm")) << lines[0];
}

// Whoever sets GRPC_VERBOSITY asks for gRPC's log as it is: every line.
TEST(CommandLineTest, GrpcVerbositySetKeepsEveryLineOfGrpcsLog) {
  HandoffdProcess p({}, {"GRPC_VERBOSITY=ERROR"});
  const int port = p.Port();
  ASSERT_NE(port, 0) << p.Output();
  SendGzippedEchoes(port, 25);
  ExpectCleanStop(p);
  size_t count = 0;
  for (absl::string_view line : absl::StrSplit(p.Output(), '\n')) {
    count += absl::StrContains(line, kGzipDisabled) ? 1 : 0;
  }
  EXPECT_EQ(count, 25u) << p.Output();
}

// logrotate's way: rename the file, then SIGHUP; the calls before it are in
// the renamed file, those after it in a new one at the path. A path that
// cannot be opened stops handoffd (exit 2), and --check_config tells so.
TEST(CommandLineTest, SighupReopensTheAccessLogForLogrotate) {
  const std::string path =
      absl::StrCat(::testing::TempDir(), "handoffd-access-", getpid(), ".log");
  const std::string rotated = path + ".1";
  std::remove(path.c_str());
  std::remove(rotated.c_str());
  HandoffdProcess p({"--access_log=" + path});
  const int port = p.Port();
  ASSERT_NE(port, 0) << p.Output();
  ASSERT_TRUE(EchoAt(port, "before").ok());
  // The call is logged at its end on the server, which may come just after
  // the client has its reply: rotate once its line is in the file.
  ASSERT_TRUE(WaitUntil([&] { return FileLines(path).size() == 1; })) << p.Output();
  ASSERT_EQ(std::rename(path.c_str(), rotated.c_str()), 0);
  p.Signal(SIGHUP);
  ASSERT_TRUE(WaitUntil([&] {
    return absl::StrContains(p.Output(), "handoffd: SIGHUP: reopened the access log " + path);
  })) << p.Output();
  ASSERT_TRUE(EchoAt(port, "after").ok());
  ExpectCleanStop(p);

  const std::vector<std::string> old_lines = FileLines(rotated);
  const std::vector<std::string> new_lines = FileLines(path);
  ASSERT_EQ(old_lines.size(), 1u) << p.Output();
  ASSERT_EQ(new_lines.size(), 1u) << p.Output();
  EXPECT_TRUE(absl::StrContains(old_lines[0], "\"method\":\"Echo\",\"code\":\"OK\""))
      << old_lines[0];
  std::remove(path.c_str());
  std::remove(rotated.c_str());

  // Without a file to reopen, SIGHUP is told so and ends nothing: a
  // logrotate rule left behind must not stop the server.
  HandoffdProcess plain({});
  ASSERT_NE(plain.Port(), 0) << plain.Output();
  plain.Signal(SIGHUP);
  ASSERT_TRUE(WaitUntil([&] {
    return absl::StrContains(plain.Output(), "handoffd: SIGHUP: no access log file to reopen");
  })) << plain.Output();
  ExpectCleanStop(plain);

  ExpectRejected({"--access_log=/nonexistent-dir/access.log"}, {},
                 "--access_log: cannot open '/nonexistent-dir/access.log': No such file");
  HandoffdProcess check({"--check_config", "--access_log=-"});
  ExpectExit(check, 0);
  EXPECT_TRUE(absl::StrContains(check.Output(), ", access log on stderr\n")) << check.Output();
}

// A log reader that goes away (a shipper restarted, `handoffd 2>&1 | tee`
// after tee died) leaves handoffd writing to a pipe nobody reads. That must
// kill nothing (by default SIGPIPE would): calls are served, the access log
// counts the lines it could not write as dropped, and SIGTERM still drains
// and exits 0, though the drain's own words are lost.
TEST(CommandLineTest, AStderrNobodyReadsAnyMoreKillsNothing) {
  HandoffdProcess p({"--access_log=-", "--admin_listen=127.0.0.1:0"});
  const int port = p.Port();
  const int admin = p.AdminPort();
  ASSERT_NE(port, 0) << p.Output();
  ASSERT_NE(admin, 0) << p.Output();
  p.StopReading();
  ASSERT_TRUE(EchoAt(port, "unheard").ok());
  ASSERT_TRUE(WaitUntil([&] {
    return absl::StrContains(HttpGet(admin, "/metrics"), "\nhandoff_access_log_dropped_total 1\n");
  })) << HttpGet(admin, "/metrics");
  ExpectCleanStop(p);
}

// Started with stderr closed (`2>&-`), handoffd puts /dev/null there before
// it opens anything: else its first descriptor, Asio's eventfd, took number
// 2, and every message and `--access_log=-` line was written into it.
TEST(CommandLineTest, AClosedStderrIsDevNullNotTheFirstDescriptorOpened) {
  const std::string path =
      absl::StrCat(::testing::TempDir(), "handoffd-closed-stderr-", getpid(), ".sock");
  unlink(path.c_str());
  HandoffdProcess p({absl::StrCat("--listen=unix:", path), "--access_log=-"}, {},
                    HandoffdProcess::Stderr::kClosed);
  auto stub = v1::Gateway::NewStub(
      grpc::CreateChannel("unix:" + path, grpc::InsecureChannelCredentials()));
  // Served: by now handoffd has opened its sockets, eventfds and the log.
  // (Its start-up line went to the closed stderr: the call waits for it.)
  grpc::ClientContext ctx;
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(30)));
  ctx.set_wait_for_ready(true);
  v1::EchoRequest req;
  v1::EchoReply reply;
  const grpc::Status served = stub->Echo(&ctx, req, &reply);
  ASSERT_TRUE(served.ok()) << served.error_message();
  char target[256] = {};
  const std::string fd2 = absl::StrCat("/proc/", p.pid(), "/fd/2");
  ASSERT_GT(readlink(fd2.c_str(), target, sizeof target - 1), 0) << fd2;
  EXPECT_STREQ(target, "/dev/null");
  p.Signal(SIGTERM);
  EXPECT_EQ(p.Wait(absl::Seconds(30)), 0);
  unlink(path.c_str());
}

// gRPC 1.51's listener stops for good at the first accept4 EMFILE, so
// handoffd runs with the most descriptors it is allowed: the hard limit, not
// a shell's soft one.
TEST(CommandLineTest, TheDescriptorLimitIsRaisedToTheHardLimit) {
  rlimit inherited{};
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &inherited), 0);
  if (inherited.rlim_max <= 256) GTEST_SKIP() << "hard limit " << inherited.rlim_max;
  rlimit low = inherited;
  low.rlim_cur = 256;
  ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &low), 0);
  std::optional<HandoffdProcess> spawned;
  {
    // Back to the test's own limit whatever happens, for the tests after.
    absl::Cleanup restore = [&] { setrlimit(RLIMIT_NOFILE, &inherited); };
    spawned.emplace(std::vector<std::string>{});  // inherits the soft limit of 256
  }
  HandoffdProcess& p = *spawned;
  ASSERT_NE(p.Port(), 0) << p.Output();
  std::ifstream limits(absl::StrCat("/proc/", p.pid(), "/limits"));
  std::string line, soft, hard;
  while (std::getline(limits, line)) {
    if (!absl::StartsWith(line, "Max open files")) continue;
    std::vector<std::string> fields = absl::StrSplit(line, ' ', absl::SkipEmpty());
    ASSERT_GE(fields.size(), 5u) << line;
    soft = fields[3];
    hard = fields[4];
  }
  EXPECT_EQ(soft, absl::StrCat(inherited.rlim_max));
  EXPECT_EQ(hard, absl::StrCat(inherited.rlim_max));
  ExpectCleanStop(p);
}

// Abseil reads `--pin_workers false` as --pin_workers (true) and an
// argument "false". handoffd takes no arguments, so it says so rather than
// run with the opposite of what was asked.
TEST(CommandLineTest, AnArgumentIsRefusedSinceABoolFlagTakesItsValueAfterEquals) {
  ExpectRejected({"--pin_workers", "false"}, {},
                 "handoffd: unexpected argument 'false': handoffd takes only flags, and a "
                 "bool flag takes its value after '=' (--pin_workers=false)");
  HandoffdProcess check({"--check_config", "serve"});
  ExpectExit(check, 2);
  EXPECT_TRUE(absl::StrContains(check.Output(), "unexpected argument 'serve'")) << check.Output();
}

// gRPC alone would serve "127.0.0.1:99999" on port 34463.
TEST(CommandLineTest, ListenOutOfRangeExitsTwoBeforeListening) {
  HandoffdProcess p({"--listen=127.0.0.1:99999"});
  ExpectExit(p, 2);
  EXPECT_TRUE(absl::StrContains(
      p.Output(), "--listen: '127.0.0.1:99999': the port must be a number"))
      << p.Output();
  EXPECT_FALSE(absl::StrContains(p.Output(), "serving gRPC")) << p.Output();
}

// A sidecar's handoffd may listen on a Unix domain socket instead of a port.
TEST(CommandLineTest, ListensOnAUnixSocket) {
  const std::string path =
      absl::StrCat(::testing::TempDir(), "handoffd-", getpid(), ".sock");
  unlink(path.c_str());
  HandoffdProcess p({absl::StrCat("--listen=unix:", path)});
  ASSERT_TRUE(WaitUntil([&] {
    return absl::StrContains(p.Output(), "serving gRPC on unix:" + path);
  })) << p.Output();
  auto stub = v1::Gateway::NewStub(grpc::CreateChannel(
      "unix:" + path, grpc::InsecureChannelCredentials()));
  grpc::ClientContext ctx;
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
  v1::EchoRequest req;
  req.set_payload("over a socket");
  v1::EchoReply reply;
  grpc::Status s = stub->Echo(&ctx, req, &reply);
  EXPECT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(reply.payload(), "over a socket");
  ExpectCleanStop(p);
  unlink(path.c_str());
}

TEST(CommandLineTest, BadEnvironmentValueExitsNamingIt) {
  ExpectRejected({}, {"HANDOFF_STREAM_WINDOW=wide"}, "HANDOFF_STREAM_WINDOW");
}

// The command line wins: a bad value it overrides is ignored, not parsed.
TEST(CommandLineTest, BadEnvironmentValueForAFlagOnTheCommandLineIsIgnored) {
  HandoffdProcess p({"--workers=2"}, {"HANDOFF_WORKERS=abc"});
  ASSERT_NE(p.Port(), 0) << p.Output();
  EXPECT_TRUE(absl::StrContains(p.Output(), "2 workers")) << p.Output();
  EXPECT_TRUE(absl::StrContains(p.Output(), "HANDOFF_WORKERS ignored"))
      << p.Output();
  ExpectCleanStop(p);
}

// No --workers was passed: the message says where -3 came from.
TEST(CommandLineTest, OutOfRangeEnvironmentValueExitsNamingTheVariable) {
  HandoffdProcess p({}, {"HANDOFF_WORKERS=-3"});
  ExpectExit(p, 2);
  EXPECT_TRUE(absl::StrContains(
      p.Output(), "HANDOFF_WORKERS=-3: --workers must be between 1 and 4096"))
      << p.Output();
}

TEST(CommandLineTest, AdminListenWithoutHostOrOnAUnixSocketExitsTwo) {
  for (const auto& [flag, says] :
       std::vector<std::pair<std::string, std::string>>{
           {"--admin_listen=:0", "--admin_listen: ':0' has no host"},
           {"--admin_listen=unix:/tmp/handoffd-admin.sock",
            "the admin port is TCP only"}}) {
    HandoffdProcess p({flag});
    ExpectExit(p, 2);
    EXPECT_TRUE(absl::StrContains(p.Output(), says)) << p.Output();
    EXPECT_FALSE(absl::StrContains(p.Output(), "serving gRPC")) << p.Output();
  }
}

// HandoffdProcess passes --admin_listen= (off).
TEST(CommandLineTest, StartUpLineSaysTheAdminPortIsOff) {
  HandoffdProcess p({});
  ASSERT_NE(p.Port(), 0) << p.Output();
  EXPECT_TRUE(absl::StrContains(p.Output(), "(admin HTTP off)")) << p.Output();
  EXPECT_FALSE(absl::StrContains(p.Output(), "admin HTTP on port"))
      << p.Output();
  ExpectCleanStop(p);
}

TEST(CommandLineTest, EnvironmentSetsAFlagAndTheCommandLineWins) {
  HandoffdProcess p({"--queue_depth=7"},
                    {"HANDOFF_WORKERS=3", "HANDOFF_QUEUE_DEPTH=5"});
  ASSERT_NE(p.Port(), 0) << p.Output();
  EXPECT_TRUE(absl::StrContains(p.Output(), "3 workers, queue 7")) << p.Output();
  ExpectCleanStop(p);
}

// gRPC would let the second process share the port (SO_REUSEPORT). A valid
// address it cannot listen on exits 1, not 2: the command line is not wrong.
TEST(CommandLineTest, APortInUseExitsOneNamingListen) {
  HandoffdProcess first({});
  const int port = first.Port();
  ASSERT_NE(port, 0) << first.Output();
  HandoffdProcess second({absl::StrCat("--listen=127.0.0.1:", port)});
  ExpectExit(second, 1);
  // The reason, not a list of guesses: gRPC says only that it failed.
  EXPECT_TRUE(absl::StrContains(second.Output(),
                                absl::StrCat("handoffd: --listen: cannot listen on '127.0.0.1:",
                                             port, "': Address already in use\n")))
      << second.Output();
  ExpectCleanStop(first);  // undisturbed by the second
}

// As --admin_listen says it: the name, and that it does not resolve (".invalid"
// never does, RFC 2606). Waited for longer than other exits: without a
// name server that answers, each lookup (gRPC's, then handoffd's) waits
// out the resolver's timeouts.
TEST(CommandLineTest, AListenHostThatDoesNotResolveExitsOneSayingSo) {
  HandoffdProcess p({"--listen=no-such-host.invalid:0"});
  EXPECT_EQ(p.Wait(absl::Seconds(90)), 1) << p.Output();
  EXPECT_TRUE(absl::StrContains(p.Output(),
                                "handoffd: --listen: cannot resolve 'no-such-host.invalid:0': "))
      << p.Output();
}

TEST(CommandLineTest, BadTlsFileExitsNamingTheFlagAndPath) {
  ExpectRejected({"--tls_cert_file=/nonexistent/server.pem",
                  "--tls_key_file=/nonexistent/server.key"},
                 {}, "--tls_cert_file: cannot read /nonexistent/server.pem: No such file or directory");
  ExpectRejected({"--tls_key_file=/nonexistent/server.key"}, {},
                 "--tls_key_file: needs --tls_cert_file");
}

TEST(CommandLineTest, ABadTlsReloadIntervalExitsTwoNamingIt) {
  for (std::string value : {"-1s", "500ms", "inf"}) {
    HandoffdProcess p({"--tls_reload_interval=" + value});
    ExpectExit(p, 2);
    EXPECT_TRUE(absl::StrContains(p.Output(), "--tls_reload_interval: must be 0"))
        << p.Output();
  }
  HandoffdProcess env({}, {"HANDOFF_TLS_RELOAD_INTERVAL=0.5s"});
  ExpectExit(env, 2);
  EXPECT_TRUE(absl::StrContains(
      env.Output(), "HANDOFF_TLS_RELOAD_INTERVAL=0.5s: --tls_reload_interval must be 0"))
      << env.Output();
  HandoffdProcess check({"--check_config", "--tls_reload_interval=10ms"});
  ExpectExit(check, 2);
  EXPECT_TRUE(absl::StrContains(check.Output(), "--tls_reload_interval: must be 0"))
      << check.Output();
}

TEST(CommandLineTest, VersionNamesHandoffdAndItsVersion) {
  HandoffdProcess p({"--version"});
  std::optional<int> code = p.Wait(absl::Seconds(10));
  ASSERT_TRUE(code.has_value());
  EXPECT_EQ(*code, 0);
  EXPECT_TRUE(absl::StartsWith(p.Output(), "handoffd 0.")) << p.Output();
  // Abseil's default would say how Debian built Abseil ("Debug build").
  EXPECT_FALSE(absl::StrContains(p.Output(), "Debug build")) << p.Output();

  // A bad variable in the environment (a container's) hides no version.
  HandoffdProcess bad_env({"--version"}, {"HANDOFF_WORKERS=abc"});
  ExpectExit(bad_env, 0);
  EXPECT_TRUE(absl::StartsWith(bad_env.Output(), "handoffd 0.")) << bad_env.Output();
}

TEST(CommandLineTest, VersionNamesTheMallocTheProcessRunsOn) {
  HandoffdProcess p({"--version"});
  std::optional<int> code = p.Wait(absl::Seconds(10));
  ASSERT_TRUE(code.has_value());
  EXPECT_EQ(*code, 0);
  // Asked of the running process, not of the build: with tcmalloc linked but
  // behind glibc's malloc in the lookup order, this would say "system".
  EXPECT_TRUE(absl::StrContains(p.Output(), "\nmalloc: " HANDOFFD_MALLOC))
      << p.Output();
}

// Help asked for is no failure: Abseil's ParseCommandLine exited 1 after
// printing it. An unknown flag beside it still fails.
TEST(CommandLineTest, HelpExitsZero) {
  for (const char* flag : {"--help", "-help", "-h", "--helpfull", "--help=workers"}) {
    HandoffdProcess p({flag});
    ExpectExit(p, 0);
    EXPECT_TRUE(absl::StrContains(p.Output(), "--workers ")) << flag << p.Output();
  }
  HandoffdProcess unknown({"--help", "--no_such_flag"});
  ExpectExit(unknown, 1);
}

// Abseil's rarer help flags printed Abseil's help and exited 1, as for bad
// usage: they exit 0 with handoffd's help, filtered as Abseil documents them.
TEST(CommandLineTest, AbseilsRarerHelpFlagsExitZeroWithHandoffdsFilteredHelp) {
  for (const char* flag : {"--helpshort", "--helppackage", "--helpon=config",
                           "--helpmatch=server/"}) {
    HandoffdProcess p({flag});
    ExpectExit(p, 0);
    EXPECT_TRUE(absl::StrContains(p.Output(), "Flags from server/config.cc:\n")) << flag
                                                                                 << p.Output();
    EXPECT_TRUE(absl::StrContains(p.Output(), "--workers ")) << flag << p.Output();
    EXPECT_FALSE(absl::StrContains(p.Output(), "--flagfile")) << flag << p.Output();
  }
  HandoffdProcess bare({"--helpmatch"});
  ExpectExit(bare, 2);
  EXPECT_TRUE(absl::StrContains(bare.Output(), "--helpmatch needs a text")) << bare.Output();
}

// A help flag in a --flagfile printed Abseil's help and exited 1, as for
// bad usage, naming neither the file nor what was wrong with it.
TEST(CommandLineTest, AHelpFlagInAFlagfileIsAUsageErrorNamingTheFile) {
  const std::string file =
      absl::StrCat(::testing::TempDir(), "handoffd-help-", getpid(), ".flags");
  std::ofstream(file) << "# asks for help\n--workers=2\n--helpfull\n";
  absl::Cleanup remove = [&] { std::remove(file.c_str()); };
  HandoffdProcess p({"--flagfile=" + file});
  ExpectExit(p, 2);
  EXPECT_TRUE(absl::StrContains(
      p.Output(),
      absl::StrCat("handoffd: ", file,
                   ":3: --helpfull cannot be in a flagfile; ask for help on the command line")))
      << p.Output();
  EXPECT_FALSE(absl::StrContains(p.Output(), "--workers ")) << "help was printed: " << p.Output();
}

TEST(CommandLineTest, HelpListsEveryServerFlag) {
  HandoffdProcess p({"--help"});
  std::optional<int> code = p.Wait(absl::Seconds(10));
  ASSERT_TRUE(code.has_value());
  for (const std::string& name : ConfigFlagNames()) {
    EXPECT_TRUE(absl::StrContains(p.Output(), absl::StrCat("--", name, " ")))
        << name;
  }
}

}  // namespace
}  // namespace handoff::testing
