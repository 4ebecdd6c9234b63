#include "client/service_config.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "client/status.h"

namespace handoff {
namespace {

// Service-config durations are protobuf Duration JSON: seconds with an "s".
std::string JsonDuration(absl::Duration d) {
  return absl::StrFormat("%.9gs", absl::ToDoubleSeconds(d));
}

}  // namespace

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
