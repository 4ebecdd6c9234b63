#include "client/service_config.h"

#include <algorithm>
#include <cmath>
#include <cstdint>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "client/status.h"

namespace handoff {
namespace {

// Service-config durations are protobuf Duration JSON: seconds, at most
// nine decimals, and an "s", up to protobuf's 10,000 years. In fixed
// notation: "%g" wrote a million hours as "3.6e+09s", which gRPC does not
// parse. `d` is finite and positive; past the cap it is the cap, which as a
// backoff means the same.
std::string JsonDuration(absl::Duration d) {
  constexpr int64_t kMaxSeconds = 315'576'000'000;
  d = std::min(d, absl::Seconds(kMaxSeconds));
  const int64_t seconds = absl::IDivDuration(d, absl::Seconds(1), &d);
  return absl::StrFormat("%d.%09ds", seconds, absl::ToInt64Nanoseconds(d));
}

absl::Status CheckBackoff(absl::string_view field, absl::Duration d) {
  if (d == absl::InfiniteDuration() || d < absl::Milliseconds(1)) {
    return absl::InvalidArgumentError(
        absl::StrCat("retry policy: ", field, " is ", absl::FormatDuration(d),
                     "; gRPC takes a finite backoff of at least 1ms"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ValidateRetryPolicy(const RetryPolicy& policy) {
  if (policy.max_attempts < 2) {
    return absl::InvalidArgumentError(
        absl::StrCat("retry policy: max_attempts is ", policy.max_attempts,
                     "; gRPC takes 2 or more (no policy at all makes one attempt)"));
  }
  if (absl::Status s = CheckBackoff("initial_backoff", policy.initial_backoff); !s.ok()) {
    return s;
  }
  if (absl::Status s = CheckBackoff("max_backoff", policy.max_backoff); !s.ok()) return s;
  if (!(policy.backoff_multiplier > 0) || !std::isfinite(policy.backoff_multiplier)) {
    return absl::InvalidArgumentError(
        absl::StrCat("retry policy: backoff_multiplier is ", policy.backoff_multiplier,
                     "; gRPC takes a positive, finite one"));
  }
  if (policy.retryable_codes.empty()) {
    return absl::InvalidArgumentError(
        "retry policy: retryable_codes is empty; gRPC takes one or more");
  }
  for (grpc::StatusCode code : policy.retryable_codes) {
    // OK is no failure to retry, and a number outside gRPC's codes would
    // reach the service config as "UNKNOWN", a code nobody asked for.
    const int c = static_cast<int>(code);
    if (c < 1 || c > static_cast<int>(grpc::StatusCode::UNAUTHENTICATED)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "retry policy: retryable_codes holds ", c, ", which is no gRPC error code (1 to 16)"));
    }
  }
  return absl::OkStatus();
}

std::string RetryServiceConfigJson(const RetryPolicy& policy) {
  std::vector<std::string> codes;
  for (grpc::StatusCode code : policy.retryable_codes) {
    codes.push_back(absl::StrCat("\"", CanonicalCodeName(code), "\""));
  }
  return absl::StrCat(
      R"({"methodConfig":[{"name":[{}],"retryPolicy":{)",
      R"("maxAttempts":)", policy.max_attempts,
      R"(,"initialBackoff":")", JsonDuration(policy.initial_backoff),
      R"(","maxBackoff":")", JsonDuration(policy.max_backoff),
      R"(","backoffMultiplier":)", absl::StrFormat("%g", policy.backoff_multiplier),
      R"(,"retryableStatusCodes":[)", absl::StrJoin(codes, ","), "]}}]}");
}

}  // namespace handoff
