// Copyright 2026 The handoff Authors.

#include "client/cli/tls_hint.h"

#include "absl/strings/match.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "client/status.h"

namespace handoff::cli {

absl::Status WithTlsHint(bool tls, const absl::Status& status, absl::string_view try_tls,
                         absl::string_view try_plaintext) {
  if (status.code() != absl::StatusCode::kUnavailable) return status;
  const absl::string_view message = status.message();
  if (!absl::StrContains(message, "failed to connect to all addresses")) return status;
  if (!tls && absl::EndsWith(message, ": Socket closed")) {
    return WithMessageContinued(status,
                                absl::StrCat("; the server may expect TLS: try ", try_tls));
  }
  if (tls && absl::StrContains(message, "Ssl handshake failed") &&
      absl::StrContains(absl::AsciiStrToLower(message), "wrong version number")) {
    return WithMessageContinued(
        status, absl::StrCat("; the server may not speak TLS: try ", try_plaintext));
  }
  return status;
}

}  // namespace handoff::cli
