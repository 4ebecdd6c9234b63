// JSON to and from serialized messages of a type known only by its
// descriptor (from server reflection or a local .proto), by protobuf's
// proto3 JSON mapping.
#ifndef HANDOFF_CLIENT_JSON_MESSAGES_H_
#define HANDOFF_CLIENT_JSON_MESSAGES_H_

#include <optional>
#include <string>
#include <vector>

#include <google/protobuf/descriptor.h>
#include <google/protobuf/message.h>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace handoff {

// JSON to serialized messages of `type`: an object gives one message, an
// array gives one per element (each read exactly as it would be alone: a
// 64-bit integer keeps every digit), and so do several values written one
// after another, as grpcurl takes them ("{} {}", or one a line); empty text
// gives one default message. For google.protobuf.ListValue and Value, whose
// JSON is itself an array (or may be), an array is one message:
// "[1,\"a\"]" is a ListValue of two, "[1] [2]" two ListValues.
// Unknown fields and malformed JSON are INVALID_ARGUMENT naming the type.
absl::StatusOr<std::vector<std::string>> JsonToMessages(
    const google::protobuf::Descriptor& type, absl::string_view json);

// The same, for messages like `prototype` (a dynamic message factory's, say,
// which makes each conversion cheaper than building the type afresh).
absl::StatusOr<std::vector<std::string>> JsonToMessages(
    const google::protobuf::Message& prototype, absl::string_view json);

// Where the first JSON value in `text` lies, for reading values one at a
// time as their text comes (a stream's requests from a pipe): [begin, end)
// past any whitespace, split as JsonToMessages splits values written one
// after another. None if `text` holds only whitespace, or a value that more
// text could still finish, unless `text_is_all`: then the rest is the
// value, for the message parser to say what is wrong with it. A bracket
// that closes the wrong one ends the value, for the same reason.
struct JsonValueSpan {
  size_t begin;
  size_t end;
};
std::optional<JsonValueSpan> FirstJsonValue(absl::string_view text, bool text_is_all);

// One message like `prototype` from one JSON value; refused as
// JsonToMessages refuses it, named "message `number`" unless `number` is 0.
absl::StatusOr<std::string> JsonToOneMessage(const google::protobuf::Message& prototype,
                                             absl::string_view json, size_t number);

// Serialized message of `type` to JSON (proto3 JSON mapping): one line, or
// indented if `pretty`; either way without a newline at the end. Fields at
// their default are left out, as the mapping does, unless `emit_defaults`
// (grpcurl's -emit-defaults).
absl::StatusOr<std::string> MessageToJson(const google::protobuf::Descriptor& type,
                                          const std::string& bytes, bool pretty,
                                          bool emit_defaults = false);

}  // namespace handoff

#endif  // HANDOFF_CLIENT_JSON_MESSAGES_H_
