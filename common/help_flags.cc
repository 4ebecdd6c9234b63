// Copyright 2026 The handoff Authors.

#include "common/help_flags.h"

#include <algorithm>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>

#include "absl/flags/commandlineflag.h"
#include "absl/flags/reflection.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/absl_argv.h"
#include "common/flagfile_lines.h"

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

// The request `arg` makes if it is a help flag, nullopt if it is none.
std::optional<absl::StatusOr<HelpRequest>> AsHelpFlag(const AbslArg& arg) {
  if (arg.kind != AbslArg::Kind::kFlag || arg.flag != nullptr) return std::nullopt;
  const absl::string_view value =
      arg.has_value ? arg.text.substr(arg.text.find('=') + 1) : absl::string_view();
  HelpRequest request;
  if (arg.name == "h" && !arg.has_value) {
    // What most tools take for help; Abseil knows no such flag.
    request.mode = HelpRequest::Mode::kImportant;
  } else if (arg.name == "help") {
    request.mode = value.empty() ? HelpRequest::Mode::kImportant : HelpRequest::Mode::kMatch;
    request.match = std::string(value);
  } else if (arg.name == "helpfull") {
    request.mode = HelpRequest::Mode::kFull;
  } else if (arg.name == "helpshort") {
    request.mode = HelpRequest::Mode::kShort;
  } else if (arg.name == "helppackage") {
    request.mode = HelpRequest::Mode::kPackage;
  } else if (arg.name == "helpon" || arg.name == "helpmatch") {
    const bool on = arg.name == "helpon";
    // "--helpon main" would list no flag, or every one, and leave "main"
    // to be taken for a command.
    if (!arg.has_value) {
      return absl::InvalidArgumentError(
          on ? "--helpon needs a file name: --helpon=FILE (FILE.cc's flags)"
             : "--helpmatch needs a text: --helpmatch=TEXT (the flags of files whose "
               "name contains TEXT)");
    }
    request.mode = on ? HelpRequest::Mode::kOn : HelpRequest::Mode::kFileMatch;
    request.match = std::string(value);
  } else {
    return std::nullopt;
  }
  return request;
}

// "server/config.cc" -> "server", "config"; "a/b.pb.cc" -> "a", "b".
absl::string_view Directory(absl::string_view file) {
  const size_t slash = file.find_last_of('/');
  return slash == absl::string_view::npos ? absl::string_view() : file.substr(0, slash);
}
absl::string_view BaseName(absl::string_view file) {
  file = file.substr(file.find_last_of('/') + 1);
  return file.substr(0, file.find('.'));
}

}  // namespace

absl::StatusOr<HelpRequest> TakeHelpFlags(std::vector<char*>& argv) {
  HelpRequest request;
  std::vector<size_t> taken;
  for (const AbslArg& arg : ReadAbslArgv(argv)) {
    std::optional<absl::StatusOr<HelpRequest>> asked = AsHelpFlag(arg);
    if (!asked) continue;
    if (!asked->ok()) return asked->status();
    request = **std::move(asked);
    taken.push_back(arg.index);
  }
  for (auto at = taken.rbegin(); at != taken.rend(); ++at) {
    argv.erase(argv.begin() + static_cast<std::ptrdiff_t>(*at));
  }
  return request;
}

bool IsHelpFlag(absl::string_view arg) {
  std::string text(arg);
  char program[] = "";
  const std::vector<char*> argv = {program, text.data()};
  const std::vector<AbslArg> read = ReadAbslArgv(argv);
  return !read.empty() && AsHelpFlag(read.front()).has_value();
}

absl::Status CheckNoHelpFlagInFlagfiles(absl::Span<char* const> argv) {
  for (const FlagfileLine& line : ReadFlagfileLines(argv)) {
    if (!IsHelpFlag(line.text)) continue;
    const absl::string_view name = absl::string_view(line.text).substr(0, line.text.find('='));
    return absl::InvalidArgumentError(absl::StrCat(line.file, ":", line.line, ": ", name,
                                                   " cannot be in a flagfile; ask for help on "
                                                   "the command line"));
  }
  return absl::OkStatus();
}

void PrintFlagsHelp(std::ostream& out, const HelpRequest& request, absl::string_view argv0,
                    absl::string_view usage,
                    const std::function<bool(absl::string_view)>& contains_help_flags) {
  out << argv0.substr(argv0.find_last_of("/\\") + 1) << ": "
      << absl::StripTrailingAsciiWhitespace(usage) << "\n\n";
  // --helppackage's directories: those of --help's files.
  std::set<std::string> packages;
  if (request.mode == HelpRequest::Mode::kPackage) {
    for (const auto& [name, flag] : absl::GetAllFlags()) {
      if (contains_help_flags(flag->Filename())) {
        packages.insert(std::string(Directory(flag->Filename())));
      }
    }
  }
  auto matches = [&](const absl::CommandLineFlag& flag) {
    const std::string file = flag.Filename();
    switch (request.mode) {
      case HelpRequest::Mode::kImportant:
      case HelpRequest::Mode::kShort:
        return contains_help_flags(file);
      case HelpRequest::Mode::kMatch:
        return absl::StrContains(flag.Name(), request.match) ||
               absl::StrContains(file, request.match) ||
               absl::StrContains(flag.Help(), request.match);
      case HelpRequest::Mode::kPackage:
        return packages.count(std::string(Directory(file))) > 0;
      case HelpRequest::Mode::kOn:
        return BaseName(file) == request.match;
      case HelpRequest::Mode::kFileMatch:
        return absl::StrContains(file, request.match);
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
    switch (request.mode) {
      case HelpRequest::Mode::kMatch:
        out << "No flag's name, file or help contains '" << request.match << "'.";
        break;
      case HelpRequest::Mode::kOn:
        out << "No flags are defined in a file named '" << request.match << "'.";
        break;
      case HelpRequest::Mode::kFileMatch:
        out << "No flag's file name contains '" << request.match << "'.";
        break;
      default:
        out << "No flags.";
    }
    out << "\n\n";
  }
  WriteWrapped(out,
               "--helpfull lists every flag, Abseil's own among them; --help=TEXT those "
               "whose name, file or help contains TEXT; --helpon=FILE those of FILE.cc; "
               "--helpmatch=TEXT those of the files whose name contains TEXT.",
               0);
}

}  // namespace handoff
