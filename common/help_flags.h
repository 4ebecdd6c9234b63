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
// registry (PrintFlagsHelp) and exits 0. Abseil's rarer usage flags are
// answered so too, with the filters Abseil documents for them: --helpshort
// the flags of the program's main file(s), which for handoff and handoffd
// are those --help lists (contains_help_flags: where their flags are
// defined, not only the file of main()), --helppackage those of the
// main files' directories, --helpon=FILE those of the files named FILE
// (without directory or extension), --helpmatch=TEXT those whose file's
// name contains TEXT. --version already exits 0.
#ifndef HANDOFF_COMMON_HELP_FLAGS_H_
#define HANDOFF_COMMON_HELP_FLAGS_H_

#include <functional>
#include <ostream>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace handoff {

struct HelpRequest {
  enum class Mode {
    kNone,
    kImportant,  // --help: the flags of the files contains_help_flags names
    kFull,       // --helpfull: every flag
    kMatch,      // --help=SUBSTRING: flags whose name, file or help has it
    kShort,      // --helpshort: as kImportant
    kPackage,    // --helppackage: the flags of kImportant's files' directories
    kOn,         // --helpon=FILE: flags of a file whose base name is FILE
    kFileMatch,  // --helpmatch=TEXT: flags whose file name contains TEXT
  };
  Mode mode = Mode::kNone;
  std::string match;
};

// Removes from `argv` (argv[0] first, no terminating nullptr) each help flag
// Abseil would read as one (--help, -help, --help=SUBSTRING, --helpfull,
// --helpshort, --helppackage, --helpon=FILE, --helpmatch=TEXT), and -h (or
// --h), which is --help unless the binary defines a flag h, not a value of
// another flag nor an argument after "--", and returns the last one's
// request; kNone if there was none. InvalidArgument, argv untouched, for
// --helpon or --helpmatch without "=VALUE" ("--helpon needs a file name:
// --helpon=FILE"): Abseil takes no value after a space for them, and would
// list every flag, or none, and take the name for a command or argument.
absl::StatusOr<HelpRequest> TakeHelpFlags(std::vector<char*>& argv);

// InvalidArgument if a --flagfile that `argv` (main()'s) names holds a help
// flag (flagfile_lines.h), naming the file and line: "f.flags:2: --help
// cannot be in a flagfile; ask for help on the command line". Abseil would
// answer it with its own help and exit 1, as for bad usage; it is bad
// usage, but of a kind that is said.
absl::Status CheckNoHelpFlagInFlagfiles(absl::Span<char* const> argv);

// Whether `arg`, one argument as written, is one of the help flags
// TakeHelpFlags takes ("-h", "--helpon=main"), wherever it is written.
bool IsHelpFlag(absl::string_view arg);

// Prints to `out` "<argv0's base name>: <usage>", then the flags `request`
// asks for, by the file that defines them, each as
//   --name (default: V; now: W)      ("now" only if it was set)
//       its help, wrapped at 80 columns
// and a line on --helpfull and --help=TEXT. --help lists the flags of the
// files `contains_help_flags` accepts (as normalize_filename made their
// names), --helpfull every flag, --help=TEXT those whose name, file or help
// contains TEXT, and the rarer ones as above.
void PrintFlagsHelp(std::ostream& out, const HelpRequest& request, absl::string_view argv0,
                    absl::string_view usage,
                    const std::function<bool(absl::string_view)>& contains_help_flags);

}  // namespace handoff

#endif  // HANDOFF_COMMON_HELP_FLAGS_H_
