// Copyright 2026 The handoff Authors.
//
// ValidateMetadata: whether gRPC will send a header as given.
//
// gRPC C++ checks a call's metadata only as the call starts, and on a key or
// value its core refuses it does not fail the call: the process aborts
// (grpcpp/impl/call_op_set.h, GPR_CODEGEN_ASSERT). A header that comes from
// a user (a flag, a file, a rendered template, a library caller's options)
// is checked here first, so that the user hears which one is wrong.
//
// The rules are gRPC core's (and HTTP/2's, lower-cased): a key is one or
// more of [0-9a-z-_.]; a value is printable ASCII (0x20-0x7E), except under
// a key ending in "-bin", whose value is any bytes (gRPC sends it base64).
//
// A key gRPC keeps for itself is refused too, by name and saying why
// (content-type, te, user-agent, grpc-timeout, grpc-encoding, grpc-status,
// ...: README.md, "Metadata gRPC keeps for itself"): gRPC C++ takes it and
// then drops it or sends its own value in its place, and the call goes on
// as if the user had not given it.

#ifndef HANDOFF_CLIENT_METADATA_H_
#define HANDOFF_CLIENT_METADATA_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace handoff {

// OK, or INVALID_ARGUMENT naming the key and what is wrong with it or its
// value.
absl::Status ValidateMetadata(absl::string_view key, absl::string_view value);

// The keys ValidateMetadata refuses as gRPC's own, whatever their value.
std::vector<std::string> ReservedMetadataKeys();

// The first header of `metadata` that ValidateMetadata refuses, else OK.
absl::Status ValidateMetadata(const std::vector<std::pair<std::string, std::string>>& metadata);

// Headers from a JSON object of strings, as ghz's -m takes them
// ({"authorization":"Bearer x"}): keys lower-cased, in key order, each one
// ValidateMetadata takes. INVALID_ARGUMENT otherwise, saying what is wrong.
absl::StatusOr<std::vector<std::pair<std::string, std::string>>> MetadataFromJson(
    absl::string_view json);

}  // namespace handoff

#endif  // HANDOFF_CLIENT_METADATA_H_
