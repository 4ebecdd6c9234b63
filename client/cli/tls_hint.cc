// Copyright 2026 The handoff Authors.

#include "client/cli/tls_hint.h"

#include <string>

#include "absl/strings/match.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace handoff::cli {

absl::Status WithTlsHint(bool tls, const absl::Status& status, absl::string_view try_tls,
                         absl::string_view try_plaintext) {
  if (status.code() != absl::StatusCode::kUnavailable) return status;
  const absl::string_view message = status.message();
  if (!absl::StrContains(message, "failed to connect to all addresses")) return status;
  std::string hint;
  if (!tls && absl::EndsWith(message, ": Socket closed")) {
    hint = absl::StrCat("; the server may expect TLS: try ", try_tls);
  } else if (tls && absl::StrContains(message, "Ssl handshake failed") &&
             absl::StrContains(absl::AsciiStrToLower(message), "wrong version number")) {
    hint = absl::StrCat("; the server may not speak TLS: try ", try_plaintext);
  } else {
    return status;
  }
  absl::Status hinted(status.code(), absl::StrCat(message, hint));
  status.ForEachPayload([&](absl::string_view url, const absl::Cord& payload) {
    hinted.SetPayload(url, payload);
  });
  return hinted;
}

}  // namespace handoff::cli
