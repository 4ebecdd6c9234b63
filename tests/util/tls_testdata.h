// Copyright 2026 The handoff Authors.
//
// The TLS test certificates (tests/integration/server/testdata/tls, made by
// make_certs.sh there): a CA; a server certificate for localhost and
// 127.0.0.1, a second one for the same names (server_rotated, which a test
// rotates the first to), and a client certificate, all signed by it; a
// second CA that signed none of them; and a self-signed server certificate
// for handoff.test alone (named), its own root. A test target that includes this defines
// HANDOFF_TLS_TESTDATA as that directory.

#ifndef HANDOFF_TESTS_UTIL_TLS_TESTDATA_H_
#define HANDOFF_TESTS_UTIL_TLS_TESTDATA_H_

#include <fstream>
#include <memory>
#include <sstream>
#include <string>

#include "grpcpp/security/credentials.h"

namespace handoff::testutil {

// The path of a test file: "ca.pem", "other_ca.pem", "server.pem",
// "server.key", "server_rotated.pem", "server_rotated.key", "client.pem",
// "client.key", "named.pem", "named.key".
inline std::string TlsTestFile(const std::string& name) {
  return std::string(HANDOFF_TLS_TESTDATA) + "/" + name;
}

// Its contents; empty if it cannot be read (the caller's TLS then fails).
inline std::string TlsTestPem(const std::string& name) {
  std::ifstream in(TlsTestFile(name));
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// Client credentials that trust the CA in `ca_file` and, if
// `with_client_cert`, present client.pem (for mutual TLS).
inline std::shared_ptr<grpc::ChannelCredentials> TlsTestClientCredentials(
    const std::string& ca_file, bool with_client_cert = false) {
  grpc::SslCredentialsOptions options;
  options.pem_root_certs = TlsTestPem(ca_file);
  if (with_client_cert) {
    options.pem_cert_chain = TlsTestPem("client.pem");
    options.pem_private_key = TlsTestPem("client.key");
  }
  return grpc::SslCredentials(options);
}

}  // namespace handoff::testutil

#endif  // HANDOFF_TESTS_UTIL_TLS_TESTDATA_H_
