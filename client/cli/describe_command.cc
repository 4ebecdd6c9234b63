// `handoff describe [SYMBOL]`: a service, method, message or enum as .proto
// source, by reflection or from --proto / --protoset, as grpcurl's
// `describe`; with no symbol, every service.
#include <google/protobuf/descriptor.h>

#include <algorithm>
#include <chrono>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "client/cli/commands.h"
#include "client/cli/undescribed_service.h"
#include "client/dynamic_call.h"
#include "client/local_descriptors.h"
#include "client/reflection_database.h"
#include "client/symbol_description.h"

namespace handoff::cli {
namespace {

// The exit code of a description: an unknown or malformed symbol is the
// user's ("no symbol 'x'", "symbol 'x.' has an empty part"), anything else
// the server's or the files'.
int Print(const Connection& connection, const absl::StatusOr<std::string>& text) {
  if (absl::IsNotFound(text.status()) || absl::IsInvalidArgument(text.status())) {
    return Fail("describe", text.status());
  }
  if (!text.ok()) {
    return Fail(absl::StrCat("reflection at ", connection.addr),
                WithTlsHint(connection, text.status()));
  }
  if (absl::Status s = WriteStdout(*text, "the description"); !s.ok()) {
    return Fail("describe", s);
  }
  return 0;
}

}  // namespace

int Describe(const Connection& connection, const DescribeArgs& args) {
  auto local = LocalDescriptors::FromFlags(args.proto, args.import_paths, args.protoset);
  if (!local.ok()) return Fail("describe", local.status());
  // Local files need no server, as grpcurl's describe with -proto needs none.
  if (*local != nullptr) {
    const auto& pool = (*local)->pool();
    if (args.symbol.empty()) {
      return Print(connection, DescribeServices(pool, (*local)->ServiceNames(), nullptr));
    }
    return Print(connection,
                 DescribeSymbol(pool, args.symbol, nullptr,
                                absl::StrCat(" in ", (*local)->source(), " or its imports")));
  }
  // --timeout bounds the whole command, the wait for the connection too.
  const auto start = std::chrono::steady_clock::now();
  auto channel = Dial(connection);
  if (!channel.ok()) return Fail(connection.addr, channel.status());
  ReflectionDatabase db(*channel, TimeAfterDial(connection, start), connection.wait_for_ready,
                        connection.reflect_metadata, connection.addr);
  google::protobuf::DescriptorPool pool(&db, db.build_errors());
  if (args.symbol.empty()) {
    auto services = db.ListServices();
    if (!services.ok()) return Print(connection, services.status());
    std::sort(services->begin(), services->end());
    return Print(connection, DescribeServices(pool, *services, &db.last_error()));
  }
  auto text = DescribeSymbol(pool, args.symbol, &db.last_error());
  // A service the server lists but does not describe (gRPC's own health
  // service), or a method of one, is not unknown: say so, as `call` does.
  // The service by protobuf's leading dot too, which names the same.
  if (absl::IsNotFound(text.status())) {
    std::vector<std::string> services = {std::string(absl::StripPrefix(args.symbol, "."))};
    if (absl::StatusOr<MethodName> method = SplitMethodName(args.symbol); method.ok()) {
      services.push_back(method->service);
    }
    text = ExplainUndescribed(db, pool, services, text.status(), "");
  }
  return Print(connection, text);
}

}  // namespace handoff::cli
