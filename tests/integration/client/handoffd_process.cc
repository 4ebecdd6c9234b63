#include "handoffd_process.h"

#include <utility>

#include <grpcpp/client_context.h>
#include <grpcpp/create_channel.h>

#include "absl/strings/str_cat.h"
#include "client/status.h"
#include "grpc/health/v1/health.grpc.pb.h"

namespace handoff::testing {

absl::StatusOr<Handoffd> StartHandoffd(
    const std::string& path, const std::vector<std::string>& extra_flags,
    std::shared_ptr<grpc::ChannelCredentials> credentials) {
  return StartHandoffdAt(path, absl::StrCat("127.0.0.1:", FreePort()),
                         extra_flags, std::move(credentials));
}

absl::StatusOr<Handoffd> StartHandoffdAt(
    const std::string& path, const std::string& address,
    const std::vector<std::string>& extra_flags,
    std::shared_ptr<grpc::ChannelCredentials> credentials) {
  Handoffd h;
  h.address = address;
  h.admin_address = absl::StrCat("127.0.0.1:", FreePort());
  std::vector<std::string> argv = {path, "--listen=" + h.address,
                                   "--admin_listen=" + h.admin_address};
  argv.insert(argv.end(), extra_flags.begin(), extra_flags.end());
  auto process = Process::Start(argv);
  if (!process.ok()) return process.status();
  h.process = std::make_unique<Process>(*std::move(process));

  // wait_for_ready holds the check until handoffd accepts connections;
  // SERVING is its own readiness signal. The deadline bounds the wait.
  if (credentials == nullptr) credentials = grpc::InsecureChannelCredentials();
  auto channel = grpc::CreateChannel(h.address, credentials);
  auto stub = grpc::health::v1::Health::NewStub(channel);
  grpc::ClientContext context;
  context.set_wait_for_ready(true);
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(30)));
  grpc::health::v1::HealthCheckResponse response;
  grpc::Status status = stub->Check(&context, {}, &response);
  if (!status.ok()) return FromGrpcStatus(status);
  if (response.status() != grpc::health::v1::HealthCheckResponse::SERVING) {
    return absl::UnavailableError("handoffd is up but not SERVING");
  }
  return h;
}

}  // namespace handoff::testing
