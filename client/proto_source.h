// ProtoSource: a descriptor as .proto source, as grpcurl's `describe` prints
// it (jhump/protoreflect's protoprint, as grpcurl sets it up): compact (no
// blank lines), elements in a canonical order, every type named
// fully-qualified with a leading dot, and only doc comments (an element's
// leading comment, when the pool has source info: a --proto file, never
// reflection).
//
//   rpc Echo ( .handoff.v1.EchoRequest ) returns ( .handoff.v1.EchoReply );
//
// The order: a message's options, then its fields by number (a oneof where
// its lowest-numbered field falls), nested messages by name (no map entry
// or group type: their fields stand for them), nested enums by name,
// extension ranges, extensions by extendee, reserved ranges, reserved
// names; a service's options, then its methods by name; an enum's options,
// then its values by number (then name). Options are by name, a custom
// option after the standard ones; a field's `default` and `json_name`
// sort among them. A custom option the pool's options messages do not
// know (most of them, for a dynamic pool) is not printed.
//
// Each ends with a newline.
#ifndef HANDOFF_CLIENT_PROTO_SOURCE_H_
#define HANDOFF_CLIENT_PROTO_SOURCE_H_

#include <google/protobuf/descriptor.h>

#include <string>

namespace handoff {

std::string ProtoSource(const google::protobuf::ServiceDescriptor& d);
std::string ProtoSource(const google::protobuf::MethodDescriptor& d);
std::string ProtoSource(const google::protobuf::Descriptor& d);
// An extension inside its `extend .pkg.Msg { ... }` block, as grpcurl.
std::string ProtoSource(const google::protobuf::FieldDescriptor& d);
std::string ProtoSource(const google::protobuf::OneofDescriptor& d);
std::string ProtoSource(const google::protobuf::EnumDescriptor& d);
std::string ProtoSource(const google::protobuf::EnumValueDescriptor& d);

}  // namespace handoff

#endif  // HANDOFF_CLIENT_PROTO_SOURCE_H_
