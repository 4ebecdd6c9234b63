// Copyright 2026 The handoff Authors.

#include "common/help_flags.h"

#include <algorithm>
#include <map>

#include "absl/flags/commandlineflag.h"
#include "absl/flags/reflection.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/absl_argv.h"

namespace handoff {
namespace {

// Abseil's FlagHelpPrettyPrinter (absl/flags/internal/usage.cc): words
// wrapped before column `max`, the first line indented `indent`, the
// others `indent + wrapped_indent`.
class Printer {
 public:
  Printer(std::ostream& out, size_t indent, size_t wrapped_indent)
      : out_(out), indent_(indent), wrapped_indent_(wrapped_indent) {}

  void Write(absl::string_view text, bool wrap = false) {
    if (text.empty()) return;
    std::vector<absl::string_view> tokens;
    if (wrap) {
      for (absl::string_view line : absl::StrSplit(text, absl::ByAnyChar("\n\r"))) {
        if (!tokens.empty()) tokens.emplace_back("\n");
        for (absl::string_view token :
             absl::StrSplit(line, absl::ByAnyChar(" \t"), absl::SkipEmpty())) {
          tokens.push_back(token);
        }
      }
    } else {
      tokens.push_back(text);
    }
    for (absl::string_view token : tokens) {
      if (token == "\n") {
        EndLine();
        continue;
      }
      bool new_line = line_length_ == 0;
      if (!new_line && line_length_ + token.size() >= kMaxLine) {
        EndLine();
        new_line = true;
      }
      if (new_line) {
        line_length_ = first_line_ ? indent_ : indent_ + wrapped_indent_;
        first_line_ = false;
        out_ << std::string(line_length_, ' ');
      } else {
        out_ << ' ';
        ++line_length_;
      }
      out_ << token;
      line_length_ += token.size();
    }
  }

  void EndLine() {
    out_ << '\n';
    line_length_ = 0;
  }

 private:
  static constexpr size_t kMaxLine = 80;
  std::ostream& out_;
  const size_t indent_;
  const size_t wrapped_indent_;
  size_t line_length_ = 0;
  bool first_line_ = true;
};

void PrintFlag(std::ostream& out, const absl::CommandLineFlag& flag) {
  Printer printer(out, 4, 2);
  printer.Write(absl::StrCat("--", flag.Name()));
  printer.Write(absl::StrCat("(", flag.Help(), ");"), /*wrap=*/true);
  std::string default_value = flag.DefaultValue();
  std::string current = flag.CurrentValue();
  const bool modified = current != default_value;
  if (flag.IsOfType<std::string>()) {
    default_value = absl::StrCat("\"", default_value, "\"");
    current = absl::StrCat("\"", current, "\"");
  }
  printer.Write(absl::StrCat("default: ", default_value, ";"));
  if (modified) printer.Write(absl::StrCat("currently: ", current, ";"));
  printer.EndLine();
}

}  // namespace

HelpRequest TakeHelpFlags(std::vector<char*>& argv) {
  HelpRequest request;
  std::vector<size_t> taken;
  for (const AbslArg& arg : ReadAbslArgv(argv)) {
    if (arg.kind != AbslArg::Kind::kFlag || arg.flag != nullptr) continue;
    if (arg.name == "help") {
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
  out << argv0.substr(argv0.find_last_of("/\\") + 1) << ": " << usage << "\n\n";
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
  // Abseil's order: by directory, then file, then name.
  std::map<std::string, std::map<std::string, std::vector<const absl::CommandLineFlag*>>> found;
  for (const auto& [name, flag] : absl::GetAllFlags()) {
    if (!matches(*flag)) continue;
    const std::string file = flag->Filename();
    found[file.substr(0, file.find_last_of("/\\") + 1)][file].push_back(flag);
  }
  absl::string_view package_separator;
  for (auto& [package, files] : found) {
    out << package_separator;
    package_separator = "\n\n";
    absl::string_view file_separator;
    for (auto& [file, flags] : files) {
      out << file_separator << "  Flags from " << file << ":\n";
      file_separator = "\n";
      std::sort(flags.begin(), flags.end(),
                [](const auto* a, const auto* b) { return a->Name() < b->Name(); });
      for (const absl::CommandLineFlag* flag : flags) PrintFlag(out, *flag);
    }
  }
  Printer printer(out, 0, 0);
  if (request.mode != HelpRequest::Mode::kFull && found.empty()) {
    printer.Write("No flags matched.\n", /*wrap=*/true);
  }
  printer.EndLine();
  printer.Write(
      "Try --helpfull to get a list of all flags or --help=substring shows help for flags "
      "which include specified substring in either in the name, or description or path.\n",
      /*wrap=*/true);
}

}  // namespace handoff
