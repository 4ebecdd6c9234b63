// TemplatedRequests: a load run's request JSON and metadata values when
// they hold call templates (call_template.h), rendered afresh for each call
// as ghz renders them.
//
// A run without an action in either has no TemplatedRequests: its requests
// are serialized once, and its calls send the same bytes.
#ifndef HANDOFF_CLIENT_LOAD_TEMPLATED_REQUESTS_H_
#define HANDOFF_CLIENT_LOAD_TEMPLATED_REQUESTS_H_

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <google/protobuf/descriptor.h>
#include <google/protobuf/dynamic_message.h>
#include <grpcpp/support/byte_buffer.h>

#include "absl/random/random.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "client/load/call_template.h"

namespace handoff::load {

class TemplatedRequests {
 public:
  using Metadata = std::vector<std::pair<std::string, std::string>>;

  // What one call sends.
  struct Call {
    // The serialized requests; empty when the data is not a template (the
    // plan's messages go instead).
    std::vector<grpc::ByteBuffer> messages;
    // Every metadata pair, values rendered; empty when the metadata is not a
    // template (the options' metadata go instead).
    Metadata metadata;
  };

  // The run's templates, or nullptr when neither `json` nor a value of
  // `metadata` holds an action. `json` is the text of `data_flag` (-d or
  // -D; empty when the request is binary, whose bytes are never templated),
  // and `input` its type, which must outlive this. `functions`: false
  // refuses newUUID and friends (--disable-template-functions). Errors name
  // the flag the text came from and the action; a template whose first call
  // renders to JSON that does not parse is refused here too, so a run does
  // not start only to fail every call.
  static absl::StatusOr<std::unique_ptr<TemplatedRequests>> Make(
      absl::string_view json, const google::protobuf::Descriptor* input,
      const Metadata& metadata, MethodNames method, bool functions,
      absl::string_view data_flag = "-d");

  // Renders the run's call number `request_number` (0 for the first, as
  // ghz numbers them: its -d array element is request_number % size), made
  // by `worker_id` at `now`, into `out`. An error is rendered JSON that
  // does not parse (a random value that the field's type refuses, say): the
  // call fails with it, unsent. Thread-safe; `random` is the thread's own.
  absl::Status Render(absl::string_view worker_id, int64_t request_number, absl::Time now,
                      absl::BitGen& random, Call& out) const;

  // What the run's first call renders to, as Make checked it: the requests
  // that stand for the run's before any call is made (how many messages a
  // stream sends, whether any is sent).
  const Call& first_call() const { return first_; }

  bool templated_data() const { return data_.has_value(); }
  bool templated_metadata() const { return !metadata_.empty(); }

 private:
  TemplatedRequests() = default;

  MethodNames method_;
  std::string data_flag_;
  // The request type's prototype, from factory_; null without templated data.
  google::protobuf::DynamicMessageFactory factory_;
  const google::protobuf::Message* prototype_ = nullptr;
  std::optional<CallTemplate> data_;
  // Every pair; a value without actions parses to a template of one text.
  std::vector<std::pair<std::string, CallTemplate>> metadata_;
  bool uses_uuid_ = false;
  Call first_;
};

}  // namespace handoff::load

#endif  // HANDOFF_CLIENT_LOAD_TEMPLATED_REQUESTS_H_
