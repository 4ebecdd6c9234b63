#include "common/read_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace handoff {

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  const auto failed = [&path](int error) {
    return absl::ErrnoToStatus(error, absl::StrCat("cannot read ", path));
  };
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return failed(errno);
  std::string out;
  char buffer[64 * 1024];
  for (;;) {
    const ssize_t n = read(fd, buffer, sizeof buffer);
    if (n > 0) {
      out.append(buffer, static_cast<size_t>(n));
    } else if (n == 0) {
      break;
    } else if (errno != EINTR) {
      const int error = errno;  // a directory: EISDIR
      close(fd);
      return failed(error);
    }
  }
  close(fd);
  return out;
}

}  // namespace handoff
