// Copyright 2026 The handoff Authors.

#include "server/config.h"

#include <sched.h>
#include <unistd.h>

#include <cstdlib>
#include <initializer_list>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/flags/declare.h"
#include "absl/flags/flag.h"
#include "absl/flags/reflection.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

ABSL_DECLARE_FLAG(int32_t, workers);
ABSL_DECLARE_FLAG(int32_t, queue_depth);
ABSL_DECLARE_FLAG(int32_t, batch_window);
ABSL_DECLARE_FLAG(int32_t, max_batch_items);
ABSL_DECLARE_FLAG(int32_t, max_concurrent_streams);
ABSL_DECLARE_FLAG(handoff::DurationFlag, default_deadline);
ABSL_DECLARE_FLAG(handoff::DurationFlag, max_deadline);
ABSL_DECLARE_FLAG(handoff::DurationFlag, stop_grace);
ABSL_DECLARE_FLAG(handoff::DurationFlag, max_connection_age);
ABSL_DECLARE_FLAG(handoff::DurationFlag, handshake_timeout);
ABSL_DECLARE_FLAG(handoff::DurationFlag, max_connection_idle);
ABSL_DECLARE_FLAG(handoff::QueuePolicy, queue_policy);

namespace handoff {
namespace {

class ConfigTest : public ::testing::Test {
 protected:
  absl::FlagSaver saver_;  // every test leaves the flags as it found them
};

TEST_F(ConfigTest, DefaultsAreValid) {
  absl::StatusOr<ServerConfig> c = ConfigFromFlags();
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_GE(c->workers, 1);  // 0 = one per core, resolved
  EXPECT_EQ(c->listen, "0.0.0.0:50051");
  EXPECT_EQ(c->admin_listen, "0.0.0.0:9090");
  EXPECT_EQ(c->queue_policy, QueuePolicy::kReject);
}

TEST_F(ConfigTest, OutOfRangeValuesNameTheFlag) {
  absl::SetFlag(&FLAGS_queue_depth, 0);
  absl::StatusOr<ServerConfig> c = ConfigFromFlags();
  ASSERT_FALSE(c.ok());
  EXPECT_TRUE(absl::StrContains(c.status().message(), "--queue_depth"))
      << c.status();
}

// The queue and the pool are sized from these before anything is served
// (each worker a thread, each queue slot allocated): a value from a user
// is bounded above too, as seeds/001 asks of make(chan T, N) with N from
// user input.
TEST_F(ConfigTest, QueueDepthAndWorkersAreBoundedAboveToo) {
  absl::SetFlag(&FLAGS_queue_depth, 1'000'001);
  absl::StatusOr<ServerConfig> c = ConfigFromFlags();
  ASSERT_FALSE(c.ok());
  EXPECT_TRUE(
      absl::StrContains(c.status().message(), "--queue_depth: must be between 1 and 1000000"))
      << c.status();
  absl::SetFlag(&FLAGS_queue_depth, 1'000'000);
  EXPECT_TRUE(ConfigFromFlags().ok());
  absl::SetFlag(&FLAGS_workers, 4097);
  c = ConfigFromFlags();
  ASSERT_FALSE(c.ok());
  EXPECT_TRUE(absl::StrContains(c.status().message(), "--workers: must be between 1 and 4096"))
      << c.status();
  absl::SetFlag(&FLAGS_workers, 4096);
  EXPECT_TRUE(ConfigFromFlags().ok());
}

TEST_F(ConfigTest, BatchWindowIsAtLeastOneItem) {
  absl::SetFlag(&FLAGS_batch_window, 0);
  absl::StatusOr<ServerConfig> c = ConfigFromFlags();
  ASSERT_FALSE(c.ok());
  EXPECT_TRUE(absl::StrContains(c.status().message(), "--batch_window"))
      << c.status();
  absl::SetFlag(&FLAGS_batch_window, 1);
  EXPECT_TRUE(ConfigFromFlags().ok());
}

// The cap bounds the reply channel a Batch makes for its items.
TEST_F(ConfigTest, MaxBatchItemsIsAtLeastOne) {
  absl::SetFlag(&FLAGS_max_batch_items, 0);
  absl::StatusOr<ServerConfig> c = ConfigFromFlags();
  ASSERT_FALSE(c.ok());
  EXPECT_TRUE(absl::StrContains(c.status().message(), "--max_batch_items"))
      << c.status();
  absl::SetFlag(&FLAGS_max_batch_items, 1);
  EXPECT_TRUE(ConfigFromFlags().ok());
}

TEST_F(ConfigTest, StopGraceIsFiniteAndNotNegative) {
  for (absl::Duration bad : {-absl::Seconds(1), absl::InfiniteDuration()}) {
    absl::SetFlag(&FLAGS_stop_grace, DurationFlag{bad});
    absl::StatusOr<ServerConfig> c = ConfigFromFlags();
    ASSERT_FALSE(c.ok()) << bad;
    EXPECT_TRUE(absl::StrContains(c.status().message(), "--stop_grace"))
        << c.status();
  }
  absl::SetFlag(&FLAGS_stop_grace, DurationFlag{absl::ZeroDuration()});
  absl::StatusOr<ServerConfig> c = ConfigFromFlags();
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->stop_grace, absl::ZeroDuration());
}

// gRPC takes the age in whole milliseconds: 500us reached it as 0, and
// every connection would have been sent GOAWAY as soon as it opened.
TEST_F(ConfigTest, MaxConnectionAgeIsAtLeastAMillisecond) {
  for (absl::Duration bad : {absl::Microseconds(500), absl::ZeroDuration()}) {
    absl::SetFlag(&FLAGS_max_connection_age, DurationFlag{bad});
    absl::StatusOr<ServerConfig> c = ConfigFromFlags();
    ASSERT_FALSE(c.ok()) << bad;
    EXPECT_EQ(c.status().message(), "--max_connection_age: must be at least 1ms (or 'inf')");
  }
  absl::SetFlag(&FLAGS_max_connection_age, DurationFlag{absl::Milliseconds(1)});
  EXPECT_TRUE(ConfigFromFlags().ok());
}

// gRPC's own defaults are 2 minutes and never; it takes whole milliseconds.
TEST_F(ConfigTest, HandshakeAndIdleTimeoutsHaveDefaultsAndAreAtLeastAMillisecond) {
  absl::StatusOr<ServerConfig> c = ConfigFromFlags();
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->handshake_timeout, absl::Seconds(10));
  EXPECT_EQ(c->max_connection_idle, absl::Minutes(5));
  absl::SetFlag(&FLAGS_handshake_timeout, DurationFlag{absl::Microseconds(500)});
  c = ConfigFromFlags();
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().message(), "--handshake_timeout: must be at least 1ms (or 'inf')");
  absl::SetFlag(&FLAGS_handshake_timeout, DurationFlag{absl::InfiniteDuration()});
  absl::SetFlag(&FLAGS_max_connection_idle, DurationFlag{absl::ZeroDuration()});
  c = ConfigFromFlags();
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().message(), "--max_connection_idle: must be at least 1ms (or 'inf')");
  absl::SetFlag(&FLAGS_max_connection_idle, DurationFlag{absl::InfiniteDuration()});
  EXPECT_TRUE(ConfigFromFlags().ok());
}

// gRPC's own default is unlimited; 0 would refuse every call.
TEST_F(ConfigTest, MaxConcurrentStreamsIsAThousandByDefaultAndAtLeastOne) {
  absl::StatusOr<ServerConfig> c = ConfigFromFlags();
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->max_concurrent_streams, 1000);
  absl::SetFlag(&FLAGS_max_concurrent_streams, 0);
  c = ConfigFromFlags();
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().message(), "--max_concurrent_streams: must be >= 1");
  absl::SetFlag(&FLAGS_max_concurrent_streams, 1);
  EXPECT_TRUE(ConfigFromFlags().ok());
}

// --workers=0 is one worker per CPU handoffd may run on, not per CPU of the
// machine: in a container given 2 of 64 cores it made 64.
TEST_F(ConfigTest, DefaultWorkersAreOnePerCpuTheProcessMayRunOn) {
  cpu_set_t saved;
  ASSERT_EQ(sched_getaffinity(0, sizeof(saved), &saved), 0);
  int first = -1;
  for (int cpu = 0; cpu < CPU_SETSIZE && first < 0; ++cpu) {
    if (CPU_ISSET(cpu, &saved)) first = cpu;
  }
  ASSERT_GE(first, 0);
  cpu_set_t one;
  CPU_ZERO(&one);
  CPU_SET(first, &one);
  ASSERT_EQ(getpid(), gettid()) << "the test must run on the main thread, whose mask is read";
  ASSERT_EQ(sched_setaffinity(0, sizeof(one), &one), 0);
  absl::StatusOr<ServerConfig> c = ConfigFromFlags();
  ASSERT_EQ(sched_setaffinity(0, sizeof(saved), &saved), 0);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->workers, 1);
  c = ConfigFromFlags();
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->workers, CPU_COUNT(&saved));
}

// Both values are named: an operator who set only --max_deadline (below the
// default deadline) read "--default_deadline: must not exceed --max_deadline"
// of a flag they never gave.
TEST_F(ConfigTest, DefaultDeadlineMayNotExceedMaxDeadline) {
  absl::SetFlag(&FLAGS_default_deadline, DurationFlag{absl::Hours(1)});
  absl::SetFlag(&FLAGS_max_deadline, DurationFlag{absl::Seconds(5)});
  absl::StatusOr<ServerConfig> c = ConfigFromFlags();
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().message(),
            "--default_deadline: 1h must not exceed --max_deadline, 5s: lower the one "
            "or raise the other");
}

TEST(DurationFlagTest, TakesWhatParseDurationTakes) {
  for (const char* text : {"250ms", "1m30s", "10s", "1.5h", "inf", "0", "-2s"}) {
    DurationFlag d;
    std::string error;
    ASSERT_TRUE(AbslParseFlag(text, &d, &error)) << text << ": " << error;
    absl::Duration want;
    ASSERT_TRUE(absl::ParseDuration(text, &want)) << text;
    EXPECT_EQ(d.value, want) << text;
    // --help shows the default as it unparses, and that must parse back.
    DurationFlag back;
    ASSERT_TRUE(AbslParseFlag(AbslUnparseFlag(d), &back, &error)) << text;
    EXPECT_EQ(back.value, d.value) << text;
  }
}

TEST(DurationFlagTest, ABareNumberIsToldTheUnitItLacks) {
  for (const char* text : {"30", "2.5"}) {
    DurationFlag d;
    std::string error;
    EXPECT_FALSE(AbslParseFlag(text, &d, &error)) << text;
    EXPECT_EQ(error, absl::StrCat("a duration needs a unit, as in ", text,
                                  "s or ", text, "ms"));
  }
}

TEST(DurationFlagTest, OtherTextIsToldHowADurationIsWritten) {
  // "1e3" is a number, but "1e3s" no duration: no hint that would be
  // refused in its turn.
  for (const char* text : {"soon", "10 s", "10sec", "", "1e3", "0x10"}) {
    DurationFlag d;
    std::string error;
    EXPECT_FALSE(AbslParseFlag(text, &d, &error)) << text;
    EXPECT_TRUE(absl::StrContains(error, "not a duration")) << text << ": " << error;
    EXPECT_TRUE(absl::StrContains(error, "250ms")) << text << ": " << error;
  }
}

TEST_F(ConfigTest, ListenTakesHostAndPortInRange) {
  for (const char* listen : {"127.0.0.1:0", "0.0.0.0:65535", "[::]:50051",
                             "[::1]:0", "localhost:50051",
                             "unix:/run/handoff/grpc.sock",
                             "unix-abstract:handoff"}) {
    ServerConfig c;
    c.listen = listen;
    absl::Status s = Validate(c);
    EXPECT_TRUE(s.ok()) << listen << ": " << s;
  }
}

// gRPC would listen on port 34463, 20001 and 443 for the first three.
TEST_F(ConfigTest, ListenWithoutAValidPortIsRefusedNamingTheFlag) {
  for (const char* listen :
       {"127.0.0.1:99999", "127.0.0.1:85537", "127.0.0.1", "foo",
        "127.0.0.1:", "127.0.0.1:-1", "127.0.0.1:http", "::1:50051", ":50051",
        "[]:50051", "unix:"}) {
    ServerConfig c;
    c.listen = listen;
    absl::Status s = Validate(c);
    EXPECT_TRUE(absl::IsInvalidArgument(s)) << listen << ": " << s;
    EXPECT_TRUE(
        absl::StartsWith(s.message(), absl::StrCat("--listen: '", listen, "'")))
        << s;
  }
  ServerConfig c;
  c.listen = "127.0.0.1:99999";
  EXPECT_TRUE(absl::StrContains(Validate(c).message(),
                                "the port must be a number from 0 to 65535"));
  c.listen = "127.0.0.1";
  EXPECT_TRUE(absl::StrContains(Validate(c).message(), "is not host:port"));
  c.listen = ":50051";
  EXPECT_TRUE(absl::StrContains(Validate(c).message(), "has no host"));
}

TEST_F(ConfigTest, AdminListenIsCheckedLikeListenUnlessEmpty) {
  for (const char* admin : {"127.0.0.1:70000", "127.0.0.1", ":9090",
                            "[]:9090", "::1:9090"}) {
    ServerConfig c;
    c.admin_listen = admin;
    absl::Status s = Validate(c);
    EXPECT_TRUE(absl::IsInvalidArgument(s)) << admin << ": " << s;
    EXPECT_TRUE(absl::StartsWith(s.message(),
                                 absl::StrCat("--admin_listen: '", admin, "'")))
        << s;
  }
  ServerConfig c;
  c.admin_listen = ":9090";
  EXPECT_TRUE(absl::StrContains(Validate(c).message(), "has no host"));
  c.admin_listen = "";
  EXPECT_TRUE(Validate(c).ok());
}

// The admin server is Asio TCP; "unix:/x" used to be reported as a bad port.
TEST_F(ConfigTest, AdminListenOnAUnixSocketIsRefusedAsTcpOnly) {
  for (const char* admin : {"unix:/tmp/admin.sock", "unix-abstract:admin"}) {
    ServerConfig c;
    c.admin_listen = admin;
    absl::Status s = Validate(c);
    EXPECT_TRUE(absl::IsInvalidArgument(s)) << admin << ": " << s;
    EXPECT_TRUE(absl::StartsWith(s.message(), "--admin_listen: ")) << s;
    EXPECT_TRUE(absl::StrContains(s.message(), "the admin port is TCP only"))
        << s;
  }
}

TEST_F(ConfigTest, TlsCertificateAndKeyComeAsAPair) {
  ServerConfig c;
  c.tls_cert_file = "server.pem";
  absl::Status s = Validate(c);
  EXPECT_TRUE(absl::IsInvalidArgument(s)) << s;
  EXPECT_TRUE(absl::StrContains(s.message(), "--tls_cert_file: needs --tls_key_file"))
      << s;
  c.tls_cert_file = "";
  c.tls_key_file = "server.key";
  s = Validate(c);
  EXPECT_TRUE(absl::StrContains(s.message(), "--tls_key_file: needs --tls_cert_file"))
      << s;
  c.tls_cert_file = "server.pem";
  EXPECT_TRUE(Validate(c).ok());
}

TEST_F(ConfigTest, TlsClientCaNeedsTls) {
  ServerConfig c;
  c.tls_client_ca_file = "ca.pem";
  absl::Status s = Validate(c);
  EXPECT_TRUE(absl::StrContains(s.message(), "--tls_client_ca_file: needs TLS")) << s;
  c.tls_cert_file = "server.pem";
  c.tls_key_file = "server.key";
  EXPECT_TRUE(Validate(c).ok());
}

TEST_F(ConfigTest, TlsReloadIntervalIsZeroOrAWholeSecondAndMore) {
  ServerConfig c;
  EXPECT_EQ(c.tls_reload_interval, absl::Seconds(60));
  for (absl::Duration ok : {absl::ZeroDuration(), absl::Seconds(1), absl::Hours(24)}) {
    c.tls_reload_interval = ok;
    EXPECT_TRUE(Validate(c).ok()) << ok;
  }
  for (absl::Duration bad : {absl::Seconds(-1), absl::Milliseconds(500),
                             absl::Nanoseconds(1), absl::InfiniteDuration()}) {
    c.tls_reload_interval = bad;
    absl::Status s = Validate(c);
    EXPECT_TRUE(absl::IsInvalidArgument(s)) << bad;
    EXPECT_TRUE(absl::StartsWith(s.message(), "--tls_reload_interval: must be 0")) << s;
  }
}

// main's argv for `args`, which the vector of strings must outlive.
std::vector<char*> Argv(std::vector<std::string>& args) {
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  return argv;
}

// Sets environment variables for one test, and unsets them at its end.
class ScopedEnv {
 public:
  ScopedEnv(std::initializer_list<std::pair<std::string, std::string>> vars)
      : vars_(vars) {
    for (const auto& [name, value] : vars_) {
      setenv(name.c_str(), value.c_str(), 1);
    }
  }
  ~ScopedEnv() {
    for (const auto& [name, value] : vars_) unsetenv(name.c_str());
  }

 private:
  std::vector<std::pair<std::string, std::string>> vars_;
};

TEST_F(ConfigTest, EnvironmentSetsFlags) {
  ScopedEnv env{{"HANDOFF_WORKERS", "3"},
                {"HANDOFF_QUEUE_POLICY", "wait"},
                {"HANDOFF_DEFAULT_DEADLINE", "250ms"}};
  std::vector<std::string> args = {"handoffd"};
  absl::StatusOr<EnvironmentOverrides> applied =
      ApplyEnvironmentOverrides(Argv(args));
  ASSERT_TRUE(applied.ok()) << applied.status();
  EXPECT_EQ(applied->applied.at("workers"), "HANDOFF_WORKERS=3");
  EXPECT_TRUE(applied->overridden.empty());
  absl::StatusOr<ServerConfig> c = ConfigFromFlags(*applied);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->workers, 3);
  EXPECT_EQ(c->queue_policy, QueuePolicy::kWait);
  EXPECT_EQ(c->default_deadline, absl::Milliseconds(250));
}

// Under systemd or in a container every value comes from the environment:
// a max deadline set there below the default one names its variable, though
// the message is about the two flags together.
TEST_F(ConfigTest, AMaxDeadlineFromTheEnvironmentBelowTheDefaultNamesItsVariable) {
  ScopedEnv env{{"HANDOFF_MAX_DEADLINE", "5s"}};
  std::vector<std::string> args = {"handoffd"};
  absl::StatusOr<EnvironmentOverrides> applied = ApplyEnvironmentOverrides(Argv(args));
  ASSERT_TRUE(applied.ok()) << applied.status();
  absl::StatusOr<ServerConfig> c = ConfigFromFlags(*applied);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().message(),
            "HANDOFF_MAX_DEADLINE=5s: --default_deadline 10s must not exceed --max_deadline, "
            "5s: lower the one or raise the other");
}

TEST_F(ConfigTest, BadEnvironmentValueNamesVariableAndFlag) {
  ScopedEnv env{{"HANDOFF_QUEUE_POLICY", "sometimes"}};
  std::vector<std::string> args = {"handoffd"};
  absl::StatusOr<EnvironmentOverrides> applied =
      ApplyEnvironmentOverrides(Argv(args));
  ASSERT_FALSE(applied.ok());
  EXPECT_TRUE(absl::StrContains(applied.status().message(),
                                "HANDOFF_QUEUE_POLICY"));
  EXPECT_TRUE(absl::StrContains(applied.status().message(), "--queue_policy"));
}

// The command line wins, so a value it replaces must not stop handoffd.
TEST_F(ConfigTest, BadEnvironmentValueForAFlagOnTheCommandLineIsNotParsed) {
  ScopedEnv env{{"HANDOFF_WORKERS", "abc"}, {"HANDOFF_QUEUE_DEPTH", "5"}};
  std::vector<std::string> args = {"handoffd", "--workers=2"};
  absl::StatusOr<EnvironmentOverrides> applied =
      ApplyEnvironmentOverrides(Argv(args));
  ASSERT_TRUE(applied.ok()) << applied.status();
  EXPECT_EQ(applied->overridden, std::vector<std::string>{"HANDOFF_WORKERS"});
  EXPECT_FALSE(applied->applied.contains("workers"));
  EXPECT_EQ(absl::GetFlag(FLAGS_queue_depth), 5);
}

TEST_F(ConfigTest, OutOfRangeEnvironmentValueNamesTheVariable) {
  ScopedEnv env{{"HANDOFF_WORKERS", "-3"}};
  std::vector<std::string> args = {"handoffd"};
  absl::StatusOr<EnvironmentOverrides> applied =
      ApplyEnvironmentOverrides(Argv(args));
  ASSERT_TRUE(applied.ok()) << applied.status();
  absl::StatusOr<ServerConfig> c = ConfigFromFlags(*applied);
  ASSERT_TRUE(absl::IsInvalidArgument(c.status())) << c.status();
  EXPECT_TRUE(absl::StartsWith(
      c.status().message(),
      "HANDOFF_WORKERS=-3: --workers must be between 1 and 4096"))
      << c.status();
}

// A --flagfile is read after the environment and replaces its value; an
// error in the file's value is not the variable's.
TEST_F(ConfigTest, AValueReplacedAfterTheEnvironmentIsNotBlamedOnIt) {
  ScopedEnv env{{"HANDOFF_WORKERS", "4"}};
  std::vector<std::string> args = {"handoffd"};
  absl::StatusOr<EnvironmentOverrides> applied =
      ApplyEnvironmentOverrides(Argv(args));
  ASSERT_TRUE(applied.ok()) << applied.status();
  absl::SetFlag(&FLAGS_workers, -3);  // as a --flagfile would
  absl::StatusOr<ServerConfig> c = ConfigFromFlags(*applied);
  ASSERT_TRUE(absl::IsInvalidArgument(c.status())) << c.status();
  EXPECT_TRUE(absl::StartsWith(c.status().message(), "--workers: "))
      << c.status();
}

TEST_F(ConfigTest, FlagsOnCommandLineAreFoundInEveryFormAbseilParses) {
  std::vector<std::string> args = {
      "handoffd",        "--workers=2",      "-queue_depth=3",
      "--drain_timeout", "--max_deadline=1s",  // drain_timeout's value
      "positional",      "--nobatch_scheduling",
      "--keepalive_permit_without_calls",      "--no_such_flag",
      "--",              "--stream_window=4"};
  EXPECT_EQ(ConfigFlagsOnCommandLine(Argv(args)),
            (std::set<std::string>{"workers", "queue_depth", "drain_timeout",
                                   "batch_scheduling",
                                   "keepalive_permit_without_calls"}));
}

// The configuration of a handoffd started with `name`=`value` in its
// environment and no flags.
absl::StatusOr<ServerConfig> ConfigWithEnvironment(const std::string& name,
                                                   const std::string& value) {
  ScopedEnv env{{name, value}};
  std::vector<std::string> args = {"handoffd"};
  absl::StatusOr<EnvironmentOverrides> applied = ApplyEnvironmentOverrides(Argv(args));
  if (!applied.ok()) return applied.status();
  return ConfigFromFlags(*applied);
}

TEST_F(ConfigTest, PinWorkersIsOffByDefaultAndOnFromTheEnvironment) {
  absl::StatusOr<ServerConfig> c = ConfigFromFlags();
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_FALSE(c->pin_workers);
  c = ConfigWithEnvironment("HANDOFF_PIN_WORKERS", "true");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_TRUE(c->pin_workers);
}

TEST_F(ConfigTest, CompressedRequestsAreRefusedByDefaultAndAcceptedFromTheEnvironment) {
  absl::StatusOr<ServerConfig> c = ConfigFromFlags();
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_FALSE(c->compressed_requests);
  c = ConfigWithEnvironment("HANDOFF_COMPRESSED_REQUESTS", "true");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_TRUE(c->compressed_requests);
}

TEST_F(ConfigTest, TlsReloadIntervalComesFromTheEnvironment) {
  absl::StatusOr<ServerConfig> c = ConfigFromFlags();
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->tls_reload_interval, absl::Seconds(60));
  c = ConfigWithEnvironment("HANDOFF_TLS_RELOAD_INTERVAL", "5m");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->tls_reload_interval, absl::Minutes(5));
  c = ConfigWithEnvironment("HANDOFF_TLS_RELOAD_INTERVAL", "0");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->tls_reload_interval, absl::ZeroDuration());
  c = ConfigWithEnvironment("HANDOFF_TLS_RELOAD_INTERVAL", "100ms");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().message(),
            "HANDOFF_TLS_RELOAD_INTERVAL=100ms: --tls_reload_interval must be 0 "
            "(read the files once) or at least 1s, and finite");
}

TEST_F(ConfigTest, EveryConfigFlagExists) {
  for (const std::string& name : ConfigFlagNames()) {
    EXPECT_NE(absl::FindCommandLineFlag(name), nullptr) << name;
  }
}

TEST(QueuePolicyTest, ParsesAndUnparses) {
  QueuePolicy p;
  std::string error;
  EXPECT_TRUE(AbslParseFlag("wait", &p, &error));
  EXPECT_EQ(AbslUnparseFlag(p), "wait");
  EXPECT_TRUE(AbslParseFlag("reject", &p, &error));
  EXPECT_EQ(AbslUnparseFlag(p), "reject");
  EXPECT_FALSE(AbslParseFlag("lifo", &p, &error));
  EXPECT_FALSE(error.empty());
}

}  // namespace
}  // namespace handoff
