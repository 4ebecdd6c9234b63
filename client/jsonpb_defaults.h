// AsJsonpbEmitsDefaults: grpcurl's -emit-defaults output from protobuf C++'s.
//
// grpcurl prints a reply with golang jsonpb's EmitDefaults, which writes a
// singular sub-message field, or proto2 scalar field, that is not set as
// `"name": null`, in its place among the fields. Protobuf C++'s
// always_print_primitive_fields leaves such a sub-message out, and prints
// such a scalar with its default, and has no option for null. This pass
// puts the nulls into the JSON protobuf C++ printed, from the message: a
// printed scalar at its default is told from an unset one only by it.
#ifndef HANDOFF_CLIENT_JSONPB_DEFAULTS_H_
#define HANDOFF_CLIENT_JSONPB_DEFAULTS_H_

#include <google/protobuf/message.h>

#include <string>

#include "absl/strings/string_view.h"

namespace handoff {

// `json`, protobuf C++'s JSON for `message` printed with
// always_print_primitive_fields and json names (indented by one space a
// level if `pretty`, as protobuf's add_whitespace does, else on one line),
// with every singular message field that is missing from an object of a
// message type written as null: at any depth (in a set sub-message, a
// repeated field's elements, a map's values), before the first field the
// object has that is declared after it, else last; and the value of every
// proto2 (has-presence) scalar field the message does not set replaced
// with null (in a map's value too, its entry found by the printed key
// unescaped as protobuf escaped it). A field of a oneof (proto3 `optional`
// included) is left out, as jsonpb leaves it; a proto3 scalar keeps its
// default. An Any's message, its type
// found in `message`'s pool by the "@type" URL, is walked so too (after
// "@type", or in "value" for a type below); one protobuf printed as
// "@type" alone (empty bytes) gets all its fields, as jsonpb writes them.
// An Any of a type not in the pool, and the well-known types whose JSON is
// not an object of their fields (Timestamp, Duration, FieldMask, Struct,
// Value, ListValue, the wrappers), are left as they are. Text that is not
// such JSON is returned unchanged.
std::string AsJsonpbEmitsDefaults(const google::protobuf::Message& message, absl::string_view json,
                                  bool pretty);

}  // namespace handoff

#endif  // HANDOFF_CLIENT_JSONPB_DEFAULTS_H_
