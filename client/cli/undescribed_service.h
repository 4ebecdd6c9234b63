// Copyright 2026 The handoff Authors.
//
// ExplainUndescribed: a name reflection does not know, explained when it
// is (or is a method of) a service the server lists but does not describe
// by reflection, as gRPC's own health service is. "Unknown" would send the
// user to `handoff list`, which names the service; `call` and `describe`
// say the same of it.
#ifndef HANDOFF_CLIENT_CLI_UNDESCRIBED_SERVICE_H_
#define HANDOFF_CLIENT_CLI_UNDESCRIBED_SERVICE_H_

#include <google/protobuf/descriptor.h>

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "client/reflection_database.h"

namespace handoff::cli {

// NOT_FOUND, "the server lists SERVICE but does not describe it by
// reflection" then `consequence` (and, for grpc.health.v1.Health, "(for its
// Check: handoff health)"), for the first of `services` that the server
// lists (one ListServices call) and `pool` does not know; `not_found`
// unchanged if there is none, or if the list cannot be had.
absl::Status ExplainUndescribed(ReflectionDatabase& db,
                                const google::protobuf::DescriptorPool& pool,
                                const std::vector<std::string>& services,
                                const absl::Status& not_found, absl::string_view consequence);

}  // namespace handoff::cli

#endif  // HANDOFF_CLIENT_CLI_UNDESCRIBED_SERVICE_H_
