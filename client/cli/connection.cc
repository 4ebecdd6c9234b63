#include <fstream>
#include <iostream>
#include <sstream>

#include <grpcpp/create_channel.h>
#include <grpcpp/support/channel_arguments.h>

#include "absl/strings/str_cat.h"
#include "client/cli/commands.h"
#include "client/status.h"

namespace handoff::cli {

absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> Credentials(
    bool tls, const std::string& cacert) {
  if (!tls && cacert.empty()) return grpc::InsecureChannelCredentials();
  grpc::SslCredentialsOptions options;
  if (!cacert.empty()) {
    std::ifstream in(cacert);
    if (!in) return absl::NotFoundError(absl::StrCat("cannot read ", cacert));
    std::stringstream pem;
    pem << in.rdbuf();
    options.pem_root_certs = pem.str();
  }
  return grpc::SslCredentials(options);
}

absl::StatusOr<std::shared_ptr<grpc::Channel>> Dial(const Connection& connection) {
  if (connection.addr.empty()) {
    return absl::InvalidArgumentError("--addr is empty; want host:port");
  }
  auto credentials = Credentials(connection.tls, connection.cacert);
  if (!credentials.ok()) return credentials.status();
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_ENABLE_RETRIES, 0);
  return grpc::CreateCustomChannel(connection.addr, *credentials, args);
}

int Fail(absl::string_view context, const absl::Status& status) {
  std::cerr << "handoff: " << context << ": "
            << CanonicalCodeName(static_cast<grpc::StatusCode>(status.code()))
            << ": " << status.message() << "\n";
  return 1;
}

int Usage(absl::string_view message) {
  std::cerr << "handoff: " << message << "\n";
  return 2;
}

}  // namespace handoff::cli
