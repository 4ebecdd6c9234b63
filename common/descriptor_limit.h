// Copyright 2026 The handoff Authors.
//
// RaiseDescriptorLimit: the soft limit on open descriptors (RLIMIT_NOFILE)
// raised to the hard one, as Go's runtime does for every Go program.
//
// Why: a shell's soft limit is often 1,024. gRPC 1.51's listener stops
// accepting for good the first time accept4 fails with EMFILE
// (CVE-2023-4785), so one client that opened a thousand connections would
// take handoffd off the network until it restarted; and `handoff load
// --connections 2000` would fail where ghz, a Go program, runs. The hard
// limit is what the administrator allows (the systemd unit sets 65,536);
// the soft one is only a default that a program which handles many
// connections is meant to raise. Both programs wait with epoll, never
// select(), so no descriptor number is too large for them.

#ifndef HANDOFF_COMMON_DESCRIPTOR_LIMIT_H_
#define HANDOFF_COMMON_DESCRIPTOR_LIMIT_H_

#include <sys/resource.h>

#include "absl/status/statusor.h"

namespace handoff {

// Sets the soft RLIMIT_NOFILE to the hard one, and returns the soft limit
// now in force; the errno's status, naming the limit, if it cannot be read
// or set.
absl::StatusOr<rlim_t> RaiseDescriptorLimit();

}  // namespace handoff

#endif  // HANDOFF_COMMON_DESCRIPTOR_LIMIT_H_
