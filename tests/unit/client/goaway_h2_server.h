// GoawayH2Server: an HTTP/2 server written by hand that recycles its first
// connection with a GOAWAY while a call is on its way, so that a test can see
// what a client does with a call the server never processed. handoffd does
// the same under --max_connection_age; here the moment is fixed.
#ifndef HANDOFF_TESTS_UNIT_CLIENT_GOAWAY_H2_SERVER_H_
#define HANDOFF_TESTS_UNIT_CLIENT_GOAWAY_H2_SERVER_H_

#include <atomic>
#include <cstdint>
#include <optional>
#include <string>
#include <thread>

#include <asio/connect.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/read.hpp>
#include <asio/write.hpp>

#include "h2_by_hand.h"

namespace handoff::testing {

// A unary call's reply carrying an empty message and ending with
// `grpc_status` (0 to 9), in HPACK without the dynamic table (so each reply
// stands alone):
//   HEADERS  ":status: 200" (static index 8), "content-type: application/grpc"
//            (a literal with the static table's name 31)
//   DATA     the 5-byte gRPC prefix of an empty message
//   HEADERS  END_STREAM, "grpc-status: N" (a literal with a literal name)
inline std::string GrpcReply(uint32_t stream_id, int grpc_status) {
  return H2Frame(/*HEADERS*/ 1, /*END_HEADERS*/ 0x4, stream_id, GrpcHead()) +
         H2Frame(/*DATA*/ 0, 0, stream_id, GrpcMessage("")) +
         H2Frame(/*HEADERS*/ 1, /*END_STREAM|END_HEADERS*/ 0x5, stream_id,
                 GrpcStatus(grpc_status));
}

inline std::string GrpcOkReply(uint32_t stream_id) { return GrpcReply(stream_id, 0); }

// Two connections, one after the other. On the first it reads two
// requests (streams 1 and 3), then sends GOAWAY with last-stream-id 1,
// answers stream 1 and closes: stream 3 was never processed. On the second
// it answers every request, or, kSilentSecond, says nothing at all (no
// SETTINGS) until the client closes it.
class GoawayH2Server {
 public:
  enum Second { kAnswering, kSilentSecond };

  explicit GoawayH2Server(Second second = kAnswering)
      : acceptor_(io_, asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {
    thread_ = std::thread([this, second] {
      for (int connection = 0; connection < 2; ++connection) {
        asio::error_code ec;
        asio::ip::tcp::socket socket(io_);
        acceptor_.accept(socket, ec);
        if (ec) return;
        if (connection == 1 && second == kSilentSecond) {
          char rest[4096];
          while (!ec) socket.read_some(asio::buffer(rest), ec);
          return;
        }
        char preface[24];
        asio::read(socket, asio::buffer(preface), ec);
        asio::write(socket, asio::buffer(H2Frame(/*SETTINGS*/ 4, 0, 0, "")), ec);
        int headers = 0;
        while (std::optional<ReadFrame> frame = ReadH2Frame(socket, ec)) {
          if (frame->type == 4 /* SETTINGS */ && (frame->flags & 1) == 0) {
            asio::write(socket, asio::buffer(H2Frame(/*SETTINGS*/ 4, /*ACK*/ 1, 0, "")), ec);
            continue;
          }
          if (frame->type != 1 /* HEADERS */) continue;
          requests_.fetch_add(1);
          if (connection == 1) {
            asio::write(socket, asio::buffer(GrpcOkReply(frame->stream_id)), ec);
          } else if (++headers == 2) {
            const std::string last_stream_1_no_error("\0\0\0\x01\0\0\0\0", 8);
            asio::write(socket,
                        asio::buffer(H2Frame(/*GOAWAY*/ 7, 0, 0, last_stream_1_no_error) +
                                     GrpcOkReply(1)),
                        ec);
            // Then close, as a server does once the streams it kept are
            // done, so that the next connection is accepted: end the
            // sending side and read what the client still sends until it
            // closes too (closing with bytes unread would be a reset, which
            // may cut off the reply).
            socket.shutdown(asio::ip::tcp::socket::shutdown_send, ec);
            char rest[4096];
            while (!ec) socket.read_some(asio::buffer(rest), ec);
          }
        }
        socket.close(ec);
      }
    });
  }

  // If the second connection never came, the poke is it (its reads then
  // end at once).
  ~GoawayH2Server() { StopAcceptThread(io_, acceptor_, thread_); }

  GoawayH2Server(const GoawayH2Server&) = delete;
  GoawayH2Server& operator=(const GoawayH2Server&) = delete;

  std::string address() const { return LoopbackTarget(acceptor_); }
  // HEADERS frames received: calls made, a call made again counted twice.
  int requests() const { return requests_.load(); }

 private:
  asio::io_context io_;
  asio::ip::tcp::acceptor acceptor_;
  std::atomic<int> requests_{0};
  std::thread thread_;
};

}  // namespace handoff::testing

#endif  // HANDOFF_TESTS_UNIT_CLIENT_GOAWAY_H2_SERVER_H_
