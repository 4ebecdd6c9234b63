// The `handoff` CLI's subcommands. Each returns the process exit code:
// 0 success, 1 failure (one line on stderr says why), 2 bad usage; and
// `call`, for a call that ended with a status other than OK,
// kStatusExitOffset plus its code.
#ifndef HANDOFF_CLIENT_CLI_COMMANDS_H_
#define HANDOFF_CLIENT_CLI_COMMANDS_H_

#include <chrono>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <grpcpp/channel.h>
#include <grpcpp/security/credentials.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace handoff::cli {

// PEM files for a TLS connection.
struct TlsFiles {
  std::string cacert;  // roots the server's certificate must chain to;
                       // empty: the system's
  std::string cert;    // with `key`: this client's certificate, for a
  std::string key;     // server that requires one (mutual TLS)
  // Accept whatever certificate the server shows (ghz's --skipTLS): for a
  // server with a self-signed one under test, never for real traffic.
  bool skip_verify = false;
};

// Where and how the reflection-based commands connect.
struct Connection {
  std::string addr;
  bool tls = false;  // also implied by any of `tls_files`
  TlsFiles tls_files;
  // The name the server's certificate is checked against (default: the
  // :authority), and the :authority of every call (default: `addr`).
  std::string cname;
  std::string authority;
  absl::Duration timeout;
  // Goes before gRPC's own user-agent ("grpc-c++/1.51.1 ...") on every
  // RPC, as grpcurl's -user-agent goes before grpc-go's; empty: gRPC's alone.
  std::string user_agent;
  // How long the first connection attempt may take (AwaitConnection):
  // grpcurl's -connect-timeout, 10s as its default is.
  absl::Duration connect_timeout = absl::Seconds(10);
  // Every RPC (health, reflection, the call itself) waits, within `timeout`,
  // for a server that cannot be reached yet: one still starting, say.
  bool wait_for_ready = false;
  // The largest message the server may send, in bytes, on every RPC
  // (reflection's too, as grpcurl's -max-msg-sz); 0 leaves gRPC's 4 MiB.
  int max_recv_message_size = 0;
  // Request headers (checked: client/metadata.h): `metadata` for the call
  // and the health check, `reflect_metadata` for server reflection alone.
  std::vector<std::pair<std::string, std::string>> metadata;
  std::vector<std::pair<std::string, std::string>> reflect_metadata;
};

struct CallArgs {
  std::string method;
  std::string data;  // JSON; "@path" reads a file, "@-" (or "@") stdin
  bool pretty = false;
  // Print a reply's fields at their default too (grpcurl's -emit-defaults).
  bool emit_defaults = false;
  // Print on stderr, as grpcurl -v does and in its order, the resolved
  // method, the request metadata, the response headers (as they come) and
  // trailers ("(empty)" when there are none), and the requests sent and
  // replies received.
  bool verbose = false;
  // Types from local files (client/local_descriptors.h) rather than the
  // server's reflection: --proto with its import paths, else --protoset.
  std::string proto;
  std::vector<std::string> import_paths;
  std::string protoset;
};

struct DescribeArgs {
  std::string symbol;  // empty: every service
  // As CallArgs's: local files rather than the server's reflection.
  std::string proto;
  std::vector<std::string> import_paths;
  std::string protoset;
};

// grpcurl's exit code for a call that ended with a non-OK status is 64 plus
// its code: 68 DEADLINE_EXCEEDED, 69 NOT_FOUND. A script can tell one
// status from another, and each from the CLI's own failure (1) and bad
// usage (2), which CANCELLED and UNKNOWN (codes 1 and 2) would be taken for
// without the offset; 64 + 16 stays clear of a shell's own codes (126, 127,
// 128 + a signal).
inline constexpr int kStatusExitOffset = 64;

// Exits kStatusExitOffset plus the code of a call that reached a non-OK
// status; 1 for a failure before it (a file, a method reflection does not
// know, JSON the type refuses) or after it (a reply that cannot be printed
// or written).
int Call(const Connection& connection, const CallArgs& args);
int Describe(const Connection& connection, const DescribeArgs& args);
int Health(const Connection& connection, const std::string& service);
int List(const Connection& connection, const std::string& service);
int Load(const std::vector<absl::string_view>& args);

// The whole of the file at `path`, or of stdin if `path` is "-"; if the
// file cannot be read, ReadFile's status ("cannot read PATH: REASON").
absl::StatusOr<std::string> ReadInput(const std::string& path);

// Writes `text` to stdout and flushes it; UNAVAILABLE, "cannot write
// <what> to stdout: <reason>", if that failed (a full disk), and after it
// every later write fails too, so that no output is lost without a word.
absl::Status WriteStdout(absl::string_view text, absl::string_view what);

// InvalidArgument if `files` names a certificate without its key or the
// reverse; checked before anything connects.
absl::Status CheckTlsFiles(const TlsFiles& files);
// Credentials for TLS, or plaintext if `tls` is false and no file is named.
// An error names the flag (--cacert, --cert, --key) whose file is at fault.
absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> Credentials(
    bool tls, const TlsFiles& files);
// A channel without retries: the CLI reports a failure at once, with the
// reason gRPC gives, instead of retrying behind the user's back. Its first
// connection attempt is awaited (AwaitConnection), so that a server that
// does not answer it fails here, naming --connect_timeout.
absl::StatusOr<std::shared_ptr<grpc::Channel>> Dial(const Connection& connection);

// Waits up to connection.connect_timeout for `channel`'s first attempt to
// connect to end, READY or failed; DEADLINE_EXCEEDED, "no connection within
// 300ms (--connect_timeout): ...", if it is still being made then (a
// listener that never accepts it, or never speaks HTTP/2). A failed attempt
// is OK here: the RPC that follows reports it with gRPC's reason, or, with
// wait_for_ready, waits up to `timeout` for the server. Waits not at all
// when `timeout` ends first (it bounds the whole command).
absl::Status AwaitConnection(grpc::Channel& channel, const Connection& connection);
// What is left of connection.timeout, after Dial, for the RPCs of a command
// that started at `start` (on the steady clock): all of it when Dial could
// not wait (see AwaitConnection), so that a deadline message names the
// --timeout given ("no answer within 300ms"); else what is left since
// `start`, in whole milliseconds, never negative; infinite stays infinite.
absl::Duration TimeAfterDial(const Connection& connection,
                             std::chrono::steady_clock::time_point start);

// Whether a connection speaks TLS: --tls, or --cacert, --cert or --skipTLS
// given.
bool UsesTls(bool tls, const TlsFiles& files);
bool UsesTls(const Connection& connection);
// `status` of a command that connected as `connection`, with a hint in the
// CLI's flags when it reads as plaintext to a TLS server or the reverse,
// or as TLS without the client certificate a server requires (tls_hint.h).
absl::Status WithTlsHint(const Connection& connection, const absl::Status& status);

// `text` (a server's status message, say) with each control character
// C-escaped ("\n", "\x1b"), so that what a server sends can neither break
// an error into lines nor drive the terminal. Other bytes are kept: UTF-8
// prints as it is.
std::string OneLine(absl::string_view text);
// Prints "handoff: <context>: <status message>" (OneLine) and returns 1.
int Fail(absl::string_view context, const absl::Status& status);
// Prints "handoff: <message>" and returns 2.
int Usage(absl::string_view message);

}  // namespace handoff::cli

#endif  // HANDOFF_CLIENT_CLI_COMMANDS_H_
