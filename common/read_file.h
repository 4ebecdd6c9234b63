// ReadFile: the whole of a file the user named on the command line (a
// request, a certificate, a config), or a status that names the path and
// the reason, in one line.
//
// Why not std::ifstream: it opens a directory without complaint, and the
// read that follows throws std::ios_base::failure out of the stream buffer,
// past any check of the stream's state; a user's `-d @/tmp` aborted the
// CLI instead of being told what was wrong.
//
// What a path can name besides a file is bounded too: a FIFO nobody writes
// to is an error at once (a plain open() would wait for a writer, and
// handoffd would hang before it listened), and a device that never ends
// (`/dev/zero`) is cut off at kMaxFileBytes instead of filling memory.
#ifndef HANDOFF_COMMON_READ_FILE_H_
#define HANDOFF_COMMON_READ_FILE_H_

#include <cstddef>
#include <string>

#include "absl/status/statusor.h"

namespace handoff {

// Far above any certificate, config or request a user names, far below
// what would hurt a process to hold.
inline constexpr size_t kMaxFileBytes = size_t{64} << 20;

// The bytes of the file at `path`. On failure, the status of the errno
// (absl::ErrnoToStatus: NotFound for a missing file, ...) with the message
// "cannot read PATH: REASON", e.g. "cannot read /tmp: Is a directory";
// InvalidArgument "cannot read PATH: a FIFO nothing was written to" for a
// FIFO without a writer, and "cannot read PATH: longer than 64 MiB".
absl::StatusOr<std::string> ReadFile(const std::string& path);

// The bytes of standard input up to its end, with ReadFile's bound and
// messages ("cannot read standard input: ...").
absl::StatusOr<std::string> ReadStandardInput();

}  // namespace handoff

#endif  // HANDOFF_COMMON_READ_FILE_H_
