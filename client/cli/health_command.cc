// `handoff health [SERVICE]`: grpc.health.v1.Health/Check; exit 0 iff SERVING.
#include <chrono>

#include <grpcpp/client_context.h>

#include "absl/strings/str_cat.h"

#include "client/call_error.h"
#include "client/cli/commands.h"
#include "client/deadline.h"
#include "grpc/health/v1/health.grpc.pb.h"

namespace handoff::cli {

int Health(const Connection& connection, const std::string& service) {
  // --timeout bounds the whole command, the wait for the connection too.
  const auto start = std::chrono::steady_clock::now();
  auto channel = Dial(connection);
  if (!channel.ok()) return Fail(connection.addr, channel.status());
  auto stub = grpc::health::v1::Health::NewStub(*channel);
  grpc::ClientContext context;
  context.set_deadline(DeadlineIn(TimeAfterDial(connection, start)));
  context.set_wait_for_ready(connection.wait_for_ready);
  for (const auto& [key, value] : connection.metadata) context.AddMetadata(key, value);
  grpc::health::v1::HealthCheckRequest request;
  request.set_service(service);
  grpc::health::v1::HealthCheckResponse response;
  grpc::Status status = stub->Check(&context, request, &response);
  if (!status.ok()) {
    return Fail(absl::StrCat("health check of ", connection.addr),
                WithTlsHint(connection, CallError(status, context, **channel, connection.addr)));
  }
  if (absl::Status s = WriteStdout(
          absl::StrCat(grpc::health::v1::HealthCheckResponse::ServingStatus_Name(
                           response.status()),
                       "\n"),
          "the status");
      !s.ok()) {
    return Fail("health", s);
  }
  return response.status() == grpc::health::v1::HealthCheckResponse::SERVING ? 0 : 1;
}

}  // namespace handoff::cli
