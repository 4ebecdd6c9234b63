// ReadPemFile: a PEM file that a command-line flag names (a certificate, a
// key, a CA bundle), read and checked for a block of the kind the flag
// needs, so that a wrong file is named by its flag. gRPC, given the same
// file, fails later and says only that it could not connect or listen.
#ifndef HANDOFF_COMMON_PEM_FILE_H_
#define HANDOFF_COMMON_PEM_FILE_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace handoff {

// The text of the file at `path` if it holds a PEM block whose header ends
// in `label` ("CERTIFICATE"; "PRIVATE KEY" also matches "EC PRIVATE KEY"
// and "RSA PRIVATE KEY"). Else InvalidArgument naming --`flag`:
//   --FLAG: cannot read PATH: REASON               (ReadFile's words)
//   --FLAG: 'PATH' holds no PEM private key (no "PRIVATE KEY-----" header)
// That catches a missing file, a file that is no PEM, and two files
// swapped; a key that is not the certificate's is TLS's to find.
absl::StatusOr<std::string> ReadPemFile(absl::string_view flag, const std::string& path,
                                        absl::string_view label);

// The check alone, for PEM text read from elsewhere (stdin, say), named
// `source` in the message.
absl::Status CheckPemHolds(absl::string_view flag, absl::string_view source,
                           absl::string_view text, absl::string_view label);

}  // namespace handoff

#endif  // HANDOFF_COMMON_PEM_FILE_H_
