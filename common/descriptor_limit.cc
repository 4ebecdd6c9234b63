// Copyright 2026 The handoff Authors.

#include "common/descriptor_limit.h"

#include <cerrno>

#include "absl/status/status.h"

namespace handoff {

absl::StatusOr<rlim_t> RaiseDescriptorLimit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) {
    return absl::ErrnoToStatus(errno, "getrlimit(RLIMIT_NOFILE)");
  }
  if (limit.rlim_cur == limit.rlim_max) return limit.rlim_cur;
  limit.rlim_cur = limit.rlim_max;
  if (setrlimit(RLIMIT_NOFILE, &limit) != 0) {
    return absl::ErrnoToStatus(errno, "setrlimit(RLIMIT_NOFILE)");
  }
  return limit.rlim_cur;
}

}  // namespace handoff
