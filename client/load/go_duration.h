// ParseGoDuration, GoDurationString: a span of time as ghz and Go write it.
//
// Go's time.ParseDuration syntax ("500ms", "10s", "1m30s", "1.5h"; "µs" as
// well as "us"), plus ghz's bare number, which is seconds ("20" is 20s).
// Shared by `handoff load`'s ghz flags and the CLI's --timeout, so that one
// command line reads the same wherever a duration goes.
#ifndef HANDOFF_CLIENT_LOAD_GO_DURATION_H_
#define HANDOFF_CLIENT_LOAD_GO_DURATION_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace handoff::load {

// Zero or more. InvalidArgument, whose message is "negative" for a negative
// duration and "not a duration" for any other text it does not take;
// OutOfRange past Go's longest duration, 2^63-1 ns (292 years), which the
// load generator keeps in int64 nanoseconds, where a longer one would wrap
// into the past.
absl::StatusOr<absl::Duration> ParseGoDuration(absl::string_view text);

// As Go's time.Duration String() writes it, which ghz's reports take where
// they print a duration with %v: "0s", "1.5µs", "100ms", "1m30s", "2h0m0s".
// `d` is taken in whole nanoseconds, Go's unit.
std::string GoDurationString(absl::Duration d);

}  // namespace handoff::load

#endif  // HANDOFF_CLIENT_LOAD_GO_DURATION_H_
