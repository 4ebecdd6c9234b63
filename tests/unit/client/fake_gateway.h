// FakeGateway: a small in-process handoff.v1.Gateway for client tests.
//
// Not handoffd: no dispatcher, no worker pool. It answers exactly as the
// API promises, with knobs and signals tests synchronise on:
//   Echo   returns the payload; a payload "unavailable:N" fails the first N
//          calls carrying it with UNAVAILABLE (to test channel retries);
//          a payload "status:CODE:MESSAGE" fails with that status, and
//          "details:CODE:MESSAGE" with that status and the details
//          RpcStatusWithDetails gives; "header:KEY" is answered with the
//          value of the call's request header KEY (empty if it has none),
//          with the response header "x-asked-for: KEY" and that value again
//          in the trailer "x-answer-bin" ("header:user-agent" echoes the
//          user-agent the call came with, gRPC's and any prefix).
//   Work   waits sleep_us, or until the call is cancelled (then CANCELLED);
//          work_started() is notified when a Work call begins waiting, and
//          work_calls() lists what each call carried.
//   Stream answers each WorkRequest with a WorkReply carrying its payload,
//          in order; a payload "status:CODE:MESSAGE" ends the stream there
//          with that status; "hold" sends the response headers
//          ("x-held: yes") and then nothing more until the call is cancelled.
#ifndef HANDOFF_TESTS_UNIT_CLIENT_FAKE_GATEWAY_H_
#define HANDOFF_TESTS_UNIT_CLIENT_FAKE_GATEWAY_H_

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <grpcpp/server.h>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "handoff/v1/gateway.grpc.pb.h"

namespace handoff::testing {

// A google.rpc.Status of `code` and `message`, serialized, with two details:
// an EchoReply{payload: "detail"}, and 3 bytes ("xyz") of a type no one
// describes, type.googleapis.com/example.NotDescribed.
std::string RpcStatusWithDetails(int code, const std::string& message);

class FakeGateway final : public v1::Gateway::CallbackService {
 public:
  grpc::ServerUnaryReactor* Echo(grpc::CallbackServerContext* context,
                                 const v1::EchoRequest* request,
                                 v1::EchoReply* reply) override;
  grpc::ServerUnaryReactor* Work(grpc::CallbackServerContext* context,
                                 const v1::WorkRequest* request,
                                 v1::WorkReply* reply) override;
  grpc::ServerBidiReactor<v1::WorkRequest, v1::WorkReply>* Stream(
      grpc::CallbackServerContext* context) override;

  // Notified once, when the first Work call starts waiting.
  absl::Notification& work_started() { return work_started_; }
  int64_t echo_calls() const { return echo_calls_.load(); }
  // Messages received on Stream calls, all of them together.
  int64_t stream_messages() const { return stream_messages_.load(); }
  // Their cpu_us, in the order they came.
  std::vector<uint32_t> stream_cpu_us() {
    absl::MutexLock lock(&mu_);
    return stream_cpu_us_;
  }
  // What a Work call carried: its cpu_us (which the fake does not spend)
  // and its "x-tag" metadata ("" when it had none); and when it came.
  struct WorkCall {
    uint32_t cpu_us;
    std::string tag;
    absl::Time at;
  };
  std::vector<WorkCall> work_calls() {
    absl::MutexLock lock(&mu_);
    return work_calls_;
  }
  // How many client connections (peer addresses) Echo calls came on.
  size_t echo_connections() {
    absl::MutexLock lock(&mu_);
    return echo_peers_.size();
  }
  // The :authority of the latest Echo call.
  std::string last_authority() {
    absl::MutexLock lock(&mu_);
    return last_authority_;
  }

 private:
  absl::Notification work_started_;
  std::once_flag work_started_once_;  // concurrent Work calls notify once
  std::atomic<int64_t> echo_calls_{0};
  std::atomic<int64_t> stream_messages_{0};
  absl::Mutex mu_;
  absl::flat_hash_map<std::string, int> failures_ ABSL_GUARDED_BY(mu_);
  std::string last_authority_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_set<std::string> echo_peers_ ABSL_GUARDED_BY(mu_);
  std::vector<WorkCall> work_calls_ ABSL_GUARDED_BY(mu_);
  std::vector<uint32_t> stream_cpu_us_ ABSL_GUARDED_BY(mu_);
};

// A started server on a free loopback port.
struct FakeServer {
  std::unique_ptr<FakeGateway> service;
  std::unique_ptr<grpc::Server> server;
  std::string address;  // "127.0.0.1:PORT"

  // `reflection` adds gRPC's reflection service (the binary must link
  // grpc++_reflection and must not link the client's reflection protos).
  // A finite `max_connection_age` sends each connection a GOAWAY that old,
  // as handoffd's --max_connection_age does; its calls may still finish.
  // Without `gzip`, a gzipped request is refused (UNIMPLEMENTED), which
  // tells a test that its requests were compressed. A `reflection_token`
  // guards reflection and the health check: a reflection call without the
  // metadata "x-reflection-token: TOKEN", or a health check without
  // "x-health-token: TOKEN", is cancelled.
  static FakeServer Start(bool reflection = false, int port = 0,
                          absl::Duration max_connection_age = absl::InfiniteDuration(),
                          bool gzip = true, const std::string& reflection_token = "");
};

}  // namespace handoff::testing

#endif  // HANDOFF_TESTS_UNIT_CLIENT_FAKE_GATEWAY_H_
