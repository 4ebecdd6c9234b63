// Copyright 2026 The handoff Authors.
//
// AdminHttpServer: what it answers on the wire, to good requests and bad ones,
// and what it does when accept() fails: out of file descriptors, it fails with
// EMFILE for as long as the connection waits in the listen backlog.

#include "server/admin_http.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <asio.hpp>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <initializer_list>
#include <chrono>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "gtest/gtest.h"
#include "tests/util/wait_until.h"

namespace handoff {
namespace {

using ::handoff::testing::WaitUntil;

// Answers "/<code>" with that status and anything else with 200 and the path
// as the body, so that a test sees which path the server took from a request.
HttpResponse StatusOrEcho(std::string_view path) {
  int status = 0;
  if (absl::SimpleAtoi(absl::StripPrefix({path.data(), path.size()}, "/"),
                       &status)) {
    return {status, "text/plain", "\n"};
  }
  return {200, "text/plain", std::string(path)};
}

// A client connection to the admin port on loopback; a read or write gives up
// after ten seconds rather than hang the test.
// A `receive_buffer` above 0 sets SO_RCVBUF first, so that the window the
// client offers stays that small.
int Connect(int port, int receive_buffer = 0) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  EXPECT_GE(fd, 0);
  if (receive_buffer > 0) {
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &receive_buffer, sizeof receive_buffer);
  }
  timeval ten_seconds{10, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &ten_seconds, sizeof ten_seconds);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &ten_seconds, sizeof ten_seconds);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(static_cast<uint16_t>(port));
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof to), 0)
      << strerror(errno);
  return fd;
}

struct Reply {
  std::string text;  // all the server sent
  int error = 0;     // errno of the read that ended it; 0 if the server closed
};

// Sends `request` on `fd`, then reads until the connection ends, and closes it.
Reply SendAndReadToEnd(int fd, std::string_view request) {
  Reply reply;
  // MSG_NOSIGNAL: a server that closes early is a failed expectation, not a
  // SIGPIPE that ends the test binary.
  for (size_t sent = 0; sent < request.size();) {
    ssize_t n = send(fd, request.data() + sent, request.size() - sent,
                     MSG_NOSIGNAL);
    if (n < 0) break;
    sent += static_cast<size_t>(n);
  }
  char buf[4096];
  ssize_t n;
  while ((n = read(fd, buf, sizeof buf)) > 0) reply.text.append(buf, n);
  if (n < 0) reply.error = errno;
  close(fd);
  return reply;
}

Reply Exchange(int port, std::string_view request) {
  return SendAndReadToEnd(Connect(port), request);
}

// What follows the head of a reply.
std::string_view Body(std::string_view reply) {
  size_t end_of_head = reply.find("\r\n\r\n");
  if (end_of_head == std::string_view::npos) return {};
  return reply.substr(end_of_head + 4);
}

// A malformed request was answered "400 Error".
TEST(AdminHttpTest, StatusLinesCarryTheStandardReasonPhrase) {
  absl::StatusOr<std::unique_ptr<AdminHttpServer>> server =
      AdminHttpServer::Start("127.0.0.1:0", StatusOrEcho);
  ASSERT_TRUE(server.ok()) << server.status();
  const int port = (*server)->port();
  EXPECT_TRUE(absl::StartsWith(Exchange(port, "GET /200 HTTP/1.1\r\nHost: x\r\n\r\n").text,
                               "HTTP/1.1 200 OK\r\n"));
  EXPECT_TRUE(absl::StartsWith(Exchange(port, "GET /404 HTTP/1.1\r\nHost: x\r\n\r\n").text,
                               "HTTP/1.1 404 Not Found\r\n"));
  EXPECT_TRUE(absl::StartsWith(Exchange(port, "GET /503 HTTP/1.1\r\nHost: x\r\n\r\n").text,
                               "HTTP/1.1 503 Service Unavailable\r\n"));
  const Reply malformed = Exchange(port, "nonsense\r\n\r\n");
  EXPECT_TRUE(absl::StartsWith(malformed.text, "HTTP/1.1 400 Bad Request\r\n"))
      << malformed.text;
}

// A 405 did not say which methods are allowed, as RFC 9110 §15.5.6 requires.
TEST(AdminHttpTest, MethodNotAllowedListsTheAllowedMethods) {
  absl::StatusOr<std::unique_ptr<AdminHttpServer>> server =
      AdminHttpServer::Start("127.0.0.1:0", StatusOrEcho);
  ASSERT_TRUE(server.ok()) << server.status();
  // Methods are case-sensitive (RFC 9110 §9.1): "get" is not GET.
  for (std::string_view request :
       {"POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n",
        "OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n", "get /healthz HTTP/1.1\r\nHost: x\r\n\r\n"}) {
    const Reply reply = Exchange((*server)->port(), request);
    EXPECT_TRUE(
        absl::StartsWith(reply.text, "HTTP/1.1 405 Method Not Allowed\r\n"))
        << request << reply.text;
    EXPECT_TRUE(absl::StrContains(reply.text, "\r\nAllow: GET, HEAD\r\n"))
        << request << reply.text;
  }
}

// The body of a 405 said "only GET", where HEAD is served too: a reader of
// curl's output was told HEAD is refused.
TEST(AdminHttpTest, MethodNotAllowedSaysHeadIsAllowedToo) {
  absl::StatusOr<std::unique_ptr<AdminHttpServer>> server =
      AdminHttpServer::Start("127.0.0.1:0", StatusOrEcho);
  ASSERT_TRUE(server.ok()) << server.status();
  const Reply reply = Exchange((*server)->port(), "DELETE /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(Body(reply.text), "only GET and HEAD\n") << reply.text;
}

// An absolute-form target, which RFC 9112 §3.2.2 says a server must accept,
// was answered 404: the whole URI was taken for the path.
TEST(AdminHttpTest, AbsoluteFormTargetIsServedByItsPath) {
  absl::StatusOr<std::unique_ptr<AdminHttpServer>> server =
      AdminHttpServer::Start("127.0.0.1:0", StatusOrEcho);
  ASSERT_TRUE(server.ok()) << server.status();
  const int port = (*server)->port();
  const std::string authority = absl::StrCat("127.0.0.1:", port);
  const Reply reply =
      Exchange(port, absl::StrCat("GET http://", authority,
                                  "/healthz?verbose HTTP/1.1\r\nHost: ",
                                  authority, "\r\n\r\n"));
  EXPECT_TRUE(absl::StartsWith(reply.text, "HTTP/1.1 200 OK\r\n"))
      << reply.text;
  EXPECT_EQ(Body(reply.text), "/healthz");
  const Reply no_path = Exchange(
      port, absl::StrCat("GET http://", authority, " HTTP/1.1\r\nHost: x\r\n\r\n"));
  EXPECT_EQ(Body(no_path.text), "/") << no_path.text;
}

// A head whose lines ended in a bare LF, which RFC 9112 §2.2 lets a server
// accept, went unanswered until the 5 s limit closed the connection.
TEST(AdminHttpTest, BareLineFeedsEndTheRequestHead) {
  absl::StatusOr<std::unique_ptr<AdminHttpServer>> server =
      AdminHttpServer::Start("127.0.0.1:0", StatusOrEcho);
  ASSERT_TRUE(server.ok()) << server.status();
  for (const char* request :
       {"GET /healthz HTTP/1.0\n\n", "GET /healthz HTTP/1.0\r\n\n",
        "GET /healthz HTTP/1.1\nHost: x\r\n\n",
        "GET /healthz HTTP/1.1\r\nHost: x\n\r\n"}) {
    const Reply reply = Exchange((*server)->port(), request);
    EXPECT_TRUE(absl::StartsWith(reply.text, "HTTP/1.1 200 OK\r\n"))
        << absl::CHexEscape(request) << reply.text;
    EXPECT_EQ(Body(reply.text), "/healthz");
  }
}

// RFC 9112 §2.2: a server should ignore an empty line before the request
// line; it was answered 400.
TEST(AdminHttpTest, AnEmptyLineBeforeTheRequestLineIsIgnored) {
  absl::StatusOr<std::unique_ptr<AdminHttpServer>> server =
      AdminHttpServer::Start("127.0.0.1:0", StatusOrEcho);
  ASSERT_TRUE(server.ok()) << server.status();
  for (const char* request :
       {"\r\nGET /healthz HTTP/1.1\r\nHost: x\r\n\r\n",
        "\r\n\r\nGET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"}) {
    const Reply reply = Exchange((*server)->port(), request);
    EXPECT_TRUE(absl::StartsWith(reply.text, "HTTP/1.1 200 OK\r\n"))
        << absl::CHexEscape(request) << reply.text;
    EXPECT_EQ(Body(reply.text), "/healthz");
  }
}

// A request line that is not "method SP request-target SP HTTP-version"
// (RFC 9112 §3) was served as if it were: a version that is not HTTP's, a
// word after the version, no version at all, a second space were all
// answered 200, and a target that is neither a path nor an absolute URL
// went to the routes as a path. RFC 9112 §3 says to answer 400.
TEST(AdminHttpTest, AMalformedRequestLineIsAnswered400SayingSo) {
  absl::StatusOr<std::unique_ptr<AdminHttpServer>> server =
      AdminHttpServer::Start("127.0.0.1:0", StatusOrEcho);
  ASSERT_TRUE(server.ok()) << server.status();
  for (const char* request :
       {"GET /200 FOO/1.1\r\n\r\n", "GET /200 http/1.1\r\n\r\n",
        "GET /200 HTTP/1.10\r\n\r\n", "GET /200 HTTP/1.1 extra\r\n\r\n",
        "GET /200\r\n\r\n", "GET  /200 HTTP/1.1\r\n\r\n",
        "GET 200 HTTP/1.1\r\n\r\n", "GET * HTTP/1.1\r\n\r\n",
        "GET ://x/200 HTTP/1.1\r\n\r\n", "nonsense\r\n\r\n"}) {
    const Reply reply = Exchange((*server)->port(), request);
    EXPECT_TRUE(absl::StartsWith(reply.text, "HTTP/1.1 400 Bad Request\r\n"))
        << absl::CHexEscape(request) << "\n" << reply.text;
    EXPECT_TRUE(absl::StrContains(std::string(Body(reply.text)), "request line"))
        << absl::CHexEscape(request) << "\n" << reply.text;
  }
  // HTTP/1.0 is served: curl -0, and older probes, send it.
  const Reply http10 = Exchange((*server)->port(), "GET /healthz HTTP/1.0\r\n\r\n");
  EXPECT_TRUE(absl::StartsWith(http10.text, "HTTP/1.1 200 OK\r\n")) << http10.text;
  EXPECT_EQ(Body(http10.text), "/healthz");
}

// RFC 9112 §3: a request line's method is a token (RFC 9110 §9.1), and a
// line whose method is not one is malformed, 400. `G(T`, `GE"T` and `G@T`
// were answered 405 Method Not Allowed, as if they were methods; a token
// this server does not serve stays 405.
TEST(AdminHttpTest, AMethodThatIsNotATokenIsAnswered400) {
  absl::StatusOr<std::unique_ptr<AdminHttpServer>> server =
      AdminHttpServer::Start("127.0.0.1:0", StatusOrEcho);
  ASSERT_TRUE(server.ok()) << server.status();
  for (const char* method : {"G(T", "GE\"T", "G@T", "GET:", "G\xc3\x89T", "{GET}"}) {
    const std::string request =
        absl::StrCat(method, " /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
    const Reply reply = Exchange((*server)->port(), request);
    EXPECT_TRUE(absl::StartsWith(reply.text, "HTTP/1.1 400 Bad Request\r\n"))
        << absl::CHexEscape(request) << "\n" << reply.text;
    EXPECT_TRUE(absl::StrContains(std::string(Body(reply.text)), "request line"))
        << absl::CHexEscape(request) << "\n" << reply.text;
  }
  for (const char* method : {"PATCH", "M-SEARCH", "X!#$%&'*+.^_`|~9"}) {
    const std::string request =
        absl::StrCat(method, " /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
    const Reply reply = Exchange((*server)->port(), request);
    EXPECT_TRUE(absl::StartsWith(reply.text, "HTTP/1.1 405 Method Not Allowed\r\n"))
        << absl::CHexEscape(request) << "\n" << reply.text;
  }
}

// A request line naming HTTP/2.0 was answered as if it were HTTP/1.1, and an
// HTTP/2 client's connection preface ("PRI * HTTP/2.0") 405. RFC 9112 §2.3:
// 505 refuses a major version the server does not speak.
TEST(AdminHttpTest, AnHttpVersionOtherThanOneIsAnswered505) {
  absl::StatusOr<std::unique_ptr<AdminHttpServer>> server =
      AdminHttpServer::Start("127.0.0.1:0", StatusOrEcho);
  ASSERT_TRUE(server.ok()) << server.status();
  for (const char* request :
       {"GET /200 HTTP/2.0\r\n\r\n", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"}) {
    const Reply reply = Exchange((*server)->port(), request);
    EXPECT_TRUE(absl::StartsWith(reply.text,
                                 "HTTP/1.1 505 HTTP Version Not Supported\r\n"))
        << absl::CHexEscape(request) << "\n" << reply.text;
    EXPECT_TRUE(absl::StrContains(std::string(Body(reply.text)), "HTTP/1")) << reply.text;
  }
}

// Bytes that no HTTP request holds (a TLS ClientHello: `curl https://` or a
// scrape with `scheme: https` against this plain-HTTP port; a NUL or another
// control character in a header) were read on, waiting for an empty line
// that never came, and the client learnt nothing until the deadline closed
// the connection, 5 s later, unanswered ("unexpected eof"). Here the
// connection lives a minute: the old code left the client to its 10 s
// receive timeout.
TEST(AdminHttpTest, AControlCharacterInTheHeadIsAnswered400AtOnce) {
  absl::StatusOr<std::unique_ptr<AdminHttpServer>> server =
      AdminHttpServer::Start("127.0.0.1:0", StatusOrEcho, std::chrono::minutes(1));
  ASSERT_TRUE(server.ok()) << server.status();
  // A TLS 1.2 record header and the start of a ClientHello.
  const std::string client_hello("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 11);
  for (const std::string& request :
       {client_hello, std::string("GET /healthz HTTP/1.1\r\nX: a\0b\r\n", 31),
        std::string("GET /heal\x01thz HTTP/1.1\r\n")}) {
    const Reply reply = Exchange((*server)->port(), request);
    EXPECT_TRUE(absl::StartsWith(reply.text, "HTTP/1.1 400 Bad Request\r\n"))
        << absl::CHexEscape(request) << "\n" << reply.text;
    EXPECT_TRUE(absl::StrContains(std::string(Body(reply.text)), "control character"))
        << reply.text;
    EXPECT_EQ(reply.error, 0) << strerror(reply.error);  // FIN, not RST
  }
  ASSERT_TRUE(WaitUntil([&] { return (*server)->open_connections() == 0; }));
}

// Empty lines before the request line were skipped one a turn of the admin
// thread, a read and a copy each, with no end: 2.6 MB/s of `\r\n` (20
// Mbit/s, a cheap stream for a remote client) kept that thread at 100% of a
// core for as long as the client sent them. They count against the head's
// 8 KiB now: a request behind fewer is served, one behind more refused.
TEST(AdminHttpTest, EmptyLinesBeforeTheRequestLineAreSkippedUpToTheHeadsLimit) {
  absl::StatusOr<std::unique_ptr<AdminHttpServer>> server =
      AdminHttpServer::Start("127.0.0.1:0", StatusOrEcho);
  ASSERT_TRUE(server.ok()) << server.status();
  const std::string request = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
  auto behind = [&](size_t bytes) {
    std::string empty_lines;
    while (empty_lines.size() + 3 <= bytes) empty_lines += "\r\n\n";  // one of each kind
    while (empty_lines.size() < bytes) empty_lines += "\n";
    return empty_lines + request;
  };

  const Reply within = Exchange((*server)->port(), behind(AdminHttpServer::kMaxHeadBytes));
  EXPECT_TRUE(absl::StartsWith(within.text, "HTTP/1.1 200 OK\r\n")) << within.text;
  EXPECT_EQ(Body(within.text), "/healthz") << within.text;

  const Reply over = Exchange((*server)->port(), behind(AdminHttpServer::kMaxHeadBytes + 1));
  EXPECT_TRUE(absl::StartsWith(over.text, "HTTP/1.1 400 Bad Request\r\n")) << over.text;
  EXPECT_EQ(Body(over.text), "bad request: over 8 KiB of empty lines before the request line\n")
      << over.text;
}

// A first line that is not a request line (an SSH client's banner, a
// Redis PING) was not looked at until the whole head had come, and a client
// of another protocol sends no empty line: it waited, answered nothing, for
// the deadline to close the connection 5 s later. Here the connection lives
// a minute: the old code left the client to its 10 s receive timeout.
TEST(AdminHttpTest, AMalformedRequestLineIsAnswered400AsItEnds) {
  absl::StatusOr<std::unique_ptr<AdminHttpServer>> server =
      AdminHttpServer::Start("127.0.0.1:0", StatusOrEcho, std::chrono::minutes(1));
  ASSERT_TRUE(server.ok()) << server.status();
  for (const char* request : {"SSH-2.0-OpenSSH_9.6\r\n", "PING\r\n"}) {
    const Reply reply = Exchange((*server)->port(), request);
    EXPECT_TRUE(absl::StartsWith(reply.text, "HTTP/1.1 400 Bad Request\r\n"))
        << absl::CHexEscape(request) << "\n" << reply.text;
    EXPECT_EQ(reply.error, 0) << strerror(reply.error);  // FIN, not RST
  }
  ASSERT_TRUE(WaitUntil([&] { return (*server)->open_connections() == 0; }));
}

// A request line longer than the cap was answered 431 Request Header Fields
// Too Large, though no header field was at fault; RFC 9112 §3: a server must
// answer 414 to a request-target longer than it is willing to parse.
TEST(AdminHttpTest, ARequestLineOverTheCapIsAnswered414) {
  absl::StatusOr<std::unique_ptr<AdminHttpServer>> server =
      AdminHttpServer::Start("127.0.0.1:0", StatusOrEcho);
  ASSERT_TRUE(server.ok()) << server.status();
  const std::string target(2 * AdminHttpServer::kMaxHeadBytes, 'a');
  for (const std::string& request :
       {absl::StrCat("GET /", target, " HTTP/1.1\r\n\r\n"),
        absl::StrCat("\r\nGET /", target, " HTTP/1.1\r\n\r\n")}) {
    const Reply reply = Exchange((*server)->port(), request);
    EXPECT_TRUE(absl::StartsWith(reply.text, "HTTP/1.1 414 URI Too Long\r\n"))
        << reply.text;
    EXPECT_EQ(reply.error, 0) << strerror(reply.error);  // FIN, not RST
  }
}

// A head over the cap was reset: the server closed the socket with the rest
// of it unread, and curl said "Connection reset by peer".
TEST(AdminHttpTest, AnOversizedHeadIsAnswered431ThenClosedInOrder) {
  absl::StatusOr<std::unique_ptr<AdminHttpServer>> server =
      AdminHttpServer::Start("127.0.0.1:0", StatusOrEcho);
  ASSERT_TRUE(server.ok()) << server.status();
  const std::string request = absl::StrCat(
      "GET /healthz HTTP/1.1\r\nX-Padding: ",
      std::string(3 * AdminHttpServer::kMaxHeadBytes, 'x'), "\r\n\r\n");
  const Reply reply = Exchange((*server)->port(), request);
  EXPECT_TRUE(absl::StartsWith(
      reply.text, "HTTP/1.1 431 Request Header Fields Too Large\r\n"))
      << reply.text;
  EXPECT_EQ(reply.error, 0) << strerror(reply.error);  // FIN, not RST
}

// A client that never finishes its request (or never reads, or never
// closes) holds its descriptor only until the connection's deadline: then
// the connection is closed, unanswered.
TEST(AdminHttpTest, AConnectionIsClosedAtItsDeadline) {
  constexpr auto kDeadline = std::chrono::milliseconds(200);
  absl::StatusOr<std::unique_ptr<AdminHttpServer>> server =
      AdminHttpServer::Start("127.0.0.1:0", StatusOrEcho, kDeadline);
  ASSERT_TRUE(server.ok()) << server.status();
  const auto before = std::chrono::steady_clock::now();
  const int fd = Connect((*server)->port());
  const Reply reply = SendAndReadToEnd(fd, "GET /healthz HTTP/1.1\r\n");  // no end
  EXPECT_GE(std::chrono::steady_clock::now() - before, kDeadline);
  EXPECT_EQ(reply.text, "");
  EXPECT_NE(reply.error, EAGAIN) << "still open at the read's 10 s timeout";
  ASSERT_TRUE(WaitUntil([&] { return (*server)->open_connections() == 0; }));
}

// The most a TCP socket's send buffer grows to (tcp_wmem's third figure;
// 4 MiB unless tuned): a response longer than it cannot all be handed to
// the kernel while the client reads nothing.
size_t LargestSendBuffer() {
  std::ifstream wmem("/proc/sys/net/ipv4/tcp_wmem");
  size_t min = 0, initial = 0, max = 0;
  if (wmem >> min >> initial >> max) return max;
  return size_t{4} << 20;
}

// At the cap, the connection that has waited longest without a request is
// told 408 and closed for a new one. 250 clients that sent part of a request
// each held a descriptor for 5 s, and under `ulimit -n 200` gRPC's own accept
// failed with EMFILE: hence the cap. But refusing what came over it, 64
// clients that connected and sent nothing, connecting again when closed,
// kept every scrape and probe out.
// The connections live a minute here, so that on a slow machine none ends
// at its deadline while the others are opened.
TEST(AdminHttpTest, AtTheCapTheConnectionIdleLongestMakesRoomAndIsAnswered408) {
  absl::StatusOr<std::unique_ptr<AdminHttpServer>> server =
      AdminHttpServer::Start("127.0.0.1:0", StatusOrEcho, std::chrono::minutes(1));
  ASSERT_TRUE(server.ok()) << server.status();
  const int port = (*server)->port();
  std::vector<int> idle;
  for (int i = 0; i < AdminHttpServer::kMaxConnections; ++i) {
    idle.push_back(Connect(port));
    // Accepted in this order: the first is the one idle longest.
    ASSERT_TRUE(WaitUntil([&] { return (*server)->open_connections() == i + 1; }));
  }
  // Answered within Exchange's receive timeout, where the connections it
  // makes room among live a minute.
  const Reply healthz = Exchange(port, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_TRUE(absl::StartsWith(healthz.text, "HTTP/1.1 200 OK\r\n")) << healthz.text;
  const Reply evicted = SendAndReadToEnd(idle[0], "");
  EXPECT_TRUE(absl::StartsWith(evicted.text, "HTTP/1.1 408 Request Timeout\r\n"))
      << evicted.text;
  EXPECT_EQ(evicted.error, 0) << strerror(evicted.error);  // FIN, not RST
  EXPECT_LE((*server)->open_connections(), AdminHttpServer::kMaxConnections);
  for (size_t i = 1; i < idle.size(); ++i) close(idle[i]);
  ASSERT_TRUE(WaitUntil([&] { return (*server)->open_connections() == 0; }));
}

// With no connection idle, every one of them in the middle of its response,
// one over the cap is answered 503 at once, not after the others end. Each
// asks for a response its client does not read, so that it cannot be sent.
// The connections live a minute here: under the sanitizers, on a loaded
// machine, setting up 64 of them took 7.7 s, and at the usual 5 s the first
// were closed before the last was open.
TEST(AdminHttpTest, AConnectionOverTheCapWithNoneIdleIsAnswered503AtOnce) {
  const std::string big(LargestSendBuffer() + 1, 'x');  // more than a socket holds
  absl::StatusOr<std::unique_ptr<AdminHttpServer>> server = AdminHttpServer::Start(
      "127.0.0.1:0",
      [&big](std::string_view path) {
        if (path == "/big") return HttpResponse{200, "text/plain", big};
        return StatusOrEcho(path);
      },
      std::chrono::minutes(1));
  ASSERT_TRUE(server.ok()) << server.status();
  const int port = (*server)->port();
  std::vector<int> busy;
  for (int i = 0; i < AdminHttpServer::kMaxConnections; ++i) {
    const int fd = Connect(port, /*receive_buffer=*/4096);
    busy.push_back(fd);
    const std::string_view request = "GET /big HTTP/1.1\r\nHost: x\r\n\r\n";
    ASSERT_EQ(send(fd, request.data(), request.size(), MSG_NOSIGNAL),
              static_cast<ssize_t>(request.size()));
    // The response has begun: the server is writing it, and waits on us.
    char status[12];
    ASSERT_EQ(recv(fd, status, sizeof status, MSG_WAITALL), 12);
    ASSERT_EQ(std::string_view(status, 12), "HTTP/1.1 200");
  }
  EXPECT_EQ((*server)->open_connections(), AdminHttpServer::kMaxConnections);
  // At once: within Exchange's receive timeout, where the busy connections
  // live a minute.
  const Reply refused = Exchange(port, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_TRUE(absl::StartsWith(refused.text, "HTTP/1.1 503 Service Unavailable\r\n"))
      << refused.text;
  EXPECT_EQ((*server)->open_connections(), AdminHttpServer::kMaxConnections);
  for (int fd : busy) close(fd);
  ASSERT_TRUE(WaitUntil([&] { return (*server)->open_connections() == 0; }));
  const Reply healthz = Exchange(port, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_TRUE(absl::StartsWith(healthz.text, "HTTP/1.1 200 OK\r\n")) << healthz.text;
}

// RFC 9112 §3.2: a server must answer 400 to an HTTP/1.1 request without a
// Host header field, and to any request with more than one. Both were
// answered 200. Kubelet's httpGet, Prometheus, curl, wget and Python's
// urllib all send Host; an HTTP/1.0 request needs none.
TEST(AdminHttpTest, AnHttp11RequestWithoutOneHostIsAnswered400) {
  absl::StatusOr<std::unique_ptr<AdminHttpServer>> server =
      AdminHttpServer::Start("127.0.0.1:0", StatusOrEcho);
  ASSERT_TRUE(server.ok()) << server.status();
  for (const char* request :
       {"GET /healthz HTTP/1.1\r\n\r\n",
        "GET /healthz HTTP/1.1\r\nX-Host: x\r\n\r\n",
        "GET /healthz HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
        "GET /healthz HTTP/1.1\r\nHost: a\r\nhost: a\r\n\r\n",
        "GET /healthz HTTP/1.0\r\nHost: a\r\nHOST: b\r\n\r\n",
        "HEAD /healthz HTTP/1.1\r\n\r\n"}) {
    const Reply reply = Exchange((*server)->port(), request);
    EXPECT_TRUE(absl::StartsWith(reply.text, "HTTP/1.1 400 Bad Request\r\n"))
        << absl::CHexEscape(request) << "\n" << reply.text;
    // A HEAD's refusal has no body to say so (ARefusedHeadRequestIsAnsweredWithoutABody).
    if (absl::StartsWith(request, "HEAD ")) continue;
    EXPECT_TRUE(absl::StrContains(reply.text, "Host")) << reply.text;
  }
  // The field name is case-insensitive, its value may be empty (RFC 9110
  // §7.2), and HTTP/1.0 may leave it out.
  for (const char* request :
       {"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n",
        "GET /healthz HTTP/1.1\r\nhOsT:x:9090\r\n\r\n",
        "GET /healthz HTTP/1.1\r\nAccept: */*\r\nHost:\r\n\r\n",
        "GET /healthz HTTP/1.0\r\n\r\n", "GET /healthz HTTP/1.0\r\nHost: x\r\n\r\n"}) {
    const Reply reply = Exchange((*server)->port(), request);
    EXPECT_TRUE(absl::StartsWith(reply.text, "HTTP/1.1 200 OK\r\n"))
        << absl::CHexEscape(request) << "\n" << reply.text;
    EXPECT_EQ(Body(reply.text), "/healthz");
  }
}

// RFC 9112 §5.1: no whitespace is allowed between a field name and its
// colon, and a server must answer such a request 400 (a proxy that took
// "Host " for another field than "Host" would route it elsewhere). `Host : x`
// on HTTP/1.0 was served 200; on HTTP/1.1 it was 400, but for a missing Host.
TEST(AdminHttpTest, WhitespaceBetweenAFieldNameAndItsColonIsAnswered400) {
  absl::StatusOr<std::unique_ptr<AdminHttpServer>> server =
      AdminHttpServer::Start("127.0.0.1:0", StatusOrEcho);
  ASSERT_TRUE(server.ok()) << server.status();
  for (const char* request :
       {"GET /healthz HTTP/1.0\r\nHost : x\r\n\r\n",
        "GET /healthz HTTP/1.1\r\nHost : x\r\n\r\n",
        "GET /healthz HTTP/1.1\r\nHost: x\r\nAccept\t: */*\r\n\r\n",
        "GET /healthz HTTP/1.0\r\nX-Trace  :1\r\n\r\n"}) {
    const Reply reply = Exchange((*server)->port(), request);
    EXPECT_TRUE(absl::StartsWith(reply.text, "HTTP/1.1 400 Bad Request\r\n"))
        << absl::CHexEscape(request) << "\n" << reply.text;
    EXPECT_TRUE(absl::StrContains(reply.text, "whitespace before the colon"))
        << absl::CHexEscape(request) << "\n" << reply.text;
  }
  // Whitespace after the colon, and around the value, is the optional
  // whitespace RFC 9110 §5.6.3 allows.
  const Reply spaced = Exchange((*server)->port(),
                                "GET /healthz HTTP/1.1\r\nHost: \t x \r\n\r\n");
  EXPECT_TRUE(absl::StartsWith(spaced.text, "HTTP/1.1 200 OK\r\n")) << spaced.text;
}

// RFC 9112 §5: a field line is a name, a colon and a value, and a server
// must answer 400 to a request whose head holds anything else. A line with
// no colon at all (`Garbage`) was skipped, and the request served 200.
TEST(AdminHttpTest, AFieldLineWithoutAColonIsAnswered400) {
  absl::StatusOr<std::unique_ptr<AdminHttpServer>> server =
      AdminHttpServer::Start("127.0.0.1:0", StatusOrEcho);
  ASSERT_TRUE(server.ok()) << server.status();
  for (const char* request :
       {"GET /healthz HTTP/1.1\r\nHost: x\r\nGarbage\r\n\r\n",
        "GET /healthz HTTP/1.1\r\nGarbage\r\nHost: x\r\n\r\n",
        "GET /healthz HTTP/1.0\r\nHost x\r\n\r\n",
        "GET /healthz HTTP/1.0\nAccept */*\n\n"}) {
    const Reply reply = Exchange((*server)->port(), request);
    EXPECT_TRUE(absl::StartsWith(reply.text, "HTTP/1.1 400 Bad Request\r\n"))
        << absl::CHexEscape(request) << "\n" << reply.text;
    EXPECT_TRUE(absl::StrContains(reply.text, "no colon"))
        << absl::CHexEscape(request) << "\n" << reply.text;
  }
}

// RFC 9112 §5 and RFC 9110 §5.1: a field name is a token, one or more of
// the letters, digits and !#$%&'*+-.^_`|~. A name with another character
// (`Ho(st`, `X"y`, `X@y`, a non-ASCII byte) or none at all (`: x`) was
// not looked at, and the request served 200; one reader would skip such a
// field where another took it for something else.
TEST(AdminHttpTest, AFieldNameThatIsNotATokenIsAnswered400) {
  absl::StatusOr<std::unique_ptr<AdminHttpServer>> server =
      AdminHttpServer::Start("127.0.0.1:0", StatusOrEcho);
  ASSERT_TRUE(server.ok()) << server.status();
  for (const char* name : {"Ho(st", "X\"y", "X@y", "X/y", "X[y]", "H\xc3\xb6", "X,y", ""}) {
    const std::string request =
        absl::StrCat("GET /healthz HTTP/1.1\r\nHost: x\r\n", name, ": x\r\n\r\n");
    const Reply reply = Exchange((*server)->port(), request);
    EXPECT_TRUE(absl::StartsWith(reply.text, "HTTP/1.1 400 Bad Request\r\n"))
        << absl::CHexEscape(request) << "\n" << reply.text;
    EXPECT_TRUE(absl::StrContains(reply.text, "field name"))
        << absl::CHexEscape(request) << "\n" << reply.text;
  }
  // Every tchar is a name's.
  const Reply tchars = Exchange(
      (*server)->port(),
      "GET /healthz HTTP/1.1\r\nHost: x\r\nX-a_b.c!#$%&'*+^`|~9: x\r\n\r\n");
  EXPECT_TRUE(absl::StartsWith(tchars.text, "HTTP/1.1 200 OK\r\n")) << tchars.text;
}

// RFC 9112 §5.2: a line that starts with a space or a tab continues the
// field before it (obs-fold), and a server must reject it with 400 or unfold
// it; §2.2: one right after the request line must be rejected or ignored.
// Both were skipped, the request served 200 (`Host: x` folded onto ` y` was
// read as Host x, where an unfolding reader sees Host "x y").
TEST(AdminHttpTest, AnObsFoldedFieldLineIsAnswered400) {
  absl::StatusOr<std::unique_ptr<AdminHttpServer>> server =
      AdminHttpServer::Start("127.0.0.1:0", StatusOrEcho);
  ASSERT_TRUE(server.ok()) << server.status();
  for (const char* request :
       {"GET /healthz HTTP/1.1\r\nHost: x\r\n y\r\n\r\n",
        "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Trace: a\r\n\tb\r\n\r\n",
        "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Trace: a\r\n b: c\r\n\r\n",
        "GET /healthz HTTP/1.0\r\n Host: x\r\n\r\n",
        "GET /healthz HTTP/1.0\n\tAccept: */*\n\n"}) {
    const Reply reply = Exchange((*server)->port(), request);
    EXPECT_TRUE(absl::StartsWith(reply.text, "HTTP/1.1 400 Bad Request\r\n"))
        << absl::CHexEscape(request) << "\n" << reply.text;
    EXPECT_TRUE(absl::StrContains(reply.text, "folded"))
        << absl::CHexEscape(request) << "\n" << reply.text;
  }
}

// RFC 9112 §2.2: a bare CR (one not followed by LF) in a field line must be
// taken as invalid, or replaced with a space before the field is read.
// Neither was done: `X: a\rb` was served, and `Host: x\r\r\n` too, as Host
// x, its CR stripped as if it were whitespace around the value (which is
// spaces and tabs only, RFC 9110 §5.6.3).
TEST(AdminHttpTest, ABareCarriageReturnInAFieldLineIsAnswered400) {
  absl::StatusOr<std::unique_ptr<AdminHttpServer>> server =
      AdminHttpServer::Start("127.0.0.1:0", StatusOrEcho);
  ASSERT_TRUE(server.ok()) << server.status();
  for (const char* request :
       {"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Trace: a\rb\r\n\r\n",
        "GET /healthz HTTP/1.1\r\nHost: x\r\r\n\r\n",
        "GET /healthz HTTP/1.1\r\nHost: \rx\r\n\r\n",
        "GET /healthz HTTP/1.0\nX-Trace: a\r\r\n\n"}) {
    const Reply reply = Exchange((*server)->port(), request);
    EXPECT_TRUE(absl::StartsWith(reply.text, "HTTP/1.1 400 Bad Request\r\n"))
        << absl::CHexEscape(request) << "\n" << reply.text;
    EXPECT_TRUE(absl::StrContains(reply.text, "bare CR"))
        << absl::CHexEscape(request) << "\n" << reply.text;
  }
}

// Each of `requests`, on a connection that lives a minute, is answered 400
// naming the bare CR, and closed with FIN.
void ExpectEachAnswered400ForABareCr(std::initializer_list<const char*> requests) {
  absl::StatusOr<std::unique_ptr<AdminHttpServer>> server =
      AdminHttpServer::Start("127.0.0.1:0", StatusOrEcho, std::chrono::minutes(1));
  ASSERT_TRUE(server.ok()) << server.status();
  for (const char* request : requests) {
    const Reply reply = Exchange((*server)->port(), request);
    EXPECT_TRUE(absl::StartsWith(reply.text, "HTTP/1.1 400 Bad Request\r\n"))
        << absl::CHexEscape(request) << "\n" << reply.text;
    EXPECT_TRUE(absl::StrContains(reply.text, "bare CR"))
        << absl::CHexEscape(request) << "\n" << reply.text;
    EXPECT_EQ(reply.error, 0) << strerror(reply.error);  // FIN, not RST
  }
  ASSERT_TRUE(WaitUntil([&] { return (*server)->open_connections() == 0; }));
}

// A head that ends in a bare CR before its last line feed (`Host: x\r\n`,
// then `\r\r\n`) has no empty line, and the server waited for one: the
// client was closed unanswered at the deadline, 5 s later, where the bare CR
// made the head malformed as soon as it came. Here the connection lives a
// minute: the old code left the client to its 10 s receive timeout, without
// a reply.
TEST(AdminHttpTest, ABareCarriageReturnEndingTheHeadIsAnswered400AtOnce) {
  ExpectEachAnswered400ForABareCr({"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\r\n",
                                   "GET /healthz HTTP/1.1\r\nHost: x\r\n\rX: y",
                                   "GET /healthz HTTP/1.0\n\r\r\n",
                                   "GET /healthz HTTP/1.1\r\nHost: x\rX-Never-Ends: y"});
}

// The same in the request line: a client whose lines end in a bare CR
// (`GET /healthz HTTP/1.1\rHost: x\r\r`) sends no line feed, and the server
// waited for one to end the request line: the client was closed unanswered
// at the deadline, where the bare CR made the line malformed as soon as the
// byte after it came (RFC 9112 §2.2). Here the connection lives a minute:
// the old code left the client to its 10 s receive timeout, without a reply.
TEST(AdminHttpTest, ABareCarriageReturnInTheRequestLineIsAnswered400AtOnce) {
  ExpectEachAnswered400ForABareCr({"GET /healthz HTTP/1.1\rHost: x\r\r",
                                   "GET /healthz\rHTTP/1.1",
                                   "\r\nGET /healthz HTTP/1.0\r\r"});
}

// RFC 9112 §3.2: a Host field's value is RFC 3986's uri-host [":" port], and
// a server must answer 400 to a request whose Host is anything else. One with
// a space, a userinfo '@', or a port that is not a port number was served.
TEST(AdminHttpTest, AHostThatIsNotAHostAndPortIsAnswered400) {
  absl::StatusOr<std::unique_ptr<AdminHttpServer>> server =
      AdminHttpServer::Start("127.0.0.1:0", StatusOrEcho);
  ASSERT_TRUE(server.ok()) << server.status();
  for (const char* host : {"a b", "user@x", "x:abc", "x:99999", "x:-1", "x:+80",
                           "x:1:2", "[::1", "[::1]x", "[zz]:80", "x/y", "%zz",
                           "x?", "::1"}) {
    for (const char* version : {"HTTP/1.1", "HTTP/1.0"}) {
      const std::string request =
          absl::StrCat("GET /healthz ", version, "\r\nHost: ", host, "\r\n\r\n");
      const Reply reply = Exchange((*server)->port(), request);
      EXPECT_TRUE(absl::StartsWith(reply.text, "HTTP/1.1 400 Bad Request\r\n"))
          << absl::CHexEscape(request) << "\n" << reply.text;
      EXPECT_TRUE(absl::StrContains(reply.text, "Host")) << reply.text;
    }
  }
  // A name, an IPv4 or bracketed IPv6 address, each with or without a port
  // (RFC 3986's port may be empty), a percent-escape in a name, and an empty
  // value (RFC 9110 §7.2) are all a Host.
  for (const char* host : {"x", "x:9090", "x:", "x:65535", "my-host.example",
                           "127.0.0.1:9090", "[::1]", "[::1]:9090",
                           "[v1.fe80::a+en1]", "%41bc", "a!$&'()*+,;=~_"}) {
    const std::string request =
        absl::StrCat("GET /healthz HTTP/1.1\r\nHost: ", host, "\r\n\r\n");
    const Reply reply = Exchange((*server)->port(), request);
    EXPECT_TRUE(absl::StartsWith(reply.text, "HTTP/1.1 200 OK\r\n"))
        << absl::CHexEscape(request) << "\n" << reply.text;
  }
}

// Percent-escapes in the path were passed on as they came: `/%6Detrics`,
// which RFC 3986 §6.2.2.2 makes the same URI as `/metrics`, was 404, and
// `/%zz`, no URI at all, was served as a path. Escapes of unreserved
// characters are decoded; the others (`%2F` is not '/', `%3F` not '?') stay
// escaped, their hex in upper case (§6.2.2.1); a bad escape is 400.
TEST(AdminHttpTest, PercentEscapesInThePathAreDecodedAsRfc3986Says) {
  absl::StatusOr<std::unique_ptr<AdminHttpServer>> server =
      AdminHttpServer::Start("127.0.0.1:0", StatusOrEcho);
  ASSERT_TRUE(server.ok()) << server.status();
  const int port = (*server)->port();
  const std::pair<const char*, const char*> kServed[] = {
      {"/%6Detrics", "/metrics"},     {"/%6detrics", "/metrics"},
      {"/%41%7a%30%2D%2E%5F%7E", "/Az0-._~"},
      {"/healthz%3F", "/healthz%3F"}, {"/healthz%3f", "/healthz%3F"},
      {"/a%2fb", "/a%2Fb"},           {"/a%20b%00", "/a%20b%00"},
      {"/%25zz", "/%25zz"},           {"/healthz?x=%zz", "/healthz"},
      {"http://x/%68ealthz?%", "/healthz"}};
  for (const auto& [target, path] : kServed) {
    const Reply reply = Exchange(
        port, absl::StrCat("GET ", target, " HTTP/1.1\r\nHost: x\r\n\r\n"));
    EXPECT_TRUE(absl::StartsWith(reply.text, "HTTP/1.1 200 OK\r\n"))
        << target << "\n" << reply.text;
    EXPECT_EQ(Body(reply.text), path) << target;
  }
  for (const char* target : {"/%zz", "/healthz%", "/healthz%4", "/%g0", "/%%41",
                             "http://x/%zz"}) {
    const Reply reply = Exchange(
        port, absl::StrCat("GET ", target, " HTTP/1.1\r\nHost: x\r\n\r\n"));
    EXPECT_TRUE(absl::StartsWith(reply.text, "HTTP/1.1 400 Bad Request\r\n"))
        << target << "\n" << reply.text;
    EXPECT_TRUE(absl::StrContains(std::string(Body(reply.text)), "percent"))
        << target << "\n" << reply.text;
  }
}

// RFC 9112 §3.2: a server should answer 400 to an invalid request-line, and
// a request target's path is RFC 3986's segments of pchar (§3.3): `GET /a<b`
// was served, as were a space's worth of others no URI holds. The query is
// not read, and Prometheus federation sends `?match[]=` with its brackets
// raw: it stays lenient, refusing only control characters (a CR or a tab,
// which no request line holds either).
TEST(AdminHttpTest, ATargetPathWithACharacterNoUriHoldsIsAnswered400) {
  absl::StatusOr<std::unique_ptr<AdminHttpServer>> server =
      AdminHttpServer::Start("127.0.0.1:0", StatusOrEcho, std::chrono::minutes(1));
  ASSERT_TRUE(server.ok()) << server.status();
  const int port = (*server)->port();
  for (const std::string target :
       {"/a<b", "/a>b", "/a\"b", "/a{b}", "/a|b", "/a\\b", "/a^b", "/a`b",
        "/a[0]", "/a#b", "/healthz\x80", "http://x/a<b", "/a\tb",
        "/healthz?a\rb", "/healthz?a\tb"}) {
    const std::string request =
        absl::StrCat("GET ", target, " HTTP/1.1\r\nHost: x\r\n\r\n");
    const Reply reply = Exchange(port, request);
    EXPECT_TRUE(absl::StartsWith(reply.text, "HTTP/1.1 400 Bad Request\r\n"))
        << absl::CHexEscape(request) << "\n" << reply.text;
    // A CR is refused for what it is, a bare CR, as soon as the byte after
    // it comes (ABareCarriageReturnInTheRequestLineIsAnswered400AtOnce).
    EXPECT_TRUE(absl::StrContains(std::string(Body(reply.text)),
                                  absl::StrContains(target, "\r") ? "bare CR" : "target"))
        << absl::CHexEscape(request) << "\n" << reply.text;
    EXPECT_EQ(reply.error, 0) << strerror(reply.error);  // FIN, not RST
  }
  // Every pchar and '/' is a path; the query may hold what it likes.
  const std::pair<const char*, const char*> kServed[] = {
      {"/a-._~!$&'()*+,;=:@/b", "/a-._~!$&'()*+,;=:@/b"},
      {"/federate?match[]={job=\"x\"}&a<b>|^`\\#\x80", "/federate"},
      {"http://x:1/healthz?match[]=up", "/healthz"}};
  for (const auto& [target, path] : kServed) {
    const Reply reply = Exchange(
        port, absl::StrCat("GET ", target, " HTTP/1.1\r\nHost: x\r\n\r\n"));
    EXPECT_TRUE(absl::StartsWith(reply.text, "HTTP/1.1 200 OK\r\n"))
        << absl::CHexEscape(target) << "\n" << reply.text;
    EXPECT_EQ(Body(reply.text), path) << target;
  }
}

// RFC 9112 §3.2.2: an absolute-form target's authority is uri-host
// [":" port]. Only its path was read, and `GET http://a<b/healthz` was
// served 200; an invalid request line is 400 (§3). RFC 9110 §4.2.1: an http
// URI with an empty host must be rejected; `GET http:///healthz` and
// `GET http://:80/healthz` were served 200.
TEST(AdminHttpTest, AnAbsoluteFormAuthorityThatIsNotAHostAndPortIsAnswered400) {
  absl::StatusOr<std::unique_ptr<AdminHttpServer>> server =
      AdminHttpServer::Start("127.0.0.1:0", StatusOrEcho);
  ASSERT_TRUE(server.ok()) << server.status();
  const int port = (*server)->port();
  for (const char* target : {"http://a<b/healthz", "http://user@x/healthz", "http://x:99999/",
                             "http:///healthz", "http://:80/healthz"}) {
    const Reply reply = Exchange(
        port, absl::StrCat("GET ", target, " HTTP/1.1\r\nHost: x\r\n\r\n"));
    EXPECT_TRUE(absl::StartsWith(reply.text, "HTTP/1.1 400 Bad Request\r\n"))
        << target << "\n" << reply.text;
    EXPECT_TRUE(absl::StrContains(std::string(Body(reply.text)), "authority"))
        << target << "\n" << reply.text;
  }
}

// The admin port speaks http only, so an absolute-form target's scheme is
// http or https, in any case (RFC 3986 §3.1); any other was served 200:
// `GET foo://x/healthz`.
TEST(AdminHttpTest, AnAbsoluteFormTargetWhoseSchemeIsNotHttpIsAnswered400) {
  absl::StatusOr<std::unique_ptr<AdminHttpServer>> server =
      AdminHttpServer::Start("127.0.0.1:0", StatusOrEcho);
  ASSERT_TRUE(server.ok()) << server.status();
  const int port = (*server)->port();
  for (const char* target : {"foo://x/healthz", "ftp://x/healthz", "httpx://x/healthz"}) {
    const Reply reply = Exchange(
        port, absl::StrCat("GET ", target, " HTTP/1.1\r\nHost: x\r\n\r\n"));
    EXPECT_TRUE(absl::StartsWith(reply.text, "HTTP/1.1 400 Bad Request\r\n"))
        << target << "\n" << reply.text;
    EXPECT_TRUE(absl::StrContains(std::string(Body(reply.text)), "scheme"))
        << target << "\n" << reply.text;
  }
  for (const char* target : {"HTTP://x/healthz", "HtTp://x/healthz"}) {
    const Reply reply = Exchange(
        port, absl::StrCat("GET ", target, " HTTP/1.1\r\nHost: x\r\n\r\n"));
    EXPECT_TRUE(absl::StartsWith(reply.text, "HTTP/1.1 200 OK\r\n"))
        << target << "\n" << reply.text;
    EXPECT_EQ(Body(reply.text), "/healthz") << target;
  }
}

// RFC 9110 §4.2.2 and §7.4: a request for an https resource must be
// rejected unless it came over a secured connection, and this port is plain
// http; §15.5.20's 421 Misdirected Request says the server will not answer
// for that target. `GET https://x/healthz` was served 200, as if http, and a
// client that meant TLS was told its probe had passed over plaintext.
TEST(AdminHttpTest, AnHttpsAbsoluteFormTargetIsAnswered421) {
  absl::StatusOr<std::unique_ptr<AdminHttpServer>> server =
      AdminHttpServer::Start("127.0.0.1:0", StatusOrEcho);
  ASSERT_TRUE(server.ok()) << server.status();
  const int port = (*server)->port();
  for (const char* target : {"https://x/healthz", "HTTPS://x/metrics", "hTtPs://x:1/readyz?v"}) {
    for (const char* method : {"GET", "HEAD"}) {
      const Reply reply = Exchange(
          port, absl::StrCat(method, " ", target, " HTTP/1.1\r\nHost: x\r\n\r\n"));
      EXPECT_TRUE(absl::StartsWith(reply.text, "HTTP/1.1 421 Misdirected Request\r\n"))
          << method << " " << target << "\n" << reply.text;
      EXPECT_TRUE(absl::StrContains(reply.text, "\r\nConnection: close\r\n"))
          << method << " " << target << "\n" << reply.text;
      if (std::string_view(method) == "HEAD") continue;
      // One line that names why.
      const std::string body(Body(reply.text));
      EXPECT_TRUE(absl::StrContains(body, "https") && absl::EndsWith(body, "\n") &&
                  body.find('\n') == body.size() - 1)
          << method << " " << target << "\n" << reply.text;
    }
  }
}

// RFC 9110 §9.3.2: the server must not send content in a response to HEAD,
// and RFC 9112 §6.3 ends such a response at its head whatever its
// Content-Length says. A HEAD the port refused (no Host, a bad escape, a
// malformed line, another version, an https target, a head over the cap)
// was answered with the body anyway: bytes a client reading the next
// response on the connection takes for its start (curl -I: "Excess found").
TEST(AdminHttpTest, ARefusedHeadRequestIsAnsweredWithoutABody) {
  absl::StatusOr<std::unique_ptr<AdminHttpServer>> server =
      AdminHttpServer::Start("127.0.0.1:0", StatusOrEcho);
  ASSERT_TRUE(server.ok()) << server.status();
  const struct {
    std::string request;
    const char* status_line;
  } kCases[] = {
      {"HEAD /healthz HTTP/1.1\r\n\r\n", "HTTP/1.1 400 Bad Request\r\n"},
      {"HEAD /%zz HTTP/1.1\r\nHost: x\r\n\r\n", "HTTP/1.1 400 Bad Request\r\n"},
      {"HEAD /a<b HTTP/1.1\r\nHost: x\r\n\r\n", "HTTP/1.1 400 Bad Request\r\n"},
      {"HEAD /healthz HTTP/2.0\r\nHost: x\r\n\r\n",
       "HTTP/1.1 505 HTTP Version Not Supported\r\n"},
      {"HEAD https://x/healthz HTTP/1.1\r\nHost: x\r\n\r\n",
       "HTTP/1.1 421 Misdirected Request\r\n"},
      {"\r\nHEAD /healthz HTTP/1.1\r\nHost: x\r\n\x01\r\n\r\n",
       "HTTP/1.1 400 Bad Request\r\n"},
      {absl::StrCat("HEAD /healthz HTTP/1.1\r\nHost: x\r\nX-Padding: ",
                    std::string(2 * AdminHttpServer::kMaxHeadBytes, 'x'), "\r\n\r\n"),
       "HTTP/1.1 431 Request Header Fields Too Large\r\n"},
      {absl::StrCat("HEAD /", std::string(2 * AdminHttpServer::kMaxHeadBytes, 'a'),
                    " HTTP/1.1\r\n\r\n"),
       "HTTP/1.1 414 URI Too Long\r\n"},
  };
  for (const auto& c : kCases) {
    const std::string shown = absl::CHexEscape(c.request.substr(0, 60));
    const Reply reply = Exchange((*server)->port(), c.request);
    EXPECT_TRUE(absl::StartsWith(reply.text, c.status_line)) << shown << "\n" << reply.text;
    EXPECT_TRUE(absl::EndsWith(reply.text, "\r\n\r\n")) << shown << "\n" << reply.text;
    EXPECT_EQ(Body(reply.text), "") << shown;
  }
  // The same refusals of a GET keep their body, which names the rule.
  const Reply get = Exchange((*server)->port(), "GET /healthz HTTP/1.1\r\n\r\n");
  EXPECT_TRUE(absl::StrContains(std::string(Body(get.text)), "Host")) << get.text;
}

// While it lives, this process can open no file descriptor: the soft
// RLIMIT_NOFILE is lowered (so that filling the table takes at most 256
// descriptors, not the million a container may allow) and every number under
// it is taken. The destructor gives both back.
class FullFdTable {
 public:
  FullFdTable() {
    int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
    EXPECT_GE(null, 0);
    fds_.push_back(null);
    EXPECT_EQ(getrlimit(RLIMIT_NOFILE, &saved_), 0);
    rlimit low = saved_;
    low.rlim_cur = std::min<rlim_t>(saved_.rlim_cur, 256);
    EXPECT_EQ(setrlimit(RLIMIT_NOFILE, &low), 0);
    for (;;) {
      int fd = fcntl(null, F_DUPFD_CLOEXEC, 0);
      if (fd < 0) {
        EXPECT_EQ(errno, EMFILE);
        break;
      }
      fds_.push_back(fd);
    }
  }
  ~FullFdTable() {
    for (int fd : fds_) close(fd);
    setrlimit(RLIMIT_NOFILE, &saved_);
  }

 private:
  rlimit saved_{};
  std::vector<int> fds_;
};

// The addresses `host` resolves to that this machine can listen on (a
// container may resolve localhost to ::1 and have no IPv6).
std::vector<asio::ip::address> ListenableAddressesOf(const std::string& host) {
  asio::io_context io;
  asio::ip::tcp::resolver resolver(io);
  asio::error_code ec;
  auto results =
      resolver.resolve(host, "0", asio::ip::tcp::resolver::passive, ec);
  std::vector<asio::ip::address> addresses;
  for (const auto& entry : results) {
    const asio::ip::address a = entry.endpoint().address();
    if (std::find(addresses.begin(), addresses.end(), a) != addresses.end()) continue;
    asio::ip::tcp::acceptor probe(io);
    asio::error_code probe_ec;
    probe.open(entry.endpoint().protocol(), probe_ec);
    if (!probe_ec) probe.bind(entry.endpoint(), probe_ec);
    if (!probe_ec) addresses.push_back(a);
  }
  return addresses;
}

// gRPC listens on every address --listen's host resolves to; the admin port
// listened on the first alone: with "::1 localhost" and "127.0.0.1
// localhost" in /etc/hosts, --admin_listen=localhost:9090 was ::1 only, and
// a probe of 127.0.0.1:9090 was refused.
TEST(AdminHttpTest, AHostNameIsServedOnEveryAddressItResolvesTo) {
  const std::vector<asio::ip::address> addresses = ListenableAddressesOf("localhost");
  if (addresses.size() < 2) {
    GTEST_SKIP() << "localhost resolves to " << addresses.size()
                 << " address(es) this host can listen on (see /etc/hosts; "
                    "without ::1, one)";
  }
  absl::StatusOr<std::unique_ptr<AdminHttpServer>> server =
      AdminHttpServer::Start("localhost:0", StatusOrEcho);
  ASSERT_TRUE(server.ok()) << server.status();
  const auto port = static_cast<unsigned short>((*server)->port());
  for (const asio::ip::address& a : addresses) {
    asio::io_context io;
    asio::ip::tcp::socket client(io);
    asio::error_code ec;
    client.connect({a, port}, ec);
    ASSERT_FALSE(ec) << a << " port " << port << ": " << ec.message();
    const std::string_view request = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
    asio::write(client, asio::buffer(request), ec);
    ASSERT_FALSE(ec) << a << ": " << ec.message();
    std::string reply;
    asio::read(client, asio::dynamic_buffer(reply), ec);  // to the server's close
    EXPECT_TRUE(absl::StartsWith(reply, "HTTP/1.1 200 OK")) << a << ": " << reply;
    EXPECT_EQ(Body(reply), "/healthz") << a;
  }
  // Stop closes every one of them: none is left taking connections that
  // nothing answers.
  (*server)->Stop();
  for (const asio::ip::address& a : addresses) {
    asio::io_context io;
    asio::ip::tcp::socket client(io);
    asio::error_code ec;
    client.connect({a, port}, ec);
    EXPECT_EQ(ec, asio::error::connection_refused) << a << ": " << ec.message();
  }
}

// Listening on every address changed nothing of how a port in use fails:
// the address and the system's reason, for a host of one address or of
// several.
TEST(AdminHttpTest, APortInUseFailsNamingTheAddressAndTheReason) {
  for (const char* host : {"127.0.0.1", "localhost"}) {
    absl::StatusOr<std::unique_ptr<AdminHttpServer>> first =
        AdminHttpServer::Start(absl::StrCat(host, ":0"), StatusOrEcho);
    ASSERT_TRUE(first.ok()) << first.status();
    const std::string address = absl::StrCat(host, ":", (*first)->port());
    absl::StatusOr<std::unique_ptr<AdminHttpServer>> second =
        AdminHttpServer::Start(address, StatusOrEcho);
    ASSERT_FALSE(second.ok()) << address << " was listened on twice";
    EXPECT_EQ(second.status(),
              absl::UnavailableError(absl::StrCat(
                  "cannot listen on '", address, "': Address already in use")));
  }
}

// Accepting again at once failed again at once: the admin thread spun at 100%
// CPU for as long as the descriptors were short (~1 s of CPU per second).
TEST(AdminHttpTest, FailedAcceptIsRetriedAfterADelayNotAtOnce) {
#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
  // A sanitizer's runtime probes memory through a pipe of its own (UBSan's
  // vptr check does, in Asio's scheduler): with no descriptor left, the probe
  // fails and it reports a bad object where there is none.
  GTEST_SKIP() << "needs a full descriptor table, which a sanitizer cannot "
                  "run with";
#endif
  absl::StatusOr<std::unique_ptr<AdminHttpServer>> server =
      AdminHttpServer::Start("127.0.0.1:0", [](std::string_view) {
        return HttpResponse{200, "text/plain", "up\n"};
      });
  ASSERT_TRUE(server.ok()) << server.status();
  int client = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(client, 0);
  timeval ten_seconds{10, 0};
  setsockopt(client, SOL_SOCKET, SO_RCVTIMEO, &ten_seconds, sizeof ten_seconds);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(static_cast<uint16_t>((*server)->port()));
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  {
    FullFdTable full;
    const auto before = std::chrono::steady_clock::now();
    // The kernel completes the handshake; only accept() needs a descriptor.
    ASSERT_EQ(connect(client, reinterpret_cast<sockaddr*>(&to), sizeof to), 0);
    ASSERT_TRUE(WaitUntil([&] { return (*server)->accept_failures() >= 3; }));
    // Three failures are two retries, each at least the delay after the last.
    EXPECT_GE(std::chrono::steady_clock::now() - before,
              2 * AdminHttpServer::kAcceptRetryDelay);
  }
  // With descriptors to spare again, the next retry takes the connection.
  const std::string request = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
  ASSERT_EQ(write(client, request.data(), request.size()),
            static_cast<ssize_t>(request.size()));
  std::string reply;
  char buf[512];
  for (ssize_t n; (n = read(client, buf, sizeof buf)) > 0;) reply.append(buf, n);
  close(client);
  EXPECT_TRUE(absl::StartsWith(reply, "HTTP/1.1 200 OK")) << reply;
  const int64_t failures = (*server)->accept_failures();
  (*server)->Stop();  // returns although a retry may have been pending
  EXPECT_GE(failures, 3);
}

// Each address has its own retry: with one timer for all, a failed accept
// on one address re-armed it and cancelled the retry another address
// waited on, which then never accepted again.
TEST(AdminHttpTest, AFailedAcceptIsRetriedOnEveryAddress) {
#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
  GTEST_SKIP() << "needs a full descriptor table, which a sanitizer cannot "
                  "run with";
#endif
  const std::vector<asio::ip::address> addresses = ListenableAddressesOf("localhost");
  if (addresses.size() < 2) {
    GTEST_SKIP() << "localhost resolves to " << addresses.size()
                 << " address(es) this host can listen on (see /etc/hosts)";
  }
  absl::StatusOr<std::unique_ptr<AdminHttpServer>> server =
      AdminHttpServer::Start("localhost:0", [](std::string_view) {
        return HttpResponse{200, "text/plain", "up\n"};
      });
  ASSERT_TRUE(server.ok()) << server.status();
  const auto port = static_cast<unsigned short>((*server)->port());
  asio::io_context io;
  std::vector<asio::ip::tcp::socket> clients;
  for (const asio::ip::address& a : addresses) {
    // Opened before the table is full; connecting takes no descriptor.
    asio::ip::tcp::socket& client = clients.emplace_back(io);
    client.open(asio::ip::tcp::endpoint(a, port).protocol());
    timeval ten_seconds{10, 0};
    setsockopt(client.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &ten_seconds,
               sizeof ten_seconds);
  }
  {
    FullFdTable full;
    for (size_t i = 0; i < addresses.size(); ++i) {
      asio::error_code ec;
      clients[i].connect({addresses[i], port}, ec);
      ASSERT_FALSE(ec) << addresses[i] << ": " << ec.message();
    }
    // Each address fails at least once, and is retried.
    ASSERT_TRUE(WaitUntil([&] {
      return (*server)->accept_failures() >= 2 * static_cast<int64_t>(addresses.size());
    }));
  }
  // Every request is sent before any reply is read: a reply waited for
  // first would hold the next request back past its connection's deadline.
  const std::string_view request = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
  for (size_t i = 0; i < addresses.size(); ++i) {
    asio::error_code ec;
    asio::write(clients[i], asio::buffer(request), ec);
    ASSERT_FALSE(ec) << addresses[i] << ": " << ec.message();
  }
  for (size_t i = 0; i < addresses.size(); ++i) {
    // By its descriptor: a read gives up at SO_RCVTIMEO, where Asio's would
    // wait on for a connection never accepted.
    const Reply reply = SendAndReadToEnd(clients[i].release(), "");
    EXPECT_TRUE(absl::StartsWith(reply.text, "HTTP/1.1 200 OK"))
        << addresses[i] << " was not accepted again: " << strerror(reply.error)
        << " " << reply.text;
  }
}

}  // namespace
}  // namespace handoff
