#include <iostream>
#include <iterator>
#include <utility>

#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/security/tls_certificate_provider.h>
#include <grpcpp/security/tls_certificate_verifier.h>
#include <grpcpp/security/tls_credentials_options.h>
#include <grpcpp/support/channel_arguments.h>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "client/cli/commands.h"
#include "client/cli/tls_hint.h"
#include "client/status.h"
#include "common/key_pair.h"
#include "common/pem_file.h"
#include "common/read_file.h"

namespace handoff::cli {

absl::StatusOr<std::string> ReadInput(const std::string& path) {
  if (path == "-") return ReadStandardInput();
  return ReadFile(path);
}

namespace {

// Reads the PEM file named by --`flag` ("-": stdin, as for -d @-) into
// *out; an empty path leaves it.
absl::Status ReadPem(absl::string_view flag, const std::string& path, absl::string_view label,
                     std::string* out) {
  if (path.empty()) return absl::OkStatus();
  absl::StatusOr<std::string> pem;
  if (path == "-") {
    pem = ReadInput(path);
    if (pem.ok()) {
      if (absl::Status s = CheckPemHolds(flag, "stdin", *pem, label); !s.ok()) pem = s;
    }
  } else {
    pem = ReadPemFile(flag, path, label);
  }
  if (!pem.ok()) return pem.status();
  *out = *std::move(pem);
  return absl::OkStatus();
}

// A file as a message names it: "-" is stdin.
std::string Source(const std::string& path) { return path == "-" ? "stdin" : path; }

// gRPC, given a certificate and a key that are not a pair, fails every
// connection as "empty address list".
absl::Status CheckCertAndKeyBelong(const TlsFiles& files, absl::string_view cert_pem,
                                   absl::string_view key_pem) {
  if (cert_pem.empty() || key_pem.empty()) return absl::OkStatus();
  switch (CheckKeyPair(cert_pem, key_pem)) {
    case KeyPair::kPair:
      return absl::OkStatus();
    case KeyPair::kNotAPair:
      return absl::InvalidArgumentError(absl::StrCat("--key: '", Source(files.key),
                                                     "' is not the private key of --cert '",
                                                     Source(files.cert), "'"));
    case KeyPair::kNoCertificate:
      return absl::InvalidArgumentError(absl::StrCat(
          "--cert: '", Source(files.cert), "' holds no certificate OpenSSL can read"));
    case KeyPair::kNoKey:
      break;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("--key: '", Source(files.key),
                   "' holds no private key OpenSSL can read (one with a passphrase "
                   "cannot be used)"));
}

}  // namespace

absl::Status CheckTlsFiles(const TlsFiles& files) {
  if (files.cert.empty() == files.key.empty()) return absl::OkStatus();
  return absl::InvalidArgumentError(
      files.cert.empty() ? "--key needs --cert (mutual TLS takes both)"
                         : "--cert needs --key (mutual TLS takes both)");
}

bool UsesTls(bool tls, const TlsFiles& files) {
  return tls || !files.cacert.empty() || !files.cert.empty() || files.skip_verify;
}

bool UsesTls(const Connection& connection) {
  return UsesTls(connection.tls, connection.tls_files);
}

absl::Status WithTlsHint(const Connection& connection, const absl::Status& status) {
  return WithTlsHint(UsesTls(connection), !connection.tls_files.cert.empty(), status,
                     {.try_tls = "--tls (or --cacert with its CA)",
                      .try_plaintext = "plaintext (no --tls, --cacert, --cert or --key)",
                      .try_client_cert = "--cert and --key"});
}

absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> Credentials(
    bool tls, const TlsFiles& files) {
  if (absl::Status s = CheckTlsFiles(files); !s.ok()) return s;
  if (!UsesTls(tls, files)) return grpc::InsecureChannelCredentials();
  grpc::SslCredentialsOptions options;
  if (absl::Status s = ReadPem("cacert", files.cacert, "CERTIFICATE", &options.pem_root_certs);
      !s.ok()) {
    return s;
  }
  if (absl::Status s = ReadPem("cert", files.cert, "CERTIFICATE", &options.pem_cert_chain);
      !s.ok()) {
    return s;
  }
  if (absl::Status s = ReadPem("key", files.key, "PRIVATE KEY", &options.pem_private_key);
      !s.ok()) {
    return s;
  }
  if (absl::Status s =
          CheckCertAndKeyBelong(files, options.pem_cert_chain, options.pem_private_key);
      !s.ok()) {
    return s;
  }
  if (!files.skip_verify) return grpc::SslCredentials(options);
  // Only gRPC's TLS credentials can leave the server's certificate and
  // name unchecked; they take the same roots and identity.
  grpc::experimental::TlsChannelCredentialsOptions tls_options;
  std::vector<grpc::experimental::IdentityKeyCertPair> identity;
  if (!options.pem_cert_chain.empty()) {
    identity.push_back({options.pem_private_key, options.pem_cert_chain});
    tls_options.watch_identity_key_cert_pairs();
  }
  if (!options.pem_root_certs.empty()) tls_options.watch_root_certs();
  if (!identity.empty() || !options.pem_root_certs.empty()) {
    tls_options.set_certificate_provider(
        std::make_shared<grpc::experimental::StaticDataCertificateProvider>(
            options.pem_root_certs, identity));
  }
  tls_options.set_verify_server_certs(false);
  tls_options.set_check_call_host(false);
  tls_options.set_certificate_verifier(
      std::make_shared<grpc::experimental::NoOpCertificateVerifier>());
  return grpc::experimental::TlsCredentials(tls_options);
}

absl::StatusOr<std::shared_ptr<grpc::Channel>> Dial(const Connection& connection) {
  if (connection.addr.empty()) {
    return absl::InvalidArgumentError("--addr is empty; want host:port");
  }
  auto credentials = Credentials(connection.tls, connection.tls_files);
  if (!credentials.ok()) return credentials.status();
  grpc::ChannelArguments args;
  // A command makes each call once: no retry policy can come in from the
  // resolver. gRPC's transparent retry of a call that never reached the
  // server (it crossed a GOAWAY) stays, which needs retries enabled.
  args.SetInt(GRPC_ARG_SERVICE_CONFIG_DISABLE_RESOLUTION, 1);
  if (!connection.authority.empty()) {
    args.SetString(GRPC_ARG_DEFAULT_AUTHORITY, connection.authority);
  }
  if (!connection.user_agent.empty()) args.SetUserAgentPrefix(connection.user_agent);
  if (!connection.cname.empty()) args.SetSslTargetNameOverride(connection.cname);
  if (connection.max_recv_message_size > 0) {
    args.SetMaxReceiveMessageSize(connection.max_recv_message_size);
  }
  std::shared_ptr<grpc::Channel> channel =
      grpc::CreateCustomChannel(connection.addr, *credentials, args);
  if (absl::Status s = AwaitConnection(*channel, connection); !s.ok()) return s;
  return channel;
}

std::string OneLine(absl::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte == 0x7f) {
      out += absl::CHexEscape(absl::string_view(&c, 1));
    } else {
      out += c;
    }
  }
  return out;
}

int Fail(absl::string_view context, const absl::Status& status) {
  std::cerr << "handoff: " << context << ": "
            << CanonicalCodeName(static_cast<grpc::StatusCode>(status.code()))
            << ": " << OneLine(status.message()) << "\n";
  return 1;
}

int Usage(absl::string_view message) {
  std::cerr << "handoff: " << message << "\n";
  return 2;
}

}  // namespace handoff::cli
