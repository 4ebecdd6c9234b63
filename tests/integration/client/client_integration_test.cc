// handoff::Client and the `handoff` CLI against a real handoffd.
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdint>
#include <future>
#include <memory>
#include <thread>

#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>
#include <gtest/gtest.h>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "absl/synchronization/notification.h"
#include "client/client.h"
#include "client/dynamic_call.h"
#include "handoffd_process.h"
#include "tests/integration/server/http_get.h"
#include "tests/util/ports.h"
#include "tests/util/wait_until.h"

namespace handoff::testing {
namespace {

// A counter of `handoffd`'s /metrics; -1 if it is not there.
int64_t MetricOf(const Handoffd& handoffd, absl::string_view name) {
  int port = 0;
  const std::string& admin = handoffd.admin_address;
  if (!absl::SimpleAtoi(admin.substr(admin.rfind(':') + 1), &port)) return -1;
  for (absl::string_view line : absl::StrSplit(HttpGet(port, "/metrics"), '\n')) {
    line = absl::StripSuffix(line, "\r");
    int64_t value = 0;
    if (absl::ConsumePrefix(&line, name) && absl::ConsumePrefix(&line, " ") &&
        absl::SimpleAtoi(line, &value)) {
      return value;
    }
  }
  return -1;
}

class HandoffdTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto h = StartHandoffd(HANDOFFD, {"--workers=2"});
    ASSERT_TRUE(h.ok()) << h.status();
    handoffd_ = new Handoffd(*std::move(h));
  }
  static void TearDownTestSuite() {
    // SIGTERM drains and exits 0 (README, "Shutdown").
    EXPECT_EQ(handoffd_->process->Stop(), 0);
    delete handoffd_;
  }
  void SetUp() override {
    auto client = Client::Connect({.target = handoffd_->address});
    ASSERT_TRUE(client.ok()) << client.status();
    client_ = *std::move(client);
  }
  // A counter or gauge from handoffd's /metrics; -1 if it is not there. The
  // suite shares one handoffd, so a test compares a counter with itself.
  static int64_t Metric(absl::string_view name) { return MetricOf(*handoffd_, name); }
  static ProcessResult Cli(std::vector<std::string> args) {
    args.insert(args.begin(), HANDOFF_CLI);
    return testing::Run(args, absl::Seconds(60));
  }

  static Handoffd* handoffd_;
  std::unique_ptr<Client> client_;
};

Handoffd* HandoffdTest::handoffd_ = nullptr;

TEST_F(HandoffdTest, EchoReturnsThePayload) {
  v1::EchoRequest req;
  req.set_payload("ping");
  auto reply = client_->Echo(req, {.timeout = absl::Seconds(5)});
  ASSERT_TRUE(reply.ok()) << reply.status();
  EXPECT_EQ(reply->payload(), "ping");
}

TEST_F(HandoffdTest, WorkShorterThanDeadline) {
  v1::WorkRequest req;
  req.set_cpu_us(200);
  req.set_sleep_us(1000);
  auto reply = client_->WorkFuture(req, {.timeout = absl::Seconds(5)}).get();
  ASSERT_TRUE(reply.ok()) << reply.status();
  EXPECT_GE(reply->ran_us(), 1000u);
  EXPECT_LT(reply->worker(), 2u);
}

TEST_F(HandoffdTest, WorkLongerThanDeadlineIsDeadlineExceeded) {
  v1::WorkRequest req;
  req.set_sleep_us(5'000'000);
  auto reply = client_->Work(req, {.timeout = absl::Milliseconds(200)});
  EXPECT_EQ(reply.status().code(), absl::StatusCode::kDeadlineExceeded);
}

// The cancel reaches handoffd: the Work it had started stops early and
// frees its worker, long before its 30 s.
TEST_F(HandoffdTest, CancelTokenEndsWork) {
  v1::WorkRequest req;
  req.set_sleep_us(30'000'000);
  const int64_t started = Metric("handoff_work_jobs_started_total");
  const int64_t stopped = Metric("handoff_work_jobs_stopped_early_total");
  ASSERT_GE(started, 0);
  ASSERT_GE(stopped, 0);
  auto token = std::make_shared<CancelToken>();
  absl::Notification done;
  absl::StatusOr<v1::WorkReply> got;
  client_->WorkAsync(req, {.timeout = absl::Seconds(60), .cancel = token},
                     [&](absl::StatusOr<v1::WorkReply> r) {
                       got = std::move(r);
                       done.Notify();
                     });
  // Cancelled once it runs, so that the cancel has a server side to reach.
  ASSERT_TRUE(WaitUntil(
      [&] { return Metric("handoff_work_jobs_started_total") == started + 1; }));
  token->Cancel();
  ASSERT_TRUE(done.WaitForNotificationWithTimeout(absl::Seconds(30)));
  EXPECT_EQ(got.status().code(), absl::StatusCode::kCancelled);
  EXPECT_TRUE(WaitUntil(
      [&] { return Metric("handoff_work_jobs_stopped_early_total") == stopped + 1; },
      absl::Seconds(20)))
      << "the Work did not stop early";
  EXPECT_TRUE(WaitUntil([&] { return Metric("handoff_workers_busy") == 0; },
                        absl::Seconds(20)));
}

// A call made by name (CallMethod, as `handoff call` makes them) ends with
// CANCELLED at its token's cancel too: it ran on to its deadline.
TEST_F(HandoffdTest, CancelTokenEndsACallMadeByName) {
  const google::protobuf::MethodDescriptor* work =
      v1::WorkRequest::descriptor()->file()->FindServiceByName("Gateway")->FindMethodByName(
          "Work");
  ASSERT_NE(work, nullptr);
  v1::WorkRequest req;
  req.set_sleep_us(30'000'000);
  const int64_t started = Metric("handoff_work_jobs_started_total");
  ASSERT_GE(started, 0);
  auto token = std::make_shared<CancelToken>();
  absl::Status status;
  absl::Notification done;
  std::thread call([&] {
    status = CallMethod(client_->channel(), *work, {req.SerializeAsString()},
                        {.timeout = absl::Seconds(60), .cancel = token},
                        [](const std::string&) {});
    done.Notify();
  });
  ASSERT_TRUE(WaitUntil(
      [&] { return Metric("handoff_work_jobs_started_total") == started + 1; }));
  token->Cancel();
  const bool ended = done.WaitForNotificationWithTimeout(absl::Seconds(30));
  call.join();
  ASSERT_TRUE(ended);
  EXPECT_EQ(status.code(), absl::StatusCode::kCancelled) << status;
  // And one made after the cancel fails at once.
  EXPECT_EQ(CallMethod(client_->channel(), *work, {req.SerializeAsString()},
                       {.timeout = absl::Seconds(60), .cancel = token},
                       [](const std::string&) {})
                .code(),
            absl::StatusCode::kCancelled);
}

// A handler registered on the server (handoffd's built-in "reverse") is
// called typed, as Echo and Work are, without reflection.
TEST_F(HandoffdTest, CallRunsAHandlerByName) {
  v1::CallRequest req;
  req.set_handler("reverse");
  req.set_payload("abc");
  absl::StatusOr<v1::CallReply> reply = client_->Call(req, {.timeout = absl::Seconds(5)});
  ASSERT_TRUE(reply.ok()) << reply.status();
  EXPECT_EQ(reply->payload(), "cba");
  req.set_handler("nope");
  reply = client_->CallFuture(req, {.timeout = absl::Seconds(5)}).get();
  EXPECT_EQ(reply.status().code(), absl::StatusCode::kUnimplemented) << reply.status();
  EXPECT_TRUE(absl::StrContains(reply.status().message(), "this server has reverse"))
      << reply.status();
}

TEST_F(HandoffdTest, BatchAnswersEachItemInOrder) {
  v1::BatchRequest req;
  for (int i = 0; i < 4; ++i) req.add_items()->set_payload(std::to_string(i));
  auto reply = client_->Batch(req, {.timeout = absl::Seconds(5)});
  ASSERT_TRUE(reply.ok()) << reply.status();
  ASSERT_EQ(reply->items_size(), 4);
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(reply->items(i).code(), 0);
    EXPECT_EQ(reply->items(i).reply().payload(), std::to_string(i));
  }
}

TEST_F(HandoffdTest, StreamInOrder) {
  std::vector<v1::WorkRequest> requests(20);
  for (int i = 0; i < 20; ++i) requests[i].set_payload(std::to_string(i));
  auto replies = client_->Stream(requests, {.timeout = absl::Seconds(10)});
  ASSERT_TRUE(replies.ok()) << replies.status();
  ASSERT_EQ(replies->size(), 20u);
  for (int i = 0; i < 20; ++i) EXPECT_EQ((*replies)[i].payload(), std::to_string(i));
}

TEST_F(HandoffdTest, OutOfRangeFieldIsInvalidArgument) {
  v1::WorkRequest req;
  req.set_cpu_us(4'000'000'000u);  // over the 10 s cap
  auto reply = client_->Work(req, {.timeout = absl::Seconds(5)});
  EXPECT_EQ(reply.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(HandoffdTest, CliHealthListAndCallWorkAgainstHandoffd) {
  const std::string addr = "--addr=" + handoffd_->address;
  auto health = Cli({"health", addr});
  EXPECT_EQ(health.exit_code, 0) << health.err;
  EXPECT_EQ(health.out, "SERVING\n");

  auto list = Cli({"list", addr});
  EXPECT_EQ(list.exit_code, 0) << list.err;
  EXPECT_TRUE(absl::StrContains(list.out, "handoff.v1.Gateway\n")) << list.out;
  EXPECT_TRUE(absl::StrContains(list.out, "grpc.health.v1.Health\n")) << list.out;

  auto echo = Cli({"call", "handoff.v1.Gateway.Echo", "-d", R"({"payload":"aGk="})", addr});
  EXPECT_EQ(echo.exit_code, 0) << echo.err;
  EXPECT_EQ(echo.out, "{\"payload\":\"aGk=\"}\n");

  auto late = Cli({"call", "handoff.v1.Gateway.Work", "-d", R"({"sleepUs":5000000})",
                   "--timeout=200ms", addr});
  EXPECT_EQ(late.exit_code, 64 + 4);
  EXPECT_TRUE(absl::StrContains(late.err, "DEADLINE_EXCEEDED")) << late.err;

  auto unknown = Cli({"call", "handoff.v1.Gateway.Nope", "-d", "{}", addr});
  EXPECT_EQ(unknown.exit_code, 1);
  EXPECT_TRUE(absl::StrContains(unknown.err, "no method 'Nope'")) << unknown.err;
}

// gRPC C++'s health service has no protobuf descriptor, so reflection would
// list it without describing it, and grpcurl could not call it. handoffd
// links a copy of its .proto: the health check is callable by reflection
// alone, as grpcurl calls it.
TEST_F(HandoffdTest, ReflectionDescribesTheHealthService) {
  const std::string addr = "--addr=" + handoffd_->address;
  auto list = Cli({"list", "grpc.health.v1.Health", addr});
  EXPECT_EQ(list.exit_code, 0) << list.err;
  EXPECT_TRUE(absl::StrContains(
      list.out,
      "  Check(grpc.health.v1.HealthCheckRequest) returns (grpc.health.v1.HealthCheckResponse)\n"))
      << list.out;
  auto check = Cli({"call", "grpc.health.v1.Health.Check", "-d", "{}", addr});
  EXPECT_EQ(check.exit_code, 0) << check.err;
  EXPECT_EQ(check.out, "{\"status\":\"SERVING\"}\n");
}


// Stands on a loopback port before handoffd does, like a server that is not
// up yet: it lets the test see the client's first connection, and resets it,
// so a client that does not wait for ready fails there and then.
// Its port lies below the ephemeral range (tests/util/ports.h says why).
class NotYetServing {
 public:
  NotYetServing() {
    fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_TRUE(BindBelowEphemeralRange([&](int p) {
      addr.sin_port = htons(static_cast<uint16_t>(p));
      return bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    }));
    socklen_t len = sizeof addr;
    EXPECT_EQ(listen(fd_, 4), 0);
    EXPECT_EQ(getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len), 0);
    address_ = absl::StrCat("127.0.0.1:", ntohs(addr.sin_port));
  }
  ~NotYetServing() {
    if (fd_ >= 0) close(fd_);
  }

  const std::string& address() const { return address_; }

  // Waits up to `timeout` for a client to connect, resets its connection and
  // stops listening, which frees the port for handoffd. False if no client
  // came.
  bool RefuseFirstClient(absl::Duration timeout) {
    pollfd p{.fd = fd_, .events = POLLIN, .revents = 0};
    if (poll(&p, 1, static_cast<int>(absl::ToInt64Milliseconds(timeout))) != 1) {
      return false;
    }
    const int conn = accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (conn < 0) return false;
    // Linger 0: close sends RST, as a refused connection ends, and leaves
    // nothing in TIME_WAIT on the port.
    linger reset{.l_onoff = 1, .l_linger = 0};
    setsockopt(conn, SOL_SOCKET, SO_LINGER, &reset, sizeof reset);
    close(conn);
    close(fd_);
    fd_ = -1;
    return true;
  }

 private:
  int fd_ = -1;
  std::string address_;
};

// Runs the CLI with `args` and --addr at a port where nothing serves yet;
// once the CLI has tried to connect and been turned away, starts handoffd
// there (if `then_start_handoffd`). Returns how the CLI ended.
ProcessResult CliAgainstALateServer(std::vector<std::string> args,
                                    bool then_start_handoffd) {
  NotYetServing stand_in;
  args.insert(args.begin(), HANDOFF_CLI);
  args.push_back("--addr=" + stand_in.address());
  ProcessResult result;
  std::thread cli([&] { result = Run(args, absl::Seconds(60)); });
  const bool client_came = stand_in.RefuseFirstClient(absl::Seconds(30));
  EXPECT_TRUE(client_came) << "the CLI never tried to connect";
  absl::StatusOr<Handoffd> handoffd = absl::UnavailableError("not started");
  if (client_came && then_start_handoffd) {
    handoffd = StartHandoffdAt(HANDOFFD, stand_in.address());
    EXPECT_TRUE(handoffd.ok()) << handoffd.status();
  }
  cli.join();
  if (handoffd.ok()) {
    EXPECT_EQ(handoffd->process->Stop(), 0);
  }
  return result;
}

// handoffd answers DEADLINE_EXCEEDED itself, at its --max_deadline, on a
// connection it has already sent GOAWAY on (--max_connection_age): by then
// the channel is IDLE, yet the call did reach the server, so the message
// must not say the channel had no connection.
TEST(ServerDeadlineTest, ADeadlineTheServerAnsweredIsNotBlamedOnTheConnection) {
  auto handoffd = StartHandoffd(HANDOFFD, {"--workers=2", "--max_deadline=1s", "--default_deadline=1s",
                                           "--max_connection_age=100ms",
                                           "--max_connection_age_grace=30s"});
  ASSERT_TRUE(handoffd.ok()) << handoffd.status();
  auto client = Client::Connect({.target = handoffd->address});
  ASSERT_TRUE(client.ok()) << client.status();
  v1::WorkRequest req;
  req.set_sleep_us(30'000'000);
  auto reply = (*client)->Work(req, {.timeout = absl::Seconds(30)});
  EXPECT_EQ(reply.status().code(), absl::StatusCode::kDeadlineExceeded) << reply.status();
  EXPECT_FALSE(absl::StrContains(reply.status().message(), "no connection"))
      << reply.status();
  EXPECT_EQ(handoffd->process->Stop(), 0);
}

// The premise of the two tests below: without --wait_for_ready the CLI gives
// up at the first refused connection.
TEST(WaitForReadyTest, CliCallWithoutWaitForReadyFailsAtTheFirstRefusal) {
  ProcessResult call = CliAgainstALateServer(
      {"call", "handoff.v1.Gateway.Echo", "-d", R"({"payload":"aGk="})",
       "--timeout=20s"},
      /*then_start_handoffd=*/false);
  EXPECT_EQ(call.exit_code, 1) << call.err;
  EXPECT_TRUE(absl::StrContains(call.err, "UNAVAILABLE")) << call.err;
}

TEST(WaitForReadyTest, CliCallRidesOutAServerStillStarting) {
  ProcessResult call = CliAgainstALateServer(
      {"call", "handoff.v1.Gateway.Echo", "-d", R"({"payload":"aGk="})",
       "--wait_for_ready", "--timeout=20s"},
      /*then_start_handoffd=*/true);
  EXPECT_EQ(call.exit_code, 0) << call.err;
  EXPECT_EQ(call.out, "{\"payload\":\"aGk=\"}\n");
}

TEST(WaitForReadyTest, CliListRidesOutAServerStillStarting) {
  ProcessResult list =
      CliAgainstALateServer({"list", "--wait_for_ready", "--timeout=20s"},
                            /*then_start_handoffd=*/true);
  EXPECT_EQ(list.exit_code, 0) << list.err;
  EXPECT_TRUE(absl::StrContains(list.out, "handoff.v1.Gateway\n")) << list.out;
}

// A Work call running on a handoffd that is then killed (not drained),
// from a client built with `options` (its target filled in here). Returns
// the server, gone, for a test that starts another on its address, and
// the call, still waiting for its end.
struct CallOnAKilledServer {
  Handoffd killed;
  std::unique_ptr<Client> client;
  std::future<absl::StatusOr<v1::WorkReply>> reply;
};
CallOnAKilledServer KillTheServerUnderACall(ClientOptions options, CallOptions call) {
  CallOnAKilledServer out;
  auto handoffd = StartHandoffd(HANDOFFD, {"--workers=2"});
  EXPECT_TRUE(handoffd.ok()) << handoffd.status();
  if (!handoffd.ok()) return out;
  out.killed = *std::move(handoffd);
  options.target = out.killed.address;
  auto client = Client::Connect(options);
  EXPECT_TRUE(client.ok()) << client.status();
  out.client = *std::move(client);
  v1::WorkRequest req;
  req.set_sleep_us(20'000'000);
  out.reply = out.client->WorkFuture(req, call);
  // Killed once its job runs: the server has seen the call, and sent its
  // headers (handoffd sends them just before it counts the job started).
  EXPECT_TRUE(WaitUntil(
      [&] { return MetricOf(out.killed, "handoff_work_jobs_started_total") == 1; }));
  // And once they have reached the client: an Echo's reply, sent on the same
  // connection after them, comes after them.
  v1::EchoRequest echo;
  echo.set_payload("after the headers");
  EXPECT_TRUE(out.client->Echo(echo, {.timeout = absl::Seconds(10)}).ok());
  kill(out.killed.process->pid(), SIGKILL);
  EXPECT_NE(out.killed.process->Wait(absl::Seconds(10)), -2);
  return out;
}

// What a call meets when its server goes away under it (client.h, README
// "Retries"): UNAVAILABLE, with a retry policy or without, and, its job
// having started, not made again on a server back on the address: handoffd
// sent the call's headers as the job started, and gRPC's retry (gRFC A6)
// makes no call again once it has them.
TEST(ServerLossTest, ACallWhoseServerIsKilledIsUnavailableAndNotMadeAgain) {
  const CallOptions call{.timeout = absl::Seconds(30)};
  {
    auto lost = KillTheServerUnderACall({.retry = std::nullopt}, call);
    ASSERT_TRUE(lost.reply.valid());
    auto reply = lost.reply.get();
    EXPECT_EQ(reply.status().code(), absl::StatusCode::kUnavailable) << reply.status();
  }
  {
    auto lost = KillTheServerUnderACall({}, call);
    ASSERT_TRUE(lost.reply.valid());
    auto reply = lost.reply.get();
    EXPECT_EQ(reply.status().code(), absl::StatusCode::kUnavailable) << reply.status();
  }
  {
    // wait_for_ready: an attempt made again would wait for a server on the
    // address, not end, so a call still waiting here is one being retried.
    CallOptions patient = call;
    patient.wait_for_ready = true;
    patient.cancel = std::make_shared<CancelToken>();
    auto lost = KillTheServerUnderACall({}, patient);
    ASSERT_TRUE(lost.reply.valid());
    const bool answered =
        lost.reply.wait_for(std::chrono::seconds(10)) == std::future_status::ready;
    EXPECT_TRUE(answered) << "the call waits to be made again";
    auto again = StartHandoffdAt(HANDOFFD, lost.killed.address, {"--workers=2"});
    ASSERT_TRUE(again.ok()) << again.status();
    if (!answered) {
      // As it was: the server that came back ran the job a second time.
      EXPECT_TRUE(WaitUntil(
          [&] { return MetricOf(*again, "handoff_work_jobs_started_total") == 1; }));
      patient.cancel->Cancel();
    }
    auto reply = lost.reply.get();
    EXPECT_EQ(reply.status().code(), absl::StatusCode::kUnavailable) << reply.status();
    EXPECT_EQ(MetricOf(*again, "handoff_work_jobs_started_total"), 0);
    EXPECT_EQ(again->process->Stop(), 0);
  }
}

}  // namespace
}  // namespace handoff::testing
