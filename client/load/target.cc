// Copyright 2026 The handoff Authors.

#include "client/load/target.h"

#include <asio/ip/address.hpp>
#include <system_error>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace handoff::load {

absl::StatusOr<HostPort> SplitTarget(absl::string_view target) {
  absl::ConsumePrefix(&target, "dns:///");
  const size_t colon = target.rfind(':');
  if (colon == absl::string_view::npos || colon + 1 == target.size() ||
      target.find("://") != absl::string_view::npos ||
      absl::StartsWith(target, "unix:") || absl::StartsWith(target, "unix-abstract:") ||
      absl::StartsWith(target, "ipv4:") || absl::StartsWith(target, "ipv6:")) {
    return absl::InvalidArgumentError(
        absl::StrCat("target '", target, "' is not HOST:PORT"));
  }
  absl::string_view host = target.substr(0, colon);
  if (absl::ConsumePrefix(&host, "[") && !absl::ConsumeSuffix(&host, "]")) {
    return absl::InvalidArgumentError(absl::StrCat("target '", target, "': unclosed '['"));
  }
  return HostPort{std::string(host), std::string(target.substr(colon + 1))};
}

absl::Status CheckTargetPort(absl::string_view target) {
  absl::StatusOr<HostPort> split = SplitTarget(target);
  if (!split.ok()) {
    // Of the forms left to gRPC, two name no port that gRPC can use: an
    // empty one ("localhost:" went to port 443), and a bracketed IPv6
    // address alone ("[::1]" dialled "%5B::1%5D:0").
    // (A bare IPv6 address, "fe80::", also ends in a colon, but has others
    // before it: gRPC takes it with the default port, as it takes a name.)
    absl::string_view rest = target;
    absl::ConsumePrefix(&rest, "dns:///");
    const bool scheme = absl::StartsWith(rest, "unix:") ||
                        absl::StartsWith(rest, "unix-abstract:") ||
                        absl::StartsWith(rest, "ipv4:") || absl::StartsWith(rest, "ipv6:") ||
                        rest.find("://") != absl::string_view::npos;
    const bool empty_port = absl::EndsWith(rest, ":") && rest.find(':') == rest.size() - 1;
    const bool bracketed_alone =
        absl::StartsWith(rest, "[") && (absl::EndsWith(rest, "]") || absl::EndsWith(rest, "]:"));
    if (!scheme && (empty_port || bracketed_alone)) {
      return absl::InvalidArgumentError(
          absl::StrCat("'", target, "' wants a port from 1 to 65535, and names none"));
    }
    return absl::OkStatus();
  }
  int port = 0;
  if (!absl::SimpleAtoi(split->port, &port) || port < 1 || port > 65535) {
    return absl::InvalidArgumentError(absl::StrCat(
        "'", target, "' wants a port from 1 to 65535, not '", split->port, "'"));
  }
  return absl::OkStatus();
}

bool IsLoopbackTarget(absl::string_view target) {
  if (absl::StartsWith(target, "unix:") || absl::StartsWith(target, "unix-abstract:")) {
    return true;
  }
  // gRPC's address-list forms: judge the first address.
  if (absl::ConsumePrefix(&target, "ipv4:") || absl::ConsumePrefix(&target, "ipv6:")) {
    target = target.substr(0, target.find(','));
  }
  absl::StatusOr<HostPort> split = SplitTarget(target);
  if (!split.ok()) return false;
  if (absl::AsciiStrToLower(split->host) == "localhost") return true;
  std::error_code error;
  const asio::ip::address address = asio::ip::make_address(split->host, error);
  // Linux delivers a connection to the unspecified address (0.0.0.0, ::) to
  // this host, so it is as local as 127.0.0.1.
  return !error && (address.is_loopback() || address.is_unspecified());
}

}  // namespace handoff::load
