// Copyright 2026 The handoff Authors.

#include "client/cli/tls_hint.h"

#include "absl/strings/match.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "client/status.h"

namespace handoff::cli {

absl::Status WithTlsHint(bool tls, bool client_cert, const absl::Status& status,
                         const TlsHintFlags& flags) {
  if (status.code() != absl::StatusCode::kUnavailable) return status;
  const absl::string_view message = status.message();
  if (!absl::StrContains(message, "failed to connect to all addresses")) return status;
  if (absl::EndsWith(message, ": Socket closed")) {
    if (!tls) {
      return WithMessageContinued(
          status, absl::StrCat("; the server may expect TLS: try ", flags.try_tls));
    }
    // A TLS server that requires a client certificate closes the
    // connection of a client that showed none, which gRPC reports alike.
    if (!client_cert) {
      return WithMessageContinued(
          status, absl::StrCat("; the server may require a client certificate: try ",
                               flags.try_client_cert));
    }
    return status;
  }
  if (tls && absl::StrContains(message, "Ssl handshake failed") &&
      absl::StrContains(absl::AsciiStrToLower(message), "wrong version number")) {
    return WithMessageContinued(
        status, absl::StrCat("; the server may not speak TLS: try ", flags.try_plaintext));
  }
  return status;
}

}  // namespace handoff::cli
