// The gRPC service config handoff's client channels carry.
//
// Retries are gRPC's own (gRFC A6): the channel replays a call that failed
// with a retryable code before any response arrived, with exponential
// backoff and jitter, and it never retries past the call's deadline. Doing it
// in the channel rather than in a loop around the stub keeps the deadline,
// cancellation and hedging/throttling rules in one place.
#ifndef HANDOFF_CLIENT_SERVICE_CONFIG_H_
#define HANDOFF_CLIENT_SERVICE_CONFIG_H_

#include <string>
#include <vector>

#include <grpcpp/support/status.h>

#include "absl/status/status.h"
#include "absl/time/time.h"

namespace handoff {

struct RetryPolicy {
  // Attempts in total, the first included; gRPC caps this at 5.
  int max_attempts = 4;
  absl::Duration initial_backoff = absl::Milliseconds(100);
  absl::Duration max_backoff = absl::Seconds(2);
  double backoff_multiplier = 2.0;
  // UNAVAILABLE is the code that says the call may be made again (the
  // server was unreachable or draining), so it is the only safe default.
  // A call whose server went away under it ends UNAVAILABLE too, and is
  // made again though that server may have run it (client.h).
  // handoffd's UNAVAILABLE for a Call whose handler had started (cut off at
  // the drain timeout) carries gRPC's server pushback, and is not retried.
  std::vector<grpc::StatusCode> retryable_codes = {grpc::StatusCode::UNAVAILABLE};
};

// OK, or INVALID_ARGUMENT naming the field, for a policy gRPC would refuse
// (gRFC A6, as gRPC 1.51 checks it): fewer than 2 attempts, a backoff that
// is not a finite duration of at least 1 ms (gRPC keeps backoffs in whole
// milliseconds, and one under 1 ms is 0 to it), a multiplier that is not
// positive and finite, no retryable code. gRPC does not fail on such a
// policy: it makes the channel one whose every call fails, with a reason
// that does not name the policy. Refused too: a retryable code that is OK
// (no failure) or none of gRPC's (the config would name it UNKNOWN).
absl::Status ValidateRetryPolicy(const RetryPolicy& policy);

// A service config JSON applying `policy` (which ValidateRetryPolicy
// accepts) to every method of every service on the channel (the method
// config named `[{}]`).
std::string RetryServiceConfigJson(const RetryPolicy& policy);

}  // namespace handoff

#endif  // HANDOFF_CLIENT_SERVICE_CONFIG_H_
