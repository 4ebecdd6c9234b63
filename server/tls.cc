// Copyright 2026 The handoff Authors.

#include "server/tls.h"

#include <algorithm>
#include <climits>
#include <cstdint>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/pem_file.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/security/tls_certificate_provider.h"
#include "grpcpp/security/tls_credentials_options.h"
#include "grpcpp/server.h"
#include "grpcpp/server_builder.h"

namespace handoff {

bool TlsEnabled(const ServerConfig& config) {
  return !config.tls_cert_file.empty();
}

namespace {

// TLS from the files' contents as read now.
absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> CredentialsFromFiles(
    const ServerConfig& config) {
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

// TLS from gRPC's watcher of the files, which reads them now and then every
// `config.tls_reload_interval`.
std::shared_ptr<grpc::ServerCredentials> WatchedCredentials(
    const ServerConfig& config) {
  const int64_t seconds = absl::ToInt64Seconds(config.tls_reload_interval);
  const unsigned int interval =
      static_cast<unsigned int>(std::min<int64_t>(seconds, INT_MAX));
  const bool mutual = !config.tls_client_ca_file.empty();
  auto provider = std::make_shared<grpc::experimental::FileWatcherCertificateProvider>(
      config.tls_key_file, config.tls_cert_file,
      mutual ? config.tls_client_ca_file : std::string(), interval);
  grpc::experimental::TlsServerCredentialsOptions options(provider);
  options.watch_identity_key_cert_pairs();
  if (mutual) {
    options.watch_root_certs();
    options.set_cert_request_type(
        GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
  } else {
    options.set_cert_request_type(GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE);
  }
  return grpc::experimental::TlsServerCredentials(options);
}

}  // namespace

absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> ServerCredentialsFor(
    const ServerConfig& config) {
  if (!TlsEnabled(config)) return grpc::InsecureServerCredentials();
  if (config.tls_reload_interval == absl::ZeroDuration()) {
    return CredentialsFromFiles(config);
  }
  // The watcher takes any files, and a bad pair would fail each handshake
  // rather than the start: today's checks first.
  if (absl::Status s = CheckTlsFilesListen(config); !s.ok()) return s;
  return WatchedCredentials(config);
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
      CredentialsFromFiles(config);
  if (!credentials.ok()) return credentials.status();
  if (CredentialsCanListen(*credentials)) return absl::OkStatus();
  if (!config.tls_client_ca_file.empty()) {
    ServerConfig without_ca = config;
    without_ca.tls_client_ca_file.clear();
    absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> rest =
        CredentialsFromFiles(without_ca);
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
