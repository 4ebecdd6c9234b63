#include "handoffd_process.h"

#include <utility>

#include <grpcpp/client_context.h>
#include <grpcpp/create_channel.h>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "client/status.h"
#include "grpc/health/v1/health.grpc.pb.h"

namespace handoff::testing {
namespace {

// The number after `label` in handoffd's start-up line, or 0.
int PortAfter(absl::string_view line, absl::string_view label) {
  const size_t at = line.find(label);
  if (at == absl::string_view::npos) return 0;
  line.remove_prefix(at + label.size());
  int port = 0;
  return absl::SimpleAtoi(line.substr(0, line.find_first_not_of("0123456789")),
                          &port)
             ? port
             : 0;
}

}  // namespace

absl::StatusOr<Handoffd> StartHandoffd(
    const std::string& path, const std::vector<std::string>& extra_flags,
    std::shared_ptr<grpc::ChannelCredentials> credentials) {
  return StartHandoffdAt(path, "127.0.0.1:0", extra_flags,
                         std::move(credentials));
}

absl::StatusOr<Handoffd> StartHandoffdAt(
    const std::string& path, const std::string& address,
    const std::vector<std::string>& extra_flags,
    std::shared_ptr<grpc::ChannelCredentials> credentials) {
  Handoffd h;
  std::vector<std::string> argv = {path, "--listen=" + address,
                                   "--admin_listen=127.0.0.1:0"};
  argv.insert(argv.end(), extra_flags.begin(), extra_flags.end());
  auto process = Process::Start(argv);
  if (!process.ok()) return process.status();
  h.process = std::make_unique<Process>(*std::move(process));

  // handoffd names its ports once it has bound them. Port 0 and this line,
  // not a port probed free beforehand: another process could take that one
  // between the probe and handoffd's bind.
  // "serving gRPC on port N (admin HTTP on port M), W workers, queue ..."
  // ("1 worker, queue" for one)
  absl::StatusOr<std::string> started =
      h.process->WaitForStderr(", queue ", absl::Seconds(30));
  if (!started.ok()) return started.status();
  const int port = PortAfter(*started, "serving gRPC on port ");
  const int admin = PortAfter(*started, "admin HTTP on port ");
  if (port == 0 || admin == 0) {
    return absl::InternalError(
        absl::StrCat("no ports in handoffd's start-up line: ", *started));
  }
  h.address = absl::StrCat("127.0.0.1:", port);
  h.admin_address = absl::StrCat("127.0.0.1:", admin);

  // SERVING is handoffd's own readiness signal; the deadline bounds the wait.
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
