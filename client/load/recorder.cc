#include "client/load/recorder.h"

#include <algorithm>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
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
  // Indexed once per merge: searching out.errors for each message made the
  // merge quadratic in distinct messages, and a run whose calls each failed
  // with one of their own (a value echoed in the error) spent minutes on it
  // after its last call. The reserve keeps the views valid: no push below
  // moves a string.
  out.errors.reserve(out.errors.size() + errors_.size());
  absl::flat_hash_map<absl::string_view, uint32_t> index;
  index.reserve(out.errors.size() + errors_.size());
  for (size_t i = 0; i < out.errors.size(); ++i) {
    index.emplace(out.errors[i], static_cast<uint32_t>(i));
  }
  std::vector<uint32_t> remap;
  remap.reserve(errors_.size());
  for (std::string& text : errors_) {
    if (auto it = index.find(text); it != index.end()) {
      remap.push_back(it->second);
      continue;
    }
    const auto i = static_cast<uint32_t>(out.errors.size());
    out.errors.push_back(std::move(text));
    index.emplace(out.errors.back(), i);
    remap.push_back(i);
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
