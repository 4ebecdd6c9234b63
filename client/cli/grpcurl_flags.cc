// Copyright 2026 The handoff Authors.

#include "client/cli/grpcurl_flags.h"

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "common/absl_argv.h"
#include "common/flagfile_lines.h"

namespace handoff::cli {
namespace {

// Every flag of grpcurl's (cmd/grpcurl) that handoff has not by the same
// name (-cacert, -cert, -key, -authority, -d, -proto, -protoset, -help and
// -version are handoff's too), as grpcurl's Go flag package reads it, with
// one dash or two, and handoff's own for it or that it has none. All of
// them, not only those with one of handoff's: load's check, run after this
// one, reads -connect-timeout, -expand-headers and -msg-template as ghz's
// -c, -e and -m with letters after them, which named the wrong tool, and
// -import-path as its -i; Abseil's "Unknown command line flag" named no
// tool. -insecure is load's (ghz's) too, where it means plaintext, the
// opposite of what was meant.
const std::vector<std::pair<const char*, const char*>>& Equivalents() {
  static constexpr char kNone[] = "handoff has no such flag";
  static constexpr char kMetadata[] =
      "handoff's is --metadata, a JSON object: --metadata='{\"name\":\"value\"}'";
  static const auto* equivalents = new std::vector<std::pair<const char*, const char*>>{
      {"plaintext", "handoff speaks plaintext unless given --tls, --cacert, --cert or --skipTLS"},
      {"insecure",
       "handoff's is --skipTLS (load's --insecure is plaintext, these commands' default)"},
      {"alts", kNone},
      {"alts-handshaker-service", kNone},
      {"alts-target-service-account", kNone},
      {"expand-headers", kNone},
      {"user-agent", "handoff's is --user_agent"},
      {"format", kNone},
      {"allow-unknown-fields", kNone},
      {"connect-timeout", "handoff's is --connect_timeout"},
      {"format-error", kNone},
      {"keepalive-time", kNone},
      {"max-time", "handoff's is --timeout"},
      {"max-msg-sz", "handoff's is --max_recv_message_size"},
      {"emit-defaults", "handoff's is --emit_defaults"},
      {"keep-proto-names", kNone},
      {"protoset-out", kNone},
      {"proto-out-dir", kNone},
      {"msg-template", kNone},
      // --verbose prints the response headers and trailers as -v does.
      {"v", "handoff's is --verbose"},
      {"vv", kNone},
      {"servername", "handoff's is --cname"},
      {"H", kMetadata},
      {"rpc-header", kMetadata},
      {"reflect-header",
       "handoff's is --reflect_metadata, a JSON object: "
       "--reflect_metadata='{\"name\":\"value\"}'"},
      {"import-path", "handoff's is --import_paths, comma-separated"},
      {"use-reflection", kNone},
      {"unix", kNone},
  };
  return *equivalents;
}

// "-H is grpcurl's; ...", after `where` it was, if `arg` is grpcurl's.
absl::Status CheckArg(const AbslArg& arg, absl::string_view where) {
  if (arg.kind != AbslArg::Kind::kFlag || arg.flag != nullptr) return absl::OkStatus();
  for (const auto& [name, equivalent] : Equivalents()) {
    if (arg.name != name) continue;
    return absl::InvalidArgumentError(
        absl::StrCat(where, "-", name, " is grpcurl's; ", equivalent));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status CheckNoGrpcurlFlags(absl::Span<char* const> argv) {
  for (const AbslArg& arg : ReadAbslArgv(argv)) {
    if (absl::Status s = CheckArg(arg, ""); !s.ok()) return s;
  }
  // A --flagfile's lines are read by Abseil as the command line is, and by
  // load's check after this one, which would name load for
  // -connect-timeout (its -c) there too.
  for (const FlagfileLine& line : ReadFlagfileLines(argv)) {
    std::string text = line.text;
    char program[] = "";
    const std::vector<char*> one = {program, text.data()};
    for (const AbslArg& arg : ReadAbslArgv(one)) {
      if (absl::Status s = CheckArg(arg, absl::StrCat(line.file, ":", line.line, ": "));
          !s.ok()) {
        return s;
      }
    }
  }
  return absl::OkStatus();
}

}  // namespace handoff::cli
