// Copyright 2026 The handoff Authors.
//
// ListenTcp: acceptors listening on every address one of handoffd's
// "host:port" addresses resolves to, or the reason it cannot, in the words of
// the system: "cannot resolve 'db:9090': Host not found", "cannot listen on
// '10.0.0.9:9090': Cannot assign requested address", "... Address already in
// use".
//
// The admin HTTP server listens with it. gRPC's own listener says only that
// it failed, so when it does, handoffd asks ListenTcp why (a probe, closed
// at once) and reports that instead of a list of guesses.
//
// Every address, not the first: gRPC listens on each address --listen's host
// resolves to, and --admin_listen=localhost:9090 listened on the first of
// them alone (::1, with "::1 localhost" in /etc/hosts) where
// --listen=localhost:50051 took ::1 and 127.0.0.1, so that a probe of
// 127.0.0.1:9090 was refused. The policy is gRPC 1.51's
// (Chttp2ServerAddPort): a failure is one only if no address can be had.

#ifndef HANDOFF_SERVER_TCP_LISTEN_H_
#define HANDOFF_SERVER_TCP_LISTEN_H_

#include <asio/any_io_executor.hpp>
#include <asio/ip/tcp.hpp>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace handoff {

// Resolves `address`'s host (passive, as gRPC does: every family) and
// ListenTcpOn()s what it resolves to. Unavailable, naming `address`, on a
// name that does not resolve; InvalidArgument on an address SplitHostPort
// refuses.
absl::StatusOr<std::vector<asio::ip::tcp::acceptor>> ListenTcp(
    const asio::any_io_executor& executor, absl::string_view address);

// Opens an acceptor on `executor` for each distinct endpoint of `endpoints`,
// in their order, binds it with SO_REUSEADDR (a port left in TIME_WAIT by the
// last run may be had again; one that a process listens on may not, as
// SO_REUSEPORT is off), and listens; returns those that listen, at least one.
//
// - An endpoint that cannot be listened on is left out if another one
//   listens, as gRPC leaves it out (a name with an IPv6 address on a host
//   without IPv6 still serves on IPv4). Only if none listens is it an
//   error: Unavailable, "cannot listen on '<address>': <the system's
//   reason>", with each endpoint's own reason when they differ.
// - Port 0: the first endpoint that listens picks the port, and the rest
//   ask for that one, as gRPC's do, so that one port serves every address.
// - The IPv4 wildcard alone (0.0.0.0:P, handoffd's default) is listened on
//   as gRPC listens on it: on [::]:P, dual-stack, which takes IPv4 and IPv6
//   connections alike, or, where that cannot be had (a host without IPv6),
//   on 0.0.0.0:P.
// - When an IPv4 endpoint is among them, the IPv6 acceptors are IPV6_V6ONLY:
//   a dual-stack [::]:P would hold 0.0.0.0:P as well, and the IPv4 bind
//   fail with "Address already in use". IPv6 endpoints alone keep the
//   system's default (on Linux dual-stack: "[::]:9090" answers IPv4 too).
//
// `address` only names the endpoints in errors.
absl::StatusOr<std::vector<asio::ip::tcp::acceptor>> ListenTcpOn(
    const asio::any_io_executor& executor,
    const std::vector<asio::ip::tcp::endpoint>& endpoints,
    absl::string_view address);

}  // namespace handoff

#endif  // HANDOFF_SERVER_TCP_LISTEN_H_
