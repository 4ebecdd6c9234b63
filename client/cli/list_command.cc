// `handoff list [SERVICE]`: services, or one service's methods, by reflection.
#include <algorithm>
#include <iostream>

#include <google/protobuf/descriptor.h>

#include "absl/strings/str_cat.h"
#include "client/cli/commands.h"
#include "client/reflection_database.h"

namespace handoff::cli {
namespace {

void PrintMethods(const google::protobuf::ServiceDescriptor& service) {
  for (int i = 0; i < service.method_count(); ++i) {
    const auto* m = service.method(i);
    std::cout << "  " << m->name() << "("
              << (m->client_streaming() ? "stream " : "")
              << m->input_type()->full_name() << ") returns ("
              << (m->server_streaming() ? "stream " : "")
              << m->output_type()->full_name() << ")\n";
  }
}

}  // namespace

int List(const Connection& connection, const std::string& only) {
  auto channel = Dial(connection);
  if (!channel.ok()) return Fail(connection.addr, channel.status());
  ReflectionDatabase db(*channel, connection.timeout, connection.wait_for_ready,
                        connection.reflect_metadata);
  auto services = db.ListServices();
  if (!services.ok()) {
    return Fail(absl::StrCat("listing services of ", connection.addr),
                services.status());
  }
  std::sort(services->begin(), services->end());
  google::protobuf::DescriptorPool pool(&db);
  bool found = only.empty();
  for (const std::string& name : *services) {
    if (!only.empty() && name != only) continue;
    found = true;
    std::cout << name << "\n";
    // A service the server lists but cannot describe (gRPC's built-in
    // health service has no descriptor) is listed without methods.
    if (const auto* service = pool.FindServiceByName(name)) PrintMethods(*service);
  }
  if (!found) {
    return Fail(connection.addr,
                absl::NotFoundError(absl::StrCat("no service '", only, "'")));
  }
  return 0;
}

}  // namespace handoff::cli
