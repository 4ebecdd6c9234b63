// The engines (mostly the h2 one) against peers that misbehave: a server
// that never answers, one that drops the connection, one that is not up
// yet, one that goes away and comes back.
#include "client/load/h2_engine.h"

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <limits>
#include <mutex>
#include <thread>
#include <vector>

#include <asio/connect.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/read.hpp>
#include <asio/write.hpp>
#include <gtest/gtest.h>

#include "absl/strings/match.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "client/load/grpc_engine.h"
#include "client/load/h2_connection.h"
#include "client/load/recorder.h"
#include "client/load/schedule.h"
#include "client/load/runner.h"
#include "fake_gateway.h"
#include "goaway_h2_server.h"
#include "h2_by_hand.h"
#include "scripted_h2_server.h"
#include "run_ended_at_once.h"
#include "tests/util/ports.h"

namespace handoff::load {
namespace {

using testing::GoawayH2Server;

using asio::ip::tcp;

// An HTTP/2 server by hand, on one connection: it reads the client's
// preface, sends an empty SETTINGS frame and then reads frames and never
// answers. With `close_on_request` it closes the connection when the first
// request's HEADERS frame arrives; with `stop_listening` as well, it then
// stops listening, so that the port refuses connections (gone()). Its port
// lies below the ephemeral range, so that a server started there after it
// finds the port free (tests/util/ports.h).
class HandMadeH2Server {
 public:
  explicit HandMadeH2Server(bool close_on_request, bool stop_listening = false)
      : acceptor_(io_), port_(Listen(acceptor_)) {
    thread_ = std::thread([this, close_on_request, stop_listening] {
      Serve(close_on_request);
      if (stop_listening) CloseAcceptor();
      gone_.Notify();
    });
  }

  ~HandMadeH2Server() {
    CloseAcceptor();
    thread_.join();
  }

  int port() const { return port_; }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  int requests() const { return requests_.load(); }
  // PING frames the client sent (not acknowledgements).
  int pings() const { return pings_.load(); }
  // Waits until its one connection is over (and, with stop_listening, the
  // port closed).
  void WaitUntilGone() { gone_.WaitForNotification(); }

 private:
  // Binds `acceptor` to a loopback port and listens; returns the port.
  static int Listen(tcp::acceptor& acceptor) {
    const auto loopback = asio::ip::make_address("127.0.0.1");
    acceptor.open(tcp::v4());
    acceptor.set_option(tcp::acceptor::reuse_address(true));
    asio::error_code ec;
    if (!testing::BindBelowEphemeralRange([&](int port) {
          acceptor.bind(tcp::endpoint(loopback, static_cast<uint16_t>(port)), ec);
          return !ec;
        })) {
      throw asio::system_error(ec);  // not even a port from the range
    }
    acceptor.listen();
    return acceptor.local_endpoint().port();
  }

  void Serve(bool close_on_request) {
    asio::error_code ec;
    tcp::socket socket(io_);
    acceptor_.accept(socket, ec);
    if (ec) return;
    char preface[24];
    asio::read(socket, asio::buffer(preface), ec);
    const unsigned char settings[9] = {0, 0, 0, 4, 0, 0, 0, 0, 0};
    asio::write(socket, asio::buffer(settings), ec);
    while (std::optional<testing::ReadFrame> frame = testing::ReadH2Frame(socket, ec)) {
      if (frame->type == 1 /* HEADERS */) {
        requests_.fetch_add(1);
        if (close_on_request) break;
      }
      if (frame->type == 6 /* PING */ && (frame->flags & 1 /* ACK */) == 0) pings_.fetch_add(1);
    }
    socket.close(ec);
  }

  // From the server's thread or the destructor, whichever comes first.
  void CloseAcceptor() {
    std::lock_guard<std::mutex> lock(mu_);
    asio::error_code ec;
    acceptor_.close(ec);
  }

  asio::io_context io_;
  tcp::acceptor acceptor_;
  const int port_;
  std::mutex mu_;
  std::atomic<int> requests_{0};
  std::atomic<int> pings_{0};
  absl::Notification gone_;
  std::thread thread_;
};

// `total` empty Echo calls over h2, `concurrency` at a time.
LoadPlan H2EchoPlan(const std::string& address, int total, int concurrency) {
  LoadPlan plan;
  plan.options.host = address;
  plan.options.total = total;
  plan.options.concurrency = concurrency;
  plan.options.insecure = true;
  plan.options.engine = EngineKind::kH2;
  plan.options.cpus = 1;
  plan.method = "/handoff.v1.Gateway/Echo";
  grpc::Slice empty("");
  plan.messages.emplace_back(&empty, 1);
  return plan;
}

// --keepalive reaches gRPC's channel: a connection whose one call the server
// never answers is pinged; without it, not at all (the server sends no data,
// so gRPC has no bandwidth probe to ping for either).
TEST(GrpcEngineTest, KeepalivePingsAQuietConnection) {
  for (const bool keepalive : {false, true}) {
    HandMadeH2Server server(/*close_on_request=*/false);
    LoadPlan plan = H2EchoPlan(server.address(), 1, 1);
    plan.options.engine = EngineKind::kGrpc;
    plan.options.timeout = absl::Milliseconds(1500);
    if (keepalive) plan.options.keepalive = absl::Milliseconds(100);
    LoadRunner runner(std::move(plan));
    ASSERT_TRUE(runner.Connect().ok());
    RunResults r = runner.Run();
    ASSERT_EQ(r.calls.size(), 1u);
    EXPECT_EQ(r.calls[0].code, grpc::StatusCode::DEADLINE_EXCEEDED);
    if (keepalive) {
      EXPECT_GE(server.pings(), 1) << "no keepalive ping in 1.5 s at 100 ms";
    } else {
      EXPECT_EQ(server.pings(), 0);
    }
  }
}

TEST(H2EngineTest, EndsCallsAtTheirDeadlineWhenTheServerNeverAnswers) {
  HandMadeH2Server server(/*close_on_request=*/false);
  LoadPlan plan = H2EchoPlan(server.address(), 3, 3);
  plan.options.timeout = absl::Milliseconds(50);
  LoadRunner runner(std::move(plan));
  ASSERT_TRUE(runner.Connect().ok());
  RunResults r = runner.Run();
  ASSERT_EQ(r.calls.size(), 3u);
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0], "rpc error: code = DeadlineExceeded desc = context deadline exceeded");
  for (const CallResult& c : r.calls) {
    EXPECT_EQ(c.code, grpc::StatusCode::DEADLINE_EXCEEDED);
    EXPECT_GE(c.latency_ns, 50'000'000);
  }
  EXPECT_EQ(server.requests(), 3);
}

// A call whose own deadline ends it reads as ghz's does: grpc-go's
// "context deadline exceeded" (handoffd sends the same words when its side
// of the deadline comes first, so one condition is one error), on either
// engine, where gRPC C++ says "Deadline Exceeded".
TEST(GrpcEngineTest, TheClientsOwnDeadlineReadsAsGhzsOnEitherEngine) {
  for (const EngineKind engine : {EngineKind::kH2, EngineKind::kGrpc}) {
    HandMadeH2Server server(/*close_on_request=*/false);
    LoadPlan plan = H2EchoPlan(server.address(), 2, 2);
    plan.options.engine = engine;
    plan.options.timeout = absl::Milliseconds(50);
    LoadRunner runner(std::move(plan));
    ASSERT_TRUE(runner.Connect().ok());
    RunResults r = runner.Run();
    ASSERT_EQ(r.calls.size(), 2u);
    EXPECT_EQ(r.errors, std::vector<std::string>{
                            "rpc error: code = DeadlineExceeded desc = context deadline exceeded"})
        << (engine == EngineKind::kH2 ? "h2" : "grpc");
  }
}

TEST(H2EngineTest, ALostConnectionFailsEveryCallWithUnavailable) {
  HandMadeH2Server server(/*close_on_request=*/true);
  // 3 calls in flight when the connection drops, then 3 more that find it
  // broken: all 6 are reported, none is lost.
  LoadPlan plan = H2EchoPlan(server.address(), 6, 3);
  LoadRunner runner(std::move(plan));
  ASSERT_TRUE(runner.Connect().ok());
  RunResults r = runner.Run();
  ASSERT_EQ(r.calls.size(), 6u);
  for (const CallResult& c : r.calls) EXPECT_EQ(c.code, grpc::StatusCode::UNAVAILABLE);
  ASSERT_FALSE(r.errors.empty());
  // "closed the connection" or "connection reset", and where.
  EXPECT_NE(r.errors[0].find(server.address()), std::string::npos) << r.errors[0];
}

TEST(H2EngineTest, ConnectWaitsForAServerThatIsStillStarting) {
  // A port whose first connection is dropped before any SETTINGS, as a
  // server that is not up yet would; the real server comes up after that.
  asio::io_context io;
  tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  const int port = acceptor.local_endpoint().port();
  LoadPlan plan = H2EchoPlan("127.0.0.1:" + std::to_string(port), 1, 1);
  plan.options.connect_timeout = absl::Seconds(20);
  LoadRunner runner(std::move(plan));
  absl::Status connected;
  std::thread connecting([&] { connected = runner.Connect(); });
  {
    tcp::socket first(io);
    acceptor.accept(first);  // the runner's first attempt
    first.close();
    acceptor.close();
  }
  testing::FakeServer server = testing::FakeServer::Start(false, port);
  connecting.join();
  ASSERT_TRUE(connected.ok()) << connected;
  RunResults r = runner.Run();
  ASSERT_EQ(r.calls.size(), 1u);
  EXPECT_EQ(r.calls[0].code, grpc::StatusCode::OK);
  server.server->Shutdown();
}

TEST(H2EngineTest, GosLongestConnectTimeoutWaitsInsteadOfGivingUpAtOnce) {
  // 2562047h47m16.854775807s, which --connect-timeout accepts: a deadline
  // of now plus that wrapped into the past, and Connect failed at once.
  testing::FakeServer server = testing::FakeServer::Start();
  LoadPlan plan = H2EchoPlan(server.address, 1, 1);
  plan.options.connect_timeout = absl::Nanoseconds(std::numeric_limits<int64_t>::max());
  LoadRunner runner(std::move(plan));
  absl::Status connected = runner.Connect();
  ASSERT_TRUE(connected.ok()) << connected;
  RunResults r = runner.Run();
  ASSERT_EQ(r.calls.size(), 1u);
  EXPECT_EQ(r.calls[0].code, grpc::StatusCode::OK);
  server.server->Shutdown();
}

// The connection that takes over after a GOAWAY, to a server that has gone
// (the GOAWAY of a stop): it retried every 100 ms, as for a server still
// starting, and each failed attempt failed the calls waiting for it, ten
// times a second where README promises one. Timers never fire early, so the
// second attempt's lower bound is exact.
TEST(H2ConnectionTest, AReplacementRetriesAFailedAttemptAfterASecond) {
  testing::RefusingPort gone;
  asio::io_context io;
  H2Connection::Config config;
  config.endpoints = tcp::resolver(io).resolve("127.0.0.1", std::to_string(gone.port()));
  config.authority = "127.0.0.1";
  config.path = "/handoff.v1.Gateway/Echo";
  H2Connection connection(io, config, [](H2Connection::Call&, grpc::StatusCode, absl::string_view) {});
  connection.OpenAsReplacement();
  // The first wake is at once (the first attempt queues calls), the next
  // two as each attempt fails.
  std::vector<absl::Time> wakes;
  std::function<void()> wake = [&] {
    wakes.push_back(absl::Now());
    if (wakes.size() < 3) {
      connection.AfterNextAttempt(wake);
    } else {
      EXPECT_TRUE(absl::StrContains(connection.error(), "refused")) << connection.error();
      connection.Close();
    }
  };
  connection.AfterNextAttempt(wake);
  io.run_for(std::chrono::seconds(30));
  ASSERT_EQ(wakes.size(), 3u) << connection.error();
  EXPECT_GE(wakes[2] - wakes[1], absl::Milliseconds(990));
}

// Reads `socket`'s frames, acknowledging SETTINGS, until `n` requests'
// HEADERS have come; returns their stream IDs.
std::vector<uint32_t> ReadRequests(tcp::socket& socket, int n) {
  std::vector<uint32_t> streams;
  asio::error_code ec;
  while (static_cast<int>(streams.size()) < n) {
    std::optional<testing::ReadFrame> frame = testing::ReadH2Frame(socket, ec);
    if (!frame) break;
    if (frame->type == 4 /* SETTINGS */ && (frame->flags & 1) == 0) {
      asio::write(socket, asio::buffer(testing::H2Frame(/*SETTINGS*/ 4, /*ACK*/ 1, 0, "")), ec);
    } else if (frame->type == 1 /* HEADERS */) {
      streams.push_back(frame->stream_id);
    }
  }
  return streams;
}

// A call cancelled on one connection and started again on another can get
// the same stream ID there: each connection numbers its streams from 1.
// The first connection may still read a reply on the old stream, sent
// before the reset reached the server. That reply is the old stream's, not
// the call's: were it taken for the call's, the call would end with it
// (here OK) while the second connection still counted it in flight.
TEST(H2ConnectionTest, AReplyOnTheStreamACallLeftIsNotTakenForTheCallOnAnotherConnection) {
  asio::io_context server_io;
  tcp::acceptor acceptor(server_io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  const uint16_t port = acceptor.local_endpoint().port();
  // Connections A and B, in that order. A reads two requests (streams 1
  // and 3) and answers 3, then 1, in one write; B answers its one request
  // NOT_FOUND, so that the test can tell whose reply ended the call.
  std::thread server([&] {
    asio::error_code ec;
    tcp::socket a(server_io), b(server_io);
    for (tcp::socket* s : {&a, &b}) {
      acceptor.accept(*s, ec);
      char preface[24];
      asio::read(*s, asio::buffer(preface), ec);
      asio::write(*s, asio::buffer(testing::H2Frame(/*SETTINGS*/ 4, 0, 0, "")), ec);
    }
    const std::vector<uint32_t> on_a = ReadRequests(a, 2);
    if (on_a != std::vector<uint32_t>{1, 3}) return;
    asio::write(a, asio::buffer(testing::GrpcOkReply(3) + testing::GrpcOkReply(1)), ec);
    for (uint32_t id : ReadRequests(b, 1)) {
      asio::write(b, asio::buffer(testing::GrpcReply(id, /*NOT_FOUND*/ 5)), ec);
    }
    // Until the client closes both.
    char rest[4096];
    for (tcp::socket* s : {&a, &b}) {
      while (!ec) s->read_some(asio::buffer(rest), ec);
      ec.clear();
    }
  });

  asio::io_context io;
  H2Connection::Config config;
  config.endpoints = tcp::resolver(io).resolve("127.0.0.1", std::to_string(port));
  config.authority = "127.0.0.1";
  config.path = "/handoff.v1.Gateway/Echo";
  const std::string body(5, '\0');
  H2Connection::Call moved;
  H2Connection::Call other;
  moved.body = other.body = &body;
  struct End {
    const H2Connection::Call* call;
    grpc::StatusCode code;
  };
  std::vector<End> ends;
  std::unique_ptr<H2Connection> a, b;
  auto done = [&](H2Connection::Call& call, grpc::StatusCode code, absl::string_view) {
    ends.push_back({&call, code});
    // The other call's reply is read first, in the same read as the moved
    // call's: move the call now, before A reads on.
    if (&call == &other) {
      a->Cancel(moved, grpc::StatusCode::CANCELLED, "moved to B");
      EXPECT_TRUE(b->Start(moved)) << b->error();
    }
  };
  a = std::make_unique<H2Connection>(io, config, done);
  b = std::make_unique<H2Connection>(io, config, done);
  bool opened = false;
  a->Open([&] { opened = true; });
  while (!opened && io.run_one_for(std::chrono::seconds(10)) > 0) {
  }
  ASSERT_TRUE(opened) << a->error();
  opened = false;
  b->Open([&] { opened = true; });
  while (!opened && io.run_one_for(std::chrono::seconds(10)) > 0) {
  }
  ASSERT_TRUE(opened) << b->error();

  ASSERT_TRUE(a->Start(moved));  // stream 1 on A
  ASSERT_TRUE(a->Start(other));  // stream 3 on A
  while (ends.size() < 3 && io.run_one_for(std::chrono::seconds(10)) > 0) {
  }
  a->Close();
  b->Close();
  io.run();  // their buffers' release
  server.join();

  ASSERT_EQ(ends.size(), 3u);
  EXPECT_EQ(ends[0].call, &other);
  EXPECT_EQ(ends[0].code, grpc::StatusCode::OK);
  EXPECT_EQ(ends[1].call, &moved);
  EXPECT_EQ(ends[1].code, grpc::StatusCode::CANCELLED);
  EXPECT_EQ(ends[2].call, &moved);
  EXPECT_EQ(ends[2].code, grpc::StatusCode::NOT_FOUND) << "A's stream 1, not B's, ended it";
}

// refused() is read by the h2 engine after Start has refused a call, too
// (the call then ends UNAVAILABLE, and a refused one is made again). Start
// returned early on a connection that could not take the call, before it
// cleared the flag: the call, refused by the server on its last turn, still
// read as refused, and a call that never reached a server was made again,
// as if gRPC's transparent retry covered a call failed for want of a
// connection.
TEST(H2ConnectionTest, ACallStartRefusesDoesNotReadAsRefusedByTheServer) {
  asio::io_context server_io;
  tcp::acceptor acceptor(server_io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  const uint16_t port = acceptor.local_endpoint().port();
  // One connection: it refuses the one request (REFUSED_STREAM), then
  // closes, and the client's connection is broken until it reconnects.
  std::thread server([&] {
    asio::error_code ec;
    tcp::socket socket(server_io);
    acceptor.accept(socket, ec);
    char preface[24];
    asio::read(socket, asio::buffer(preface), ec);
    asio::write(socket, asio::buffer(testing::H2Frame(/*SETTINGS*/ 4, 0, 0, "")), ec);
    for (uint32_t id : ReadRequests(socket, 1)) {
      const std::string refused_stream("\0\0\0\x07", 4);
      asio::write(socket, asio::buffer(testing::H2Frame(/*RST_STREAM*/ 3, 0, id, refused_stream)),
                  ec);
    }
    // Gone: the client reads the reset, then the end of the stream, and
    // closes its side. Reading until then leaves nothing unread, whose
    // close would send a TCP reset that could overtake the RST_STREAM.
    socket.shutdown(tcp::socket::shutdown_send, ec);
    char rest[4096];
    while (!ec) socket.read_some(asio::buffer(rest), ec);
    socket.close(ec);
    acceptor.close(ec);
  });

  asio::io_context io;
  H2Connection::Config config;
  config.endpoints = tcp::resolver(io).resolve("127.0.0.1", std::to_string(port));
  config.authority = "127.0.0.1";
  config.path = "/handoff.v1.Gateway/Echo";
  const std::string body(5, '\0');
  H2Connection::Call call;
  call.body = &body;
  std::vector<grpc::StatusCode> ends;
  H2Connection connection(io, config,
                          [&](H2Connection::Call&, grpc::StatusCode code, absl::string_view) {
                            ends.push_back(code);
                          });
  bool opened = false;
  connection.Open([&] { opened = true; });
  while (!opened && io.run_one_for(std::chrono::seconds(10)) > 0) {
  }
  ASSERT_TRUE(opened) << connection.error();
  ASSERT_TRUE(connection.Start(call));
  while (ends.empty() && io.run_one_for(std::chrono::seconds(10)) > 0) {
  }
  ASSERT_EQ(ends.size(), 1u);
  EXPECT_EQ(ends[0], grpc::StatusCode::UNAVAILABLE);
  ASSERT_TRUE(call.refused()) << "REFUSED_STREAM before any reply";
  // Broken now: the server closed the connection.
  while (connection.error().empty() && io.run_one_for(std::chrono::seconds(10)) > 0) {
  }
  ASSERT_FALSE(connection.error().empty());
  ASSERT_FALSE(connection.Start(call)) << "a broken connection takes no call";
  EXPECT_FALSE(call.refused()) << "the last call's refusal, read as this one's";
  connection.Close();
  io.run();
  server.join();
}

TEST(H2EngineTest, ACallAGoawayRefusedIsMadeAgainOnANewConnection) {
  // Stream 3 crossed the GOAWAY: the server never processed it, so, as gRPC
  // retries such a call transparently, it is made again on a new
  // connection and succeeds; no error is reported.
  GoawayH2Server server;
  LoadPlan plan = H2EchoPlan(server.address(), 2, 2);
  plan.options.timeout = absl::Seconds(20);
  LoadRunner runner(std::move(plan));
  ASSERT_TRUE(runner.Connect().ok());
  RunResults r = runner.Run();
  ASSERT_EQ(r.calls.size(), 2u);
  EXPECT_TRUE(r.errors.empty()) << r.errors[0];
  for (const CallResult& c : r.calls) EXPECT_EQ(c.code, grpc::StatusCode::OK);
  EXPECT_EQ(server.requests(), 3);
}

// --duration-stop=wait waits for the calls in flight at the run's end, and
// a call the server refused unprocessed (it crossed a GOAWAY) is still the
// one call, made again as gRPC makes it again transparently. The h2 engine
// made it again only before the end: after it, it counted the refusal,
// UNAVAILABLE, where the grpc engine counted the call's own outcome. The
// engine's Cancel before Run ends the run before the GOAWAY comes.
TEST(H2EngineTest, ACallAGoawayRefusedAfterTheEndIsMadeAgainUnderDurationStopWait) {
  for (EngineKind kind : {EngineKind::kGrpc, EngineKind::kH2}) {
    SCOPED_TRACE(kind == EngineKind::kGrpc ? "grpc" : "h2");
    GoawayH2Server server;
    LoadPlan plan = H2EchoPlan(server.address(), 0, 2);
    plan.options.engine = kind;
    plan.options.duration = absl::Seconds(20);
    plan.options.duration_stop = DurationStop::kWait;
    plan.options.timeout = absl::Seconds(20);
    RunResults r = RunEndedAtOnce(plan, kind);
    ASSERT_EQ(r.calls.size(), 2u);
    EXPECT_TRUE(r.errors.empty()) << r.errors[0];
    for (const CallResult& c : r.calls) EXPECT_EQ(c.code, grpc::StatusCode::OK);
    EXPECT_EQ(server.requests(), 3);
  }
}

// An HTTP/2 server whose first connection breaks as soon as it is up: it
// sends SETTINGS, closes its side, and waits for the client to close too
// (the client has then seen the break) before it sends SETTINGS on the
// next one. Every later connection answers each call OK. So an engine with
// two connections has, once connected, one broken and one up, every time.
class FirstConnectionBreaksServer {
 public:
  FirstConnectionBreaksServer()
      : acceptor_(io_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {
    thread_ = std::thread([this] {
      for (int n = 0;; ++n) {
        auto socket = std::make_shared<tcp::socket>(io_);
        asio::error_code ec;
        acceptor_.accept(*socket, ec);
        if (ec || stopping_) return;
        connections_.fetch_add(1);
        char preface[24];
        asio::read(*socket, asio::buffer(preface), ec);
        asio::write(*socket, asio::buffer(testing::H2Frame(/*SETTINGS*/ 4, 0, 0, "")), ec);
        if (n == 0) {
          socket->shutdown(tcp::socket::shutdown_send, ec);
          while (testing::ReadH2Frame(*socket, ec)) {
          }
          continue;
        }
        // Served alongside the next accept: a reconnect must not wait on it.
        serving_.emplace_back([socket] {
          asio::error_code ec;
          while (std::optional<testing::ReadFrame> frame = testing::ReadH2Frame(*socket, ec)) {
            if (frame->type == 4 /* SETTINGS */ && (frame->flags & 1) == 0) {
              asio::write(*socket, asio::buffer(testing::H2Frame(4, /*ACK*/ 1, 0, "")), ec);
            } else if (frame->type == 1 /* HEADERS */) {
              asio::write(*socket, asio::buffer(testing::OkWithReply(frame->stream_id, "")), ec);
            }
          }
        });
      }
    });
  }

  ~FirstConnectionBreaksServer() {
    stopping_ = true;
    testing::StopAcceptThread(io_, acceptor_, thread_);
    for (std::thread& t : serving_) t.join();
  }

  std::string address() const { return testing::LoopbackTarget(acceptor_); }
  // Connections accepted so far.
  int connections() const { return connections_.load(); }

 private:
  asio::io_context io_;
  tcp::acceptor acceptor_;
  std::atomic<bool> stopping_{false};
  std::atomic<int> connections_{0};
  std::vector<std::thread> serving_;
  std::thread thread_;
};

// A call Start refuses (its connection is broken) has failed at once, before
// a run's end that comes right after: grpc-go fails such a call at once too,
// and ghz records it, whatever --duration-stop says. The h2 engine reported
// the refusal on a later turn, with the call still marked in flight: an end
// in between marked it discarded, and --duration-stop=ignore dropped it. And
// then the slot waited for the connection's next attempt, a second away,
// though the run had ended. Here the end comes on the engine's first turn
// (RunEndedAtOnce), after slot 0's call was refused on the broken
// connection and slot 1's made on the good one.
TEST(H2EngineTest, ACallRefusedForWantOfAConnectionJustBeforeTheEndIsRecorded) {
  for (DurationStop stop : {DurationStop::kClose, DurationStop::kWait, DurationStop::kIgnore}) {
    SCOPED_TRACE(static_cast<int>(stop));
    FirstConnectionBreaksServer server;
    LoadPlan plan = H2EchoPlan(server.address(), 0, 2);
    plan.options.connections = 2;
    plan.options.duration = absl::Seconds(20);
    plan.options.duration_stop = stop;
    RunResults r = RunEndedAtOnce(plan, EngineKind::kH2);
    int refused = 0;
    for (const CallResult& c : r.calls) {
      if (c.code != grpc::StatusCode::UNAVAILABLE) continue;
      ++refused;
      EXPECT_TRUE(absl::StrContains(r.errors[c.error], server.address())) << r.errors[c.error];
    }
    EXPECT_EQ(refused, 1) << "the call on the broken connection failed before the end";
    EXPECT_EQ(r.calls.size(), stop == DurationStop::kIgnore ? 1u : 2u);
    EXPECT_EQ(server.connections(), 2) << "the run waited for a reconnect after its end";
  }
}

// A connection has 2^30 stream IDs for its calls; a long enough run uses
// them up. The call that finds none left is made again on a new connection,
// as after a GOAWAY, and so is every one after it. Each call failed at once
// with UNAVAILABLE instead, for the rest of the run. Started two IDs short
// of the end, a run of 20 calls needs several connections.
TEST(H2EngineTest, ACallThatFindsTheStreamIdsUsedUpIsMadeOnANewConnection) {
  testing::FakeServer server = testing::FakeServer::Start();
  LoadPlan plan = H2EchoPlan(server.address, 20, 2);
  plan.h2_first_stream_id = std::numeric_limits<int32_t>::max() - 2;  // 2^31 - 3
  LoadRunner runner(std::move(plan));
  ASSERT_TRUE(runner.Connect().ok());
  RunResults r = runner.Run();
  ASSERT_EQ(r.calls.size(), 20u);
  EXPECT_TRUE(r.errors.empty()) << r.errors[0];
  for (const CallResult& c : r.calls) EXPECT_EQ(c.code, grpc::StatusCode::OK);
  EXPECT_EQ(server.service->echo_calls(), 20);
  server.server->Shutdown();
}

TEST(H2EngineTest, ANewConnectionThatNeverSendsSettingsFailsItsCallAtTheConnectTimeout) {
  // The call the GOAWAY refused is made again on a new connection, whose
  // server accepts and then says nothing. With no per-call timeout, only
  // the attempt's --connect-timeout ends it; without that, the run would
  // never end.
  GoawayH2Server server(GoawayH2Server::kSilentSecond);
  LoadPlan plan = H2EchoPlan(server.address(), 2, 2);
  plan.options.timeout = absl::ZeroDuration();
  plan.options.connect_timeout = absl::Milliseconds(200);
  LoadRunner runner(std::move(plan));
  ASSERT_TRUE(runner.Connect().ok());
  RunResults r = runner.Run();
  ASSERT_EQ(r.calls.size(), 2u);
  int ok = 0;
  for (const CallResult& c : r.calls) {
    if (c.code == grpc::StatusCode::OK) {
      ++ok;
    } else {
      EXPECT_EQ(c.code, grpc::StatusCode::UNAVAILABLE);
      EXPECT_GE(c.latency_ns, 200'000'000);
    }
  }
  EXPECT_EQ(ok, 1);
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_NE(r.errors[0].find("sent no HTTP/2 SETTINGS within 200ms"), std::string::npos)
      << r.errors[0];
  EXPECT_EQ(server.requests(), 2);
}

// A server that goes away in the middle of a -z closed loop and comes back:
// a slot whose call finds no connection waits for the next attempt to
// connect, rather than failing a call, taking the next and failing it, as
// fast as it can record them (the h2 engine a million in 4 s, each kept for
// the report); and the slots go on calling once the server is back.
void ExpectATimedClosedLoopWaitsOutAServerThatWentAway(EngineKind engine) {
  // The first server drops the connection at the first request, and stops
  // listening.
  HandMadeH2Server first(/*close_on_request=*/true, /*stop_listening=*/true);
  const int port = first.port();
  LoadPlan plan = H2EchoPlan("127.0.0.1:" + std::to_string(port), 0, 2);
  plan.options.engine = engine;
  plan.options.duration = absl::Seconds(4);
  plan.options.connect_timeout = absl::Milliseconds(500);
  LoadRunner runner(std::move(plan));
  ASSERT_TRUE(runner.Connect().ok());
  RunResults r;
  std::thread run([&] { r = runner.Run(); });
  first.WaitUntilGone();
  // The second server, on the same port, which the engine's reconnect
  // (a second after the break; gRPC's backoff starts at a second too)
  // finds.
  testing::FakeServer server = testing::FakeServer::Start(false, port);
  run.join();
  int ok = 0;
  int unavailable = 0;
  for (const CallResult& c : r.calls) {
    if (c.code == grpc::StatusCode::OK) ++ok;
    if (c.code == grpc::StatusCode::UNAVAILABLE) ++unavailable;
  }
  EXPECT_GT(ok, 0) << "the slots never called again after the server came back";
  // The 2 in flight at the break, 2 that found the connection broken, and
  // 2 for each failed attempt after it (a second or more apart: at most 4
  // in 4 s). At least the call the server read fails. gRPC retries the
  // other transparently if its stream had not left the client yet (seen
  // once in nine runs of the grpc engine's case), and the server is back by
  // the next attempt.
  EXPECT_GE(unavailable, engine == EngineKind::kH2 ? 2 : 1);
  EXPECT_LE(unavailable, 2 + 2 + 2 * 4) << "refused calls were retried at once";
  server.server->Shutdown();
}

TEST(H2EngineTest, ATimedClosedLoopWaitsOutAServerThatWentAwayAndResumes) {
  ExpectATimedClosedLoopWaitsOutAServerThatWentAway(EngineKind::kH2);
}

TEST(GrpcEngineTest, ATimedClosedLoopWaitsOutAServerThatWentAwayAndResumes) {
  ExpectATimedClosedLoopWaitsOutAServerThatWentAway(EngineKind::kGrpc);
}

}  // namespace
}  // namespace handoff::load
