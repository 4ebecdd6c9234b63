// H2Engine: a load run's unary calls over plaintext HTTP/2, with nghttp2.
//
// --connections H2Connections over min(--cpus, --connections) threads, each
// thread running its own asio::io_context with its share of connections and
// the call slots that use them (slot i calls on connection i mod
// --connections, as in GrpcEngine). A slot lives on one thread, so nothing
// is shared between threads but the schedule's ticket counter and the
// progress count.
#ifndef HANDOFF_CLIENT_LOAD_H2_ENGINE_H_
#define HANDOFF_CLIENT_LOAD_H2_ENGINE_H_

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "client/load/engine.h"
#include "client/load/plan.h"

namespace handoff::load {

class H2Engine final : public LoadEngine {
 public:
  // OK when this engine can make `plan`'s calls: unary, plaintext, to a
  // HOST:PORT target (or dns:///HOST:PORT). Otherwise says which it is not.
  static absl::Status Supports(const LoadPlan& plan);

  // `plan` and `completed` must outlive the engine.
  H2Engine(const LoadPlan& plan, std::atomic<int64_t>* completed);
  ~H2Engine() override;

  absl::Status Connect() override;
  std::vector<Recorder> Run(CallSchedule& schedule) override;
  void Cancel() override;

 private:
  class Worker;

  const LoadPlan& plan_;
  std::atomic<int64_t>* completed_;
  // The gRPC-framed requests, one per message of the plan.
  std::vector<std::string> bodies_;
  // Cancel reads the workers while Connect makes them (an interrupt while
  // connecting), so Connect changes the list under the lock.
  absl::Mutex mu_;
  std::vector<std::unique_ptr<Worker>> workers_ ABSL_GUARDED_BY(mu_);
  // While Connect runs a worker's io_context itself, Cancel only wakes it:
  // the run's own cancel (TimeUp) is for Run.
  bool connecting_ ABSL_GUARDED_BY(mu_) = false;
  std::atomic<bool> cancelled_{false};
};

}  // namespace handoff::load

#endif  // HANDOFF_CLIENT_LOAD_H2_ENGINE_H_
