// A stream's requests read as JSON from a file descriptor (stdin, for
// `handoff call -d @`), each handed on as soon as its text has come, as
// grpcurl sends them: a bidi stream fed from a pipe gets its answers as it
// goes, where reading to the end first held every request back until the
// pipe closed.
#ifndef HANDOFF_CLIENT_JSON_REQUEST_READER_H_
#define HANDOFF_CLIENT_JSON_REQUEST_READER_H_

#include <atomic>
#include <optional>
#include <string>
#include <vector>

#include <google/protobuf/message.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "client/request_source.h"

namespace handoff {

// Messages like `prototype` (which must outlive the reader), from JSON
// values written one after another on `fd` (not owned), split and named as
// JsonToMessages does. Input that starts with an array (for a type whose
// JSON is no array) is read to its end first, then taken as JsonToMessages
// takes it: its elements come only once it closes. A message the type
// refuses ends the requests with its error, named by its place
// ("message 2") unless it is the first and nothing came after it yet. `name`
// is the input as errors call it ("standard input").
class JsonRequestReader final : public RequestSource {
 public:
  JsonRequestReader(int fd, const google::protobuf::Message& prototype, std::string name);
  ~JsonRequestReader() override;
  JsonRequestReader(const JsonRequestReader&) = delete;
  JsonRequestReader& operator=(const JsonRequestReader&) = delete;

  absl::StatusOr<std::optional<std::string>> Next() override;
  void Stop() override;

  // The error that ended the requests, if any: OK until one did.
  const absl::Status& error() const { return error_; }

 private:
  // Reads what `fd_` has next into text_: false at its end or on Stop,
  // an error if it cannot be read.
  absl::StatusOr<bool> ReadMore();
  absl::StatusOr<std::optional<std::string>> Fail(absl::Status status);

  const int fd_;
  const google::protobuf::Message& prototype_;
  const std::string name_;
  int wake_[2] = {-1, -1};  // Stop writes to [1]; a waiting read polls [0]
  std::atomic<bool> stopped_{false};
  std::string text_;    // read; taken up to unread_from_
  size_t unread_from_ = 0;
  bool at_end_ = false;  // fd_ has no more
  size_t taken_ = 0;     // messages handed on
  // An array's messages, all read at once.
  std::optional<std::vector<std::string>> array_;
  size_t array_next_ = 0;
  absl::Status error_;
};

}  // namespace handoff

#endif  // HANDOFF_CLIENT_JSON_REQUEST_READER_H_
