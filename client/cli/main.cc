// handoff: the command-line client of handoffd.
//
//   handoff call METHOD -d JSON   call any method, typed by server reflection;
//                                 a non-OK status exits 64 + its code (grpcurl's)
//   handoff list [SERVICE]        services and methods, by reflection
//   handoff describe [SYMBOL]     a service, method, message or enum as .proto
//   handoff health [SERVICE]      grpc.health.v1 check; exit 0 iff SERVING
//   handoff load HOST:PORT ...    ghz-compatible load (handoff load --help)
#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include <grpc/support/log.h>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/flags/usage_config.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "client/cli/commands.h"
#include "client/cli/flag_scope.h"
#include "client/cli/grpcurl_flags.h"
#include "client/cli/load_flags_check.h"
#include "client/cli/timeout_flag.h"
#include "client/load/target.h"
#include "client/metadata.h"
#include "common/descriptor_limit.h"
#include "common/help_flags.h"
#include "common/standard_streams.h"

// Each flag notes its own setting, which flag_scope.h checks against the
// command: Abseil 20220623 keeps whether a flag was given private.
#define HANDOFF_CLI_FLAG(Type, name, default_value, help)  \
  ABSL_FLAG(Type, name, default_value, help).OnUpdate([] { \
    handoff::cli::NoteFlagSet(#name);                      \
  })

HANDOFF_CLI_FLAG(std::string, addr, "localhost:50051", "server address, host:port");
HANDOFF_CLI_FLAG(handoff::cli::TimeoutFlag, timeout,
                 handoff::cli::TimeoutFlag{absl::Seconds(10)},
                 "deadline of the command, the reflection lookup included: 500ms, "
                 "1m30s, or a number of seconds; 0 or inf is none");
HANDOFF_CLI_FLAG(handoff::cli::TimeoutFlag, connect_timeout,
                 handoff::cli::TimeoutFlag{absl::Seconds(10)},
                 "how long the connection may take to be made, as grpcurl's "
                 "-connect-timeout: a server that has not answered it by then fails "
                 "the command, naming this flag; --timeout still bounds the whole "
                 "command; 0 or inf is none");
HANDOFF_CLI_FLAG(bool, tls, false, "use TLS (default: plaintext)");
HANDOFF_CLI_FLAG(std::string, cacert, "", "PEM root certificates for TLS (implies --tls)");
HANDOFF_CLI_FLAG(std::string, cert, "",
                 "PEM client certificate, for a server that requires one (mutual "
                 "TLS; implies --tls, needs --key)");
HANDOFF_CLI_FLAG(std::string, key, "", "PEM private key of --cert");
HANDOFF_CLI_FLAG(bool, skipTLS, false,
                 "accept any certificate from the server, a self-signed one under "
                 "test, say (implies --tls; as handoff load's --skipTLS, grpcurl's "
                 "-insecure)");
HANDOFF_CLI_FLAG(std::string, cname, "",
                 "check the server's TLS certificate against this name instead of "
                 "the :authority (as handoff load's --cname, grpcurl's -servername)");
HANDOFF_CLI_FLAG(std::string, authority, "",
                 "the :authority of every call (default: --cname if given, else "
                 "--addr); with TLS, also the name the certificate is checked "
                 "against, unless --cname");
HANDOFF_CLI_FLAG(std::string, d, "",
                 "request JSON for call (an array sends several messages on a "
                 "stream); @FILE reads a file, @- (or @) stdin");
HANDOFF_CLI_FLAG(std::string, data, "", "same as -d");
HANDOFF_CLI_FLAG(bool, pretty, false, "indent JSON replies");
HANDOFF_CLI_FLAG(bool, emit_defaults, false,
                 "call: print a reply's fields at their default values too (as "
                 "grpcurl's -emit-defaults)");
HANDOFF_CLI_FLAG(bool, verbose, false,
                 "call: print on stderr, as grpcurl's -v does, the resolved method, the "
                 "request metadata, the response headers and trailers and how many "
                 "requests went and replies came");
HANDOFF_CLI_FLAG(std::string, proto, "",
                 "call and describe: take the types from this .proto file instead "
                 "of the server's reflection (describe then needs no server)");
HANDOFF_CLI_FLAG(std::vector<std::string>, import_paths, {},
                 "call and describe: where --proto's imports are, comma-separated "
                 "(its own directory and the working directory are searched too)");
HANDOFF_CLI_FLAG(std::string, protoset, "",
                 "call and describe: take them from a FileDescriptorSet (protoc "
                 "--include_imports --descriptor_set_out)");
HANDOFF_CLI_FLAG(std::string, metadata, "",
                 "request headers for call and health, a JSON object of strings "
                 "(as handoff load's -m): '{\"authorization\":\"Bearer t\"}'");
HANDOFF_CLI_FLAG(std::string, reflect_metadata, "",
                 "request headers for the server reflection calls of call, list "
                 "and describe alone, which get none of --metadata's (as handoff load's "
                 "--reflect-metadata)");
HANDOFF_CLI_FLAG(int32_t, max_recv_message_size, 0,
                 "the largest message, in bytes, the server may send, reflection's "
                 "replies included (0: gRPC's 4194304, 4 MiB; as grpcurl's -max-msg-sz, "
                 "handoff load's --max-recv-message-size)");
HANDOFF_CLI_FLAG(std::string, user_agent, "",
                 "put before gRPC's own user-agent on every RPC, reflection's and "
                 "health's included (as grpcurl's -user-agent): --user_agent=my-script/1.2 "
                 "sends \"my-script/1.2 grpc-c++/...\"");
HANDOFF_CLI_FLAG(bool, wait_for_ready, false,
                 "wait (up to --timeout) for the server to accept connections "
                 "instead of failing at once while it is unreachable");

namespace {

constexpr char kUsage[] = R"(handoff: the client of handoffd.

Usage:
  handoff call METHOD -d JSON [--addr=HOST:PORT]   e.g. handoff.v1.Gateway.Echo;
                                                   a non-OK status exits 64 + its code
  handoff list [SERVICE] [--addr=HOST:PORT]
  handoff describe [SYMBOL] [--addr=HOST:PORT]     as .proto; no SYMBOL, every service
  handoff health [SERVICE] [--addr=HOST:PORT]      exit 0 iff SERVING
  handoff load HOST:PORT --call METHOD [ghz flags] (see handoff load --help)
)";

}  // namespace

int main(int argc, char** argv) {
  // Before anything opens a descriptor: with stdout closed, the first one
  // (a gRPC socket) would take its number, and the reply or the report
  // would be written into the connection.
  handoff::OpenClosedStandardStreams();
  // `load --connections 2000` needs more descriptors than a shell's soft
  // limit; should raising it fail, a connection that then fails says so.
  (void)handoff::RaiseDescriptorLimit();
  // gRPC logs some failures on stderr itself (a failed TLS handshake, an
  // address it cannot parse) and then fails the call with the same reason,
  // which the CLI prints as its one line. Its own log stays available to
  // whoever asks for it with GRPC_VERBOSITY.
  if (std::getenv("GRPC_VERBOSITY") == nullptr) {
    gpr_set_log_function([](gpr_log_func_args*) {});
  }
  // `load` speaks ghz's flags (-c 50 -n 1000 ...), which absl cannot parse:
  // hand its arguments to its own parser untouched.
  if (argc >= 2 && absl::string_view(argv[1]) == "load") {
    std::vector<absl::string_view> args(argv + 2, argv + argc);
    return handoff::cli::Load(args);
  }
  // --help lists the CLI's own flags: Abseil's default lists only those of
  // a file named for the binary (handoff.cc), which left --help saying "No
  // flags matched".
  absl::FlagsUsageConfig usage;
  const auto contains_help_flags = [](absl::string_view file) {
    return absl::StrContains(file, "client/cli/main.cc");
  };
  usage.contains_help_flags = contains_help_flags;
  usage.normalize_filename = [](absl::string_view file) {
    size_t at = file.rfind("client/cli/");
    return std::string(at == absl::string_view::npos ? file : file.substr(at));
  };
  usage.version_string = [] { return std::string("handoff " HANDOFF_VERSION "\n"); };
  absl::SetFlagsUsageConfig(usage);
  // --help prints "handoff: " before the message itself.
  absl::SetProgramUsageMessage(absl::StripPrefix(kUsage, "handoff: "));
  // `handoff --help load ...` asks for load's help, which is `handoff load
  // ... --help`'s: what follows load is still load's to check. With any
  // other flag before load, the check below says it came before it.
  {
    std::vector<char*> rest(argv, argv + argc);
    absl::StatusOr<handoff::HelpRequest> asked = handoff::TakeHelpFlags(rest);
    if (asked.ok() && asked->mode != handoff::HelpRequest::Mode::kNone && rest.size() >= 2 &&
        absl::string_view(rest[1]) == "load") {
      std::vector<absl::string_view> args(rest.begin() + 2, rest.end());
      args.push_back("--help");
      return handoff::cli::Load(args);
    }
  }
  // Before load's: ghz's parser would read -emit-defaults as its -e.
  if (absl::Status s = handoff::cli::CheckNoGrpcurlFlags(absl::MakeConstSpan(argv, argc));
      !s.ok()) {
    return handoff::cli::Usage(s.message());
  }
  if (absl::Status s = handoff::cli::CheckLoadFlagsPlace(absl::MakeConstSpan(argv, argc));
      !s.ok()) {
    return handoff::cli::Usage(s.message());
  }
  // Abseil's ParseCommandLine would print the help and exit 1, as for bad
  // usage (common/help_flags.h); it still checks the other flags.
  std::vector<char*> args(argv, argv + argc);
  absl::StatusOr<handoff::HelpRequest> taken = handoff::TakeHelpFlags(args);
  if (!taken.ok()) return handoff::cli::Usage(taken.status().message());
  const handoff::HelpRequest help = *std::move(taken);
  handoff::cli::NoteFlagsFromNowOn();
  std::vector<char*> positional =
      absl::ParseCommandLine(static_cast<int>(args.size()), args.data());
  if (help.mode != handoff::HelpRequest::Mode::kNone) {
    handoff::PrintFlagsHelp(std::cout, help, argv[0], absl::ProgramUsageMessage(),
                            contains_help_flags);
    return std::cout.flush() ? 0 : 1;
  }
  if (positional.size() < 2) {
    std::cerr << kUsage;
    return 2;
  }
  const std::string command = positional[1];
  std::vector<std::string> rest(positional.begin() + 2, positional.end());
  if (command == "call" || command == "list" || command == "describe" ||
      command == "health") {
    if (absl::Status s = handoff::cli::CheckFlagsApply(command); !s.ok()) {
      return handoff::cli::Usage(s.message());
    }
  }

  handoff::cli::Connection connection;
  connection.addr = absl::GetFlag(FLAGS_addr);
  connection.timeout = absl::GetFlag(FLAGS_timeout).value;
  connection.connect_timeout = absl::GetFlag(FLAGS_connect_timeout).value;
  connection.tls = absl::GetFlag(FLAGS_tls);
  connection.tls_files.cacert = absl::GetFlag(FLAGS_cacert);
  connection.tls_files.cert = absl::GetFlag(FLAGS_cert);
  connection.tls_files.key = absl::GetFlag(FLAGS_key);
  connection.tls_files.skip_verify = absl::GetFlag(FLAGS_skipTLS);
  connection.cname = absl::GetFlag(FLAGS_cname);
  connection.authority = absl::GetFlag(FLAGS_authority);
  connection.wait_for_ready = absl::GetFlag(FLAGS_wait_for_ready);
  connection.user_agent = absl::GetFlag(FLAGS_user_agent);
  connection.max_recv_message_size = absl::GetFlag(FLAGS_max_recv_message_size);
  // gRPC reads a negative limit as none: a typo would lift it.
  if (connection.max_recv_message_size < 0) {
    return handoff::cli::Usage(
        "--max_recv_message_size is negative; want bytes, 0 for gRPC's 4 MiB");
  }
  if (absl::Status s = handoff::cli::CheckTlsFiles(connection.tls_files); !s.ok()) {
    return handoff::cli::Usage(s.message());
  }
  // Plaintext has no certificate to check the name against: the flag
  // would be dropped without a word.
  if (!connection.cname.empty() && !handoff::cli::UsesTls(connection)) {
    return handoff::cli::Usage(
        "--cname names the server's TLS certificate: it needs --tls (or --cacert, --cert "
        "or --skipTLS)");
  }
  // One flag by two names: given both, one of the two requests would be
  // dropped without a word.
  if (handoff::cli::FlagGiven("d") && handoff::cli::FlagGiven("data")) {
    return handoff::cli::Usage("-d and --data are one flag; give it once");
  }
  // Stdin can be read once: a second flag naming it would get nothing, and
  // fail as though what the user sent it were wrong.
  std::string request = absl::GetFlag(FLAGS_d);
  if (request.empty()) request = absl::GetFlag(FLAGS_data);
  std::vector<std::string> stdin_readers;
  if (command == "call" && (request == "@-" || request == "@")) stdin_readers.push_back("-d");
  for (auto [flag, path] : {std::pair("--cacert", connection.tls_files.cacert),
                            std::pair("--cert", connection.tls_files.cert),
                            std::pair("--key", connection.tls_files.key)}) {
    if (path == "-") stdin_readers.push_back(flag);
  }
  if (stdin_readers.size() > 1) {
    const std::string last = stdin_readers.back();
    stdin_readers.pop_back();
    return handoff::cli::Usage(absl::StrCat(absl::StrJoin(stdin_readers, ", "), " and ", last,
                                            stdin_readers.size() > 1 ? " all" : " both",
                                            " read stdin; stdin can be read once"));
  }
  if (connection.addr.empty()) return handoff::cli::Usage("--addr is empty; want host:port");
  if (absl::Status s = handoff::load::CheckTargetPort(connection.addr); !s.ok()) {
    return handoff::cli::Usage(absl::StrCat("--addr: ", s.message()));
  }
  for (auto [flag, json, headers] :
       {std::tuple("--metadata", absl::GetFlag(FLAGS_metadata), &connection.metadata),
        std::tuple("--reflect_metadata", absl::GetFlag(FLAGS_reflect_metadata),
                   &connection.reflect_metadata)}) {
    if (json.empty()) continue;
    auto parsed = handoff::MetadataFromJson(json);
    if (!parsed.ok()) {
      return handoff::cli::Usage(absl::StrCat(flag, ": ", parsed.status().message()));
    }
    *headers = *std::move(parsed);
  }

  if (command == "call") {
    if (rest.size() != 1) return handoff::cli::Usage("call takes one METHOD");
    handoff::cli::CallArgs args;
    args.method = rest[0];
    args.data = request;
    args.pretty = absl::GetFlag(FLAGS_pretty);
    args.verbose = absl::GetFlag(FLAGS_verbose);
    args.emit_defaults = absl::GetFlag(FLAGS_emit_defaults);
    args.proto = absl::GetFlag(FLAGS_proto);
    args.import_paths = absl::GetFlag(FLAGS_import_paths);
    args.protoset = absl::GetFlag(FLAGS_protoset);
    return handoff::cli::Call(connection, args);
  }
  if (command == "describe") {
    if (rest.size() > 1) return handoff::cli::Usage("describe takes at most one SYMBOL");
    handoff::cli::DescribeArgs args;
    args.symbol = rest.empty() ? "" : rest[0];
    args.proto = absl::GetFlag(FLAGS_proto);
    args.import_paths = absl::GetFlag(FLAGS_import_paths);
    args.protoset = absl::GetFlag(FLAGS_protoset);
    return handoff::cli::Describe(connection, args);
  }
  if (command == "list" || command == "health") {
    if (rest.size() > 1) {
      return handoff::cli::Usage(command + " takes at most one SERVICE");
    }
    const std::string service = rest.empty() ? "" : rest[0];
    return command == "list" ? handoff::cli::List(connection, service)
                             : handoff::cli::Health(connection, service);
  }
  return handoff::cli::Usage("unknown command '" + command + "' (see handoff --help)");
}
