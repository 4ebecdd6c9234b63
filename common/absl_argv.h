// Copyright 2026 The handoff Authors.
//
// ReadAbslArgv: a command line read as Abseil 20220623's ParseCommandLine
// reads it (absl/flags/parse.cc), without parsing, setting or exiting: for
// a binary to look at its arguments before ParseCommandLine, which exits
// on its own for an unknown flag or a help flag.
//
// The rules: "-name" and "--name" are the same flag; "--name=value" holds
// its value; a flag Abseil knows that is no bool and has no '=' takes the
// next argument as its value, whatever it looks like; "--noname" is a bool
// flag turned off; "--" ends the flags, the rest is positional; any other
// argument is positional, flags and positional arguments mixed in any
// order. A flag Abseil does not know is taken to have no value.
#ifndef HANDOFF_COMMON_ABSL_ARGV_H_
#define HANDOFF_COMMON_ABSL_ARGV_H_

#include <cstddef>
#include <vector>

#include "absl/flags/commandlineflag.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace handoff {

struct AbslArg {
  enum class Kind {
    kFlag,        // "-name", "--name", "--name=value"
    kValue,       // the argument after a flag that takes it as its value
    kPositional,  // anything else, and everything after "--"
    kEndOfFlags,  // "--" itself
  };
  Kind kind = Kind::kPositional;
  size_t index = 0;          // in argv
  absl::string_view text;  // the argument as written
  // Of a kFlag: its name, without dashes, "=value" or "no", and Abseil's
  // flag of that name (nullptr if Abseil knows none: a typo, or a usage
  // flag such as --help, which Abseil 20220623 keeps out of its registry).
  absl::string_view name;
  const absl::CommandLineFlag* flag = nullptr;
  bool has_value = false;  // "=value" in the argument itself
};

// argv[1..], each argument as Abseil reads it (above).
std::vector<AbslArg> ReadAbslArgv(absl::Span<char* const> argv);

}  // namespace handoff

#endif  // HANDOFF_COMMON_ABSL_ARGV_H_
