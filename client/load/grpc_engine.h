// GrpcEngine: a load run's calls through gRPC C++'s own client.
//
// Completion-queue API with pre-serialized requests and unparsed replies:
// one thread per completion queue (--cpus of them), each owning its call
// slots, so the hot path takes no lock. Slots share --connections channels
// round-robin. It makes any call the server takes: TLS, streaming, and
// whatever gRPC's resolver understands as a target.
#ifndef HANDOFF_CLIENT_LOAD_GRPC_ENGINE_H_
#define HANDOFF_CLIENT_LOAD_GRPC_ENGINE_H_

#include <atomic>
#include <memory>
#include <vector>

#include <grpcpp/channel.h>
#include <grpcpp/support/channel_arguments.h>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "client/load/engine.h"
#include "client/load/plan.h"

namespace handoff::load {

// Adds to `args` how the calls name the server (--authority, and --cname
// for its TLS certificate), so that a reflection lookup names it the same.
void AddServerNameArgs(const LoadOptions& options, grpc::ChannelArguments& args);

class GrpcEngine final : public LoadEngine {
 public:
  // `plan` and `completed` must outlive the engine.
  GrpcEngine(const LoadPlan& plan, std::atomic<int64_t>* completed);
  ~GrpcEngine() override;

  absl::Status Connect() override;
  std::vector<Recorder> Run(CallSchedule& schedule) override;
  void Cancel() override;

 private:
  class Worker;
  struct Slot;

  // How long one wait of Connect's lasts before it checks for a Cancel.
  static constexpr int64_t kConnectSliceNs = 50'000'000;

  bool Cancelled();

  const LoadPlan& plan_;
  std::atomic<int64_t>* completed_;
  std::vector<std::shared_ptr<grpc::Channel>> channels_;
  // The workers of the run in progress, for Cancel.
  absl::Mutex mu_;
  std::vector<Worker*> running_ ABSL_GUARDED_BY(mu_);
  bool cancelled_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace handoff::load

#endif  // HANDOFF_CLIENT_LOAD_GRPC_ENGINE_H_
