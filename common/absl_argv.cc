// Copyright 2026 The handoff Authors.

#include "common/absl_argv.h"

#include "absl/flags/reflection.h"
#include "absl/strings/match.h"
#include "absl/strings/strip.h"

namespace handoff {

std::vector<AbslArg> ReadAbslArgv(absl::Span<char* const> argv) {
  std::vector<AbslArg> args;
  bool flags_ended = false;
  for (size_t i = 1; i < argv.size(); ++i) {
    AbslArg arg;
    arg.index = i;
    arg.text = argv[i];
    absl::string_view rest = arg.text;
    if (flags_ended || !absl::ConsumePrefix(&rest, "-")) {
      arg.kind = AbslArg::Kind::kPositional;
      args.push_back(arg);
      continue;
    }
    if (arg.text == "--") {
      arg.kind = AbslArg::Kind::kEndOfFlags;
      flags_ended = true;
      args.push_back(arg);
      continue;
    }
    absl::ConsumePrefix(&rest, "-");
    arg.kind = AbslArg::Kind::kFlag;
    const size_t equals = rest.find('=');
    arg.has_value = equals != absl::string_view::npos;
    arg.name = rest.substr(0, equals);
    arg.flag = absl::FindCommandLineFlag(arg.name);
    bool negated = false;
    if (arg.flag == nullptr && absl::StartsWith(arg.name, "no")) {
      const absl::CommandLineFlag* flag = absl::FindCommandLineFlag(arg.name.substr(2));
      if (flag != nullptr && flag->IsOfType<bool>()) {
        arg.name = arg.name.substr(2);
        arg.flag = flag;
        negated = true;
      }
    }
    args.push_back(arg);
    if (arg.flag != nullptr && !arg.has_value && !negated && !arg.flag->IsOfType<bool>() &&
        i + 1 < argv.size()) {
      ++i;
      AbslArg value;
      value.kind = AbslArg::Kind::kValue;
      value.index = i;
      value.text = argv[i];
      args.push_back(value);
    }
  }
  return args;
}

}  // namespace handoff
