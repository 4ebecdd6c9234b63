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

#include <string>
#include "absl/strings/string_view.h"
#include <vector>

#include "absl/status/statusor.h"
#include "client/load/options.h"

namespace handoff::load {

// Parses the arguments after `load`. Errors name the offending option and
// read as one line: "-c: want a positive integer, got 'x'". With -h the
// result has help set and nothing else is validated.
absl::StatusOr<LoadOptions> ParseLoadFlags(const std::vector<absl::string_view>& args);

// The --help text.
std::string LoadUsage();

}  // namespace handoff::load

#endif  // HANDOFF_CLIENT_LOAD_FLAGS_H_
