// Copyright 2026 The handoff Authors.

#include "dispatch/chan_status.h"

namespace handoff {

absl::Status ChannelClosedError() {
  return absl::FailedPreconditionError("channel closed");
}
absl::Status ChannelFullError() {
  return absl::ResourceExhaustedError("channel full");
}
absl::Status ChannelEmptyError() {
  return absl::UnavailableError("channel empty");
}

bool IsChannelClosed(const absl::Status& s) {
  return absl::IsFailedPrecondition(s);
}
bool IsChannelFull(const absl::Status& s) { return absl::IsResourceExhausted(s); }
bool IsChannelEmpty(const absl::Status& s) { return absl::IsUnavailable(s); }

}  // namespace handoff
