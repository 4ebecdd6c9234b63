// ScriptedH2Server: an HTTP/2 server written by hand that answers every
// request (HEADERS frame) with the bytes a test scripts for it, so that a
// test can see what a client does with an answer no gRPC server would
// send: a unary call ended OK without a reply, or with two.
#ifndef HANDOFF_TESTS_UNIT_CLIENT_SCRIPTED_H2_SERVER_H_
#define HANDOFF_TESTS_UNIT_CLIENT_SCRIPTED_H2_SERVER_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <thread>
#include <utility>

#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/read.hpp>
#include <asio/write.hpp>

#include "h2_by_hand.h"

namespace handoff::testing {

class ScriptedH2Server {
 public:
  // `answer` gives the frames that answer the request on `stream_id`.
  explicit ScriptedH2Server(std::function<std::string(uint32_t stream_id)> answer)
      : acceptor_(io_, asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {
    thread_ = std::thread([this, answer = std::move(answer)] {
      for (;;) {
        asio::error_code ec;
        asio::ip::tcp::socket socket(io_);
        acceptor_.accept(socket, ec);
        if (ec || stopping_) return;
        char preface[24];
        asio::read(socket, asio::buffer(preface), ec);
        asio::write(socket, asio::buffer(H2Frame(/*SETTINGS*/ 4, 0, 0, "")), ec);
        while (std::optional<ReadFrame> frame = ReadH2Frame(socket, ec)) {
          if (frame->type == 4 /* SETTINGS */ && (frame->flags & 1) == 0) {
            asio::write(socket, asio::buffer(H2Frame(/*SETTINGS*/ 4, /*ACK*/ 1, 0, "")), ec);
          } else if (frame->type == 1 /* HEADERS */) {
            asio::write(socket, asio::buffer(answer(frame->stream_id)), ec);
          }
        }
      }
    });
  }

  ~ScriptedH2Server() {
    stopping_ = true;
    StopAcceptThread(io_, acceptor_, thread_);
  }

  ScriptedH2Server(const ScriptedH2Server&) = delete;
  ScriptedH2Server& operator=(const ScriptedH2Server&) = delete;

  std::string address() const { return LoopbackTarget(acceptor_); }

 private:
  asio::io_context io_;
  asio::ip::tcp::acceptor acceptor_;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

// A unary call's answer as a gRPC server sends it: one reply, then OK.
inline std::string OkWithReply(uint32_t stream_id, const std::string& reply) {
  return H2Frame(/*HEADERS*/ 1, /*END_HEADERS*/ 0x4, stream_id, GrpcHead()) +
         H2Frame(/*DATA*/ 0, 0, stream_id, GrpcMessage(reply)) +
         H2Frame(/*HEADERS*/ 1, /*END_STREAM|END_HEADERS*/ 0x5, stream_id, GrpcStatus(0));
}

// Answers of a unary call no gRPC server sends: OK without a reply (a
// trailers-only answer), and OK after two replies.
inline std::string OkWithoutReply(uint32_t stream_id) {
  return H2Frame(/*HEADERS*/ 1, /*END_STREAM|END_HEADERS*/ 0x5, stream_id,
                 GrpcHead() + GrpcStatus(0));
}
inline std::string OkAfterTwoReplies(uint32_t stream_id, const std::string& reply) {
  return H2Frame(/*HEADERS*/ 1, /*END_HEADERS*/ 0x4, stream_id, GrpcHead()) +
         H2Frame(/*DATA*/ 0, 0, stream_id, GrpcMessage(reply) + GrpcMessage(reply)) +
         H2Frame(/*HEADERS*/ 1, /*END_STREAM|END_HEADERS*/ 0x5, stream_id, GrpcStatus(0));
}

}  // namespace handoff::testing

#endif  // HANDOFF_TESTS_UNIT_CLIENT_SCRIPTED_H2_SERVER_H_
