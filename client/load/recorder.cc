#include "client/load/recorder.h"

#include <algorithm>

#include "client/status.h"

namespace handoff::load {

void Recorder::Record(int64_t start_ns, int64_t end_ns, grpc::StatusCode code,
                      absl::string_view message) {
  last_end_ns_ = std::max(last_end_ns_, end_ns);
  // The shared count orders the calls as they finish, whichever thread
  // made them: the first skip_first_ of that order are left out.
  if (completed_->fetch_add(1, std::memory_order_relaxed) < skip_first_) return;
  CallResult r;
  r.latency_ns = end_ns - start_ns;
  r.end_ns = end_ns;
  r.code = code;
  if (code != grpc::StatusCode::OK) {
    std::string text = GoErrorString(code, message);
    auto [it, inserted] = error_index_.try_emplace(std::move(text), errors_.size());
    if (inserted) errors_.push_back(it->first);
    r.error = it->second;
  }
  calls_.push_back(r);
}

void Recorder::MoveInto(RunResults& out) {
  std::vector<uint32_t> remap;
  remap.reserve(errors_.size());
  for (std::string& text : errors_) {
    auto it = std::find(out.errors.begin(), out.errors.end(), text);
    remap.push_back(static_cast<uint32_t>(it - out.errors.begin()));
    if (it == out.errors.end()) out.errors.push_back(std::move(text));
  }
  out.calls.reserve(out.calls.size() + calls_.size());
  for (CallResult r : calls_) {
    if (r.code != grpc::StatusCode::OK) r.error = remap[r.error];
    out.calls.push_back(r);
  }
  calls_.clear();
  errors_.clear();
  error_index_.clear();
}

}  // namespace handoff::load
