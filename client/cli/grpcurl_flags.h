// Copyright 2026 The handoff Authors.
//
// grpcurl's flags that have a handoff equivalent: a user moving from
// grpcurl writes `-plaintext`, `-H 'k: v'` or `-emit-defaults` first, and
// Abseil's parser answered only "Unknown command line flag", exit 1.
#ifndef HANDOFF_CLIENT_CLI_GRPCURL_FLAGS_H_
#define HANDOFF_CLIENT_CLI_GRPCURL_FLAGS_H_

#include "absl/status/status.h"
#include "absl/types/span.h"

namespace handoff::cli {

// InvalidArgument naming the first flag of `argv` (a command line, the
// program first) that neither handoff nor Abseil knows but grpcurl does
// and handoff has its own for: "-H is grpcurl's; handoff's is --metadata,
// ...". Checked before load's flags (load_flags_check.h), which would read
// `-emit-defaults` as ghz's `-e` with letters after it. OK otherwise.
absl::Status CheckNoGrpcurlFlags(absl::Span<char* const> argv);

}  // namespace handoff::cli

#endif  // HANDOFF_CLIENT_CLI_GRPCURL_FLAGS_H_
