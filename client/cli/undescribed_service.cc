// Copyright 2026 The handoff Authors.

#include "client/cli/undescribed_service.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace handoff::cli {

absl::Status ExplainUndescribed(ReflectionDatabase& db,
                                const google::protobuf::DescriptorPool& pool,
                                const std::vector<std::string>& services,
                                const absl::Status& not_found, absl::string_view consequence) {
  if (services.empty()) return not_found;
  auto listed = db.ListServices();
  if (!listed.ok()) return not_found;
  for (const std::string& service : services) {
    // A service the pool knows is described: the name is unknown within it.
    if (pool.FindServiceByName(service) != nullptr) continue;
    if (std::find(listed->begin(), listed->end(), service) == listed->end()) continue;
    std::string hint;
    if (service == "grpc.health.v1.Health") hint = " (for its Check: handoff health)";
    return absl::NotFoundError(absl::StrCat(
        "the server lists ", service, " but does not describe it by reflection", consequence,
        hint));
  }
  return not_found;
}

}  // namespace handoff::cli
