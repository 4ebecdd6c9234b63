// Copyright 2026 The handoff Authors.
//
// TLS for handoffd's gRPC port, from PEM files named in its config.
//
//   --tls_cert_file, --tls_key_file   the server's certificate chain and its
//                                     private key: both turn TLS on, and
//                                     the port then speaks nothing else
//   --tls_client_ca_file              also require every client to present
//                                     a certificate signed by this CA
//                                     (mutual TLS)
//
// The admin HTTP port stays plain HTTP: kubelet probes and Prometheus reach
// it inside the pod's network, and it serves no calls.
//
// The files are checked when the server starts: one that cannot be read,
// holds the wrong kind of PEM block, or a key that is not the certificate's,
// stops it. Then, with --tls_reload_interval (60s by default), gRPC's
// FileWatcherCertificateProvider reads them again at that interval, so that
// files replaced on disk (cert-manager, certbot) reach the connections
// accepted after; open connections keep the certificate they handshook
// with. gRPC 1.51 logs what goes wrong and, for a file it cannot stat or
// read (missing, say), keeps the last pair; but files it reads whose
// contents do not load (a key that is not the certificate's, a cut-off or
// empty PEM) replace that pair, and every new handshake fails until a good
// pair is read at a later interval: replace the files atomically (see
// README, TLS). With an interval of 0 the files are read once, at start.

#ifndef HANDOFF_SERVER_TLS_H_
#define HANDOFF_SERVER_TLS_H_

#include <memory>

#include "absl/status/statusor.h"
#include "grpcpp/security/server_credentials.h"
#include "server/config.h"

namespace handoff {

// Whether `config` asks for TLS (Validate() has checked that the files come
// as a pair).
bool TlsEnabled(const ServerConfig& config);

// The credentials the gRPC port listens with: TLS from the configured files,
// or plaintext when none is set. An error names the flag whose file cannot
// be read or holds no PEM block of the kind it needs. That catches a missing
// file and two files swapped. With a reload interval, the files are also
// checked as CheckTlsFilesListen does (gRPC would otherwise accept a key
// that is not the certificate's and fail every handshake), and the
// credentials watch them; without one, they hold the files' contents as
// read now, and a certificate and a key that do not belong together are
// refused by gRPC when the port opens.
absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> ServerCredentialsFor(
    const ServerConfig& config);

// Whether gRPC accepts `credentials` for a listening port, judged by opening
// one on 127.0.0.1:0, which no other process can hold. For the error path
// only: gRPC reports a port it could not open with the same silence whether
// the address was taken or the TLS files were refused (a key that is not the
// certificate's, say), and the two need different fixes.
bool CredentialsCanListen(std::shared_ptr<grpc::ServerCredentials> credentials);

// Whether gRPC accepts the TLS files of `config`, as read now, for a
// listening port; an error from reading them is ServerCredentialsFor's; if not, InvalidArgument
// naming the file to fix: the client CA file, if gRPC accepts the rest
// without it (a PEM block that is no certificate gRPC can read), else the
// key, as not the certificate's. OK without TLS.
absl::Status CheckTlsFilesListen(const ServerConfig& config);

}  // namespace handoff

#endif  // HANDOFF_SERVER_TLS_H_
