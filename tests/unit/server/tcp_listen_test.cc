// Copyright 2026 The handoff Authors.
//
// ListenTcp and ListenTcpOn: one acceptor for each distinct address, on one
// port, and a failure only when no address can be had (gRPC 1.51's policy),
// named with the system's reason. Loopback addresses only; a test that needs
// ::1 is skipped on a host without it.

#include "server/tcp_listen.h"

#include <asio/io_context.hpp>
#include <asio/ip/v6_only.hpp>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/unit/server/private_network.h"

namespace handoff {
namespace {

using asio::ip::make_address;
using asio::ip::tcp;

const tcp::endpoint kV4Loopback(make_address("127.0.0.1"), 0);
const tcp::endpoint kV6Loopback(make_address("::1"), 0);

// Whether this host can listen on ::1 (a container may have no IPv6).
bool HasIpv6Loopback() {
  asio::io_context io;
  tcp::acceptor probe(io);
  asio::error_code ec;
  probe.open(tcp::v6(), ec);
  if (!ec) probe.bind(kV6Loopback, ec);
  return !ec;
}

tcp::endpoint At(const tcp::endpoint& e, unsigned short port) {
  return tcp::endpoint(e.address(), port);
}

// Whether `acceptor` takes a connection made to `to`: the kernel completes
// the handshake, so the accept that follows the connect does not wait.
bool Accepts(asio::io_context& io, tcp::acceptor& acceptor, const tcp::endpoint& to) {
  tcp::socket client(io);
  asio::error_code ec;
  client.connect(to, ec);
  if (ec) {
    ADD_FAILURE() << "connect to " << to << ": " << ec.message();
    return false;
  }
  tcp::socket served = acceptor.accept(ec);
  if (ec) ADD_FAILURE() << "accept on " << to << ": " << ec.message();
  return !ec && served.remote_endpoint().port() == client.local_endpoint().port();
}

TEST(TcpListenTest, EachDistinctAddressListensOnThePortTheFirstGot) {
  if (!HasIpv6Loopback()) GTEST_SKIP() << "this host cannot listen on ::1";
  asio::io_context io;
  absl::StatusOr<std::vector<tcp::acceptor>> acceptors = ListenTcpOn(
      io.get_executor(), {kV4Loopback, kV6Loopback, kV4Loopback}, "test:0");
  ASSERT_TRUE(acceptors.ok()) << acceptors.status();
  ASSERT_EQ(acceptors->size(), 2u) << "127.0.0.1 once, and ::1";
  const unsigned short port = (*acceptors)[0].local_endpoint().port();
  ASSERT_NE(port, 0);
  EXPECT_EQ((*acceptors)[0].local_endpoint(), At(kV4Loopback, port));
  EXPECT_EQ((*acceptors)[1].local_endpoint(), At(kV6Loopback, port));
  EXPECT_TRUE(Accepts(io, (*acceptors)[0], At(kV4Loopback, port)));
  EXPECT_TRUE(Accepts(io, (*acceptors)[1], At(kV6Loopback, port)));
}

// Whether a connection made to `to` is accepted by `acceptor`, in words for
// a check run in another process: "" if so, else what failed.
std::string AcceptsThere(asio::io_context& io, tcp::acceptor& acceptor,
                         const tcp::endpoint& to) {
  tcp::socket client(io);
  asio::error_code ec;
  client.connect(to, ec);
  if (ec) return absl::StrCat("connect to ", to.address().to_string(), ": ", ec.message());
  tcp::socket served = acceptor.accept(ec);
  if (ec) return absl::StrCat("accept from ", to.address().to_string(), ": ", ec.message());
  return "";
}

// Runs `check` where lo is the only interface, so that it may listen on a
// wildcard; skips the test where no such namespace can be had.
#define HANDOFF_CHECK_IN_PRIVATE_NETWORK(check)                          \
  do {                                                                   \
    absl::StatusOr<std::string> failed = testing::InPrivateNetwork(check); \
    if (absl::IsUnavailable(failed.status())) {                          \
      GTEST_SKIP() << "no private network here: " << failed.status();    \
    }                                                                    \
    ASSERT_TRUE(failed.ok()) << failed.status();                         \
    EXPECT_EQ(*failed, "");                                              \
  } while (0)

// A name of both wildcards (":: any" and "0.0.0.0 any" in /etc/hosts): on
// Linux, [::]:P is dual-stack, holding 0.0.0.0:P as well, and the IPv4 bind
// after it failed "Address already in use". Beside an IPv4 address, an IPv6
// one is IPv6 only. (A specific IPv6 address is IPv6 only whatever the
// option says: Linux sets it on bind. Only the wildcard shows it.)
TEST(TcpListenTest, BothWildcardsListenSideBySide) {
  HANDOFF_CHECK_IN_PRIVATE_NETWORK([]() -> std::string {
    if (!HasIpv6Loopback()) return "";  // nothing to show without IPv6
    asio::io_context io;
    const tcp::endpoint v6_any(asio::ip::address_v6::any(), 0);
    const tcp::endpoint v4_any(asio::ip::address_v4::any(), 0);
    absl::StatusOr<std::vector<tcp::acceptor>> both =
        ListenTcpOn(io.get_executor(), {v6_any, v4_any}, "any:0");
    if (!both.ok()) return both.status().ToString();
    if (both->size() != 2) return "[::] took 0.0.0.0's port as well";
    const unsigned short port = (*both)[0].local_endpoint().port();
    if ((*both)[1].local_endpoint() != At(v4_any, port)) return "0.0.0.0 on another port";
    asio::ip::v6_only v6_only;
    (*both)[0].get_option(v6_only);
    if (!v6_only.value()) return "[::] is dual-stack beside 0.0.0.0";
    return "";
  });
}

// handoffd's default, --admin_listen=0.0.0.0:9090, is listened on as gRPC
// listens on --listen's 0.0.0.0: dual-stack [::], so that the admin port
// answers over IPv6 where the gRPC port does. It was IPv4 only: a probe of
// the pod's IPv6 address in an IPv6 cluster was refused.
TEST(TcpListenTest, TheIpv4WildcardIsListenedOnForBothFamiliesAsGrpcDoes) {
  HANDOFF_CHECK_IN_PRIVATE_NETWORK([]() -> std::string {
    asio::io_context io;
    absl::StatusOr<std::vector<tcp::acceptor>> any = ListenTcp(io.get_executor(), "0.0.0.0:0");
    if (!any.ok()) return any.status().ToString();
    if (any->size() != 1) return absl::StrCat(any->size(), " acceptors, want 1");
    const unsigned short port = (*any)[0].local_endpoint().port();
    if (std::string failed = AcceptsThere(io, (*any)[0], At(kV4Loopback, port));
        !failed.empty()) {
      return failed;
    }
    if (!HasIpv6Loopback()) return "";  // IPv4 alone is all there is
    return AcceptsThere(io, (*any)[0], At(kV6Loopback, port));
  });
}

// As gRPC has it: an address that cannot be had is left out while another
// one listens.
TEST(TcpListenTest, AnAddressInUseIsLeftOutWhileAnotherListens) {
  if (!HasIpv6Loopback()) GTEST_SKIP() << "this host cannot listen on ::1";
  asio::io_context io;
  absl::StatusOr<std::vector<tcp::acceptor>> held =
      ListenTcpOn(io.get_executor(), {kV4Loopback, kV6Loopback}, "test:0");
  ASSERT_TRUE(held.ok()) << held.status();
  ASSERT_EQ(held->size(), 2u);
  const unsigned short port = (*held)[0].local_endpoint().port();
  (*held)[1].close();  // [::1]:port is free again; 127.0.0.1:port is not

  absl::StatusOr<std::vector<tcp::acceptor>> second = ListenTcpOn(
      io.get_executor(), {At(kV4Loopback, port), At(kV6Loopback, port)}, "test");
  ASSERT_TRUE(second.ok()) << second.status();
  ASSERT_EQ(second->size(), 1u);
  EXPECT_EQ((*second)[0].local_endpoint(), At(kV6Loopback, port));
  EXPECT_TRUE(Accepts(io, (*second)[0], At(kV6Loopback, port)));
}

// The message a host of one address always had, and a host of several whose
// addresses all fail for one reason has the same.
TEST(TcpListenTest, NoAddressListeningFailsWithTheSystemsReason) {
  asio::io_context io;
  absl::StatusOr<std::vector<tcp::acceptor>> held =
      ListenTcp(io.get_executor(), "127.0.0.1:0");
  ASSERT_TRUE(held.ok()) << held.status();
  ASSERT_EQ(held->size(), 1u);
  const unsigned short port = (*held)[0].local_endpoint().port();
  const std::string address = absl::StrCat("127.0.0.1:", port);

  absl::StatusOr<std::vector<tcp::acceptor>> again =
      ListenTcp(io.get_executor(), address);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.status(),
            absl::UnavailableError(absl::StrCat(
                "cannot listen on '", address, "': Address already in use")));

  if (!HasIpv6Loopback()) GTEST_SKIP() << "this host cannot listen on ::1";
  absl::StatusOr<std::vector<tcp::acceptor>> both =
      ListenTcpOn(io.get_executor(), {kV4Loopback, kV6Loopback}, "test:0");
  ASSERT_TRUE(both.ok()) << both.status();
  const unsigned short both_port = (*both)[0].local_endpoint().port();
  absl::StatusOr<std::vector<tcp::acceptor>> neither = ListenTcpOn(
      io.get_executor(),
      {At(kV4Loopback, both_port), At(kV6Loopback, both_port)}, "localhost:1");
  EXPECT_EQ(neither.status(),
            absl::UnavailableError(
                "cannot listen on 'localhost:1': Address already in use"));
}

// Reasons that differ are each given, with the address they are about:
// which one to fix is not the same.
TEST(TcpListenTest, NoAddressListeningForDifferentReasonsGivesEach) {
  asio::io_context io;
  absl::StatusOr<std::vector<tcp::acceptor>> held =
      ListenTcp(io.get_executor(), "127.0.0.1:0");
  ASSERT_TRUE(held.ok()) << held.status();
  const unsigned short port = (*held)[0].local_endpoint().port();
  // 198.51.100.0/24 is TEST-NET-2 (RFC 5737): never an address of this host.
  const tcp::endpoint elsewhere(make_address("198.51.100.7"), port);
  absl::StatusOr<std::vector<tcp::acceptor>> neither = ListenTcpOn(
      io.get_executor(), {At(kV4Loopback, port), elsewhere}, "test");
  EXPECT_EQ(neither.status(),
            absl::UnavailableError(absl::StrCat(
                "cannot listen on 'test': 127.0.0.1:", port,
                ": Address already in use; 198.51.100.7:", port,
                ": Cannot assign requested address")));
}

// A numeric host is one address: one acceptor on it, as before.
TEST(TcpListenTest, AHostOfOneAddressListensOnItAlone) {
  asio::io_context io;
  absl::StatusOr<std::vector<tcp::acceptor>> one =
      ListenTcp(io.get_executor(), "127.0.0.1:0");
  ASSERT_TRUE(one.ok()) << one.status();
  ASSERT_EQ(one->size(), 1u);
  const tcp::endpoint bound = (*one)[0].local_endpoint();
  EXPECT_EQ(bound.address(), kV4Loopback.address());
  EXPECT_TRUE(Accepts(io, (*one)[0], bound));
}

}  // namespace
}  // namespace handoff
