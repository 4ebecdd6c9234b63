// Copyright 2026 The handoff Authors.

#include "server/admin_http.h"

#include <algorithm>
#include <asio.hpp>
#include <atomic>
#include <cstddef>
#include <iterator>
#include <list>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "server/request_head.h"
#include "server/tcp_listen.h"

namespace handoff {

namespace {

// RFC 9110's reason phrase for each status this server and its routes send.
// Clients go by the code, but people read the phrase (curl -v, a probe's
// event), and "400 Error" told them less than "400 Bad Request".
const char* Reason(int status) {
  switch (status) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 414: return "URI Too Long";
    case 421: return "Misdirected Request";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    case 505: return "HTTP Version Not Supported";
    default: return "";  // RFC 9112 §4: the phrase may be empty, not wrong
  }
}

// A byte no request head holds: a control character other than HTAB, CR and
// LF (RFC 9110 §5.5, RFC 9112 §3). A TLS ClientHello begins with one (0x16):
// `curl https://` or a scrape with `scheme: https` against this plain-HTTP
// port.
bool IsControl(char c) {
  const auto u = static_cast<unsigned char>(c);
  return (u < 0x20 && c != '\t' && c != '\r' && c != '\n') || u == 0x7f;
}

using HeadIterator =
    asio::buffers_iterator<asio::streambuf::const_buffers_type>;

// Asio match condition for the end of a request head: an empty line. RFC 9112
// §2.2 lets a recipient take a bare LF for CRLF, and a request typed into nc
// or printf often has one, so "\n\n" and "\n\r\n" end a head as "\r\n\r\n"
// does. A control character ends it too, malformed: waiting on for an empty
// line that a client speaking something else never sends left it to the
// deadline, 5 s later, to learn nothing but a closed connection. So does a
// bare CR (one followed by a byte other than LF), with that byte, so that
// the line it ends still holds it for RefuseBadFields: a head ending
// `\r\n\r\r\n` has no empty line, and its client waited 5 s for nothing.
std::pair<HeadIterator, bool> EndOfHead(HeadIterator begin, HeadIterator end) {
  for (HeadIterator i = begin; i != end; ++i) {
    if (IsControl(*i)) return {std::next(i), true};
    if (*i == '\r') {
      HeadIterator next = std::next(i);
      if (next == end) return {i, false};  // look again from i with more bytes
      if (*next != '\n') return {std::next(next), true};
      continue;
    }
    if (*i != '\n') continue;
    HeadIterator next = std::next(i);
    if (next != end && *next == '\r') ++next;
    if (next == end) return {i, false};  // look again from i with more bytes
    if (*next == '\n') return {std::next(next), true};
  }
  return {end, false};
}

// Asio match condition for the end of a line, the request line's first: a
// line feed, or a control character, which no request line holds. So does a
// bare CR, with the byte after it, as in EndOfHead: a client whose lines end
// in CR alone sends no line feed, and waited 5 s to be closed unanswered.
std::pair<HeadIterator, bool> EndOfLine(HeadIterator begin, HeadIterator end) {
  for (HeadIterator i = begin; i != end; ++i) {
    if (*i == '\n' || IsControl(*i)) return {std::next(i), true};
    if (*i == '\r') {
      HeadIterator next = std::next(i);
      if (next == end) return {i, false};  // look again from i with more bytes
      if (*next != '\n') return {std::next(next), true};
    }
  }
  return {end, false};
}

// The whole of a response: status line, head and (unless to a HEAD) body.
std::string Serialize(const HttpResponse& r, bool head_only) {
  std::string out = absl::StrCat(
      "HTTP/1.1 ", r.status, " ", Reason(r.status),
      "\r\nContent-Type: ", r.content_type,
      "\r\nContent-Length: ", r.body.size(), "\r\nConnection: close\r\n");
  // RFC 9110 §15.5.6: a 405 must list the methods the target allows, and
  // every target here allows the same two.
  if (r.status == 405) out += "Allow: GET, HEAD\r\n";
  out += "\r\n";
  if (!head_only) out += r.body;
  return out;
}

// Whether a head, from its first bytes on, is a HEAD request's. RFC 9110
// §9.3.2: a response to HEAD carries no content, a refusal's neither, and
// RFC 9112 §6.3 ends it at its head whatever Content-Length says: a refused
// HEAD was sent its body, bytes a client takes for the next response's.
bool IsHeadRequest(absl::string_view head) {
  return absl::StartsWith(FromRequestLine(head), "HEAD ");
}

// Sends `response` on a socket that has not been written to, and closes it,
// before this returns: without waiting for the request.
void AnswerAndClose(asio::ip::tcp::socket& socket, const std::string& response) {
  asio::error_code ignored;
  socket.non_blocking(true, ignored);
  // What the client has sent already is read and dropped, so that close()
  // ends the connection with FIN after the response, not with a RST that can
  // overtake it (see DiscardUntilClosed). A request still on its way meets a
  // closed socket and draws a RST; the client has the response by then on
  // loopback, and the request fails either way.
  char request[AdminHttpServer::kMaxHeadBytes];
  socket.read_some(asio::buffer(request), ignored);
  // Nothing was written before: the send buffer has room, this does not block.
  asio::write(socket, asio::buffer(response), ignored);
  socket.shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
  socket.close(ignored);
}

class Connection;
// The connections that hold a descriptor while they wait on their client:
// for its request head, or, answered, for it to close. Oldest wait first.
// Only the admin thread touches it.
using IdleConnections = std::list<Connection*>;

// One connection: read the request head, answer, close.
class Connection : public std::enable_shared_from_this<Connection> {
 public:
  // `open` counts the connections whose socket is open, this one among
  // them until it closes; `idle` lists it while it waits on its client.
  Connection(asio::ip::tcp::socket socket, const HttpRoutes& routes,
             std::atomic<int>& open, IdleConnections& idle)
      : socket_(std::move(socket)), deadline_(socket_.get_executor()),
        routes_(routes), open_(open), idle_(idle),
        buffer_(AdminHttpServer::kMaxHeadBytes) {
    open_.fetch_add(1, std::memory_order_relaxed);
  }
  ~Connection() {
    Unlist();
    Uncount();
  }

  // Closes the connection `deadline` from now, whatever it is doing then.
  void Start(std::chrono::milliseconds deadline) {
    auto self = shared_from_this();
    deadline_.expires_after(deadline);
    deadline_.async_wait([self](const asio::error_code& ec) {
      if (!ec) self->Close();  // the client took too long
    });
    ReadRequestLine();
    List();
  }

  // Closes this idle connection to make room for a new one: a client that
  // has sent no request yet is told 408 Request Timeout first (RFC 9110
  // §15.5.9: the server would not wait for it), one already answered has
  // all it asked for.
  void Evict() {
    static const std::string kResponse =
        Serialize({408, "text/plain", "no request in time\n"}, false);
    if (!answered_) AnswerAndClose(socket_, kResponse);
    Close();
  }

 private:
  void List() {
    if (listed_) return;
    at_ = idle_.insert(idle_.end(), this);
    listed_ = true;
  }
  void Unlist() {
    if (!listed_) return;
    idle_.erase(at_);
    listed_ = false;
  }
  void Uncount() {
    if (!counted_) return;
    open_.fetch_sub(1, std::memory_order_relaxed);
    counted_ = false;
  }

  // The request line is read, and judged, before the rest of the head: a
  // client of another protocol (an SSH banner, a Redis PING) sends a line
  // that is none, and then no empty line, and was answered nothing until the
  // deadline closed the connection.
  void ReadRequestLine() {
    auto self = shared_from_this();
    asio::async_read_until(
        socket_, buffer_, &EndOfLine,
        [self](const asio::error_code& ec, size_t line_bytes) {
          self->OnRequestLine(ec, line_bytes);
        });
  }

  void OnRequestLine(const asio::error_code& ec, size_t line_bytes) {
    // Over the cap (414), closed, or a control character: as a whole head.
    if (ec || IsControl(*std::prev(asio::buffers_begin(buffer_.data()) +
                                   static_cast<std::ptrdiff_t>(line_bytes)))) {
      OnHead(ec, line_bytes);
      return;
    }
    std::string line(asio::buffers_begin(buffer_.data()),
                     asio::buffers_begin(buffer_.data()) +
                         static_cast<std::ptrdiff_t>(line_bytes));
    // RFC 9112 §2.2: empty lines before the request line are ignored: this
    // one and every whole one read with it, at once (one a handler, 2.6 MB/s
    // of them held this thread at 100% of a core), and no more of them than
    // a head may hold, or a client could send them for as long as it liked.
    // A CR the last read split from its LF stays, for the next read to end.
    if (line == "\n" || line == "\r\n") {
      const asio::const_buffer data = buffer_.data();
      const absl::string_view buffered(static_cast<const char*>(data.data()), data.size());
      const size_t empty = buffered.size() - FromRequestLine(buffered).size();
      buffer_.consume(empty);
      empty_line_bytes_ += empty;
      if (empty_line_bytes_ > AdminHttpServer::kMaxHeadBytes) {
        Unlist();
        Respond({400, "text/plain",
                 "bad request: over 8 KiB of empty lines before the request line\n"},
                false);
        return;
      }
      ReadRequestLine();
      return;
    }
    absl::string_view request_line = line;
    absl::ConsumeSuffix(&request_line, "\n");
    absl::ConsumeSuffix(&request_line, "\r");
    // A CR left is a bare one, which ended the line (EndOfLine).
    if (request_line.find('\r') != absl::string_view::npos) {
      Unlist();
      Respond({400, "text/plain",
               "bad request: a bare CR (not followed by LF) in the request "
               "line (RFC 9112 section 2.2)\n"},
              IsHeadRequest(line));
      return;
    }
    if (std::optional<HttpResponse> refusal =
            RefuseMalformed(absl::StrSplit(request_line, ' '))) {
      Unlist();
      Respond(*refusal, IsHeadRequest(line));
      return;
    }
    // The rest of the head; the request line stays in buffer_, for OnHead.
    auto self = shared_from_this();
    asio::async_read_until(
        socket_, buffer_, &EndOfHead,
        [self](const asio::error_code& ec, size_t head_bytes) {
          self->OnHead(ec, head_bytes);
        });
  }

  // `head_bytes`: the head's, up to and with the empty line (or the control
  // character) that ended it; what follows in buffer_ is the client's next.
  void OnHead(const asio::error_code& ec, size_t head_bytes) {
    Unlist();
    if (ec && ec != asio::error::not_found) {
      Close();
      return;
    }
    const std::string head(asio::buffers_begin(buffer_.data()),
                           asio::buffers_end(buffer_.data()));
    const bool head_only = IsHeadRequest(head);
    // not_found: buffer_ filled up to kMaxHeadBytes before an empty line.
    // RFC 9112 §3: a target longer than the server will parse is 414, not
    // 431; the request line has no end within the cap only if it is that.
    if (ec == asio::error::not_found) {
      if (FromRequestLine(head).find('\n') == absl::string_view::npos) {
        Respond({414, "text/plain", "request line over 8 KiB\n"}, head_only);
      } else {
        Respond({431, "text/plain", "request head over 8 KiB\n"}, head_only);
      }
      return;
    }
    if (std::any_of(head.begin(),
                    head.begin() + static_cast<std::ptrdiff_t>(
                                       std::min(head_bytes, head.size())),
                    &IsControl)) {
      Respond({400, "text/plain",
               "bad request: a control character in the request head (a TLS "
               "client? this port is plain HTTP)\n"},
              head_only);
      return;
    }
    absl::string_view line = FromRequestLine(head);
    line = line.substr(0, line.find('\n'));
    absl::ConsumeSuffix(&line, "\r");
    std::vector<absl::string_view> parts = absl::StrSplit(line, ' ');
    if (std::optional<HttpResponse> refusal = RefuseMalformed(parts)) {
      Respond(*refusal, head_only);
    } else if (std::optional<HttpResponse> bad_fields = RefuseBadFields(
                   FromRequestLine(absl::string_view(head).substr(0, head_bytes)),
                   parts[2])) {
      Respond(*bad_fields, head_only);
    } else if (parts[0] != "GET" && parts[0] != "HEAD") {
      Respond({405, "text/plain", "only GET and HEAD\n"}, false);
    } else {
      const std::optional<std::string> path = NormalizeEscapes(TargetPath(parts[1]));
      if (!path) {
        Respond({400, "text/plain",
                 "bad request: a malformed percent-escape in the path (want % "
                 "and two hex digits)\n"},
                head_only);
      } else {
        Respond(routes_(*path), head_only);
      }
    }
  }

  void Respond(const HttpResponse& r, bool head_only) {
    out_ = Serialize(r, head_only);
    auto self = shared_from_this();
    asio::async_write(socket_, asio::buffer(out_),
                      [self](const asio::error_code& ec, size_t) {
                        if (ec) {
                          self->Close();
                          return;
                        }
                        asio::error_code ignored;
                        self->socket_.shutdown(
                            asio::ip::tcp::socket::shutdown_send, ignored);
                        self->answered_ = true;
                        self->List();
                        self->DiscardUntilClosed();
                      });
  }

  // Closing a socket with input still unread makes the kernel send RST, not
  // FIN, and a reset can overtake the response: a head over 8 KiB, the rest
  // of it unread, got curl's "Connection reset by peer" and no 431. So once
  // the response is out, the rest of the request is read and dropped until
  // the client closes, as it does on reading a Connection: close response,
  // or until the deadline.
  void DiscardUntilClosed() {
    buffer_.consume(buffer_.size());  // the head is done with
    auto self = shared_from_this();
    socket_.async_read_some(buffer_.prepare(buffer_.max_size()),
                            [self](const asio::error_code& ec, size_t) {
                              if (ec) {
                                self->Close();
                              } else {
                                self->DiscardUntilClosed();
                              }
                            });
  }

  // Idempotent. The descriptor is given back here, not when the last
  // handler lets go of this: the cap counts descriptors.
  void Close() {
    Unlist();
    deadline_.cancel();
    asio::error_code ignored;
    socket_.close(ignored);
    Uncount();
  }

  asio::ip::tcp::socket socket_;
  asio::steady_timer deadline_;
  const HttpRoutes& routes_;
  std::atomic<int>& open_;
  bool counted_ = true;  // in open_
  IdleConnections& idle_;
  IdleConnections::iterator at_;  // in idle_, while listed_
  bool listed_ = false;
  bool answered_ = false;  // the response is out: waiting for the close
  size_t empty_line_bytes_ = 0;  // skipped before the request line
  asio::streambuf buffer_;
  std::string out_;
};

// A connection over AdminHttpServer::kMaxConnections, none of them idle, is
// answered 503 and closed at once: it must not hold its descriptor as long
// as the connections it was refused for.
void Refuse(asio::ip::tcp::socket socket) {
  static const std::string kResponse = Serialize(
      {503, "text/plain", "too many admin connections\n"}, false);
  AnswerAndClose(socket, kResponse);
}

}  // namespace

struct AdminHttpServer::Impl {
  // One of the addresses the admin address resolves to (server/tcp_listen.h).
  struct Listener {
    explicit Listener(asio::ip::tcp::acceptor a)
        : acceptor(std::move(a)), retry(acceptor.get_executor()) {}
    asio::ip::tcp::acceptor acceptor;
    // Its next accept after a failed one: a timer each, since one shared
    // would cancel one listener's retry when another's accept failed, and
    // that listener would accept no more.
    asio::steady_timer retry;
  };

  Impl(HttpRoutes r, std::chrono::milliseconds deadline)
      : routes(std::move(r)), connection_deadline(deadline),
        work(io.get_executor()) {}

  void Accept(Listener& l) {
    l.acceptor.async_accept([this, &l](const asio::error_code& ec,
                                       asio::ip::tcp::socket socket) {
      if (!ec) {
        // At the cap, the connection that has waited longest on its client
        // makes room: else 64 clients that connect and send nothing, each
        // connecting again when closed, kept every scrape and probe out.
        if (open_connections.load(std::memory_order_relaxed) >=
                AdminHttpServer::kMaxConnections &&
            !idle.empty()) {
          idle.front()->Evict();
        }
        if (open_connections.load(std::memory_order_relaxed) <
            AdminHttpServer::kMaxConnections) {
          std::make_shared<Connection>(std::move(socket), routes,
                                       open_connections, idle)
              ->Start(connection_deadline);
        } else {
          Refuse(std::move(socket));
        }
        Accept(l);
        return;
      }
      if (ec == asio::error::operation_aborted || !l.acceptor.is_open()) return;
      accept_failures.fetch_add(1, std::memory_order_relaxed);
      // EMFILE, ENFILE, ENOBUFS last until something else frees descriptors
      // or memory, and the connection stays in the backlog: accepting again
      // at once fails again at once, and the admin thread spun at 100% CPU,
      // taking a core from the workers while the process was already short.
      l.retry.expires_after(AdminHttpServer::kAcceptRetryDelay);
      l.retry.async_wait([this, &l](const asio::error_code& wait_ec) {
        if (!wait_ec && l.acceptor.is_open()) Accept(l);
      });
    });
  }

  HttpRoutes routes;
  const std::chrono::milliseconds connection_deadline;
  // Before io: Connections still queued in io when it is destroyed count
  // themselves out of these as they go.
  std::atomic<int> open_connections{0};
  IdleConnections idle;
  asio::io_context io;
  // A list: the handlers of each Listener hold its address.
  std::list<Listener> listeners;
  asio::executor_work_guard<asio::io_context::executor_type> work;
  std::thread thread;
  int port = 0;
  std::atomic<int64_t> accept_failures{0};
  bool stopped = false;
};

AdminHttpServer::AdminHttpServer(std::unique_ptr<Impl> impl)
    : impl_(std::move(impl)) {}

AdminHttpServer::~AdminHttpServer() { Stop(); }

int AdminHttpServer::port() const { return impl_->port; }

int64_t AdminHttpServer::accept_failures() const {
  return impl_->accept_failures.load(std::memory_order_relaxed);
}

int AdminHttpServer::open_connections() const {
  return impl_->open_connections.load(std::memory_order_relaxed);
}

absl::StatusOr<std::unique_ptr<AdminHttpServer>> AdminHttpServer::Start(
    const std::string& address, HttpRoutes routes,
    std::chrono::milliseconds connection_deadline) {
  auto impl = std::make_unique<Impl>(std::move(routes), connection_deadline);
  absl::StatusOr<std::vector<asio::ip::tcp::acceptor>> acceptors =
      ListenTcp(impl->io.get_executor(), address);
  if (!acceptors.ok()) return acceptors.status();
  // Every acceptor has this port: ListenTcp gives a port 0 the first one's.
  impl->port = acceptors->front().local_endpoint().port();
  for (asio::ip::tcp::acceptor& acceptor : *acceptors) {
    impl->Accept(impl->listeners.emplace_back(std::move(acceptor)));
  }
  Impl* raw = impl.get();
  impl->thread = std::thread([raw] { raw->io.run(); });
  return std::unique_ptr<AdminHttpServer>(new AdminHttpServer(std::move(impl)));
}

void AdminHttpServer::Stop() {
  if (impl_ == nullptr || impl_->stopped) return;
  impl_->stopped = true;
  // The loop stops from within, after the listeners are closed: stopped
  // from here, it could stop first, and leave the port accepting connections
  // that nothing would answer. Open connections are dropped, unanswered,
  // when this is destroyed: the process is ending.
  asio::post(impl_->io, [impl = impl_.get()] {
    for (Impl::Listener& l : impl->listeners) {
      asio::error_code ignored;
      l.acceptor.close(ignored);
      l.retry.cancel();
    }
    impl->io.stop();
  });
  impl_->work.reset();
  if (impl_->thread.joinable()) impl_->thread.join();
}

}  // namespace handoff
