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

#include "absl/time/time.h"

namespace handoff {

struct RetryPolicy {
  // Attempts in total, the first included; gRPC caps this at 5.
  int max_attempts = 4;
  absl::Duration initial_backoff = absl::Milliseconds(100);
  absl::Duration max_backoff = absl::Seconds(2);
  double backoff_multiplier = 2.0;
  // UNAVAILABLE is the one code that promises the call did not run (the
  // server was unreachable or draining), so it is the only safe default.
  std::vector<grpc::StatusCode> retryable_codes = {grpc::StatusCode::UNAVAILABLE};
};

// A service config JSON applying `policy` to every method of every service
// on the channel (the method config named `[{}]`).
std::string RetryServiceConfigJson(const RetryPolicy& policy);

}  // namespace handoff

#endif  // HANDOFF_CLIENT_SERVICE_CONFIG_H_
