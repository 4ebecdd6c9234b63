// Copyright 2026 The handoff Authors.

#include "server/host_port.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace handoff {

absl::StatusOr<std::pair<std::string, int>> SplitHostPort(
    absl::string_view address) {
  size_t colon = address.rfind(':');
  if (colon == absl::string_view::npos || absl::EndsWith(address, "]")) {
    return absl::InvalidArgumentError(absl::StrCat(
        "'", address, "' is not host:port (e.g. 0.0.0.0:50051, [::]:50051)"));
  }
  absl::string_view host = address.substr(0, colon);
  absl::string_view digits = address.substr(colon + 1);
  // SimpleAtoi alone would also take " 80" and "+80", which gRPC does not.
  int port = 0;
  bool numeric = !digits.empty();
  for (char c : digits) numeric = numeric && absl::ascii_isdigit(c);
  if (!numeric || !absl::SimpleAtoi(digits, &port) || port > 65535) {
    return absl::InvalidArgumentError(absl::StrCat(
        "'", address, "': the port must be a number from 0 to 65535"));
  }
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  } else if (host.find_first_of("[]:") != absl::string_view::npos) {
    // "::1:80" would be read as host "::1" here but as a host without a port
    // by gRPC; brackets say where the address ends.
    return absl::InvalidArgumentError(absl::StrCat(
        "'", address, "': an IPv6 address goes in brackets, [::1]:port"));
  }
  if (host.empty()) host = "0.0.0.0";
  return std::make_pair(std::string(host), port);
}

bool IsUnixSocket(absl::string_view address) {
  return absl::StartsWith(address, "unix:") ||
         absl::StartsWith(address, "unix-abstract:");
}

}  // namespace handoff
