// LoadRunner: drives gRPC calls as fast as allowed and records every one.
//
// Model (ghz's): `concurrency` call slots share `connections` HTTP/2
// connections round-robin. A slot takes the next ticket, makes one call, and
// takes another ticket when that call ends, until -n tickets are used or -z
// time is up. With --rps, ticket i is scheduled at start + i/rps; a slot that
// is free waits for its ticket's time, and a call's latency is measured from
// that scheduled time, not from when a slot got free. So when the server
// stalls, the calls queued behind the stall are charged for it (no
// coordinated omission), and the rate never bursts to catch up beyond the
// concurrency limit.
//
// The calls use gRPC's asynchronous completion-queue API with pre-serialized
// requests and unparsed replies: one thread per completion queue (--cpus of
// them), each owning its slots, so the hot path takes no lock and recording
// a result is a vector append.
#ifndef HANDOFF_CLIENT_LOAD_RUNNER_H_
#define HANDOFF_CLIENT_LOAD_RUNNER_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <grpcpp/channel.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/support/byte_buffer.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "client/load/options.h"
#include "client/load/report.h"

namespace handoff::load {

struct LoadPlan {
  LoadOptions options;
  std::shared_ptr<grpc::ChannelCredentials> credentials;
  // "/package.Service/Method".
  std::string method;
  // Streaming methods send every message on one stream per call and read
  // every reply; unary calls send messages[ticket % size].
  bool streaming = false;
  // Serialized request messages; at least one.
  std::vector<grpc::ByteBuffer> messages;
};

class LoadRunner {
 public:
  explicit LoadRunner(LoadPlan plan);
  ~LoadRunner();

  // Opens the connections and waits until each is ready, up to
  // --connect-timeout. A failure names the target.
  absl::Status Connect();

  // Runs the load to completion. Call once, after Connect.
  RunResults Run();

  // Calls finished so far; safe from any thread (the progress bar).
  int64_t completed() const { return completed_.load(std::memory_order_relaxed); }
  // The number of calls the run will make, or -1 when bounded by time.
  int64_t expected() const;

 private:
  class Worker;
  struct Slot;

  LoadPlan plan_;
  std::vector<std::shared_ptr<grpc::Channel>> channels_;
  std::atomic<int64_t> next_ticket_{0};
  std::atomic<int64_t> completed_{0};
};

}  // namespace handoff::load

#endif  // HANDOFF_CLIENT_LOAD_RUNNER_H_
