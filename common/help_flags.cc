// Copyright 2026 The handoff Authors.

#include "common/help_flags.h"

#include <algorithm>
#include <map>

#include "absl/flags/commandlineflag.h"
#include "absl/flags/reflection.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/absl_argv.h"

namespace handoff {
namespace {

// `text` as lines of at most 80 columns (a longer word alone on its own),
// each indented `indent`; the line breaks it has are kept.
void WriteWrapped(std::ostream& out, absl::string_view text, size_t indent) {
  constexpr size_t kColumns = 80;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    size_t column = 0;
    for (absl::string_view word : absl::StrSplit(line, ' ', absl::SkipEmpty())) {
      if (column > 0 && column + 1 + word.size() > kColumns) {
        out << '\n';
        column = 0;
      }
      if (column == 0) {
        out << std::string(indent, ' ');
        column = indent;
      } else {
        out << ' ';
        ++column;
      }
      out << word;
      column += word.size();
    }
    out << '\n';
  }
}

// A value as it would be written on the command line: a string quoted, so
// that an empty one shows.
std::string Shown(const absl::CommandLineFlag& flag, const std::string& value) {
  return flag.IsOfType<std::string>() ? absl::StrCat("\"", value, "\"") : value;
}

// "  --name (default: V; now: W)", then its help below it.
void PrintFlag(std::ostream& out, const absl::CommandLineFlag& flag) {
  const std::string default_value = flag.DefaultValue();
  const std::string current = flag.CurrentValue();
  out << "  --" << flag.Name() << " (default: " << Shown(flag, default_value);
  if (current != default_value) out << "; now: " << Shown(flag, current);
  out << ")\n";
  WriteWrapped(out, flag.Help(), 6);
}

}  // namespace

HelpRequest TakeHelpFlags(std::vector<char*>& argv) {
  HelpRequest request;
  std::vector<size_t> taken;
  for (const AbslArg& arg : ReadAbslArgv(argv)) {
    if (arg.kind != AbslArg::Kind::kFlag || arg.flag != nullptr) continue;
    if (arg.name == "h" && !arg.has_value) {
      // What most tools take for help; Abseil knows no such flag.
      request.mode = HelpRequest::Mode::kImportant;
      request.match.clear();
    } else if (arg.name == "help") {
      absl::string_view value = arg.text.substr(std::min(arg.text.size(), arg.text.find('=')));
      absl::ConsumePrefix(&value, "=");
      request.mode = value.empty() ? HelpRequest::Mode::kImportant : HelpRequest::Mode::kMatch;
      request.match = std::string(value);
    } else if (arg.name == "helpfull") {
      request.mode = HelpRequest::Mode::kFull;
      request.match.clear();
    } else {
      continue;
    }
    taken.push_back(arg.index);
  }
  for (auto at = taken.rbegin(); at != taken.rend(); ++at) {
    argv.erase(argv.begin() + static_cast<std::ptrdiff_t>(*at));
  }
  return request;
}

void PrintFlagsHelp(std::ostream& out, const HelpRequest& request, absl::string_view argv0,
                    absl::string_view usage,
                    const std::function<bool(absl::string_view)>& contains_help_flags) {
  out << argv0.substr(argv0.find_last_of("/\\") + 1) << ": "
      << absl::StripTrailingAsciiWhitespace(usage) << "\n\n";
  auto matches = [&](const absl::CommandLineFlag& flag) {
    switch (request.mode) {
      case HelpRequest::Mode::kImportant:
        return contains_help_flags(flag.Filename());
      case HelpRequest::Mode::kMatch:
        return absl::StrContains(flag.Name(), request.match) ||
               absl::StrContains(flag.Filename(), request.match) ||
               absl::StrContains(flag.Help(), request.match);
      default:
        return true;
    }
  };
  // By file, as where a flag is defined says what it belongs to.
  std::map<std::string, std::vector<const absl::CommandLineFlag*>> by_file;
  for (const auto& [name, flag] : absl::GetAllFlags()) {
    if (matches(*flag)) by_file[flag->Filename()].push_back(flag);
  }
  for (auto& [file, flags] : by_file) {
    out << "Flags from " << file << ":\n";
    std::sort(flags.begin(), flags.end(),
              [](const auto* a, const auto* b) { return a->Name() < b->Name(); });
    for (const absl::CommandLineFlag* flag : flags) PrintFlag(out, *flag);
    out << '\n';
  }
  if (by_file.empty()) {
    out << (request.mode == HelpRequest::Mode::kMatch
                ? absl::StrCat("No flag's name, file or help contains '", request.match, "'.")
                : std::string("No flags."))
        << "\n\n";
  }
  WriteWrapped(out,
               "--helpfull lists every flag, Abseil's own among them; --help=TEXT those "
               "whose name, file or help contains TEXT.",
               0);
}

}  // namespace handoff
