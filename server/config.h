// Copyright 2026 The handoff Authors.
//
// ServerConfig: everything handoffd is told at start-up, and where it comes
// from.
//
// Every field has a command-line flag of the same name (absl flags, all listed
// by --help). An environment variable HANDOFF_<FLAG> (upper case, e.g.
// HANDOFF_QUEUE_DEPTH=64) sets a flag the command line does not set, so the
// order of precedence is: command line > environment > default. That lets a
// container image keep its command line while an operator tunes it through
// the environment (Kubernetes ConfigMap, systemd Environment=).
//
// A value that does not parse, or is out of range, is an error that names the
// flag, and the variable if the value came from the environment; handoffd then
// exits non-zero before it listens on anything. A variable the command line
// overrides is not even parsed: it cannot stop handoffd.

#ifndef HANDOFF_SERVER_CONFIG_H_
#define HANDOFF_SERVER_CONFIG_H_

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "absl/types/span.h"

namespace handoff {

// What a call does when the job queue is full.
enum class QueuePolicy {
  kReject,  // fail fast with RESOURCE_EXHAUSTED (the default)
  kWait,    // wait for room, without a thread, until the call's deadline
};

struct ServerConfig {
  std::string listen = "0.0.0.0:50051";
  // Admin HTTP (/metrics, /healthz, /readyz); empty disables it.
  std::string admin_listen = "0.0.0.0:9090";
  int workers = 1;  // resolved: never 0 here
  int queue_depth = 256;
  QueuePolicy queue_policy = QueuePolicy::kReject;
  absl::Duration default_deadline = absl::Seconds(10);
  absl::Duration max_deadline = absl::Seconds(120);
  absl::Duration drain_timeout = absl::Seconds(10);
  // After the drain's cancel, how long a job still running is waited for
  // (HandoffServer::Shutdown, step 4).
  absl::Duration stop_grace = absl::Seconds(1);
  // Largest request accepted (gRPC's check) and largest reply sent (the
  // Gateway's methods', SerializeReply's check).
  int max_message_bytes = 4 << 20;
  // Jobs in flight per Stream call before the server stops reading from it.
  int stream_window = 16;
  int max_batch_items = 1024;
  // Items of one Batch in flight at a time (capped at queue_depth), so that a
  // batch never fills the queue with its own items and refuses the rest.
  int batch_window = 64;
  // gRPC connection management (InfiniteDuration = off).
  absl::Duration max_connection_age = absl::InfiniteDuration();
  absl::Duration max_connection_age_grace = absl::InfiniteDuration();
  // A connection that has not finished its handshake (TLS, and the HTTP/2
  // preface and SETTINGS) this long after it was accepted is closed. gRPC's
  // default is 120 s, for which a connection that sends nothing holds one
  // of handoffd's descriptors: 10 s leaves a slow TLS client room.
  absl::Duration handshake_timeout = absl::Seconds(10);
  // A connection with no call open this long is sent GOAWAY and closed, even
  // if the client ignores the GOAWAY. gRPC's default keeps it for ever, and a
  // client that sent the preface and nothing more held its descriptor (and
  // about 18 KB) for as long as it liked.
  absl::Duration max_connection_idle = absl::Minutes(5);
  // Client keepalive pings closer together than this are tolerated no more
  // (gRPC's default, 5 minutes, makes common clients get GOAWAY
  // "too_many_pings"); and whether pings are accepted with no call open.
  absl::Duration keepalive_min_time = absl::Seconds(10);
  bool keepalive_permit_without_calls = true;
  // Streams (calls) one HTTP/2 connection may have open at once, announced in
  // the server's SETTINGS. gRPC's default is unlimited, and each stream whose
  // HEADERS arrived costs the server about 12 KB until the client ends it,
  // so one connection's 100,000 HEADERS frames (13 MB sent) held 1.27 GB.
  // gRPC 1.51 enforces it once the client has acknowledged those SETTINGS
  // (every HTTP/2 library does at once): a client that never does is not
  // held to it. 1000 is above what the default queue admits (--queue_depth
  // 256 plus the workers), so it changes no answer a gRPC client gets at the
  // defaults, while a connection's flood of HEADERS holds about 12 MB.
  int max_concurrent_streams = 1000;
  // Workers and the dispatcher thread under SCHED_BATCH (see
  // DispatcherOptions::batch_scheduling).
  bool batch_scheduling = true;
  // Request messages compressed with gzip or deflate are accepted. Off by
  // default: gRPC 1.51 inflates one in full before it checks
  // max_message_bytes (1 MB of gzip took handoffd to 1.2 GB, and a request
  // at the 4 MiB limit could inflate to 4 GiB), so any client could exhaust
  // the server's memory with a few calls. Off, gRPC answers UNIMPLEMENTED
  // at the headers, before the message is read.
  bool compressed_requests = false;
  // Each worker on one CPU of the process's (DispatcherOptions::pin_workers).
  bool pin_workers = false;
  // TLS on the gRPC port (server/tls.h): PEM files, checked at start. Both
  // the certificate and the key, or neither (plaintext).
  std::string tls_cert_file;
  std::string tls_key_file;
  // With TLS: require client certificates signed by this CA (mutual TLS).
  std::string tls_client_ca_file;
  // How often gRPC reads the TLS files again, so that replaced certificates
  // reach new connections without a restart (whole seconds; a fraction is
  // dropped). Zero reads them once, at start.
  absl::Duration tls_reload_interval = absl::Seconds(60);
  // One JSON line per finished call (server/access_log.h): "-" for stderr,
  // else a file appended to; empty: off.
  std::string access_log;
};

// Checks a config's ranges and relations; the error names the flag.
absl::Status Validate(const ServerConfig& config);

// What ApplyEnvironmentOverrides did.
struct EnvironmentOverrides {
  // Flag name -> "HANDOFF_<FLAG>=value", for each flag the environment set.
  std::map<std::string, std::string> applied;
  // Flag name -> the flag's value as the environment left it (its
  // CurrentValue()): a --flagfile read later may replace it, and then an
  // error in the value is not the variable's.
  std::map<std::string, std::string> values;
  // "HANDOFF_<FLAG>" for each variable that is set but left alone because
  // the command line sets its flag.
  std::vector<std::string> overridden;
};

// The config flags (ConfigFlagNames) that `argv`, main's unparsed arguments,
// sets, in any form absl::ParseCommandLine takes: --name=value, --name value,
// -name, --name and --noname for a bool. Arguments after "--" are positional.
// Flags set only inside a --flagfile are not seen: those still win over the
// environment (the file is read by ParseCommandLine, after the environment),
// but a bad HANDOFF_<FLAG> value for one of them stops handoffd.
//
// Abseil (20220623) has no public way to ask whether a flag was on the command
// line, and ParseCommandLine must come after the environment for the command
// line to win, so the arguments are scanned here.
std::set<std::string> ConfigFlagsOnCommandLine(absl::Span<char* const> argv);

// Applies HANDOFF_<FLAG> environment variables to the config flags that
// `argv` (see ConfigFlagsOnCommandLine) does not set. Call before
// absl::ParseCommandLine. A value that does not parse is InvalidArgument
// naming the variable and the flag; a variable whose flag is on the command
// line is not parsed, only reported in `overridden`.
absl::StatusOr<EnvironmentOverrides> ApplyEnvironmentOverrides(
    absl::Span<char* const> argv);

// The config described by the flags (after parsing), validated. An error
// about a flag `env` set names the variable and its value first:
// "HANDOFF_WORKERS=-3: --workers must be between 1 and 4096".
absl::StatusOr<ServerConfig> ConfigFromFlags(
    const EnvironmentOverrides& env = {});

// The names of the flags above, for --help texts and tests.
const std::vector<std::string>& ConfigFlagNames();

// "reject" / "wait".
std::string QueuePolicyName(QueuePolicy p);
bool AbslParseFlag(absl::string_view text, QueuePolicy* p, std::string* error);
std::string AbslUnparseFlag(QueuePolicy p);

// The type of handoffd's duration flags (--default_deadline,
// --drain_timeout, ...). It takes what absl::ParseDuration takes ("250ms",
// "1m30s", "inf", "0"), and only that, but a value it refuses gets a reason:
// Abseil's own parser for absl::Duration gives none, and an operator who
// wrote --drain_timeout=30 read only "Illegal value '30' specified for flag
// 'drain_timeout'".
struct DurationFlag {
  absl::Duration value;
};
bool AbslParseFlag(absl::string_view text, DurationFlag* d, std::string* error);
std::string AbslUnparseFlag(DurationFlag d);

}  // namespace handoff

#endif  // HANDOFF_SERVER_CONFIG_H_
