// ParseLoadFlags: `handoff load`'s command line, spelled as ghz spells it.
//
// absl flags cannot express ghz's short options (-c 50, -n 1000, -z 10s), so
// this subcommand has its own small parser. Accepted forms, for any option:
// `-c 50`, `-c=50`, `--concurrency 50`, `--concurrency=50`; boolean options
// (-b, --insecure, -h) take no value. Exactly one positional HOST:PORT.
// Durations use Go/absl syntax ("500ms", "10s", "1m30s"); a bare number is
// seconds, as in ghz.
#ifndef HANDOFF_CLIENT_LOAD_FLAGS_H_
#define HANDOFF_CLIENT_LOAD_FLAGS_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "client/load/options.h"

namespace handoff::load {

// Parses the arguments after `load`. Errors name the offending option and
// read as one line: "-c: want a positive integer, got 'x'". With -h the
// result has help set and nothing else is validated.
absl::StatusOr<LoadOptions> ParseLoadFlags(const std::vector<absl::string_view>& args);

// An option of load's as one argument writes it.
struct LoadFlag {
  std::string name;            // as written, without its value: "-c",
                               // "--rps", "--no-async"
  bool value_follows = false;  // its value is the next argument
  bool asks_usage = false;     // -h, --help, -v, --version
};
// The option `arg`, one argument as written ("-c", "-c10", "--rps=5",
// "--no-async"), gives to load's parser (ParseLoadFlags's rules); nullopt
// if it gives none: a positional argument, "--", or a name load does not
// know. For the CLI's other commands to tell a flag of load's apart.
std::optional<LoadFlag> FindLoadFlag(absl::string_view arg);

// The --help text.
std::string LoadUsage();

}  // namespace handoff::load

#endif  // HANDOFF_CLIENT_LOAD_FLAGS_H_
