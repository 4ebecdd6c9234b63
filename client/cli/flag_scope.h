// Copyright 2026 The handoff Authors.
//
// Flag scope: which of the CLI's commands each of its flags applies to, so
// that a flag given to a command it does not apply to (`handoff list
// --pretty`, `handoff health -d {}`) is bad usage naming both, rather than
// ignored without a word.
//
// A flag counts as given if anything set it while the command line was
// parsed: the command line itself, a --flagfile, or Abseil's --fromenv /
// --tryfromenv; a value equal to the default counts too (the user asked
// for it). Abseil 20220623 keeps CommandLineFlag::IsSpecifiedOnCommandLine
// private (flags_internal), so each flag reports its own setting through
// ABSL_FLAG(...).OnUpdate, Abseil's public hook, called on every setting
// of a flag: NoteFlagSet below. The CLI has no
// environment variables of its own to override its flags.
#ifndef HANDOFF_CLIENT_CLI_FLAG_SCOPE_H_
#define HANDOFF_CLIENT_CLI_FLAG_SCOPE_H_

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace handoff::cli {

// Records that the flag `name` was set, once NoteFlagsFromNowOn has been
// called: Abseil also calls a flag's OnUpdate callback as it attaches it,
// at static initialization, when nothing has set the flag. Called from the
// flag's OnUpdate callback, on the main thread.
void NoteFlagSet(absl::string_view name);
// Called just before absl::ParseCommandLine.
void NoteFlagsFromNowOn();

// Whether the flag `name` was given (set at all while the command line was
// parsed, as above).
bool FlagGiven(absl::string_view name);

// OK if every flag set applies to `command` ("call", "list", "describe" or "health");
// else InvalidArgument naming a flag that does not (the first in
// flag_scope.cc's table), the command, and the commands it applies to:
// "--pretty does not apply to list (only to call)". A flag the table does
// not know applies to every command.
absl::Status CheckFlagsApply(absl::string_view command);

}  // namespace handoff::cli

#endif  // HANDOFF_CLIENT_CLI_FLAG_SCOPE_H_
