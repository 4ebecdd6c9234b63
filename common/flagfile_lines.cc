// Copyright 2026 The handoff Authors.

#include "common/flagfile_lines.h"

#include <fstream>
#include <set>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "common/absl_argv.h"

namespace handoff {
namespace {

// Files already read: a file that names itself, or two that name each
// other, would otherwise be read for ever.
using Seen = std::set<std::string>;

void ReadFile(const std::string& file, Seen& seen, std::vector<FlagfileLine>& lines);

// The files of a --flagfile value: "a,b" names two.
void ReadFiles(absl::string_view value, Seen& seen, std::vector<FlagfileLine>& lines) {
  for (absl::string_view file : absl::StrSplit(value, ',', absl::SkipEmpty())) {
    ReadFile(std::string(file), seen, lines);
  }
}

void ReadFile(const std::string& file, Seen& seen, std::vector<FlagfileLine>& lines) {
  if (!seen.insert(file).second) return;
  std::ifstream in(file);
  std::string text;
  for (int number = 1; std::getline(in, text); ++number) {
    const absl::string_view line = absl::StripAsciiWhitespace(text);
    if (!absl::StartsWith(line, "-")) continue;
    lines.push_back(FlagfileLine{file, number, std::string(line)});
    absl::string_view flagfile = line;
    if (absl::ConsumePrefix(&flagfile, "--flagfile=") ||
        absl::ConsumePrefix(&flagfile, "-flagfile=")) {
      ReadFiles(flagfile, seen, lines);
    }
  }
}

}  // namespace

std::vector<FlagfileLine> ReadFlagfileLines(absl::Span<char* const> argv) {
  std::vector<FlagfileLine> lines;
  Seen seen;
  const std::vector<AbslArg> args = ReadAbslArgv(argv);
  for (size_t i = 0; i < args.size(); ++i) {
    const AbslArg& arg = args[i];
    if (arg.kind != AbslArg::Kind::kFlag || arg.name != "flagfile") continue;
    if (arg.has_value) {
      ReadFiles(arg.text.substr(arg.text.find('=') + 1), seen, lines);
    } else if (i + 1 < args.size() && args[i + 1].kind == AbslArg::Kind::kValue) {
      ReadFiles(args[i + 1].text, seen, lines);
    }
  }
  return lines;
}

}  // namespace handoff
