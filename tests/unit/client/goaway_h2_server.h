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

namespace handoff::testing {

// A frame by hand: a 9-byte header, then the payload.
inline std::string H2Frame(uint8_t type, uint8_t flags, uint32_t stream_id,
                           const std::string& payload) {
  std::string frame;
  for (int shift = 16; shift >= 0; shift -= 8) frame.push_back(char((payload.size() >> shift) & 0xff));
  frame.push_back(char(type));
  frame.push_back(char(flags));
  for (int shift = 24; shift >= 0; shift -= 8) frame.push_back(char((stream_id >> shift) & 0xff));
  return frame + payload;
}

// A frame as read: its header's fields, then its payload.
struct ReadFrame {
  uint8_t type = 0;
  uint8_t flags = 0;
  uint32_t stream_id = 0;
  std::string payload;
};

// Reads the next frame from `socket`; nullopt, with `ec` set, once the
// connection ends.
inline std::optional<ReadFrame> ReadH2Frame(asio::ip::tcp::socket& socket,
                                            asio::error_code& ec) {
  unsigned char header[9];
  asio::read(socket, asio::buffer(header), ec);
  if (ec) return std::nullopt;
  ReadFrame frame;
  frame.type = header[3];
  frame.flags = header[4];
  frame.stream_id = (uint32_t{header[5]} << 24) | (uint32_t{header[6]} << 16) |
                    (uint32_t{header[7]} << 8) | header[8];
  frame.payload.resize((size_t{header[0]} << 16) | (size_t{header[1]} << 8) | header[2]);
  asio::read(socket, asio::buffer(frame.payload), ec);
  if (ec) return std::nullopt;
  return frame;
}

// A unary call's reply carrying an empty message and ending with
// `grpc_status` (0 to 9), in HPACK without the dynamic table (so each reply
// stands alone):
//   HEADERS  ":status: 200" (static index 8), "content-type: application/grpc"
//            (a literal with the static table's name 31)
//   DATA     the 5-byte gRPC prefix of an empty message
//   HEADERS  END_STREAM, "grpc-status: N" (a literal with a literal name)
inline std::string GrpcReply(uint32_t stream_id, int grpc_status) {
  const std::string head = std::string("\x88\x0f\x10\x10" "application/grpc", 20);
  const std::string trailers =
      std::string("\x00\x0bgrpc-status\x01", 14) + char('0' + grpc_status);
  return H2Frame(/*HEADERS*/ 1, /*END_HEADERS*/ 0x4, stream_id, head) +
         H2Frame(/*DATA*/ 0, 0, stream_id, std::string(5, '\0')) +
         H2Frame(/*HEADERS*/ 1, /*END_STREAM|END_HEADERS*/ 0x5, stream_id, trailers);
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

  ~GoawayH2Server() {
    // Closing the acceptor does not wake a blocked accept(): a connection
    // does, if the second one never came (its reads then end at once).
    asio::error_code ec;
    asio::ip::tcp::socket poke(io_);
    poke.connect(acceptor_.local_endpoint(), ec);
    poke.close(ec);
    acceptor_.close(ec);
    thread_.join();
  }

  GoawayH2Server(const GoawayH2Server&) = delete;
  GoawayH2Server& operator=(const GoawayH2Server&) = delete;

  std::string address() const {
    return "127.0.0.1:" + std::to_string(acceptor_.local_endpoint().port());
  }
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
