#include "client/service_listing.h"

#include <algorithm>
#include <string>
#include <vector>

#include <google/protobuf/descriptor.h>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace handoff {
namespace {

void AppendMethods(const google::protobuf::ServiceDescriptor& service, std::string& out) {
  for (int i = 0; i < service.method_count(); ++i) {
    const auto* m = service.method(i);
    absl::StrAppend(&out, "  ", m->name(), "(", m->client_streaming() ? "stream " : "",
                    m->input_type()->full_name(), ") returns (",
                    m->server_streaming() ? "stream " : "", m->output_type()->full_name(),
                    ")\n");
  }
}

}  // namespace

absl::StatusOr<std::string> ServiceListing(ReflectionDatabase& db, const std::string& only) {
  absl::StatusOr<std::vector<std::string>> services = db.ListServices();
  if (!services.ok()) return services.status();
  std::sort(services->begin(), services->end());
  google::protobuf::DescriptorPool pool(&db, db.build_errors());
  std::string out;
  bool found = only.empty();
  for (const std::string& name : *services) {
    if (!only.empty() && name != only) continue;
    found = true;
    absl::StrAppend(&out, name, "\n");
    if (const auto* service = pool.FindServiceByName(name)) {
      AppendMethods(*service, out);
      continue;
    }
    const absl::Status& why = db.last_error();
    if (!why.ok() && !absl::IsNotFound(why)) {
      return absl::Status(why.code(), absl::StrCat("describing ", name, ": ", why.message()));
    }
  }
  if (!found) return absl::NotFoundError(absl::StrCat("no service '", only, "'"));
  return out;
}

}  // namespace handoff
