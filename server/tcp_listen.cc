// Copyright 2026 The handoff Authors.

#include "server/tcp_listen.h"

#include <string>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "server/host_port.h"

namespace handoff {

absl::Status ListenTcp(asio::ip::tcp::acceptor& acceptor, absl::string_view address) {
  absl::StatusOr<std::pair<std::string, int>> hp = SplitHostPort(address);
  if (!hp.ok()) return hp.status();
  asio::error_code ec;
  asio::ip::tcp::resolver resolver(acceptor.get_executor());
  auto results = resolver.resolve(hp->first, std::to_string(hp->second),
                                  asio::ip::tcp::resolver::passive, ec);
  if (ec || results.empty()) {
    // A name that cannot be had is a failure to start, as a port in use
    // is, not a bad value.
    return absl::UnavailableError(absl::StrCat(
        "cannot resolve '", address, "': ", ec ? ec.message() : "no address"));
  }
  const asio::ip::tcp::endpoint endpoint = results.begin()->endpoint();
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    asio::error_code ignored;
    acceptor.close(ignored);
    return absl::UnavailableError(
        absl::StrCat("cannot listen on '", address, "': ", ec.message()));
  }
  return absl::OkStatus();
}

}  // namespace handoff
