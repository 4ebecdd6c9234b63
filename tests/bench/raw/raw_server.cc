// Copyright 2026 The handoff Authors.
//
// raw_server: the baseline handoffd is measured against — the same
// handoff.v1.Gateway proto on the gRPC callback API, with no dispatcher.
// Echo and Work answer inline on gRPC's own callback threads
// (DefaultReactor); Work busy-loops cpu_us of thread CPU and then sleeps
// sleep_us, ignoring the caller's deadline, as a plain server does. It is the
// "plain gRPC C++ server" that README's overload figures compare against.
//
// On SIGTERM/SIGINT it prints its counters to stderr and exits 0:
//   raw_server: calls=N ok_in_time=M late=K
// where ok_in_time counts Work/Echo replies finished before the caller's
// deadline (goodput) and late counts those finished after it (wasted work).

#include <signal.h>
#include <time.h>

#include <asio.hpp>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <memory>
#include <thread>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/synchronization/mutex.h"
#include "grpcpp/grpcpp.h"
#include "handoff/v1/gateway.grpc.pb.h"

ABSL_FLAG(std::string, listen, "127.0.0.1:50061", "gRPC listen address.");
ABSL_FLAG(bool, hop, false,
          "Echo: answer from one other thread (an asio::thread_pool of one) "
          "instead of inline: the floor of any design that moves the reply "
          "off gRPC's thread.");

namespace {

std::atomic<int64_t> g_calls{0};
std::atomic<int64_t> g_ok_in_time{0};
std::atomic<int64_t> g_late{0};

int64_t ThreadCpuNanos() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

void Count(grpc::CallbackServerContext* ctx) {
  g_calls.fetch_add(1, std::memory_order_relaxed);
  if (std::chrono::system_clock::now() < ctx->deadline()) {
    g_ok_in_time.fetch_add(1, std::memory_order_relaxed);
  } else {
    g_late.fetch_add(1, std::memory_order_relaxed);
  }
}

class RawGateway final : public handoff::v1::Gateway::CallbackService {
 public:
  // With `hop`, Echo is answered from one other thread (--hop).
  explicit RawGateway(bool hop) {
    if (hop) hop_ = std::make_unique<asio::thread_pool>(1);
  }

  grpc::ServerUnaryReactor* Echo(grpc::CallbackServerContext* ctx,
                                 const handoff::v1::EchoRequest* request,
                                 handoff::v1::EchoReply* reply) override {
    auto* r = ctx->DefaultReactor();
    if (hop_ != nullptr) {
      asio::post(*hop_, [ctx, request, reply, r] {
        reply->set_payload(request->payload());
        Count(ctx);
        r->Finish(grpc::Status::OK);
      });
      return r;
    }
    reply->set_payload(request->payload());
    Count(ctx);
    r->Finish(grpc::Status::OK);
    return r;
  }

  grpc::ServerUnaryReactor* Work(grpc::CallbackServerContext* ctx,
                                 const handoff::v1::WorkRequest* request,
                                 handoff::v1::WorkReply* reply) override {
    const int64_t start = ThreadCpuNanos();
    const int64_t budget = int64_t{request->cpu_us()} * 1000;
    uint64_t x = static_cast<uint64_t>(start) | 1;
    while (ThreadCpuNanos() - start < budget) {
      for (int i = 0; i < 4096; ++i) x = x * 6364136223846793005ULL + 1;
      asm volatile("" : : "r"(x));
    }
    if (request->sleep_us() > 0) {
      std::this_thread::sleep_for(std::chrono::microseconds(request->sleep_us()));
    }
    reply->set_payload(request->payload());
    reply->set_cpu_us_done(static_cast<uint64_t>((ThreadCpuNanos() - start) / 1000));
    Count(ctx);
    auto* r = ctx->DefaultReactor();
    r->Finish(grpc::Status::OK);
    return r;
  }

 private:
  std::unique_ptr<asio::thread_pool> hop_;
};

}  // namespace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  // As handoffd does (server/main.cc), so that the comparison is about the
  // dispatch path only.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  RawGateway service(absl::GetFlag(FLAGS_hop));
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort(absl::GetFlag(FLAGS_listen),
                           grpc::InsecureServerCredentials(), &port);
  builder.RegisterService(&service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr || port == 0) {
    std::fprintf(stderr, "raw_server: cannot listen\n");
    return 1;
  }
  std::fprintf(stderr, "raw_server: serving gRPC on port %d\n", port);
  asio::io_context io;
  asio::signal_set signals(io, SIGTERM, SIGINT);
  signals.async_wait([&](const asio::error_code&, int) { io.stop(); });
  io.run();
  std::fprintf(stderr, "raw_server: calls=%lld ok_in_time=%lld late=%lld\n",
               static_cast<long long>(g_calls.load()),
               static_cast<long long>(g_ok_in_time.load()),
               static_cast<long long>(g_late.load()));
  std::fflush(stderr);
  std::_Exit(0);  // do not wait for calls still sleeping
}
