// Copyright 2026 The handoff Authors.

#include "server/unix_socket.h"

#include <sys/un.h>

#include <asio.hpp>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace handoff {

absl::Status CheckUnixSocketUnserved(absl::string_view address) {
  absl::string_view path = address;
  if (!absl::ConsumePrefix(&path, "unix:")) return absl::OkStatus();
  // gRPC's URI form, "unix:///run/x.sock", has an empty authority.
  if (absl::StartsWith(path, "///")) path.remove_prefix(2);
  // A path too long for a socket address: gRPC refuses it by itself.
  if (path.empty() || path.size() >= sizeof(sockaddr_un{}.sun_path)) {
    return absl::OkStatus();
  }
  asio::io_context io;
  asio::local::stream_protocol::socket probe(io);
  asio::error_code ec;
  probe.open(asio::local::stream_protocol(), ec);
  if (ec) return absl::OkStatus();  // cannot tell; gRPC's own bind decides
  // Non-blocking: a server whose backlog is full (EAGAIN) is one that
  // serves, and must not hold up the start.
  probe.non_blocking(true, ec);
  probe.connect(asio::local::stream_protocol::endpoint(std::string(path)), ec);
  if (ec && ec != asio::error::would_block && ec != asio::error::try_again) {
    // Nothing there (ENOENT), or a socket file nobody listens on
    // (ECONNREFUSED): gRPC may have it.
    return absl::OkStatus();
  }
  return absl::UnavailableError(absl::StrCat(
      "cannot listen on '", address,
      "': a server already answers on that socket (gRPC would replace its "
      "file and leave that server unreachable)"));
}

}  // namespace handoff
