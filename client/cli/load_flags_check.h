// Copyright 2026 The handoff Authors.
//
// CheckLoadFlagsPlace: a flag of `handoff load` where the CLI's own parser
// (Abseil's) would read it, and fail with "Unknown command line flag 'c'",
// exit 1, which names neither the command whose flag it is nor the fix.
// main() hands load its arguments untouched only when `load` is the first
// of them, since ghz's flags (-c 50 -n 1000) are no Abseil flags: so a flag
// of load's given to call, list, describe or health, or any flag written before
// `load`, is bad usage, said as such (but for help flags alone before it,
// `handoff --help load`, which main() answers with load's help first).
// Checked on argv before absl::ParseCommandLine, which exits on its own for
// an unknown flag.
#ifndef HANDOFF_CLIENT_CLI_LOAD_FLAGS_CHECK_H_
#define HANDOFF_CLIENT_CLI_LOAD_FLAGS_CHECK_H_

#include "absl/status/status.h"
#include "absl/types/span.h"

namespace handoff::cli {

// `argv` is main()'s, argv[1] not "load". InvalidArgument if its command
// (its first positional argument, as Abseil reads argv: common/absl_argv.h,
// a value of one of load's flags not counted) is load, naming what came
// before it: "load takes its flags after it: handoff load HOST:PORT [flags]
// (see handoff load --help); -c 5 came before it". InvalidArgument too if
// the command is call, list, describe or health and a flag Abseil does not know is one of load's
// (client/load/flags.h): "-c is a flag of load, not of call", or "... (call's
// is --import_paths)" where the CLI has it spelled with '_'. Load's -h and
// --help, -v and --version are left to Abseil: they ask for help, whatever
// the command. The lines of the --flagfile files argv names
// (common/flagfile_lines.h) are checked after the command line as it is, the
// message after the file and line ("f.flags:4: -c is a flag of load, not
// of list"), and a help flag in one is InvalidArgument for any command but
// load (common/help_flags.h's CheckNoHelpFlagInFlagfiles: "f.flags:2:
// --help cannot be in a flagfile; ask for help on the command line"),
// which Abseil would answer with its help, exit 1. OK otherwise: a flag
// neither knows stays Abseil's to refuse.
absl::Status CheckLoadFlagsPlace(absl::Span<char* const> argv);

}  // namespace handoff::cli

#endif  // HANDOFF_CLIENT_CLI_LOAD_FLAGS_CHECK_H_
