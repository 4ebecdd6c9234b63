// Copyright 2026 The handoff Authors.

#include "server/tcp_listen.h"

#include <algorithm>
#include <asio/ip/v6_only.hpp>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "server/host_port.h"

namespace handoff {

namespace {

using asio::ip::tcp;

// "127.0.0.1:9090", "[::1]:9090": the endpoint a reason is about.
std::string Name(const tcp::endpoint& e) {
  const std::string host = e.address().to_string();
  return e.address().is_v6() ? absl::StrCat("[", host, "]:", e.port())
                             : absl::StrCat(host, ":", e.port());
}

// Unavailable, naming `address`: the one reason all its endpoints share,
// which is the whole message for a host of one address, as it always was;
// else each endpoint's.
absl::Status NoneListens(
    absl::string_view address,
    const std::vector<std::pair<tcp::endpoint, asio::error_code>>& failures) {
  if (failures.empty()) {
    return absl::UnavailableError(
        absl::StrCat("cannot listen on '", address, "': no address"));
  }
  const bool one_reason = std::all_of(
      failures.begin(), failures.end(),
      [&](const auto& f) { return f.second == failures.front().second; });
  if (one_reason) {
    return absl::UnavailableError(absl::StrCat(
        "cannot listen on '", address, "': ", failures.front().second.message()));
  }
  return absl::UnavailableError(absl::StrCat(
      "cannot listen on '", address, "': ",
      absl::StrJoin(failures, "; ", [](std::string* out, const auto& f) {
        absl::StrAppend(out, Name(f.first), ": ", f.second.message());
      })));
}

}  // namespace

absl::StatusOr<std::vector<tcp::acceptor>> ListenTcp(
    const asio::any_io_executor& executor, absl::string_view address) {
  absl::StatusOr<std::pair<std::string, int>> hp = SplitHostPort(address);
  if (!hp.ok()) return hp.status();
  asio::error_code ec;
  tcp::resolver resolver(executor);
  auto results = resolver.resolve(hp->first, std::to_string(hp->second),
                                  tcp::resolver::passive, ec);
  if (ec || results.empty()) {
    // A name that cannot be had is a failure to start, as a port in use
    // is, not a bad value.
    return absl::UnavailableError(absl::StrCat(
        "cannot resolve '", address, "': ", ec ? ec.message() : "no address"));
  }
  std::vector<tcp::endpoint> endpoints;
  for (const auto& entry : results) endpoints.push_back(entry.endpoint());
  return ListenTcpOn(executor, endpoints, address);
}

absl::StatusOr<std::vector<tcp::acceptor>> ListenTcpOn(
    const asio::any_io_executor& executor,
    const std::vector<tcp::endpoint>& endpoints, absl::string_view address) {
  // /etc/hosts may give an address twice ("127.0.0.1 localhost" on two
  // lines): a second bind of it would only fail.
  std::vector<tcp::endpoint> distinct;
  for (const tcp::endpoint& e : endpoints) {
    if (std::find(distinct.begin(), distinct.end(), e) == distinct.end()) {
      distinct.push_back(e);
    }
  }
  const bool some_v4 = std::any_of(distinct.begin(), distinct.end(),
                                   [](const tcp::endpoint& e) {
                                     return e.address().is_v4();
                                   });
  std::vector<tcp::acceptor> listening;
  std::vector<std::pair<tcp::endpoint, asio::error_code>> failures;
  if (distinct.size() == 1 && distinct[0].address() == asio::ip::address_v4::any()) {
    // gRPC's wildcard: "0.0.0.0:P" is served on both families where the host
    // has IPv6, so that the admin port answers where --listen's does (an
    // IPv6-only cluster's probes reach the pod's IPv6 address).
    tcp::acceptor dual(executor);
    asio::error_code ec;
    const tcp::endpoint any6(asio::ip::address_v6::any(), distinct[0].port());
    dual.open(any6.protocol(), ec);
    if (!ec) dual.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) dual.set_option(asio::ip::v6_only(false), ec);
    if (!ec) dual.bind(any6, ec);
    if (!ec) dual.listen(asio::socket_base::max_listen_connections, ec);
    if (!ec) {
      listening.push_back(std::move(dual));
      return listening;
    }
    // No IPv6 here, or [::]:P taken while 0.0.0.0:P may not be: as gRPC,
    // IPv4 alone, whose failure is the one to report.
  }
  unsigned short port = 0;  // the one the first to listen has
  for (tcp::endpoint e : distinct) {
    if (e.port() == 0 && port != 0) e.port(port);
    tcp::acceptor acceptor(executor);
    asio::error_code ec;
    acceptor.open(e.protocol(), ec);
    if (!ec) acceptor.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec && e.address().is_v6() && some_v4) {
      acceptor.set_option(asio::ip::v6_only(true), ec);
    }
    if (!ec) acceptor.bind(e, ec);
    if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
    tcp::endpoint bound;
    if (!ec) bound = acceptor.local_endpoint(ec);
    if (ec) {
      failures.emplace_back(e, ec);  // the acceptor closes as it goes
      continue;
    }
    if (port == 0) port = bound.port();
    listening.push_back(std::move(acceptor));
  }
  if (listening.empty()) return NoneListens(address, failures);
  return listening;
}

}  // namespace handoff
