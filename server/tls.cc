// Copyright 2026 The handoff Authors.

#include "server/tls.h"

#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/pem_file.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/server.h"
#include "grpcpp/server_builder.h"

namespace handoff {

bool TlsEnabled(const ServerConfig& config) {
  return !config.tls_cert_file.empty();
}

absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> ServerCredentialsFor(
    const ServerConfig& config) {
  if (!TlsEnabled(config)) return grpc::InsecureServerCredentials();
  absl::StatusOr<std::string> cert =
      ReadPemFile("tls_cert_file", config.tls_cert_file, "CERTIFICATE");
  if (!cert.ok()) return cert.status();
  absl::StatusOr<std::string> key =
      ReadPemFile("tls_key_file", config.tls_key_file, "PRIVATE KEY");
  if (!key.ok()) return key.status();
  grpc::SslServerCredentialsOptions options;
  options.pem_key_cert_pairs.push_back({*key, *cert});
  if (!config.tls_client_ca_file.empty()) {
    absl::StatusOr<std::string> ca =
        ReadPemFile("tls_client_ca_file", config.tls_client_ca_file, "CERTIFICATE");
    if (!ca.ok()) return ca.status();
    options.pem_root_certs = *ca;
    options.client_certificate_request =
        GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY;
  }
  return grpc::SslServerCredentials(options);
}

bool CredentialsCanListen(std::shared_ptr<grpc::ServerCredentials> credentials) {
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort("127.0.0.1:0", std::move(credentials), &port);
  std::unique_ptr<grpc::Server> probe = builder.BuildAndStart();
  if (probe == nullptr) return false;
  probe->Shutdown();
  return port != 0;
}

absl::Status CheckTlsFilesListen(const ServerConfig& config) {
  if (!TlsEnabled(config)) return absl::OkStatus();
  absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> credentials =
      ServerCredentialsFor(config);
  if (!credentials.ok()) return credentials.status();
  if (CredentialsCanListen(*credentials)) return absl::OkStatus();
  if (!config.tls_client_ca_file.empty()) {
    ServerConfig without_ca = config;
    without_ca.tls_client_ca_file.clear();
    absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> rest =
        ServerCredentialsFor(without_ca);
    if (rest.ok() && CredentialsCanListen(*rest)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--tls_client_ca_file: gRPC refused '", config.tls_client_ca_file,
          "' as the CA certificates clients' certificates must be signed by (a PEM "
          "block that is not a certificate it can read; its own error is logged above)"));
    }
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "--tls_key_file: gRPC refused '", config.tls_key_file,
      "' as the private key of --tls_cert_file '", config.tls_cert_file,
      "' (not its key, or not a certificate and key it can use; its own error is "
      "logged above)"));
}

}  // namespace handoff
