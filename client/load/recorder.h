// Recorder: the finished calls of one engine thread.
//
// Each engine thread records into its own Recorder, so recording a call is a
// vector append and, for an error, a hash lookup of its text; the run's
// results are merged once, at the end.
#ifndef HANDOFF_CLIENT_LOAD_RECORDER_H_
#define HANDOFF_CLIENT_LOAD_RECORDER_H_

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include <grpcpp/support/status.h>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "client/load/report.h"

namespace handoff::load {

class Recorder {
 public:
  // `completed` counts finished calls across every thread (the progress
  // bar's figure); it must outlive the recorder. The first `skip_first` of
  // them, across every thread, are counted there but not kept (ghz's
  // --skipFirst: the run's warm-up).
  explicit Recorder(std::atomic<int64_t>* completed, int64_t skip_first = 0)
      : completed_(completed), skip_first_(skip_first) {}

  // A call due at `start_ns` that ended at `end_ns` with this status.
  void Record(int64_t start_ns, int64_t end_ns, grpc::StatusCode code,
              absl::string_view message);

  // The latest end of a call, kept or skipped; 0 when none.
  int64_t last_end_ns() const { return last_end_ns_; }

  // Appends the recorded calls to `out`, renumbering their errors into
  // `out.errors`. Leaves this recorder empty.
  void MoveInto(RunResults& out);

 private:
  std::atomic<int64_t>* completed_;
  int64_t skip_first_;
  std::vector<CallResult> calls_;
  std::vector<std::string> errors_;
  absl::flat_hash_map<std::string, uint32_t> error_index_;
  int64_t last_end_ns_ = 0;
};

}  // namespace handoff::load

#endif  // HANDOFF_CLIENT_LOAD_RECORDER_H_
