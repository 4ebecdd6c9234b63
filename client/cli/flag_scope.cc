// Copyright 2026 The handoff Authors.

#include "client/cli/flag_scope.h"

#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace handoff::cli {
namespace {

struct Scope {
  const char* flag;
  std::vector<std::string> commands;
};

// Every flag of client/cli/main.cc that some command does not take; the
// others (--addr, --timeout, the TLS flags, --wait_for_ready,
// --max_recv_message_size) apply to all four.
const std::vector<Scope>& Scopes() {
  static const auto* scopes = new std::vector<Scope>{
      {"d", {"call"}},
      {"data", {"call"}},
      {"pretty", {"call"}},
      {"emit_defaults", {"call"}},
      {"verbose", {"call"}},
      {"proto", {"call", "describe"}},
      {"import_paths", {"call", "describe"}},
      {"protoset", {"call", "describe"}},
      {"metadata", {"call", "health"}},
      {"reflect_metadata", {"call", "list", "describe"}},
  };
  return *scopes;
}

std::set<std::string>& SetFlags() {
  static auto* set = new std::set<std::string>;
  return *set;
}

// Constant-initialized: callbacks run at static initialization read it.
constinit bool noting = false;

}  // namespace

void NoteFlagSet(absl::string_view name) {
  if (noting) SetFlags().emplace(name);
}

void NoteFlagsFromNowOn() { noting = true; }

bool FlagGiven(absl::string_view name) { return SetFlags().contains(std::string(name)); }

absl::Status CheckFlagsApply(absl::string_view command) {
  for (const Scope& scope : Scopes()) {
    if (!SetFlags().contains(scope.flag)) continue;
    const auto& commands = scope.commands;
    if (std::find(commands.begin(), commands.end(), command) != commands.end()) continue;
    // A one-letter flag as it is written, -d.
    const absl::string_view name = scope.flag;
    // "call and list", "call, list and describe".
    const std::vector<std::string> all_but_last(commands.begin(), commands.end() - 1);
    const std::string which =
        all_but_last.empty() ? commands.back()
                             : absl::StrCat(absl::StrJoin(all_but_last, ", "), " and ",
                                            commands.back());
    return absl::InvalidArgumentError(absl::StrCat(name.size() == 1 ? "-" : "--", name,
                                                   " does not apply to ", command,
                                                   " (only to ", which, ")"));
  }
  return absl::OkStatus();
}

}  // namespace handoff::cli
