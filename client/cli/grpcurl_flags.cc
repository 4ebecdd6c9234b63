// Copyright 2026 The handoff Authors.

#include "client/cli/grpcurl_flags.h"

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/absl_argv.h"

namespace handoff::cli {
namespace {

// grpcurl's flag (its name, as grpcurl's Go flag package reads it with one
// dash or two) and what handoff has for it. Those without an equivalent
// (-format) are left to Abseil's own error, -authority is handoff's too;
// -v is not here either: it is Abseil's unknown flag as documented.
// -import-path is: load's check read -import-path=. as its -i. -insecure is here, before load's check would call it load's:
// load's (ghz's) --insecure is plaintext, the opposite of what was meant.
const std::vector<std::pair<const char*, const char*>>& Equivalents() {
  static const auto* equivalents = new std::vector<std::pair<const char*, const char*>>{
      {"plaintext", "handoff speaks plaintext unless given --tls, --cacert, --cert or --skipTLS"},
      {"H", "handoff's is --metadata, a JSON object: --metadata='{\"name\":\"value\"}'"},
      {"rpc-header",
       "handoff's is --metadata, a JSON object: --metadata='{\"name\":\"value\"}'"},
      {"reflect-header",
       "handoff's is --reflect_metadata, a JSON object: "
       "--reflect_metadata='{\"name\":\"value\"}'"},
      {"emit-defaults", "handoff's is --emit_defaults"},
      {"max-time", "handoff's is --timeout"},
      {"insecure",
       "handoff's is --skipTLS (load's --insecure is plaintext, these commands' default)"},
      {"servername", "handoff's is --cname"},
      {"max-msg-sz", "handoff's is --max_recv_message_size"},
      {"import-path", "handoff's is --import_paths, comma-separated"},
  };
  return *equivalents;
}

}  // namespace

absl::Status CheckNoGrpcurlFlags(absl::Span<char* const> argv) {
  for (const AbslArg& arg : ReadAbslArgv(argv)) {
    if (arg.kind != AbslArg::Kind::kFlag || arg.flag != nullptr) continue;
    for (const auto& [name, equivalent] : Equivalents()) {
      if (arg.name != name) continue;
      return absl::InvalidArgumentError(
          absl::StrCat("-", name, " is grpcurl's; ", equivalent));
    }
  }
  return absl::OkStatus();
}

}  // namespace handoff::cli
