// Where a call's requests come from, one at a time: so that a stream can
// send each as soon as it is known (a line typed, or piped in, on stdin)
// rather than once all of them are.
#ifndef HANDOFF_CLIENT_REQUEST_SOURCE_H_
#define HANDOFF_CLIENT_REQUEST_SOURCE_H_

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"

namespace handoff {

class RequestSource {
 public:
  virtual ~RequestSource() = default;
  // The next serialized request, waiting for it if need be; none once there
  // are no more. An error ends the requests: those before it were good.
  // Called from one thread at a time.
  virtual absl::StatusOr<std::optional<std::string>> Next() = 0;
  // From any thread: the caller wants no more, so a Next waiting for input
  // returns (with anything) soon, and later ones at once. A source that
  // never waits need do nothing.
  virtual void Stop() {}
};

// Requests all known beforehand.
class RequestList final : public RequestSource {
 public:
  explicit RequestList(std::vector<std::string> requests) : requests_(std::move(requests)) {}
  absl::StatusOr<std::optional<std::string>> Next() override {
    if (next_ == requests_.size()) return std::nullopt;
    return std::move(requests_[next_++]);
  }

 private:
  std::vector<std::string> requests_;
  size_t next_ = 0;
};

}  // namespace handoff

#endif  // HANDOFF_CLIENT_REQUEST_SOURCE_H_
