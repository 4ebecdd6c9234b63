// Copyright 2026 The handoff Authors.
//
// async_server: Echo on gRPC's completion-queue (async) API, to price the one
// way gRPC 1.51 offers to keep a call's gRPC half on the thread that took
// it. The callback API has no public way to run code on its own threads (a
// callback alarm runs on gRPC's executor, one more hop), so a design that
// hands the job to a worker and wants Finish back on gRPC's side needs the
// async API: an alarm on the call's completion queue hands the call back to
// the thread that polls it. --mode:
//
//   inline  the queue's thread answers at once (the async API's raw gRPC)
//   hop     one other thread sets the reply and calls Finish, as a handoffd
//           worker does (the async API's `raw_server --hop`)
//   back    one other thread sets the reply; an alarm on the call's queue
//           hands it back, and that queue's thread calls Finish
//
// One thread per completion queue (--cqs), each keeping 256 calls
// requested. Only Echo is served. Stopped by a signal; it keeps no counts.
// docs/PERF.md (2026-12-05, late afternoon) has what the modes cost.

#include <asio.hpp>
#include <cstdio>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "grpcpp/alarm.h"
#include "grpcpp/grpcpp.h"
#include "handoff/v1/gateway.grpc.pb.h"

ABSL_FLAG(std::string, listen, "127.0.0.1:50071", "gRPC listen address.");
ABSL_FLAG(std::string, mode, "inline",
          "inline, hop or back: who answers, and who calls Finish.");
ABSL_FLAG(int, cqs, 2,
          "Completion queues, one polling thread each (gRPC's callback API "
          "ran two on the project's 2-core machines).");

namespace {

using Service = handoff::v1::Gateway::WithAsyncMethod_Echo<
    handoff::v1::Gateway::Service>;

// What a completion means for its call.
enum class Kind { kRequested, kHandedBack, kFinished };
enum class Mode { kInline, kHop, kBack };
using enum Mode;

struct Call;
struct Tag {
  Call* call;
  Kind kind;
};

// One call, from its request to its Finish; deleted when the Finish
// completes. Each call requested puts another in its place, so that the
// queue always has calls waiting for clients.
struct Call {
  Call(Service* s, grpc::ServerCompletionQueue* q) : service(s), cq(q) {
    service->RequestEcho(&ctx, &req, &responder, cq, cq, &requested);
  }
  Service* service;
  grpc::ServerCompletionQueue* cq;
  grpc::ServerContext ctx;
  handoff::v1::EchoRequest req;
  handoff::v1::EchoReply reply;
  grpc::ServerAsyncResponseWriter<handoff::v1::EchoReply> responder{&ctx};
  grpc::Alarm alarm;
  Tag requested{this, Kind::kRequested};
  Tag handed_back{this, Kind::kHandedBack};
  Tag finished{this, Kind::kFinished};
};

void Serve(Service* service, grpc::ServerCompletionQueue* cq, Mode mode,
           asio::thread_pool* pool) {
  for (int i = 0; i < 256; ++i) new Call(service, cq);
  void* tag;
  bool ok;
  while (cq->Next(&tag, &ok)) {
    auto* t = static_cast<Tag*>(tag);
    Call* c = t->call;
    switch (t->kind) {
      case Kind::kRequested:
        if (!ok) {
          delete c;
          break;
        }
        new Call(service, cq);
        if (mode == kInline) {
          c->reply.set_payload(c->req.payload());
          c->responder.Finish(c->reply, grpc::Status::OK, &c->finished);
        } else if (mode == kHop) {
          asio::post(*pool, [c] {
            c->reply.set_payload(c->req.payload());
            c->responder.Finish(c->reply, grpc::Status::OK, &c->finished);
          });
        } else {
          // An alarm that is already due completes at once, on the call's
          // queue: the thread that polls it wakes up and calls Finish.
          asio::post(*pool, [c] {
            c->reply.set_payload(c->req.payload());
            c->alarm.Set(c->cq, gpr_now(GPR_CLOCK_MONOTONIC), &c->handed_back);
          });
        }
        break;
      case Kind::kHandedBack:
        c->responder.Finish(c->reply, grpc::Status::OK, &c->finished);
        break;
      case Kind::kFinished:
        delete c;
        break;
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  const std::string m = absl::GetFlag(FLAGS_mode);
  if (m != "inline" && m != "hop" && m != "back") {
    std::fprintf(stderr, "async_server: --mode must be inline, hop or back\n");
    return 2;
  }
  const Mode mode = m == "hop" ? kHop : m == "back" ? kBack : kInline;
  Service service;
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort(absl::GetFlag(FLAGS_listen),
                           grpc::InsecureServerCredentials(), &port);
  builder.RegisterService(&service);
  std::vector<std::unique_ptr<grpc::ServerCompletionQueue>> cqs;
  for (int i = 0; i < absl::GetFlag(FLAGS_cqs); ++i) {
    cqs.push_back(builder.AddCompletionQueue());
  }
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr || port == 0) return 1;
  std::fprintf(stderr, "async_server: Echo, %s, on port %d\n", m.c_str(), port);
  asio::thread_pool pool(1);
  std::vector<std::thread> threads;
  for (auto& cq : cqs) {
    threads.emplace_back(Serve, &service, cq.get(), mode, &pool);
  }
  for (std::thread& t : threads) t.join();
}
