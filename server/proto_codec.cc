// Copyright 2026 The handoff Authors.

#include "server/proto_codec.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/wire_format_lite.h>

namespace handoff {

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

}  // namespace handoff
