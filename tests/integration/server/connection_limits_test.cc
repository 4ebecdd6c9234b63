// Copyright 2026 The handoff Authors.
//
// Limits on what one HTTP/2 connection may hold of handoffd: its open calls
// (--max_concurrent_streams), and how long it may sit in its handshake
// (--handshake_timeout) or without a call (--max_connection_idle). gRPC's
// own defaults leave the first and the last unbounded.

#include <algorithm>
#include <asio.hpp>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "handoff/v1/gateway.grpc.pb.h"
#include "tests/integration/server/server_fixture.h"

namespace handoff::testing {
namespace {

// Two calls open on one connection fill it: a third waits in the client,
// unsent (a free worker would run it at once), until one of them ends, while
// another connection is served as ever.
class MaxConcurrentStreamsTest : public ServerTest {
  void Configure(ServerConfig& c) override {
    c.max_concurrent_streams = 2;
    c.workers = 3;  // one left free: a call that reached the server would run
  }
};

TEST_F(MaxConcurrentStreamsTest, AConnectionsCallsBeyondTheLimitWaitForOneToEnd) {
  auto first = StartBlocked();
  auto second = StartBlocked();
  v1::CallReply reply;
  grpc::Status third = CallHandler("count", &reply, "", absl::Milliseconds(300));
  EXPECT_EQ(third.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED)
      << third.error_message();
  EXPECT_EQ(count_runs_.load(), 0);

  // A channel of its own subchannel pool is a second connection.
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  auto other = grpc::CreateCustomChannel(
      "127.0.0.1:" + std::to_string(server_->port()),
      grpc::InsecureChannelCredentials(), args);
  auto other_stub = v1::Gateway::NewStub(other);
  grpc::ClientContext ctx;
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
  v1::CallRequest count;
  count.set_handler("count");
  grpc::Status s = other_stub->Call(&ctx, count, &reply);
  EXPECT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(count_runs_.load(), 1);

  // One of the two ends (whichever handler takes the release), and with it
  // the connection has room again.
  ASSERT_TRUE(release_.Send(std::monostate{}).ok());
  grpc::Status ended(grpc::StatusCode::UNKNOWN, "test: neither call ended");
  AsyncCall<v1::CallRequest, v1::CallReply>* open = nullptr;
  auto [timeout, cancel] = WithTimeout(Context::Background(), absl::Seconds(20));
  Select(OnRecv(first->done, [&](std::optional<grpc::Status> st) {
           ended = *st;
           open = second.get();
         }),
         OnRecv(second->done, [&](std::optional<grpc::Status> st) {
           ended = *st;
           open = first.get();
         }),
         OnDone(timeout, [] {}));
  cancel();
  ASSERT_NE(open, nullptr) << "neither call ended";
  EXPECT_TRUE(ended.ok()) << ended.error_message();
  s = CallHandler("count", &reply);
  EXPECT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(count_runs_.load(), 2);
  ASSERT_TRUE(release_.Send(std::monostate{}).ok());
  EXPECT_TRUE(open->Wait().ok());
}

// What a raw TCP client of handoffd's gRPC port received until the server
// closed the connection, having sent `bytes` first; nullopt if the server had
// not closed it within `bound`.
std::optional<std::string> ReadUntilClosed(int port, const std::string& bytes,
                                           absl::Duration bound = absl::Seconds(10)) {
  asio::io_context io;
  asio::ip::tcp::socket socket(io);
  socket.connect({asio::ip::make_address("127.0.0.1"),
                  static_cast<unsigned short>(port)});
  if (!bytes.empty()) asio::write(socket, asio::buffer(bytes));
  std::string received;
  bool closed = false;
  asio::async_read(socket, asio::dynamic_buffer(received),
                   [&](asio::error_code, size_t) { closed = true; });
  io.run_for(absl::ToChronoMilliseconds(bound));
  if (!closed) return std::nullopt;
  return received;
}

// The HTTP/2 frame types in `bytes`, a server's side of a connection.
std::vector<int> FrameTypes(const std::string& bytes) {
  std::vector<int> types;
  for (size_t at = 0; at + 9 <= bytes.size();) {
    auto byte = [&](size_t i) { return static_cast<unsigned char>(bytes[at + i]); };
    size_t length = (byte(0) << 16) | (byte(1) << 8) | byte(2);
    types.push_back(byte(3));
    at += 9 + length;
  }
  return types;
}

constexpr char kPreface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
// An empty SETTINGS frame: length 0, type 4, no flags, stream 0.
constexpr char kEmptySettings[] = {0, 0, 0, 4, 0, 0, 0, 0, 0};
constexpr int kGoaway = 7;

// A second: short of the 10 s ReadUntilClosed waits, and long enough for the
// fixture's own channel to finish its handshake on a loaded machine.
class HandshakeTimeoutTest : public ServerTest {
  void Configure(ServerConfig& c) override {
    c.handshake_timeout = absl::Seconds(1);
    c.max_connection_idle = absl::InfiniteDuration();
  }
};

// gRPC's default kept such a connection, and its descriptor, for 2 minutes.
TEST_F(HandshakeTimeoutTest, AConnectionThatSendsNothingIsClosed) {
  EXPECT_TRUE(ReadUntilClosed(server_->port(), "").has_value());
  // Half a preface is no better.
  EXPECT_TRUE(ReadUntilClosed(server_->port(), std::string(kPreface, 10)).has_value());
  v1::EchoReply reply;
  EXPECT_TRUE(Echo("still served", &reply).ok());
}

class IdleTimeoutTest : public ServerTest {
  void Configure(ServerConfig& c) override {
    c.max_connection_idle = absl::Seconds(1);
  }
};

// A client that sends the preface and its SETTINGS, then nothing, and
// ignores the GOAWAY, still loses the connection. A connection with a call
// open is not idle: the test's own channel, whose call was open before the
// raw connection was made, outlives it.
TEST_F(IdleTimeoutTest, AnIdleConnectionIsSentGoawayAndClosed) {
  auto held = StartBlocked();
  std::optional<std::string> received = ReadUntilClosed(
      server_->port(), std::string(kPreface) + std::string(kEmptySettings, 9));
  EXPECT_TRUE(received.has_value()) << "the idle connection was not closed";
  std::vector<int> types = FrameTypes(received.value_or(""));
  EXPECT_NE(std::find(types.begin(), types.end(), kGoaway), types.end());

  EXPECT_FALSE(held->done.TryRecv().ok()) << "the held call ended";
  ASSERT_TRUE(release_.Send(std::monostate{}).ok());
  grpc::Status s = held->Wait();
  EXPECT_TRUE(s.ok()) << s.error_message();
}

}  // namespace
}  // namespace handoff::testing
