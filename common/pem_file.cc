#include "common/pem_file.h"

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/read_file.h"

namespace handoff {

absl::Status CheckPemHolds(absl::string_view flag, absl::string_view source,
                           absl::string_view text, absl::string_view label) {
  if (absl::StrContains(text, absl::StrCat(label, "-----"))) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat("--", flag, ": '", source, "' holds no PEM ",
                                                 absl::AsciiStrToLower(label), " (no \"", label,
                                                 "-----\" header)"));
}

absl::StatusOr<std::string> ReadPemFile(absl::string_view flag, const std::string& path,
                                        absl::string_view label) {
  absl::StatusOr<std::string> text = ReadFile(path);
  if (!text.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("--", flag, ": ", text.status().message()));
  }
  if (absl::Status s = CheckPemHolds(flag, path, *text, label); !s.ok()) return s;
  return text;
}

}  // namespace handoff
