// Copyright 2026 The handoff Authors.

#include "server/config.h"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <optional>
#include <thread>

#include "absl/flags/flag.h"
#include "absl/flags/reflection.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/absl_argv.h"
#include "dispatch/internal/cpus.h"
#include "server/host_port.h"

ABSL_FLAG(std::string, listen, "0.0.0.0:50051",
          "gRPC listen address, host:port or [ipv6]:port; the port is "
          "0..65535 (0 picks a free port). unix:PATH listens on a Unix "
          "domain socket.");
ABSL_FLAG(std::string, admin_listen, "0.0.0.0:9090",
          "Admin HTTP address for /metrics, /healthz and /readyz, host:port "
          "checked like --listen (but TCP only, no unix:); empty turns it "
          "off.");
ABSL_FLAG(int32_t, workers, 0,
          "Worker threads that run jobs; 0 means one per CPU handoffd may "
          "run on (its affinity mask: taskset, a container's cpuset).");
ABSL_FLAG(int32_t, queue_depth, 256,
          "Jobs that may wait for a worker; beyond it --queue_policy applies.");
ABSL_FLAG(handoff::QueuePolicy, queue_policy, handoff::QueuePolicy::kReject,
          "When the queue is full: 'reject' fails the call at once with "
          "RESOURCE_EXHAUSTED; 'wait' waits for room until the call's "
          "deadline, without holding a thread.");
ABSL_FLAG(handoff::DurationFlag, default_deadline,
          handoff::DurationFlag{absl::Seconds(10)},
          "Deadline of a call whose client set none.");
ABSL_FLAG(handoff::DurationFlag, max_deadline,
          handoff::DurationFlag{absl::Seconds(120)},
          "Cap on any call's deadline, whatever the client asked for.");
ABSL_FLAG(handoff::DurationFlag, drain_timeout,
          handoff::DurationFlag{absl::Seconds(10)},
          "On SIGTERM/SIGINT, how long in-flight calls may take to finish "
          "before they are cancelled.");
ABSL_FLAG(handoff::DurationFlag, stop_grace,
          handoff::DurationFlag{absl::Seconds(1)},
          "After the drain cancels what is left, how long a job still running "
          "(a handler that ignores its Context) is waited for; then handoffd "
          "exits 1 without it.");
ABSL_FLAG(int32_t, max_message_bytes, 4 << 20,
          "Largest request message accepted, and largest reply sent; larger "
          "ones get RESOURCE_EXHAUSTED.");
ABSL_FLAG(int32_t, stream_window, 16,
          "Jobs in flight per Stream call, at most --queue_depth; the server "
          "stops reading the stream while this many are pending "
          "(backpressure).");
ABSL_FLAG(int32_t, max_batch_items, 1024,
          "Most items in one Batch call; more is INVALID_ARGUMENT.");
ABSL_FLAG(int32_t, batch_window, 64,
          "Items of one Batch call in flight (queued or running) at a time, "
          "at most --queue_depth; the rest start as those finish.");
ABSL_FLAG(handoff::DurationFlag, max_connection_age,
          handoff::DurationFlag{absl::InfiniteDuration()},
          "Close each client connection (GOAWAY) after this long, so clients "
          "behind a plain L4 Service reconnect and spread over replicas; "
          "'inf' keeps connections.");
ABSL_FLAG(handoff::DurationFlag, max_connection_age_grace,
          handoff::DurationFlag{absl::InfiniteDuration()},
          "After --max_connection_age, how long open calls may still finish.");
ABSL_FLAG(handoff::DurationFlag, handshake_timeout,
          handoff::DurationFlag{absl::Seconds(10)},
          "A connection that has not finished its handshake (TLS, HTTP/2 "
          "preface and SETTINGS) this long after it was accepted is closed "
          "(gRPC's own default: 2m).");
ABSL_FLAG(handoff::DurationFlag, max_connection_idle,
          handoff::DurationFlag{absl::Minutes(5)},
          "A connection without a call open this long is sent GOAWAY and "
          "closed (gRPC clients reconnect on their next call); 'inf' keeps "
          "idle connections, as gRPC does by default.");
ABSL_FLAG(handoff::DurationFlag, keepalive_min_time,
          handoff::DurationFlag{absl::Seconds(10)},
          "Smallest interval between client keepalive pings that is accepted "
          "(faster pingers get GOAWAY too_many_pings).");
ABSL_FLAG(bool, keepalive_permit_without_calls, true,
          "Accept keepalive pings on connections with no call open.");
ABSL_FLAG(int32_t, max_concurrent_streams, 1000,
          "Calls one HTTP/2 connection may have open at once (its "
          "SETTINGS_MAX_CONCURRENT_STREAMS). A gRPC client holds further "
          "calls until one ends; a client that opens more anyway loses the "
          "connection. gRPC's own default is unlimited, and each open call "
          "holds about 12 KB, so one connection could make handoffd hold "
          "gigabytes. Raise it with --queue_depth if one connection carries "
          "more calls than this.");
ABSL_FLAG(bool, batch_scheduling, true,
          "Run the worker and dispatcher threads under Linux's SCHED_BATCH, "
          "so that a gRPC thread is not preempted by each worker it wakes.");
ABSL_FLAG(bool, compressed_requests, false,
          "Accept request messages compressed with gzip or deflate. Off by "
          "default: gRPC inflates such a message in full before it checks "
          "--max_message_bytes, so a megabyte of gzip can cost a gigabyte of "
          "memory. Off, they are refused UNIMPLEMENTED without inflating. "
          "Turn it on only where every client is trusted.");
ABSL_FLAG(bool, pin_workers, false,
          "Pin each worker thread to one of the CPUs handoffd may run on, in "
          "turn (taskset, a container's cpuset). For a process that owns its "
          "CPUs: a pinned worker cannot leave a core something else keeps "
          "busy.");
ABSL_FLAG(std::string, tls_cert_file, "",
          "PEM certificate chain for TLS on the gRPC port; with "
          "--tls_key_file it turns TLS on (the admin port stays plain HTTP).");
ABSL_FLAG(std::string, tls_key_file, "",
          "PEM private key of --tls_cert_file.");
ABSL_FLAG(std::string, tls_client_ca_file, "",
          "With TLS: PEM CA certificates; every client must present a "
          "certificate signed by one of them (mutual TLS).");
ABSL_FLAG(handoff::DurationFlag, tls_reload_interval,
          handoff::DurationFlag{absl::Seconds(60)},
          "With TLS: how often the TLS files are read again, so that "
          "certificates replaced on disk (cert-manager, certbot) reach new "
          "connections without a restart; whole seconds, at least 1s. "
          "Replace them atomically (rename): gRPC fails new handshakes while "
          "the pair it last read does not load. 0 reads the files once, at "
          "start.");
ABSL_FLAG(std::string, access_log, "",
          "One JSON line per finished call (time, peer, method, code, "
          "duration_us, and a failed call's message): '-' for stderr, or a "
          "file to append to, which SIGHUP reopens (logrotate); empty: off. "
          "Lines the writer cannot keep up with are dropped and counted "
          "(handoff_access_log_dropped_total), never waited for.");

namespace handoff {

std::string QueuePolicyName(QueuePolicy p) {
  return p == QueuePolicy::kWait ? "wait" : "reject";
}

bool AbslParseFlag(absl::string_view text, QueuePolicy* p, std::string* error) {
  if (text == "reject") {
    *p = QueuePolicy::kReject;
    return true;
  }
  if (text == "wait") {
    *p = QueuePolicy::kWait;
    return true;
  }
  *error = "must be 'reject' or 'wait'";
  return false;
}

std::string AbslUnparseFlag(QueuePolicy p) { return QueuePolicyName(p); }

bool AbslParseFlag(absl::string_view text, DurationFlag* d, std::string* error) {
  if (absl::ParseDuration(text, &d->value)) return true;
  // A bare number is the usual slip: say which unit is missing, with the
  // number itself, rather than list the syntax.
  double number;
  absl::Duration with_unit;
  if (absl::SimpleAtod(text, &number) && std::isfinite(number) &&
      absl::ParseDuration(absl::StrCat(text, "s"), &with_unit)) {
    *error = absl::StrCat("a duration needs a unit, as in ", text, "s or ",
                          text, "ms");
  } else {
    *error =
        "not a duration: write a number and a unit (ns, us, ms, s, m, h), as "
        "in 250ms or 1m30s, or inf";
  }
  return false;
}

std::string AbslUnparseFlag(DurationFlag d) {
  return absl::FormatDuration(d.value);
}

const std::vector<std::string>& ConfigFlagNames() {
  static const auto* names = new std::vector<std::string>{
      "listen",           "admin_listen",
      "workers",          "queue_depth",
      "queue_policy",     "default_deadline",
      "max_deadline",     "drain_timeout",
      "stop_grace",
      "max_message_bytes", "stream_window",
      "max_batch_items",  "batch_window",
      "max_connection_age",
      "max_connection_age_grace", "handshake_timeout",
      "max_connection_idle", "keepalive_min_time",
      "keepalive_permit_without_calls", "max_concurrent_streams",
      "batch_scheduling",
      "compressed_requests", "pin_workers",
      "tls_cert_file",    "tls_key_file",
      "tls_client_ca_file", "tls_reload_interval",
      "access_log"};
  return *names;
}

namespace {

std::string EnvironmentVariable(absl::string_view flag) {
  std::string var = "HANDOFF_";
  for (char c : flag) var += static_cast<char>(std::toupper(c));
  return var;
}

}  // namespace

std::set<std::string> ConfigFlagsOnCommandLine(absl::Span<char* const> argv) {
  const std::vector<std::string>& names = ConfigFlagNames();
  std::set<std::string> found;
  for (const AbslArg& arg : ReadAbslArgv(argv)) {
    // A flag Abseil does not know is ParseCommandLine's to refuse.
    if (arg.kind != AbslArg::Kind::kFlag || arg.flag == nullptr) continue;
    if (std::find(names.begin(), names.end(), arg.name) != names.end()) {
      found.emplace(arg.name);
    }
  }
  return found;
}

absl::StatusOr<EnvironmentOverrides> ApplyEnvironmentOverrides(
    absl::Span<char* const> argv) {
  const std::set<std::string> on_command_line = ConfigFlagsOnCommandLine(argv);
  EnvironmentOverrides result;
  for (const std::string& name : ConfigFlagNames()) {
    const std::string var = EnvironmentVariable(name);
    const char* value = std::getenv(var.c_str());
    if (value == nullptr) continue;
    // Not parsed: a value the command line replaces must not stop start-up.
    if (on_command_line.contains(name)) {
      result.overridden.push_back(var);
      continue;
    }
    absl::CommandLineFlag* flag = absl::FindCommandLineFlag(name);
    if (flag == nullptr) continue;  // not linked in; nothing to set
    std::string error;
    if (!flag->ParseFrom(value, &error)) {
      return absl::InvalidArgumentError(absl::StrCat(
          var, "='", value, "': invalid value for --", name, ": ", error));
    }
    result.applied.emplace(name, absl::StrCat(var, "=", value));
    result.values.emplace(name, flag->CurrentValue());
  }
  return result;
}

namespace {

// A value Validate refuses: the flag, and what is wrong with its value.
struct Problem {
  std::string flag;
  std::string why;
  // A second flag the problem is as much about (the other of two that
  // disagree), by which an environment variable may be named instead.
  std::string also = {};
};

Problem Bad(absl::string_view flag, absl::string_view why) {
  return Problem{std::string(flag), std::string(why)};
}

// --listen or --admin_listen, checked before anything listens: gRPC would
// take "h:99999" as port 34463 and "h" as port 443 (server/host_port.h).
// Only gRPC can listen on a Unix domain socket; the admin server is TCP.
std::optional<Problem> CheckListen(absl::string_view flag,
                                   const std::string& address,
                                   bool unix_socket_ok) {
  if (address.empty()) return Bad(flag, "must not be empty");
  if (IsUnixSocket(address)) {
    if (!unix_socket_ok) {
      return Bad(flag, absl::StrCat("'", address,
                                    "': the admin port is TCP only "
                                    "(host:port, e.g. 127.0.0.1:9090)"));
    }
    // A Unix domain socket (a sidecar's, say) has a path, not a port.
    if (address.back() != ':') return std::nullopt;
    return Bad(flag, absl::StrCat("'", address, "' names no socket"));
  }
  if (auto hp = SplitHostPort(address); !hp.ok()) {
    return Bad(flag, hp.status().message());
  }
  // SplitHostPort reads an empty host as 0.0.0.0, which gRPC refuses; the
  // admin port asks for its host by name too, so both ports read alike.
  if (absl::StartsWith(address, ":") || absl::StartsWith(address, "[]")) {
    return Bad(flag, absl::StrCat("'", address,
                                  "' has no host (0.0.0.0:port or "
                                  "[::]:port listens on every address)"));
  }
  return std::nullopt;
}

std::optional<Problem> Check(const ServerConfig& c) {
  if (auto p = CheckListen("listen", c.listen, /*unix_socket_ok=*/true)) {
    return p;
  }
  // Empty turns the admin port off. AdminHttpServer::Start would refuse a
  // bad address too, but only after gRPC listens.
  if (!c.admin_listen.empty()) {
    if (auto p = CheckListen("admin_listen", c.admin_listen,
                             /*unix_socket_ok=*/false)) {
      return p;
    }
  }
  if (c.workers < 1 || c.workers > 4096) {
    return Bad("workers", "must be between 1 and 4096 (0 = cores)");
  }
  if (c.queue_depth < 1 || c.queue_depth > 1'000'000) {
    return Bad("queue_depth", "must be between 1 and 1000000");
  }
  if (c.default_deadline <= absl::ZeroDuration()) {
    return Bad("default_deadline", "must be positive");
  }
  if (c.max_deadline <= absl::ZeroDuration()) {
    return Bad("max_deadline", "must be positive");
  }
  if (c.default_deadline > c.max_deadline) {
    // Both values: the operator may have set only the other flag.
    Problem p = Bad("default_deadline",
                    absl::StrCat(absl::FormatDuration(c.default_deadline),
                                 " must not exceed --max_deadline, ",
                                 absl::FormatDuration(c.max_deadline),
                                 ": lower the one or raise the other"));
    p.also = "max_deadline";
    return p;
  }
  if (c.drain_timeout < absl::ZeroDuration() ||
      c.drain_timeout == absl::InfiniteDuration()) {
    return Bad("drain_timeout", "must be zero or positive and finite");
  }
  if (c.stop_grace < absl::ZeroDuration() ||
      c.stop_grace == absl::InfiniteDuration()) {
    return Bad("stop_grace", "must be zero or positive and finite");
  }
  if (c.max_message_bytes < 1) return Bad("max_message_bytes", "must be >= 1");
  if (c.stream_window < 1 || c.stream_window > 65536) {
    return Bad("stream_window", "must be between 1 and 65536");
  }
  if (c.max_batch_items < 1) return Bad("max_batch_items", "must be >= 1");
  if (c.batch_window < 1 || c.batch_window > 65536) {
    return Bad("batch_window", "must be between 1 and 65536");
  }
  // gRPC takes whole milliseconds: under one, the age would reach it as 0.
  if (c.max_connection_age < absl::Milliseconds(1)) {
    return Bad("max_connection_age", "must be at least 1ms (or 'inf')");
  }
  if (c.max_connection_age_grace < absl::ZeroDuration()) {
    return Bad("max_connection_age_grace", "must not be negative");
  }
  // Whole milliseconds for gRPC, as the age above.
  if (c.handshake_timeout < absl::Milliseconds(1)) {
    return Bad("handshake_timeout", "must be at least 1ms (or 'inf')");
  }
  if (c.max_connection_idle < absl::Milliseconds(1)) {
    return Bad("max_connection_idle", "must be at least 1ms (or 'inf')");
  }
  if (c.keepalive_min_time < absl::ZeroDuration() ||
      c.keepalive_min_time == absl::InfiniteDuration()) {
    return Bad("keepalive_min_time", "must be zero or positive and finite");
  }
  if (c.max_concurrent_streams < 1) {
    return Bad("max_concurrent_streams", "must be >= 1");
  }
  if (c.tls_cert_file.empty() != c.tls_key_file.empty()) {
    return c.tls_cert_file.empty()
               ? Bad("tls_key_file", "needs --tls_cert_file too")
               : Bad("tls_cert_file", "needs --tls_key_file too");
  }
  if (!c.tls_client_ca_file.empty() && c.tls_cert_file.empty()) {
    return Bad("tls_client_ca_file",
               "needs TLS: set --tls_cert_file and --tls_key_file");
  }
  // gRPC's file watcher counts whole seconds: under one would be 0, which
  // it would spin on.
  if (c.tls_reload_interval != absl::ZeroDuration() &&
      (c.tls_reload_interval < absl::Seconds(1) ||
       c.tls_reload_interval == absl::InfiniteDuration())) {
    return Bad("tls_reload_interval",
               "must be 0 (read the files once) or at least 1s, and finite");
  }
  return std::nullopt;
}

}  // namespace

absl::Status Validate(const ServerConfig& c) {
  std::optional<Problem> p = Check(c);
  if (!p.has_value()) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat("--", p->flag, ": ", p->why));
}


absl::StatusOr<ServerConfig> ConfigFromFlags(const EnvironmentOverrides& env) {
  ServerConfig c;
  c.listen = absl::GetFlag(FLAGS_listen);
  c.admin_listen = absl::GetFlag(FLAGS_admin_listen);
  c.workers = absl::GetFlag(FLAGS_workers);
  if (c.workers == 0) {
    // The CPUs it may run on, not the machine's: in a container given 2 of
    // 64 cores, hardware_concurrency() said 64 workers (pinned, 32 a core).
    c.workers = static_cast<int>(internal::CpusOf(getpid()).size());
    if (c.workers == 0) c.workers = static_cast<int>(std::thread::hardware_concurrency());
    if (c.workers == 0) c.workers = 1;
  }
  c.queue_depth = absl::GetFlag(FLAGS_queue_depth);
  c.queue_policy = absl::GetFlag(FLAGS_queue_policy);
  c.default_deadline = absl::GetFlag(FLAGS_default_deadline).value;
  c.max_deadline = absl::GetFlag(FLAGS_max_deadline).value;
  c.drain_timeout = absl::GetFlag(FLAGS_drain_timeout).value;
  c.stop_grace = absl::GetFlag(FLAGS_stop_grace).value;
  c.max_message_bytes = absl::GetFlag(FLAGS_max_message_bytes);
  c.stream_window = absl::GetFlag(FLAGS_stream_window);
  c.max_batch_items = absl::GetFlag(FLAGS_max_batch_items);
  c.batch_window = absl::GetFlag(FLAGS_batch_window);
  c.max_connection_age = absl::GetFlag(FLAGS_max_connection_age).value;
  c.max_connection_age_grace = absl::GetFlag(FLAGS_max_connection_age_grace).value;
  c.handshake_timeout = absl::GetFlag(FLAGS_handshake_timeout).value;
  c.max_connection_idle = absl::GetFlag(FLAGS_max_connection_idle).value;
  c.keepalive_min_time = absl::GetFlag(FLAGS_keepalive_min_time).value;
  c.keepalive_permit_without_calls =
      absl::GetFlag(FLAGS_keepalive_permit_without_calls);
  c.max_concurrent_streams = absl::GetFlag(FLAGS_max_concurrent_streams);
  c.batch_scheduling = absl::GetFlag(FLAGS_batch_scheduling);
  c.compressed_requests = absl::GetFlag(FLAGS_compressed_requests);
  c.pin_workers = absl::GetFlag(FLAGS_pin_workers);
  c.tls_cert_file = absl::GetFlag(FLAGS_tls_cert_file);
  c.tls_key_file = absl::GetFlag(FLAGS_tls_key_file);
  c.tls_client_ca_file = absl::GetFlag(FLAGS_tls_client_ca_file);
  c.tls_reload_interval = absl::GetFlag(FLAGS_tls_reload_interval).value;
  c.access_log = absl::GetFlag(FLAGS_access_log);
  if (std::optional<Problem> p = Check(c); p.has_value()) {
    // A value from the environment is named by where it came from: the
    // command line may not mention the flag at all. Unless a --flagfile has
    // replaced it since.
    // The flag the problem is about first, then the other it names.
    for (const std::string& name : {p->flag, p->also}) {
      if (name.empty()) continue;
      const absl::CommandLineFlag* flag = absl::FindCommandLineFlag(name);
      auto it = env.applied.find(name);
      auto set = env.values.find(name);
      if (it != env.applied.end() && set != env.values.end() &&
          flag != nullptr && flag->CurrentValue() == set->second) {
        return absl::InvalidArgumentError(
            absl::StrCat(it->second, ": --", p->flag, " ", p->why));
      }
    }
    return absl::InvalidArgumentError(
        absl::StrCat("--", p->flag, ": ", p->why));
  }
  return c;
}

}  // namespace handoff
