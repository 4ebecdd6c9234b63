// Copyright 2026 The handoff Authors.
//
// grpcurl's flags that handoff has not by grpcurl's name: a user moving
// from grpcurl writes `-plaintext`, `-H 'k: v'` or `-emit-defaults` first,
// and Abseil's parser answered only "Unknown command line flag", exit 1, or
// load's check named load for `-connect-timeout` (ghz's `-c`).
#ifndef HANDOFF_CLIENT_CLI_GRPCURL_FLAGS_H_
#define HANDOFF_CLIENT_CLI_GRPCURL_FLAGS_H_

#include "absl/status/status.h"
#include "absl/types/span.h"

namespace handoff::cli {

// InvalidArgument naming the first flag of `argv` (a command line, the
// program first) that neither handoff nor Abseil knows but grpcurl does,
// with handoff's own for it ("-H is grpcurl's; handoff's is --metadata,
// ...") or "-alts is grpcurl's; handoff has no such flag". Checked before
// load's flags (load_flags_check.h), which would read `-emit-defaults` as
// ghz's `-e` with letters after it. A --flagfile's lines are checked so
// too, the message after "FILE:LINE: ". OK otherwise.
absl::Status CheckNoGrpcurlFlags(absl::Span<char* const> argv);

}  // namespace handoff::cli

#endif  // HANDOFF_CLIENT_CLI_GRPCURL_FLAGS_H_
