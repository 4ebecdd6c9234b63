// ReadFile: the whole of a file the user named on the command line (a
// request, a certificate, a config), or a status that names the path and
// the reason, in one line.
//
// Why not std::ifstream: it opens a directory without complaint, and the
// read that follows throws std::ios_base::failure out of the stream buffer,
// past any check of the stream's state; a user's `-d @/tmp` aborted the
// CLI instead of being told what was wrong.
#ifndef HANDOFF_COMMON_READ_FILE_H_
#define HANDOFF_COMMON_READ_FILE_H_

#include <string>

#include "absl/status/statusor.h"

namespace handoff {

// The bytes of the file at `path`. On failure, the status of the errno
// (absl::ErrnoToStatus: NotFound for a missing file, ...) with the message
// "cannot read PATH: REASON", e.g. "cannot read /tmp: Is a directory".
absl::StatusOr<std::string> ReadFile(const std::string& path);

}  // namespace handoff

#endif  // HANDOFF_COMMON_READ_FILE_H_
