// Copyright 2026 The handoff Authors.

#include "client/metadata.h"

#include <algorithm>

#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace handoff {
namespace {

bool IsKeyChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
         c == '.';
}

// Keys gRPC C++ 1.51 takes as metadata and then does not send as given: it
// drops them, or sends its own value in their place, and the call goes on
// (grpc-status alone fails it): ClientTest.GrpcDropsOrAltersTheKeysItReserves
// shows each. Each says why, and what sets it instead where something does.
struct ReservedKey {
  absl::string_view key;
  absl::string_view why;
};
constexpr ReservedKey kReservedKeys[] = {
    {"content-type", "gRPC sends application/grpc itself and drops this one"},
    {"te", "gRPC sends te: trailers itself and drops this one"},
    {"user-agent",
     "gRPC sends its own (grpc-c++/VERSION ...) in its place; use --user_agent, which goes "
     "before it (handoff call, list, describe and health)"},
    {"grpc-timeout",
     "gRPC sets it from the call's deadline and drops this one; use --timeout "
     "(CallOptions::timeout in the library)"},
    {"grpc-encoding",
     "gRPC sets it from the call's compression and drops this one; use handoff load's "
     "-e/--enable-compression"},
    {"grpc-internal-encoding-request",
     "gRPC takes it as the call's compression and does not send it; use handoff load's "
     "-e/--enable-compression"},
    {"grpc-accept-encoding", "gRPC sends the compressions it can decode and drops this one"},
    {"grpc-previous-rpc-attempts",
     "gRPC sets it on a call its retry policy makes again, and drops this one"},
    {"grpc-status", "it is a server's trailer; gRPC does not send it, and the call fails"},
    {"grpc-message", "it is a server's trailer; gRPC drops it"},
    {"grpc-retry-pushback-ms",
     "it is a server's trailer (gRFC A6); gRPC sends a number of its own in its place"},
    {"endpoint-load-metrics-bin", "it is a server's trailer (an ORCA load report); gRPC drops it"},
    {"lb-cost-bin", "it is a server's trailer (a load balancer's cost); gRPC drops it"},
    {"grpc-server-stats-bin", "it is a server's trailer (census stats); gRPC drops it"},
    {"grpc-tags-bin", "gRPC's census filter sets it, and drops this one"},
    {"grpc-trace-bin", "gRPC's census filter sets it, and drops this one"},
};

// HTTP/1's connection-specific fields, which HTTP/2 forbids (RFC 9113
// section 8.2.2): gRPC C++ sends them as given and handoffd takes them, but
// a proxy in front of it (nginx, Envoy) must treat the request as malformed.
constexpr absl::string_view kConnectionSpecificKeys[] = {
    "connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade"};

}  // namespace

std::vector<std::string> ReservedMetadataKeys() {
  std::vector<std::string> keys;
  for (const auto& reserved : kReservedKeys) keys.emplace_back(reserved.key);
  return keys;
}

absl::Status ValidateMetadata(absl::string_view key, absl::string_view value) {
  if (key.empty()) return absl::InvalidArgumentError("metadata key is empty");
  for (char c : key) {
    if (!IsKeyChar(c)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "metadata key \"", absl::CHexEscape(key), "\": '",
          absl::CHexEscape(absl::string_view(&c, 1)),
          "' is not allowed in a key (only 0-9, a-z, '-', '_' and '.')"));
    }
  }
  for (const auto& reserved : kReservedKeys) {
    if (key == reserved.key) {
      return absl::InvalidArgumentError(absl::StrCat(
          "metadata key \"", key, "\" is gRPC's own: ", reserved.why));
    }
  }
  for (const absl::string_view connection_specific : kConnectionSpecificKeys) {
    if (key == connection_specific) {
      return absl::InvalidArgumentError(absl::StrCat(
          "metadata key \"", key,
          "\" is HTTP/1's: HTTP/2 forbids connection-specific fields (RFC 9113 section 8.2.2), "
          "and a proxy in front of the server would refuse the call"));
    }
  }
  if (absl::EndsWith(key, "-bin")) return absl::OkStatus();
  for (char c : value) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u > 0x7e) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "metadata \"%s\": its value holds byte 0x%02x; a value is printable "
          "ASCII, unless its key ends in -bin",
          key, u));
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateMetadata(
    const std::vector<std::pair<std::string, std::string>>& metadata) {
  for (const auto& [key, value] : metadata) {
    if (absl::Status s = ValidateMetadata(key, value); !s.ok()) return s;
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<std::pair<std::string, std::string>>> MetadataFromJson(
    absl::string_view json) {
  google::protobuf::Struct object;
  if (!google::protobuf::util::JsonStringToMessage(std::string(json), &object).ok()) {
    return absl::InvalidArgumentError(absl::StrCat(
        R"(want a JSON object of strings like {"key":"value"}, got ')", json, "'"));
  }
  std::vector<std::pair<std::string, std::string>> headers;
  for (const auto& [key, value] : object.fields()) {
    if (value.kind_case() != google::protobuf::Value::kStringValue) {
      return absl::InvalidArgumentError(
          absl::StrCat("the value of \"", key, "\" is not a string"));
    }
    headers.emplace_back(absl::AsciiStrToLower(key), value.string_value());
  }
  // In key order: a JSON object's has no meaning, and protobuf's map none
  // that stays the same from run to run.
  std::sort(headers.begin(), headers.end());
  if (absl::Status s = ValidateMetadata(headers); !s.ok()) return s;
  return headers;
}

}  // namespace handoff
