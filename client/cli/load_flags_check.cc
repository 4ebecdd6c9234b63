// Copyright 2026 The handoff Authors.

#include "client/cli/load_flags_check.h"

#include <algorithm>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/flags/reflection.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/strip.h"
#include "client/load/flags.h"
#include "common/absl_argv.h"
#include "common/flagfile_lines.h"
#include "common/help_flags.h"

namespace handoff::cli {
namespace {

// "-c is a flag of load, not of call", after `where` it was.
absl::Status LoadFlagHere(absl::string_view command, const load::LoadFlag& load_flag,
                          absl::string_view where) {
  // load's --import-paths is the CLI's --import_paths.
  std::string hint;
  if (absl::string_view name = load_flag.name; absl::ConsumePrefix(&name, "--")) {
    const std::string ours = absl::StrReplaceAll(name, {{"-", "_"}});
    if (ours != name && absl::FindCommandLineFlag(ours) != nullptr) {
      hint = absl::StrCat(" (", command, "'s is --", ours, ")");
    }
  }
  return absl::InvalidArgumentError(
      absl::StrCat(where, load_flag.name, " is a flag of load, not of ", command, hint));
}

// Whether Abseil reads `arg`, one argument, as a flag of its registry.
bool KnownToAbseil(const std::string& arg) {
  std::string text = arg;
  char program[] = "";
  const std::vector<char*> argv = {program, text.data()};
  const std::vector<AbslArg> read = ReadAbslArgv(argv);
  return !read.empty() && read.front().flag != nullptr;
}

}  // namespace

absl::Status CheckLoadFlagsPlace(absl::Span<char* const> argv) {
  std::optional<absl::string_view> command;
  std::vector<absl::string_view> before_command;
  std::optional<load::LoadFlag> load_flag;  // the first
  // Whether the argument is the value of a flag of load's (-c 50): Abseil
  // would take it as positional, and the command with it.
  bool load_value_next = false;
  for (const AbslArg& arg : ReadAbslArgv(argv)) {
    const bool load_value =
        std::exchange(load_value_next, false) && arg.kind == AbslArg::Kind::kPositional;
    if (!command && arg.kind == AbslArg::Kind::kPositional && !load_value) {
      command = arg.text;
      continue;
    }
    if (!command) before_command.push_back(arg.text);
    if (arg.kind != AbslArg::Kind::kFlag || arg.flag != nullptr) continue;
    std::optional<load::LoadFlag> found = load::FindLoadFlag(arg.text);
    if (!found || found->asks_usage) continue;
    load_value_next = found->value_follows;
    if (!load_flag) load_flag = *std::move(found);
  }
  // Not reinterpreted: a flag of the CLI's (--tls) may be none of load's.
  if (command == "load") {
    return absl::InvalidArgumentError(absl::StrCat(
        "load takes its flags after it: handoff load HOST:PORT [flags] (see handoff load "
        "--help); ",
        absl::StrJoin(before_command, " "), " came before it"));
  }
  const std::vector<absl::string_view> others = {"call", "list", "describe", "health"};
  const bool other =
      command && std::find(others.begin(), others.end(), *command) != others.end();
  if (other && load_flag) return LoadFlagHere(*command, *load_flag, "");
  if (absl::Status s = CheckNoHelpFlagInFlagfiles(argv); !s.ok()) return s;
  if (!other) return absl::OkStatus();
  // A --flagfile's flags are read by Abseil as the command line's are, and
  // would fail as they did, naming neither the file nor whose flag it is.
  for (const FlagfileLine& line : ReadFlagfileLines(argv)) {
    if (KnownToAbseil(line.text)) continue;
    std::optional<load::LoadFlag> found = load::FindLoadFlag(line.text);
    if (found && !found->asks_usage) {
      return LoadFlagHere(*command, *found, absl::StrCat(line.file, ":", line.line, ": "));
    }
  }
  return absl::OkStatus();
}

}  // namespace handoff::cli
