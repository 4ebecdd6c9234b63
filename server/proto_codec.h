// Copyright 2026 The handoff Authors.
//
// Parsing requests and serialising replies ourselves, for every method.
//
// Why: gRPC 1.51's callback API answers a request whose bytes do not parse
// with UNIMPLEMENTED (its CallbackUnaryHandler substitutes an "unimplemented"
// reactor when deserialisation fails; on a stream, a message that fails to
// parse ends the reads as if the client had closed its side), while the
// synchronous API and grpc/doc/statuscodes.md say INTERNAL. So the methods
// are registered raw (ByteBuffer in, ByteBuffer out) and parse with gRPC's
// own SerializationTraits, which reports INTERNAL, as gRPC itself does
// elsewhere.

#ifndef HANDOFF_SERVER_PROTO_CODEC_H_
#define HANDOFF_SERVER_PROTO_CODEC_H_

#include <cstddef>
#include <optional>
#include <string>

#include <google/protobuf/descriptor.h>
#include <google/protobuf/stubs/logging.h>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "grpcpp/impl/codegen/proto_utils.h"
#include "grpcpp/support/byte_buffer.h"
#include "grpcpp/support/proto_buffer_reader.h"
#include "grpcpp/support/proto_buffer_writer.h"

namespace handoff {

// Whether a message of type `d` can hold a string field, its own or a
// nested message's: the fields protobuf checks for UTF-8 as it parses.
bool CanHoldStringField(const google::protobuf::Descriptor* d);

// Parses `buffer` into *message; INTERNAL if the bytes are not a `Message`
// ("request does not parse as handoff.v1.WorkRequest": what the client's
// bytes were taken for, for a client that sent them to the wrong method).
//
// A string field that is not UTF-8 fails the parse, and protobuf also
// writes a line to stderr for it, synchronously, on the gRPC thread: one per
// request a client sends. The status tells the client; the line would tell
// anyone reading the log only that a client sent bad bytes, as often as it
// liked. So a message that can hold a string is parsed with protobuf's
// logging off. Only such a message: protobuf's LogSilencer takes a global
// mutex twice, and Echo's and Work's requests, which hold no string, would
// pay for it on every call.
template <typename Message>
absl::Status ParseMessage(const grpc::ByteBuffer& buffer, Message* message) {
  static const bool kQuiet = CanHoldStringField(Message::descriptor());
  grpc::ByteBuffer copy(buffer);  // shares the slices; Deserialize consumes
  std::optional<google::protobuf::LogSilencer> silencer;
  if (kQuiet) silencer.emplace();
  grpc::Status s = grpc::SerializationTraits<Message>::Deserialize(&copy, message);
  if (s.ok()) return absl::OkStatus();
  return absl::InternalError(
      s.error_message().empty()
          ? absl::StrCat("request does not parse as ", Message::descriptor()->full_name())
          : s.error_message());
}

// How many times field number `field`, a repeated message or string field,
// occurs at the top level of the message in `buffer`, counted up to
// `limit` + 1 at most. So that the size of
// a repeated field can be checked before the message is built: an element
// costs its message far more than its bytes on the wire (an empty
// WorkRequest is 2 bytes, built it is over 40), and 4 MiB of them built is
// over 100 MB. Bytes that do not parse are counted as far as they do
// (ParseMessage then refuses them). One pass over the bytes, skipping each
// element's.
int CountTopLevelField(const grpc::ByteBuffer& buffer, int field, int limit);

// Serialises `message` into *buffer.
template <typename Message>
absl::Status SerializeMessage(const Message& message, grpc::ByteBuffer* buffer) {
  bool own = false;
  grpc::Status s =
      grpc::SerializationTraits<Message>::Serialize(message, buffer, &own);
  if (s.ok()) return absl::OkStatus();
  return absl::InternalError(s.error_message());
}

// The status of a reply of `size` bytes, over `max_bytes`
// (--max_message_bytes): RESOURCE_EXHAUSTED, naming both and the flag.
absl::Status ReplyTooLargeError(size_t size, int max_bytes);

// Serialises the reply `message` into *buffer, unless it is over
// `max_bytes` (--max_message_bytes): then ReplyTooLargeError, and *buffer
// is left as it was.
//
// Why: gRPC sends a server's reply of any size, and the client refuses one
// over its own limit on what it receives (gRPC's default is 4 MiB, as
// --max_message_bytes's is) with RESOURCE_EXHAUSTED in gRPC's words, while
// the server, which answered OK, counted and logged the call OK. Checked
// here, the client is told which limit its reply broke, and the call is
// counted and logged as what the client got. The size is protobuf's
// ByteSizeLong, a walk of the message's fields that copies nothing (the
// serialiser walks them again), so nothing over the limit is serialised.
template <typename Message>
absl::Status SerializeReply(const Message& message, int max_bytes,
                            grpc::ByteBuffer* buffer) {
  const size_t size = message.ByteSizeLong();
  if (size > static_cast<size_t>(max_bytes)) {
    return ReplyTooLargeError(size, max_bytes);
  }
  return SerializeMessage(message, buffer);
}

}  // namespace handoff

#endif  // HANDOFF_SERVER_PROTO_CODEC_H_
