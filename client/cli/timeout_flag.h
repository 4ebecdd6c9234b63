// TimeoutFlag: the type of the CLI's --timeout, which reads as `handoff
// load -t` and ghz read theirs.
//
// A duration ("500ms", "10s", "1m30s") or a bare number of seconds ("20"),
// as in ParseGoDuration; 0 or "inf" is no deadline, as ghz's -t 0 and
// grpcurl's -max-time 0 are. A value refused says why: Abseil's parser for
// absl::Duration says only "Illegal value '20' specified for flag
// 'timeout'", and took "-1s", which ended every call at once with a bare
// DEADLINE_EXCEEDED.
#ifndef HANDOFF_CLIENT_CLI_TIMEOUT_FLAG_H_
#define HANDOFF_CLIENT_CLI_TIMEOUT_FLAG_H_

#include <string>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace handoff::cli {

struct TimeoutFlag {
  absl::Duration value;  // positive; InfiniteDuration() for none
};

bool AbslParseFlag(absl::string_view text, TimeoutFlag* timeout, std::string* error);
std::string AbslUnparseFlag(TimeoutFlag timeout);

}  // namespace handoff::cli

#endif  // HANDOFF_CLIENT_CLI_TIMEOUT_FLAG_H_
