// Copyright 2026 The handoff Authors.
//
// AdminHttpServer: the operator's HTTP/1.1 port (/metrics, /healthz, /readyz),
// served with Asio on one thread of its own.
//
// Deliberately small: GET (and HEAD) only, over HTTP/1.1 or 1.0 (a request
// line that is not "METHOD /path HTTP/1.x", its method a token, its path
// RFC 3986 pchar and '/', no control character in its query, is 400 as
// soon as it ends, and
// a control character anywhere in the head 400 at once; another version
// 505; an https absolute-form target 421 Misdirected Request, since this
// port has no TLS; an HTTP/1.1 request without a Host header field, or any with two,
// or with a Host that is not host[:port], or whitespace between a field name
// and its colon, or a header line with no colon, or a field name that is
// not a token, or a folded field (obs-fold), or a bare CR in the request
// line or a header line, 400; a bare CR as soon as the byte after it arrives),
// one request per connection (Connection: close), the request head capped
// at 8 KiB (431 beyond; 414 if the request line alone is longer), the
// connection at 5 s, and open connections at 64 (beyond, the one that has
// waited longest on its client makes room; 503 if none is waiting).
// Prometheus, kubelet probes and curl need nothing more, and the gRPC port
// carries the traffic. Routes are functions of the path, called on the admin
// thread; they must not block for long.

#ifndef HANDOFF_SERVER_ADMIN_HTTP_H_
#define HANDOFF_SERVER_ADMIN_HTTP_H_

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace handoff {

struct HttpResponse {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
};

// Returns the response for a GET of `path`: the request target's path, with
// the query removed (and the scheme and authority of an absolute-form target),
// and its percent-escapes normalised (RFC 3986 §6.2.2): those of unreserved
// characters decoded (`/%6Detrics` is `/metrics`), the others kept, in upper
// case (`%2f` is `%2F`, never '/'). A malformed escape is 400, unrouted.
using HttpRoutes = std::function<HttpResponse(std::string_view path)>;

class AdminHttpServer {
 public:
  // Listens on every address `address`'s host resolves to ("host:port",
  // server/host_port.h; port 0 picks one port for all of them; ListenTcp in
  // server/tcp_listen.h) and starts serving. Each connection is closed
  // `connection_deadline` after it was accepted (kConnectionDeadline, below,
  // unless a test needs its connections to outlast a slow setup).
  static absl::StatusOr<std::unique_ptr<AdminHttpServer>> Start(
      const std::string& address, HttpRoutes routes,
      std::chrono::milliseconds connection_deadline = kConnectionDeadline);
  ~AdminHttpServer();  // Stop()s

  // A failed accept (out of file descriptors, say) is tried again this much
  // later, not at once: soon enough that a probe waiting in the backlog is
  // answered well inside its timeout once a descriptor is free, seldom enough
  // to cost no CPU meanwhile.
  static constexpr std::chrono::milliseconds kAcceptRetryDelay{100};

  // The request head, up to and with the empty line that ends it. A longer
  // one is answered 431 Request Header Fields Too Large, or 414 URI Too Long
  // if its request line has not ended by then.
  static constexpr size_t kMaxHeadBytes = 8 * 1024;
  // A connection is closed this long after it was accepted, answered or not:
  // a client that sends its request slowly, or never, or keeps the
  // connection open after the response, holds a descriptor no longer.
  static constexpr std::chrono::seconds kConnectionDeadline{5};

  // Connections open at once. One accepted beyond them closes the one that
  // has waited longest on its client (told 408 Request Timeout if it sent
  // no request yet; already answered, if it has not closed), or, if every
  // one is in the middle of its response, is answered 503 Service
  // Unavailable and closed at once. Each connection holds a file
  // descriptor for up to kConnectionDeadline, and without a cap 250 idle
  // clients under `ulimit -n 200` took the descriptors gRPC's own accept
  // needed. 64 is many times what probes and scrapers keep open (one each,
  // for milliseconds) and a small share of the usual `ulimit -n` of 1024.
  // A 503 rather than a bare close: a kubelet probe and Prometheus fail on
  // either, but they record the status ("statuscode: 503"), where a reset
  // reads as a process that crashed.
  static constexpr int kMaxConnections = 64;

  // The port every address listens on.
  int port() const;
  // Accepts that failed since Start (each one retried after the delay).
  int64_t accept_failures() const;
  // Connections accepted and not yet closed: at most kMaxConnections.
  int open_connections() const;
  // Closes the listeners, stops serving and joins the thread; the connections
  // still open are closed, unanswered, when this is destroyed. Idempotent.
  void Stop();

 private:
  struct Impl;
  explicit AdminHttpServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace handoff

#endif  // HANDOFF_SERVER_ADMIN_HTTP_H_
