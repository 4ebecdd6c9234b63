// `handoff load`'s ghz-style command line.
#include "client/load/flags.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <thread>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "client/load/report.h"
#include "influx_tags.h"

namespace handoff::load {
namespace {

absl::StatusOr<LoadOptions> Parse(std::vector<absl::string_view> args) {
  return ParseLoadFlags(args);
}

TEST(LoadFlagsTest, GhzDefaults) {
  auto o = Parse({"--call", "handoff.v1.Gateway.Echo", "localhost:50051"});
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->host, "localhost:50051");
  EXPECT_EQ(o->concurrency, 50);
  EXPECT_EQ(o->total, 200);
  EXPECT_EQ(o->connections, 1);
  EXPECT_EQ(o->timeout, absl::Seconds(20));
  EXPECT_EQ(o->duration, absl::ZeroDuration());
  EXPECT_EQ(o->rps, 0);
  EXPECT_FALSE(o->insecure);
  EXPECT_EQ(o->format, OutputFormat::kSummary);
  EXPECT_GT(o->cpus, 0);
  EXPECT_EQ(o->skip_first, 0);
  EXPECT_FALSE(o->count_errors);
  EXPECT_EQ(o->max_duration, absl::ZeroDuration());
}

// ghz takes -n below -c (its 50 workers share 10 calls): `-n 10` with the
// default -c is a quick check, not a mistake.
TEST(LoadFlagsTest, FewerCallsThanConcurrencyIsAccepted) {
  auto o = Parse({"--call", "p.S.M", "-n", "10", "localhost:50051"});
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->total, 10);
  EXPECT_EQ(o->concurrency, 50);
}

TEST(LoadFlagsTest, AuthorityCnameSkipTlsCompressionAndTags) {
  auto o = Parse({"--call", "p.S.M", "--authority", "api.example", "--cname", "tls.example",
                  "-e", "--tags", R"({"env":"staging","Run":"7"})", "h:1"});
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->authority, "api.example");
  EXPECT_EQ(o->cname, "tls.example");
  EXPECT_TRUE(o->enable_compression);
  EXPECT_FALSE(o->skip_tls);
  auto skip = Parse({"--call", "p.S.M", "--skipTLS", "h:1"});
  ASSERT_TRUE(skip.ok()) << skip.status();
  EXPECT_TRUE(skip->skip_tls);
  // Tags keep their case (they are labels, not headers).
  EXPECT_EQ(o->tags, (std::vector<std::pair<std::string, std::string>>{{"Run", "7"},
                                                                       {"env", "staging"}}));
}

TEST(LoadFlagsTest, StepLoadSchedule) {
  auto o = Parse({"--call", "p.S.M", "-n", "10000", "-c", "10", "--load-schedule=step",
                  "--load-start=50", "--load-step=10", "--load-end=150",
                  "--load-step-duration=5s", "--load-max-duration=60s", "h:1"});
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->load_schedule, LoadSchedule::kStep);
  EXPECT_EQ(o->load_start, 50);
  EXPECT_EQ(o->load_step, 10);
  EXPECT_EQ(o->load_end, 150);
  EXPECT_EQ(o->load_step_duration, absl::Seconds(5));
  EXPECT_EQ(o->load_max_duration, absl::Seconds(60));
  auto line = Parse({"--call", "p.S.M", "--load-schedule", "line", "--load-start", "200",
                     "--load-step", "-2", "--load-end", "50", "h:1"});
  ASSERT_TRUE(line.ok()) << line.status();
  EXPECT_EQ(line->load_schedule, LoadSchedule::kLine);
  EXPECT_EQ(line->load_step, -2);
  auto stream = Parse({"--call", "p.S.M", "--stream-call-count", "10", "--stream-interval",
                       "5ms", "--stream-call-duration", "1s", "h:1"});
  ASSERT_TRUE(stream.ok()) << stream.status();
  EXPECT_EQ(stream->stream_call_count, 10);
  EXPECT_EQ(stream->stream_interval, absl::Milliseconds(5));
  EXPECT_EQ(stream->stream_call_duration, absl::Seconds(1));
  auto rps = Parse({"--call", "p.S.M", "-r", "250", "h:1"});  // ghz's short form
  ASSERT_TRUE(rps.ok()) << rps.status();
  EXPECT_EQ(rps->rps, 250);
}

TEST(LoadFlagsTest, MaxDurationFromTheCommandLineAndAGhzConfig) {
  auto o = Parse({"--call", "p.S.M", "-x", "10s", "h:1"});
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->max_duration, absl::Seconds(10));
  auto long_form = Parse({"--call", "p.S.M", "--max-duration=250ms", "h:1"});
  ASSERT_TRUE(long_form.ok()) << long_form.status();
  EXPECT_EQ(long_form->max_duration, absl::Milliseconds(250));
}

// ghz gives -x -z's place when both are given (its config: `if X > 0 { Z =
// X }`), and a run with a -z, there as here, ignores -n: the run lasts -x,
// whichever of the two is longer, and the report's duration says so.
TEST(LoadFlagsTest, DurationAndMaxDurationTogetherRunForMaxDurationAsGhzDoes) {
  for (const auto& [z, x] : {std::pair{"10s", "3s"}, std::pair{"3s", "10s"}}) {
    auto o = Parse({"--call", "p.S.M", "-n", "50", "-z", z, "-x", x, "h:1"});
    ASSERT_TRUE(o.ok()) << o.status();
    const absl::Duration max_duration = o->max_duration;
    EXPECT_EQ(o->duration, max_duration) << "-z " << z << " -x " << x;
    EXPECT_EQ(RunLimit(*o), max_duration) << "-z " << z << " -x " << x;
  }
  // Alone, -z and -x keep their own meanings.
  auto z_only = Parse({"--call", "p.S.M", "-z", "10s", "h:1"});
  ASSERT_TRUE(z_only.ok()) << z_only.status();
  EXPECT_EQ(z_only->duration, absl::Seconds(10));
  auto x_only = Parse({"--call", "p.S.M", "-x", "3s", "h:1"});
  ASSERT_TRUE(x_only.ok()) << x_only.status();
  EXPECT_EQ(x_only->duration, absl::ZeroDuration()) << "-x alone runs by -n";
  EXPECT_EQ(RunLimit(*x_only), absl::Seconds(3));
}

// ghz takes --async without a rate: its pacer's zero rate is "no limit",
// and every call is made as soon as possible, none waiting for another.
TEST(LoadFlagsTest, AsyncWithoutARateIsAcceptedAsGhzDoes) {
  auto o = Parse({"--call", "p.S.M", "--async", "-n", "1000", "h:1"});
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_TRUE(o->async);
  EXPECT_EQ(o->rps, 0);
}

TEST(LoadFlagsTest, CpusDefaultsToHalfTheCoresForALoopbackServer) {
  const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  auto local = Parse({"--call", "p.S.M", "127.0.0.1:50051"});
  ASSERT_TRUE(local.ok()) << local.status();
  EXPECT_EQ(local->cpus, std::max(1, cores / 2));
  auto remote = Parse({"--call", "p.S.M", "10.0.0.1:50051"});
  ASSERT_TRUE(remote.ok()) << remote.status();
  EXPECT_EQ(remote->cpus, cores);
  auto chosen = Parse({"--call", "p.S.M", "--cpus", "3", "127.0.0.1:50051"});
  ASSERT_TRUE(chosen.ok()) << chosen.status();
  EXPECT_EQ(chosen->cpus, 3);
}

TEST(LoadFlagsTest, ShortAndLongFormsWithAndWithoutEquals) {
  auto o = Parse({"-c", "8", "--total=1000", "-z=3s", "--rps", "250.5",
                  "--connections=4", "-t", "150ms", "--call=pkg.S.M", "-d",
                  R"({"payload":"aGk="})", "-m", R"({"X-Trace":"1"})",
                  "--insecure", "-O", "json", "-o", "/tmp/r.json", "--cpus=2",
                  "127.0.0.1:9"});
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->concurrency, 8);
  EXPECT_EQ(o->total, 1000);
  EXPECT_EQ(o->duration, absl::Seconds(3));
  EXPECT_EQ(o->rps, 250.5);
  EXPECT_EQ(o->connections, 4);
  EXPECT_EQ(o->timeout, absl::Milliseconds(150));
  EXPECT_EQ(o->call, "pkg.S.M");
  EXPECT_EQ(o->data, R"({"payload":"aGk="})");
  ASSERT_EQ(o->metadata.size(), 1u);
  EXPECT_EQ(o->metadata[0].first, "x-trace");  // HTTP/2 wants lower case
  EXPECT_EQ(o->metadata[0].second, "1");
  EXPECT_TRUE(o->insecure);
  EXPECT_EQ(o->format, OutputFormat::kJson);
  EXPECT_EQ(o->output, "/tmp/r.json");
  EXPECT_EQ(o->cpus, 2);
  EXPECT_EQ(o->host, "127.0.0.1:9");
}

TEST(LoadFlagsTest, TlsFilesTurnInsecureOff) {
  auto o = Parse({"--call=pkg.S.M", "--cacert", "ca.pem", "--cert=client.pem",
                  "--key", "client.key", "h:1"});
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_FALSE(o->insecure);
  EXPECT_EQ(o->cacert, "ca.pem");
  EXPECT_EQ(o->cert, "client.pem");
  EXPECT_EQ(o->key, "client.key");
}

TEST(LoadFlagsTest, BareNumberDurationIsSeconds) {
  auto o = Parse({"--call", "p.S.M", "-t", "2", "h:1"});
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->timeout, absl::Seconds(2));
}

TEST(LoadFlagsTest, BinaryIsABoolean) {
  auto o = Parse({"-b", "--call", "p.S.M", "h:1"});
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_TRUE(o->binary);
  EXPECT_EQ(o->host, "h:1");
}

TEST(LoadFlagsTest, HelpSkipsValidation) {
  auto o = Parse({"--help"});
  ASSERT_TRUE(o.ok());
  EXPECT_TRUE(o->help);
  EXPECT_TRUE(absl::StrContains(LoadUsage(), "--concurrency"));
}

// A config file of the calling test's own, removed with it: ctest runs
// tests in parallel processes, and two tests writing one shared name read
// each other's configs.
class TempConfig {
 public:
  explicit TempConfig(const std::string& text, absl::string_view extension = ".json")
      : path_(absl::StrCat(
            ::testing::TempDir(), "/ghz_config_",
            ::testing::UnitTest::GetInstance()->current_test_info()->name(), "_",
            getpid(), "_", next_++, extension)) {
    std::ofstream(path_) << text;
  }
  ~TempConfig() { std::remove(path_.c_str()); }
  const std::string& path() const { return path_; }

 private:
  static inline int next_ = 0;  // several files in one test
  const std::string path_;
};

TEST(LoadFlagsTest, GhzConfigFileAndOverrides) {
  const TempConfig config(R"({
    "call": "handoff.v1.Gateway.Echo", "host": "127.0.0.1:7", "insecure": true,
    "concurrency": 4, "total": 40, "rps": 100, "timeout": "250ms",
    "data": {"payload": "aGk="}, "metadata": {"k": "v"}})");
  const std::string& path = config.path();
  auto o = Parse({"--config", path, "-c", "2"});
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->call, "handoff.v1.Gateway.Echo");
  EXPECT_EQ(o->host, "127.0.0.1:7");
  EXPECT_TRUE(o->insecure);
  EXPECT_EQ(o->concurrency, 2);  // the flag wins
  EXPECT_EQ(o->total, 40);
  EXPECT_EQ(o->rps, 100);
  EXPECT_EQ(o->timeout, absl::Milliseconds(250));
  EXPECT_EQ(o->data, R"({"payload":"aGk="})");
  ASSERT_EQ(o->metadata.size(), 1u);

  auto other_host = Parse({"--config=" + path, "10.0.0.1:1"});
  ASSERT_TRUE(other_host.ok()) << other_host.status();
  EXPECT_EQ(other_host->host, "10.0.0.1:1");
}

TEST(LoadFlagsTest, AGhzConfigUsingEveryKindOfOptionParses) {
  const TempConfig config(R"({
    "call": "p.S.M", "host": "h:1", "proto": "api.proto", "import-paths": ["a", "b"],
    "insecure": true, "async": true, "rps": 100, "concurrency-schedule": "line",
    "concurrency-start": 2, "concurrency-step": 2, "concurrency-end": 10,
    "total": 1000, "timeout": "5s", "connect-timeout": "2s", "keepalive": "30s",
    "data": {"name": "{{.WorkerID}}"}, "metadata": {"x-id": "{{newUUID}}"},
    "reflect-metadata": {"authorization": "t"}, "max-recv-message-size": "8 MiB",
    "stream-dynamic-messages": true, "disable-template-functions": false,
    "lb-strategy": "round_robin", "format": "influx-details", "debug": "/tmp/ghz.log",
    "skipFirst": 10, "count-errors": true, "name": "n", "tags": {"env": "ci"}})");
  auto o = Parse({"--config", config.path()});
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_TRUE(o->async);
  EXPECT_EQ(o->concurrency, 10);
  EXPECT_EQ(o->format, OutputFormat::kInfluxDetails);
  EXPECT_EQ(o->debug, "/tmp/ghz.log");
  EXPECT_EQ(o->reflect_metadata.size(), 1u);
}

TEST(LoadFlagsTest, VersionSkipsValidation) {
  auto o = Parse({"-v"});
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_TRUE(o->version);
}

TEST(LoadFlagsTest, AGhzConfigKeyHandoffDoesNotTakeIsRefusedNamingIt) {
  const TempConfig config(R"({"call":"p.S.M","frob":1})");
  auto o = Parse({"--config", config.path(), "h:1"});
  ASSERT_FALSE(o.ok());
  EXPECT_TRUE(absl::StrContains(o.status().message(), "unsupported key 'frob'"))
      << o.status();
}

TEST(LoadFlagsTest, AGhzTomlOrYamlConfigIsRefusedSayingOnlyJsonIsRead) {
  // ghz reads its config as TOML or YAML by the file's extension; handoff
  // load reads JSON alone, and says so rather than "Unexpected token".
  for (const auto& [extension, text] : std::vector<std::pair<std::string, std::string>>{
           {".toml", "call = \"p.S.M\"\ntotal = 10\n"},
           {".yaml", "call: p.S.M\ntotal: 10\n"},
           {".YML", "call: p.S.M\n"}}) {
    const TempConfig config(text, extension);
    auto o = Parse({"--config", config.path(), "h:1"});
    ASSERT_FALSE(o.ok()) << extension;
    EXPECT_EQ(o.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_TRUE(absl::StrContains(o.status().message(), config.path())) << o.status();
    EXPECT_TRUE(absl::StrContains(o.status().message(), "reads JSON config files only"))
        << o.status();
  }
}

// kingpin, ghz's parser, takes --no-NAME for every switch NAME and turns it
// off: over an earlier --NAME, or over a --config file's "NAME": true.
TEST(LoadFlagsTest, NoBeforeASwitchTurnsItOffAsKingpinDoes) {
  auto o = Parse({"--call", "p.S.M", "--insecure", "--async", "--rps", "10", "--no-insecure",
                  "--no-async", "--no-skipTLS", "--no-count-errors", "h:1"});
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_FALSE(o->insecure);
  EXPECT_FALSE(o->async);
  EXPECT_FALSE(o->skip_tls);
  EXPECT_FALSE(o->count_errors);

  const TempConfig config(R"({"call": "p.S.M", "host": "h:1", "insecure": true,
                              "enable-compression": true, "data": {"payload": "aGk="}})");
  auto over_file = Parse({"--config", config.path(), "--no-insecure",
                          "--no-enable-compression", "--no-binary"});
  ASSERT_TRUE(over_file.ok()) << over_file.status();
  EXPECT_FALSE(over_file->insecure);
  EXPECT_FALSE(over_file->enable_compression);
  EXPECT_FALSE(over_file->binary);
  EXPECT_EQ(over_file->data, R"({"payload":"aGk="})") << "--no-binary gives no request";

  // As in kingpin, only a switch has a --no- form.
  auto not_a_switch = Parse({"--call", "p.S.M", "--no-rps", "h:1"});
  EXPECT_FALSE(not_a_switch.ok());
  EXPECT_EQ(not_a_switch.status().message(), "unknown option '--no-rps'");
  auto not_an_option = Parse({"--call", "p.S.M", "--no-frobnicate", "h:1"});
  EXPECT_FALSE(not_an_option.ok());
}

TEST(LoadFlagsTest, SkipFirstCountErrorsAndMaxDurationFromAGhzConfig) {
  auto o = Parse({"--call", "p.S.M", "--skipFirst", "100", "--count-errors", "h:1"});
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->skip_first, 100);
  EXPECT_TRUE(o->count_errors);

  // ghz configs carry warm-up as "skipFirst": 100.
  // ghz's own example config sets "max-duration".
  const TempConfig config(R"({"call": "p.S.M", "host": "h:1", "skipFirst": 100,
                              "count-errors": true, "max-duration": "10s"})");
  auto from_file = Parse({"--config", config.path()});
  ASSERT_TRUE(from_file.ok()) << from_file.status();
  EXPECT_EQ(from_file->skip_first, 100);
  EXPECT_TRUE(from_file->count_errors);
  EXPECT_EQ(from_file->max_duration, absl::Seconds(10));
}

// ghz reads 0 for --cpus and --connections as "not set": its options keep
// their defaults (every core, one connection). A config holding every key
// of ghz's Config, as one written out from it does, has "cpus": 0.
TEST(LoadFlagsTest, ZeroCpusAndConnectionsKeepGhzsDefaults) {
  auto defaults = Parse({"--call", "p.S.M", "10.0.0.1:1"});
  ASSERT_TRUE(defaults.ok()) << defaults.status();
  auto zeros = Parse({"--call", "p.S.M", "--cpus", "0", "--connections=0", "10.0.0.1:1"});
  ASSERT_TRUE(zeros.ok()) << zeros.status();
  EXPECT_EQ(zeros->cpus, defaults->cpus);
  EXPECT_EQ(zeros->connections, 1);

  const TempConfig config(R"({"call": "p.S.M", "host": "10.0.0.1:1", "cpus": 0,
                              "connections": 0})");
  auto from_file = Parse({"--config", config.path()});
  ASSERT_TRUE(from_file.ok()) << from_file.status();
  EXPECT_EQ(from_file->cpus, defaults->cpus);
  EXPECT_EQ(from_file->connections, 1);

  auto negative = Parse({"--call", "p.S.M", "--cpus", "-1", "h:1"});
  ASSERT_FALSE(negative.ok());
  EXPECT_TRUE(absl::StrContains(negative.status().message(), "--cpus")) << negative.status();
}

// ghz's parser (kingpin) reads a short option's value from the same
// argument, -c10 -n1000 -z10s, as getopt does.
TEST(LoadFlagsTest, ShortOptionsTakeTheirValueAttachedAsGhzsDo) {
  auto o = Parse({"--call", "p.S.M", "-c10", "-n1000", "-x10s", "-OJSON", "-ojson.out",
                  R"(-d{"a":1})", "h:1"});
  ASSERT_FALSE(o.ok()) << "-OJSON is not a format";
  EXPECT_TRUE(absl::StrContains(o.status().message(), "JSON")) << o.status();
  o = Parse({"--call", "p.S.M", "-c10", "-n1000", "-x10s", "-Ojson", "-ojson.out",
             R"(-d{"a":1})", "h:1"});
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->concurrency, 10);
  EXPECT_EQ(o->total, 1000);
  EXPECT_EQ(o->max_duration, absl::Seconds(10));
  EXPECT_EQ(o->format, OutputFormat::kJson);
  EXPECT_EQ(o->output, "json.out");
  EXPECT_EQ(o->data, R"({"a":1})");
  // A switch takes no value, attached or not.
  auto switch_with_value = Parse({"--call", "p.S.M", "-bx", "h:1"});
  EXPECT_FALSE(switch_with_value.ok());
}

TEST(LoadFlagsTest, TemplateSwitchesFromTheCommandLineAndAGhzConfig) {
  auto defaults = Parse({"--call", "p.S.M", "h:1"});
  ASSERT_TRUE(defaults.ok()) << defaults.status();
  EXPECT_FALSE(defaults->disable_template_data);
  EXPECT_FALSE(defaults->disable_template_functions);

  // Benchmark scripts pass both, to keep templating out of the measurement.
  auto o = Parse({"--call", "p.S.M", "--disable-template-functions",
                  "--disable-template-data", "h:1"});
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_TRUE(o->disable_template_data);
  EXPECT_TRUE(o->disable_template_functions);

  const TempConfig config(R"({"call": "p.S.M", "host": "h:1",
                              "disable-template-functions": true,
                              "disable-template-data": true})");
  auto from_file = Parse({"--config", config.path()});
  ASSERT_TRUE(from_file.ok()) << from_file.status();
  EXPECT_TRUE(from_file->disable_template_data);
  EXPECT_TRUE(from_file->disable_template_functions);
}

TEST(LoadFlagsTest, MessageSizesInGhzsUnits) {
  const std::vector<std::pair<std::string, int>> sizes = {
      {"4194304", 4194304}, {"4 MB", 4000000},  {"4MiB", 4194304}, {"1.5kb", 1500},
      {"64 KiB", 65536},    {"1 gib", 1 << 30},  {"512B", 512},
  };
  for (const auto& [text, bytes] : sizes) {
    auto o = Parse({"--call", "p.S.M", "--max-recv-message-size", text,
                    "--max-send-message-size", text, "h:1"});
    ASSERT_TRUE(o.ok()) << text << ": " << o.status();
    EXPECT_EQ(o->max_recv_message_size, bytes) << text;
    EXPECT_EQ(o->max_send_message_size, bytes) << text;
  }
  auto defaults = Parse({"--call", "p.S.M", "h:1"});
  ASSERT_TRUE(defaults.ok());
  EXPECT_EQ(defaults->max_recv_message_size, 0) << "no limit unless asked";
  for (const std::string bad : {"4 XB", "-1", "MB", "3 GiB"}) {
    auto o = Parse({"--call", "p.S.M", "--max-recv-message-size", bad, "h:1"});
    ASSERT_FALSE(o.ok()) << bad;
    EXPECT_TRUE(absl::StartsWith(o.status().message(), "--max-recv-message-size: want a size"))
        << o.status();
  }
}

TEST(LoadFlagsTest, KeepaliveLbStrategyAndStreamDynamicMessages) {
  auto o = Parse({"--call", "p.S.M", "--keepalive", "30s", "--lb-strategy", "round_robin",
                  "--stream-dynamic-messages", "h:1"});
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->keepalive, absl::Seconds(30));
  EXPECT_EQ(o->lb_strategy, "round_robin");
  EXPECT_TRUE(o->stream_dynamic_messages);

  auto bad = Parse({"--call", "p.S.M", "--lb-strategy", "least_request", "h:1"});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(),
            "--lb-strategy: want pick_first or round_robin, got 'least_request'");

  const TempConfig config(R"({"call": "p.S.M", "host": "h:1", "keepalive": "10s",
                              "lb-strategy": "pick_first", "stream-dynamic-messages": true,
                              "max-recv-message-size": "8 MiB"})");
  auto from_file = Parse({"--config", config.path()});
  ASSERT_TRUE(from_file.ok()) << from_file.status();
  EXPECT_EQ(from_file->keepalive, absl::Seconds(10));
  EXPECT_EQ(from_file->lb_strategy, "pick_first");
  EXPECT_TRUE(from_file->stream_dynamic_messages);
  EXPECT_EQ(from_file->max_recv_message_size, 8 << 20);
}

TEST(LoadFlagsTest, AConcurrencyScheduleSetsMinusCToItsPeak) {
  // ghz's documented example: 5 workers, 5 more every 5 s, up to 50.
  auto o = Parse({"--call", "p.S.M", "-n", "10", "--rps", "200", "--concurrency-schedule=step",
                  "--concurrency-start=5", "--concurrency-step=5", "--concurrency-end=50",
                  "--concurrency-step-duration=5s", "h:1"});
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->concurrency_schedule, LoadSchedule::kStep);
  EXPECT_EQ(o->concurrency, 50) << "-c is the peak; -n may be below it";
  EXPECT_EQ(o->concurrency_step_duration, absl::Seconds(5));

  const TempConfig config(R"({"call": "p.S.M", "host": "h:1", "concurrency-schedule": "line",
                              "concurrency-start": 20, "concurrency-step": -2,
                              "concurrency-end": 4})");
  auto from_file = Parse({"--config", config.path()});
  ASSERT_TRUE(from_file.ok()) << from_file.status();
  EXPECT_EQ(from_file->concurrency_schedule, LoadSchedule::kLine);
  EXPECT_EQ(from_file->concurrency_step, -2);
  EXPECT_EQ(from_file->concurrency, 20);
}

// ghz's reports write -c as given (its default 50) under a concurrency
// schedule, where its workers follow the schedule instead; the schedule's
// own keys say what ran. handoff wrote the peak it runs by, so the same
// command line gave another `concurrency` than ghz's, in the JSON and as a
// Prometheus label, which splits a ghz run's series from handoff's.
TEST(LoadFlagsTest, AScheduledRunsReportsWriteMinusCAsGivenNotThePeak) {
  auto o = Parse({"--call", "p.S.M", "-c", "20", "--concurrency-schedule=step",
                  "--concurrency-start=5", "--concurrency-step=5", "--concurrency-end=50",
                  "--concurrency-step-duration=5s", "h:1"});
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->concurrency, 50) << "the run takes the peak";
  const Report report = BuildReport(RunResults{}, "");
  EXPECT_TRUE(absl::StrContains(FormatJson(report, *o, false),
                                R"("concurrency":20,"concurrency-schedule":"step",)"))
      << FormatJson(report, *o, false);
  EXPECT_TRUE(absl::StrContains(FormatPrometheus(report, *o), R"(concurrency="20")"))
      << FormatPrometheus(report, *o);

  auto unset = Parse({"--call", "p.S.M", "--concurrency-schedule=line", "--concurrency-start=5",
                      "--concurrency-end=80", "h:1"});
  ASSERT_TRUE(unset.ok()) << unset.status();
  EXPECT_EQ(unset->concurrency, 80);
  EXPECT_TRUE(absl::StrContains(FormatJson(report, *unset, false),
                                R"("concurrency":50,"concurrency-schedule":"line",)"))
      << "ghz's default -c";
  EXPECT_TRUE(absl::StrContains(FormatPrometheus(report, *unset), R"(concurrency="50")"));
}

// ghz's --concurrency-step is 1 unless given: a line from 5 to 50 slots
// needs no step (handoff load refused it, "needs a --concurrency-step other
// than 0").
TEST(LoadFlagsTest, TheConcurrencyStepIsOneUnlessGiven) {
  auto o = Parse({"--call", "p.S.M", "-z", "60s", "--concurrency-schedule=line",
                  "--concurrency-start=5", "--concurrency-end=50", "h:1"});
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->concurrency_step, 1);
  EXPECT_EQ(o->concurrency, 50) << "the peak: 5, then one more a second";
  // Under the constant schedule the default is no stray shaping flag.
  EXPECT_TRUE(Parse({"--call", "p.S.M", "h:1"}).ok());
}

// ghz checks --connections against -c (`nConns > c`), whatever the
// concurrency schedule: a schedule's peak below the connections is no
// error, and one above -c does not let more connections through.
TEST(LoadFlagsTest, ConnectionsAreCheckedAgainstMinusCNotTheSchedulesPeak) {
  auto o = Parse({"--call", "p.S.M", "-z", "10s", "--concurrency-schedule=step",
                  "--concurrency-start=1", "--concurrency-end=2",
                  "--concurrency-step-duration=1s", "--connections=4", "h:1"});
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->connections, 4);
  EXPECT_EQ(o->concurrency, 2) << "the run still takes the schedule's peak";

  auto over = Parse({"--call", "p.S.M", "-z", "10s", "--concurrency-schedule=step",
                     "--concurrency-start=10", "--concurrency-end=100",
                     "--concurrency-step=10", "--concurrency-step-duration=1s",
                     "--connections=60", "h:1"});
  ASSERT_FALSE(over.ok());
  EXPECT_EQ(over.status().message(), "--connections (60) cannot exceed -c (50)");
}

// The JSON report's options.metadata is -m's or -M's object as ghz reads
// it back into its *map[string]string: the keys as given (the calls send
// them lowercased, as gRPC must), and `{}` for an empty object, since
// omitempty leaves out only a nil pointer, not a pointer to an empty map.
TEST(LoadFlagsTest, TheJsonReportsMetadataKeepsItsKeysAsGivenAndAnEmptyObject) {
  auto options_json = [](const LoadOptions& o) {
    const std::string json = FormatJson(BuildReport(RunResults{}, ""), o, false);
    const size_t at = json.find("\"binary\":false,");
    const size_t end = json.find("\"CPUs\":");
    EXPECT_NE(at, std::string::npos) << json;
    return at == std::string::npos ? json : json.substr(at, end - at);
  };
  auto given = Parse({"--call", "p.S.M", "-m", R"({"X-Trace":"1","b":"2"})", "h:1"});
  ASSERT_TRUE(given.ok()) << given.status();
  EXPECT_EQ(given->metadata, (std::vector<std::pair<std::string, std::string>>{
                                 {"b", "2"}, {"x-trace", "1"}}))
      << "sent lowercased";
  EXPECT_EQ(options_json(*given), R"("binary":false,"metadata":{"X-Trace":"1","b":"2"},)");

  const TempConfig upper(R"({"Authorization":"Bearer t"})");
  auto from_file = Parse({"--call", "p.S.M", "-M", upper.path(), "h:1"});
  ASSERT_TRUE(from_file.ok()) << from_file.status();
  EXPECT_EQ(options_json(*from_file), R"("binary":false,"metadata":{"Authorization":"Bearer t"},)");

  const TempConfig empty("{}");
  auto empty_file = Parse({"--call", "p.S.M", "-M", empty.path(), "h:1"});
  ASSERT_TRUE(empty_file.ok()) << empty_file.status();
  EXPECT_EQ(options_json(*empty_file), R"("binary":false,"metadata":{},)");
  auto empty_flag = Parse({"--call", "p.S.M", "-m", "{}", "h:1"});
  ASSERT_TRUE(empty_flag.ok()) << empty_flag.status();
  EXPECT_EQ(options_json(*empty_flag), R"("binary":false,"metadata":{},)");

  auto none = Parse({"--call", "p.S.M", "h:1"});
  ASSERT_TRUE(none.ok()) << none.status();
  EXPECT_EQ(options_json(*none), R"("binary":false,)") << "no -m or -M: ghz's nil, left out";
}

TEST(LoadFlagsTest, TheInfluxMetadataTagKeepsItsKeysAsGivenAndAnEmptyObject) {
  auto metadata_tag = [](const LoadOptions& o) {
    return InfluxTags(FormatInfluxSummary(BuildReport(RunResults{}, ""), o), "metadata", "tags");
  };
  auto given = Parse({"--call", "p.S.M", "-m", R"({"X-Trace":"1","b":"2"})", "h:1"});
  ASSERT_TRUE(given.ok()) << given.status();
  EXPECT_EQ(metadata_tag(*given), R"(metadata="{\"X-Trace\":\"1\"\,\"b\":\"2\"}")");
  auto empty_flag = Parse({"--call", "p.S.M", "-m", "{}", "h:1"});
  ASSERT_TRUE(empty_flag.ok()) << empty_flag.status();
  EXPECT_EQ(metadata_tag(*empty_flag), R"(metadata="{}")") << "ghz's empty map is not nil";
  auto none = Parse({"--call", "p.S.M", "h:1"});
  ASSERT_TRUE(none.ok()) << none.status();
  EXPECT_EQ(metadata_tag(*none), R"(metadata="")");
}

TEST(LoadFlagsTest, ProtoImportPathsAndProtoset) {
  auto o = Parse({"--call", "p.S.M", "--proto", "api/x.proto", "-i", "third,vendor/protos",
                  "--protoset", "x.protoset", "h:1"});
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->proto, "api/x.proto");
  EXPECT_EQ(o->import_paths, (std::vector<std::string>{"third", "vendor/protos"}));
  EXPECT_EQ(o->protoset, "x.protoset");

  // ghz's configs list the import paths as a JSON array.
  const TempConfig config(R"({"call": "p.S.M", "host": "h:1", "proto": "/p/greeter.proto",
                              "import-paths": ["/p", "/q"]})");
  auto from_file = Parse({"--config", config.path()});
  ASSERT_TRUE(from_file.ok()) << from_file.status();
  EXPECT_EQ(from_file->proto, "/p/greeter.proto");
  EXPECT_EQ(from_file->import_paths, (std::vector<std::string>{"/p", "/q"}));
}

// A key gRPC keeps for itself is refused by name, as -m's key (whatever its
// case) and as -M's: gRPC dropped it, or sent its own value in its place,
// and the run's calls went on without it.
TEST(LoadFlagsTest, AMetadataKeyGrpcKeepsForItselfIsRefusedNamingIt) {
  auto flag = Parse({"--call", "p.S.M", "-m", R"({"TE":"trailers"})", "h:1"});
  ASSERT_FALSE(flag.ok());
  EXPECT_EQ(flag.status().message(),
            R"(-m: metadata key "te" is gRPC's own: gRPC sends te: trailers itself and drops )"
            "this one");
  const TempConfig file(R"({"user-agent": "my-load/1"})");
  auto from_file = Parse({"--call", "p.S.M", "-M", file.path(), "h:1"});
  ASSERT_FALSE(from_file.ok());
  EXPECT_TRUE(absl::StrContains(
      from_file.status().message(),
      absl::StrCat("-M: ", file.path(), R"(: metadata key "user-agent" is gRPC's own: )")))
      << from_file.status();
}

TEST(LoadFlagsTest, MetadataFromAFile) {
  const TempConfig metadata(R"({"Authorization": "Bearer t", "x-run": "7"})");
  auto o = Parse({"--call", "p.S.M", "-M", metadata.path(), "h:1"});
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->metadata, (std::vector<std::pair<std::string, std::string>>{
                             {"authorization", "Bearer t"}, {"x-run", "7"}}));

  const TempConfig not_an_object(R"(["a"])");
  auto bad = Parse({"--call", "p.S.M", "-M", not_an_object.path(), "h:1"});
  ASSERT_FALSE(bad.ok());
  EXPECT_TRUE(absl::StrContains(bad.status().message(), "is not a JSON object of strings"))
      << bad.status();

  auto both = Parse({"--call", "p.S.M", "-m", R"({"a":"b"})", "-M", metadata.path(), "h:1"});
  ASSERT_FALSE(both.ok());
  EXPECT_TRUE(absl::StrContains(both.status().message(), "-m and -M are exclusive"))
      << both.status();

  // A header gRPC could not send is named with the file, as -m's are.
  const TempConfig unsendable(R"({"x-note": "tab\there"})");
  auto refused = Parse({"--call", "p.S.M", "-M", unsendable.path(), "h:1"});
  ASSERT_FALSE(refused.ok());
  EXPECT_TRUE(absl::StrContains(
      refused.status().message(),
      absl::StrCat("-M: ", unsendable.path(), R"(: metadata "x-note": its value holds byte 0x09)")))
      << refused.status();
}

// What gRPC does send: any bytes under a -bin key, which it encodes; and up
// to kMaxSlots calls in flight; and a --skipFirst past -n when -z, not -n,
// ends the run.
TEST(LoadFlagsTest, TheLimitsOfTheChecksAreGrpcsAndGhzs) {
  auto o = Parse({"--call", "p.S.M", "-m", R"({"trace-bin":"\u00e9\u0001","a.b_c-d":"~ !"})",
                  "-c", "10000", "--skipFirst", "300", "-z", "1s", "h:1"});
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->concurrency, 10000);
  EXPECT_EQ(o->skip_first, 300);
  ASSERT_EQ(o->metadata.size(), 2u);
  EXPECT_EQ(o->metadata[1].first, "trace-bin");
  EXPECT_EQ(o->metadata[1].second, "\xc3\xa9\x01");
  EXPECT_TRUE(Parse({"--call", "p.S.M", "--skipFirst", "200", "h:1"}).ok());
}

TEST(LoadFlagsTest, RequestAndMetadataOnTheCommandLineReplaceTheConfigFiles) {
  const TempConfig config(R"({"call": "p.S.M", "host": "h:1", "metadata": {"k": "v"},
                              "data": {"payload": "aGk="}})");
  auto o = Parse({"--config", config.path(), "-m", R"({"x":"y"})"});
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->metadata, (std::vector<std::pair<std::string, std::string>>{{"x", "y"}}));

  // Another way of giving each, which within one source would be refused.
  const TempConfig metadata(R"({"from": "file"})");
  auto other_ways = Parse({"--config", config.path(), "-M", metadata.path(), "-b"});
  ASSERT_TRUE(other_ways.ok()) << other_ways.status();
  EXPECT_EQ(other_ways->metadata,
            (std::vector<std::pair<std::string, std::string>>{{"from", "file"}}));
  EXPECT_TRUE(other_ways->binary);
  EXPECT_EQ(other_ways->data, "");
}

struct BadCase {
  std::vector<absl::string_view> args;
  const char* message;  // must appear in the error
};

// Names the case by its expected message in test output.
void PrintTo(const BadCase& c, std::ostream* os) { *os << c.message; }

class LoadFlagsErrorTest : public ::testing::TestWithParam<BadCase> {};

TEST_P(LoadFlagsErrorTest, OneClearLine) {
  auto o = Parse(GetParam().args);
  ASSERT_FALSE(o.ok());
  EXPECT_EQ(o.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StrContains(o.status().message(), GetParam().message))
      << o.status();
  EXPECT_FALSE(absl::StrContains(o.status().message(), "\n"));
}

INSTANTIATE_TEST_SUITE_P(
    Cases, LoadFlagsErrorTest,
    ::testing::Values(
        BadCase{{"--call", "p.S.M"}, "missing HOST:PORT"},
        BadCase{{"h:1"}, "--call: required"},
        BadCase{{"--call", "p.S.M", "h:1", "h:2"}, "unexpected argument 'h:2'"},
        BadCase{{"--call", "p.S.M", "-c", "zero", "h:1"}, "-c: want a positive integer, got 'zero'"},
        BadCase{{"--call", "p.S.M", "-c", "0", "h:1"}, "-c: want a positive integer"},
        BadCase{{"--call", "p.S.M", "-z", "soon", "h:1"}, "-z: want a duration"},
        // Past Go's longest duration (2^63-1 ns, 292 years), which ghz cannot
        // parse either: it would overflow the run's nanosecond clock.
        BadCase{{"--call", "p.S.M", "-t", "1e300", "h:1"}, "-t: want a duration up to"},
        BadCase{{"--call", "p.S.M", "-t", "3000000h", "h:1"}, "-t: want a duration up to"},
        BadCase{{"--call", "p.S.M", "-z", "1e12", "h:1"}, "-z: want a duration up to"},
        BadCase{{"--call", "p.S.M", "--rps", "-1", "h:1"}, "--rps: want a rate"},
        BadCase{{"--call", "p.S.M", "--skipFirst", "-1", "h:1"}, "--skipFirst: want a count >= 0"},
        BadCase{{"--call", "p.S.M", "-i", "[1]", "h:1"}, "-i: want paths separated by commas"},
        BadCase{{"--call", "p.S.M", "--skipFirst", "ten", "h:1"}, "--skipFirst: want a count >= 0"},
        BadCase{{"--call", "p.S.M", "-O", "xml", "h:1"}, "-O: want summary, json"},
        BadCase{{"--call", "p.S.M", "-O", "xml", "h:1"},
                "-O: want summary, json, pretty, csv, html, influx-summary, influx-details or "
                "prometheus, got 'xml'"},
        BadCase{{"--call", "p.S.M", "-m", "[1]", "h:1"}, "-m: want a JSON object"},
        // Headers gRPC cannot send, where it would abort the process.
        BadCase{{"--call", "p.S.M", "-m", R"({"x y":"1"})", "h:1"},
                R"(-m: metadata key "x y": ' ' is not allowed in a key)"},
        BadCase{{"--call", "p.S.M", "-m", R"({"user":"Jos\u00e9"})", "h:1"},
                R"(-m: metadata "user": its value holds byte 0xc3)"},
        BadCase{{"--call", "p.S.M", "--reflect-metadata", R"({"":"1"})", "h:1"},
                "--reflect-metadata: metadata key is empty"},
        BadCase{{"--call", "p.S.M", "-c", "2000000000", "h:1"},
                "-c: 2000000000 is over the 10000 calls a run may have in flight"},
        BadCase{{"--call", "p.S.M", "--skipFirst", "300", "h:1"},
                "--skipFirst: cannot skip 300 calls of a run of 200 (-n)"},
        BadCase{{"--call", "p.S.M", "--frobnicate", "h:1"}, "unknown option '--frobnicate'"},
        BadCase{{"--call", "p.S.M", "--load-schedule=ramp", "h:1"},
                "--load-schedule: want const, step or line"},
        BadCase{{"--call", "p.S.M", "--load-start=10", "h:1"},
                "shape --load-schedule=step or line"},
        BadCase{{"--call", "p.S.M", "--load-schedule=line", "--load-step=5", "h:1"},
                "--load-schedule=line needs --load-start above 0"},
        BadCase{{"--call", "p.S.M", "--load-schedule=line", "--load-start=5", "h:1"},
                "needs a --load-step other than 0"},
        BadCase{{"--call", "p.S.M", "--load-schedule=step", "--load-start=5", "--load-step=5",
                 "h:1"},
                "--load-schedule=step needs --load-step-duration"},
        BadCase{{"--call", "p.S.M", "--load-schedule=line", "--load-start=50",
                 "--load-step=-5", "h:1"},
                "a negative --load-step needs --load-end above 0"},
        BadCase{{"--call", "p.S.M", "--load-schedule=line", "--load-start=50",
                 "--load-step=5", "--load-end=10", "h:1"},
                "--load-end 10 is behind --load-start 50"},
        BadCase{{"--call", "p.S.M", "--load-schedule=line", "--load-start=50",
                 "--load-step=5", "--rps=10", "h:1"},
                "takes no --rps"},
        BadCase{{"--call", "p.S.M", "--load-schedule=line", "--load-start=nan",
                 "--load-step=5", "h:1"},
                "--load-start: want a rate >= 0"},
        BadCase{{"--call", "p.S.M", "--reflect-metadata", "token", "h:1"},
                R"(--reflect-metadata: want a JSON object of strings like {"key":"value"})"},
        BadCase{{"--call", "p.S.M", "--concurrency-schedule=step", "h:1"},
                "--concurrency-schedule=step needs --concurrency-start above 0"},
        BadCase{{"--call", "p.S.M", "--concurrency-schedule=ramp", "h:1"},
                "--concurrency-schedule: want const, step or line, got 'ramp'"},
        BadCase{{"--call", "p.S.M", "--concurrency-step=x", "h:1"},
                "--concurrency-step: want a whole number, got 'x'"},
        BadCase{{"--call", "p.S.M", "--concurrency-schedule=line", "--concurrency-start=1",
                 "--concurrency-step=1", "h:1"},
                "--concurrency-schedule=line rises without end"},
        BadCase{{"--call", "p.S.M", "h:1", "-c"}, "-c: missing value"},
        BadCase{{"--call", "p.S.M", "--insecure=yes", "h:1"}, "takes no value"},
        BadCase{{"--call", "p.S.M", "-c", "2", "--connections", "3", "h:1"},
                "--connections (3) cannot exceed -c (2)"},
        BadCase{{"--call", "p.S.M", "-d", "{}", "-b", "h:1"}, "exclusive"}));

}  // namespace
}  // namespace handoff::load
