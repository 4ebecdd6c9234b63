#include "common/read_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "absl/cleanup/cleanup.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace handoff {
namespace {

// Reads `fd` to its end; `name` is what messages call it.
absl::StatusOr<std::string> ReadAll(int fd, absl::string_view name) {
  std::string out;
  char buffer[64 * 1024];
  for (;;) {
    const ssize_t n = read(fd, buffer, sizeof buffer);
    if (n > 0) {
      if (out.size() + static_cast<size_t>(n) > kMaxFileBytes) {
        return absl::InvalidArgumentError(absl::StrCat(
            "cannot read ", name, ": longer than ", kMaxFileBytes >> 20, " MiB"));
      }
      out.append(buffer, static_cast<size_t>(n));
    } else if (n == 0) {
      return out;
    } else if (errno != EINTR) {  // a directory: EISDIR
      return absl::ErrnoToStatus(errno, absl::StrCat("cannot read ", name));
    }
  }
}

}  // namespace

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  // O_NONBLOCK only for the open: a FIFO's open would otherwise wait for a
  // writer. Reads block again, so a FIFO whose writer is there is read to
  // its end; one without a writer reads as empty at once.
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) return absl::ErrnoToStatus(errno, absl::StrCat("cannot read ", path));
  const absl::Cleanup closer = [fd] { close(fd); };
  struct stat st;
  if (fstat(fd, &st) != 0 || fcntl(fd, F_SETFL, 0) != 0) {
    return absl::ErrnoToStatus(errno, absl::StrCat("cannot read ", path));
  }
  absl::StatusOr<std::string> text = ReadAll(fd, path);
  if (text.ok() && text->empty() && S_ISFIFO(st.st_mode)) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot read ", path, ": a FIFO nothing was written to"));
  }
  return text;
}

absl::StatusOr<std::string> ReadStandardInput() { return ReadAll(STDIN_FILENO, "standard input"); }

}  // namespace handoff
