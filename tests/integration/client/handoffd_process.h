// A real handoffd for client tests: started as a subprocess on loopback
// ports it picks, and returned only once its health check says SERVING.
#ifndef HANDOFF_TESTS_INTEGRATION_CLIENT_HANDOFFD_PROCESS_H_
#define HANDOFF_TESTS_INTEGRATION_CLIENT_HANDOFFD_PROCESS_H_

#include <memory>
#include <string>
#include <vector>

#include <grpcpp/security/credentials.h>

#include "absl/status/statusor.h"
#include "subprocess.h"

namespace handoff::testing {

struct Handoffd {
  std::unique_ptr<Process> process;
  std::string address;  // "127.0.0.1:PORT"
  std::string admin_address;
};

// `extra_flags` are appended to handoffd's command line. The health check
// that waits for SERVING connects with `credentials` (plaintext if null),
// which a handoffd started with TLS flags needs.
absl::StatusOr<Handoffd> StartHandoffd(
    const std::string& path, const std::vector<std::string>& extra_flags = {},
    std::shared_ptr<grpc::ChannelCredentials> credentials = nullptr);

// As StartHandoffd, with gRPC on `address` ("127.0.0.1:PORT"), for a test
// that points a client at the address before the server is there. A port of
// 0 lets handoffd pick; `Handoffd::address` has the one it got.
absl::StatusOr<Handoffd> StartHandoffdAt(
    const std::string& path, const std::string& address,
    const std::vector<std::string>& extra_flags = {},
    std::shared_ptr<grpc::ChannelCredentials> credentials = nullptr);

}  // namespace handoff::testing

#endif  // HANDOFF_TESTS_INTEGRATION_CLIENT_HANDOFFD_PROCESS_H_
