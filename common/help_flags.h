// Copyright 2026 The handoff Authors.
//
// Help asked for on the command line, answered with exit code 0.
//
// Abseil 20220623's ParseCommandLine prints --help and then exits 1, as it
// does for bad usage: a script (or a user) asking for help cannot tell the
// two apart, and what prints and exits is flags_internal's, not public. So a
// binary takes the help flags out of argv (TakeHelpFlags) before it calls
// ParseCommandLine on the rest, which still fails, exit 1, for an unknown
// flag or a bad value, then prints the help itself from Abseil's public
// registry (PrintFlagsHelp) and exits 0. Abseil's rarer usage flags
// (--helpshort, --helppackage, --helpon, --helpmatch) stay Abseil's;
// --version already exits 0.
#ifndef HANDOFF_COMMON_HELP_FLAGS_H_
#define HANDOFF_COMMON_HELP_FLAGS_H_

#include <functional>
#include <ostream>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace handoff {

struct HelpRequest {
  enum class Mode {
    kNone,
    kImportant,  // --help: the flags of the files contains_help_flags names
    kFull,       // --helpfull: every flag
    kMatch,      // --help=SUBSTRING: flags whose name, file or help has it
  };
  Mode mode = Mode::kNone;
  std::string match;
};

// Removes from `argv` (argv[0] first, no terminating nullptr) each help flag
// Abseil would read as one (--help, -help, --help=SUBSTRING, --helpfull), and
// -h (or --h), which is --help unless the binary defines a flag h,
// not a value of another flag nor an argument after "--", and returns the
// last one's request; kNone if there was none.
HelpRequest TakeHelpFlags(std::vector<char*>& argv);

// Prints to `out` "<argv0's base name>: <usage>", then the flags `request`
// asks for, by the file that defines them, each as
//   --name (default: V; now: W)      ("now" only if it was set)
//       its help, wrapped at 80 columns
// and a line on --helpfull and --help=TEXT. --help lists the flags of the
// files `contains_help_flags` accepts (as normalize_filename made their
// names), --helpfull every flag, --help=TEXT those whose name, file or help
// contains TEXT.
void PrintFlagsHelp(std::ostream& out, const HelpRequest& request, absl::string_view argv0,
                    absl::string_view usage,
                    const std::function<bool(absl::string_view)>& contains_help_flags);

}  // namespace handoff

#endif  // HANDOFF_COMMON_HELP_FLAGS_H_
