// Copyright 2026 The handoff Authors.

#include "client/metadata.h"

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace handoff {
namespace {

bool IsKeyChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
         c == '.';
}

}  // namespace

absl::Status ValidateMetadata(absl::string_view key, absl::string_view value) {
  if (key.empty()) return absl::InvalidArgumentError("metadata key is empty");
  for (char c : key) {
    if (!IsKeyChar(c)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "metadata key \"", absl::CHexEscape(key), "\": '",
          absl::CHexEscape(absl::string_view(&c, 1)),
          "' is not allowed in a key (only 0-9, a-z, '-', '_' and '.')"));
    }
  }
  if (absl::EndsWith(key, "-bin")) return absl::OkStatus();
  for (char c : value) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u > 0x7e) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "metadata \"%s\": its value holds byte 0x%02x; a value is printable "
          "ASCII, unless its key ends in -bin",
          key, u));
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateMetadata(
    const std::vector<std::pair<std::string, std::string>>& metadata) {
  for (const auto& [key, value] : metadata) {
    if (absl::Status s = ValidateMetadata(key, value); !s.ok()) return s;
  }
  return absl::OkStatus();
}

}  // namespace handoff
