// Copyright 2026 The handoff Authors.

#include "server/unix_socket.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace handoff {

absl::Status CheckUnixSocketUnserved(absl::string_view address) {
  absl::string_view path = address;
  if (!absl::ConsumePrefix(&path, "unix:")) return absl::OkStatus();
  // gRPC's URI form, "unix:///run/x.sock", has an empty authority.
  if (absl::StartsWith(path, "///")) path.remove_prefix(2);
  sockaddr_un endpoint{};
  endpoint.sun_family = AF_UNIX;
  // A path too long for a socket address: gRPC refuses it by itself.
  if (path.empty() || path.size() >= sizeof endpoint.sun_path) return absl::OkStatus();
  path.copy(endpoint.sun_path, path.size());
  // Non-blocking, so that a server whose backlog is full answers EAGAIN at
  // once instead of holding up the start; it serves all the same.
  const int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (probe < 0) return absl::OkStatus();  // cannot tell; gRPC's own bind decides
  const int connected =
      connect(probe, reinterpret_cast<const sockaddr*>(&endpoint), sizeof endpoint);
  const int error = errno;
  close(probe);
  if (connected != 0 && error != EAGAIN) {
    // Nothing there (ENOENT), or a socket file nobody listens on
    // (ECONNREFUSED), or nothing we can reach: gRPC may have it.
    return absl::OkStatus();
  }
  return absl::UnavailableError(absl::StrCat(
      "cannot listen on '", address,
      "': a server already answers on that socket (gRPC would replace its "
      "file and leave that server unreachable)"));
}

}  // namespace handoff
