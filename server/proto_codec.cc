// Copyright 2026 The handoff Authors.

#include "server/proto_codec.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/wire_format_lite.h>

#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"

namespace handoff {

bool CanHoldStringField(const google::protobuf::Descriptor* d) {
  using google::protobuf::FieldDescriptor;
  // Each message type once: a type may hold itself.
  absl::flat_hash_set<const google::protobuf::Descriptor*> seen = {d};
  std::vector<const google::protobuf::Descriptor*> pending = {d};
  while (!pending.empty()) {
    const google::protobuf::Descriptor* m = pending.back();
    pending.pop_back();
    for (int i = 0; i < m->field_count(); ++i) {
      const FieldDescriptor* f = m->field(i);
      if (f->type() == FieldDescriptor::TYPE_STRING) return true;
      if (f->message_type() != nullptr && seen.insert(f->message_type()).second) {
        pending.push_back(f->message_type());
      }
    }
  }
  return false;
}

int CountTopLevelField(const grpc::ByteBuffer& buffer, int field, int limit) {
  using google::protobuf::internal::WireFormatLite;
  grpc::ByteBuffer copy(buffer);  // shares the slices; the reader consumes
  grpc::ProtoBufferReader reader(&copy);
  google::protobuf::io::CodedInputStream in(&reader);
  int count = 0;
  while (count <= limit) {
    const uint32_t tag = in.ReadTag();
    if (tag == 0) break;  // the end, or bytes that are not a tag
    // A length-delimited one only: the field as another wire type is an
    // unknown field to the parser, not an element.
    if (WireFormatLite::GetTagFieldNumber(tag) == field &&
        WireFormatLite::GetTagWireType(tag) == WireFormatLite::WIRETYPE_LENGTH_DELIMITED) {
      ++count;
    }
    if (!WireFormatLite::SkipField(&in, tag)) break;
  }
  return count;
}

absl::Status ReplyTooLargeError(size_t size, int max_bytes) {
  return absl::ResourceExhaustedError(
      absl::StrCat("reply is ", size, " bytes, over the limit of ", max_bytes,
                   " bytes on a message (--max_message_bytes)"));
}

}  // namespace handoff
