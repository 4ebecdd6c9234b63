// UnsetMessagesAsNull: grpcurl's -emit-defaults output from protobuf C++'s.
//
// grpcurl prints a reply with golang jsonpb's EmitDefaults, which writes a
// singular sub-message field that is not set as `"name": null`, in its
// place among the fields. Protobuf C++'s always_print_primitive_fields
// leaves such a field out, and has no option to print it. This pass puts
// the nulls into the JSON protobuf C++ printed, from the type's descriptor.
#ifndef HANDOFF_CLIENT_UNSET_MESSAGES_AS_NULL_H_
#define HANDOFF_CLIENT_UNSET_MESSAGES_AS_NULL_H_

#include <google/protobuf/descriptor.h>

#include <string>

#include "absl/strings/string_view.h"

namespace handoff {

// `json`, protobuf C++'s JSON for a message of `type` printed with
// always_print_primitive_fields and json names (indented by one space a
// level if `pretty`, as protobuf's add_whitespace does, else on one line),
// with every singular message field that is missing from an object of a
// message type written as null: at any depth (in a set sub-message, a
// repeated field's elements, a map's values), before the first field the
// object has that is declared after it, else last. A field of a oneof
// (proto3 `optional` included) is left out, as jsonpb leaves it. The
// well-known types whose JSON is not an object of their fields (Any,
// Timestamp, Duration, FieldMask, Struct, Value, ListValue, the wrappers)
// are left as they are. Text that is not such JSON is returned unchanged.
std::string UnsetMessagesAsNull(const google::protobuf::Descriptor& type, absl::string_view json,
                                bool pretty);

}  // namespace handoff

#endif  // HANDOFF_CLIENT_UNSET_MESSAGES_AS_NULL_H_
