// HTTP/2 by hand, for tests that need a peer no real server would be: the
// frames (H2Frame, ReadH2Frame), the HPACK blocks of a gRPC answer, and the
// end of a server thread that blocks in accept().
#ifndef HANDOFF_TESTS_UNIT_CLIENT_H2_BY_HAND_H_
#define HANDOFF_TESTS_UNIT_CLIENT_H2_BY_HAND_H_

#include <cstdint>
#include <optional>
#include <string>
#include <thread>

#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/read.hpp>

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

// gRPC's frames of an answer, in HPACK without the dynamic table:
// ":status: 200" and "content-type: application/grpc" (GrpcHead), one
// length-prefixed message (GrpcMessage), "grpc-status: N" (GrpcStatus).
inline std::string GrpcHead() { return std::string("\x88\x0f\x10\x10" "application/grpc", 20); }
inline std::string GrpcMessage(const std::string& bytes) {
  std::string prefixed(1, '\0');
  for (int shift = 24; shift >= 0; shift -= 8) prefixed.push_back(char((bytes.size() >> shift) & 0xff));
  return prefixed + bytes;
}
inline std::string GrpcStatus(int code) {
  return std::string("\x00\x0bgrpc-status\x01", 14) + char('0' + code);
}

// Ends `thread`, which serves `acceptor` and may be blocked in accept():
// closing the acceptor does not wake that, a connection does (the thread
// must then find it should stop, or read on until the connection ends).
inline void StopAcceptThread(asio::io_context& io, asio::ip::tcp::acceptor& acceptor,
                             std::thread& thread) {
  asio::error_code ec;
  asio::ip::tcp::socket poke(io);
  poke.connect(acceptor.local_endpoint(), ec);
  poke.close(ec);
  acceptor.close(ec);
  thread.join();
}

// "127.0.0.1:PORT" of a loopback acceptor: the target to give a client.
inline std::string LoopbackTarget(const asio::ip::tcp::acceptor& acceptor) {
  return "127.0.0.1:" + std::to_string(acceptor.local_endpoint().port());
}

}  // namespace handoff::testing

#endif  // HANDOFF_TESTS_UNIT_CLIENT_H2_BY_HAND_H_
