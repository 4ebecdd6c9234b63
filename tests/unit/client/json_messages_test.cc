// JsonToMessages: JSON text to the serialized messages of a type.
#include "client/json_messages.h"

#include <string>
#include <utility>
#include <vector>

#include <google/protobuf/descriptor.h>
#include <google/protobuf/any.pb.h>
#include <google/protobuf/descriptor.pb.h>
#include <google/protobuf/dynamic_message.h>
#include <google/protobuf/struct.pb.h>
#include <google/protobuf/text_format.h>
#include <gtest/gtest.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "client/jsonpb_defaults.h"
#include "handoff/v1/gateway.pb.h"

namespace handoff {
namespace {

// The messages `json` gives, as WorkReply (whose counters are uint64).
std::vector<v1::WorkReply> Replies(const std::string& json) {
  auto messages = JsonToMessages(*v1::WorkReply::descriptor(), json);
  EXPECT_TRUE(messages.ok()) << messages.status();
  std::vector<v1::WorkReply> out;
  if (!messages.ok()) return out;
  for (const std::string& bytes : *messages) {
    out.emplace_back();
    EXPECT_TRUE(out.back().ParseFromString(bytes));
  }
  return out;
}

absl::Status ErrorOf(const std::string& json) {
  return JsonToMessages(*v1::WorkReply::descriptor(), json).status();
}

// Split by protobuf's ListValue, an array's numbers went through a double:
// 2^53 + 1 became 2^53, and a uint64 past 2^53 was refused, though the same
// object alone was read exactly.
TEST(JsonToMessagesTest, AnArraysElementsAreReadExactlyAsTheyWouldBeAlone) {
  const std::string big = R"({"queuedUs":"9007199254740993","ranUs":18446744073709551615})";
  std::vector<v1::WorkReply> alone = Replies(big);
  ASSERT_EQ(alone.size(), 1u);
  EXPECT_EQ(alone[0].queued_us(), 9007199254740993u);
  EXPECT_EQ(alone[0].ran_us(), 18446744073709551615u);
  std::vector<v1::WorkReply> in_array =
      Replies(R"([ {"queuedUs":9007199254740993,"ranUs":18446744073709551615} , )" + big + " ]");
  ASSERT_EQ(in_array.size(), 2u);
  for (const v1::WorkReply& r : in_array) {
    EXPECT_EQ(r.queued_us(), 9007199254740993u);
    EXPECT_EQ(r.ran_us(), 18446744073709551615u);
  }
}

// Only the array's own commas split it: not those inside a string, an
// object or an array within an element, nor a quote escaped in a string.
// (Struct takes any JSON object.)
TEST(JsonToMessagesTest, OnlyTheArraysOwnCommasSplitIt) {
  auto messages = JsonToMessages(
      *google::protobuf::Struct::descriptor(),
      R"([{"a":"],{\"],["}, {"b":[1,{"c":"]"},[2,3]]}, {"d":{"e":","}}])");
  ASSERT_TRUE(messages.ok()) << messages.status();
  ASSERT_EQ(messages->size(), 3u);
  google::protobuf::Struct first;
  ASSERT_TRUE(first.ParseFromString((*messages)[0]));
  EXPECT_EQ(first.fields().at("a").string_value(), R"(],{"],[)");
}

TEST(JsonToMessagesTest, AnEmptyArrayGivesNoMessages) {
  auto messages = JsonToMessages(*v1::WorkReply::descriptor(), " [ ] ");
  ASSERT_TRUE(messages.ok()) << messages.status();
  EXPECT_TRUE(messages->empty());
}

TEST(JsonToMessagesTest, AMalformedArrayIsInvalidArgumentSayingHow) {
  for (const auto& [json, why] : std::vector<std::pair<std::string, std::string>>{
           {"[{}", "the array does not end"},
           {R"([{"queuedUs":"1]"})", "the array does not end"},
           {"[{},]", "an empty array element"},
           {"[,{}]", "an empty array element"},
           {"[{}] [{}]", "text after the array"},
           {"[{}}", "unbalanced brackets"},
           {"[{]}", "unbalanced brackets"},
       }) {
    absl::Status s = ErrorOf(json);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << json;
    EXPECT_TRUE(absl::StrContains(s.message(), "bad JSON for handoff.v1.WorkReply: " + why))
        << json << ": " << s;
  }
  // An element that is no message is the message parser's to name.
  absl::Status s = ErrorOf("[1]");
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
}

// A bad element of an array says which: in a stream of many requests,
// "(worker): invalid value" alone left the user to find it.
TEST(JsonToMessagesTest, ABadArrayElementIsNamedByItsPlace) {
  absl::Status s = ErrorOf(R"([{"worker":1}, {"worker":2}, {"worker":-3}])");
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
  EXPECT_TRUE(absl::StartsWith(
      s.message(), "bad JSON for handoff.v1.WorkReply, element 3 of the array: (worker): "))
      << s;
  // One object alone is no element.
  s = ErrorOf(R"({"worker":-3})");
  EXPECT_TRUE(absl::StartsWith(s.message(), "bad JSON for handoff.v1.WorkReply: (worker): "))
      << s;
}

// grpcurl takes a stream's messages written one after another ("{} {}",
// one a line, as `jq -c` prints them): each is one message, read exactly as
// it would be alone. They were read as one, and refused with protobuf's
// "Parsing terminated before end of input".
TEST(JsonToMessagesTest, ValuesWrittenOneAfterAnotherAreOneMessageEach) {
  const std::vector<v1::WorkReply> replies =
      Replies("{\"queuedUs\":\"9007199254740993\"} {\"worker\":2}\n"
              "{\"worker\":3}{\"ranUs\":\"4\"}\n");
  ASSERT_EQ(replies.size(), 4u);
  EXPECT_EQ(replies[0].queued_us(), 9007199254740993u);
  EXPECT_EQ(replies[1].worker(), 2);
  EXPECT_EQ(replies[2].worker(), 3);
  EXPECT_EQ(replies[3].ran_us(), 4u);
  // Brackets and quotes inside a string are no boundary.
  auto structs = JsonToMessages(*google::protobuf::Struct::descriptor(),
                                R"({"a":"} {\"}"} {"b":["{"]})");
  ASSERT_TRUE(structs.ok()) << structs.status();
  ASSERT_EQ(structs->size(), 2u);
  google::protobuf::Struct first;
  ASSERT_TRUE(first.ParseFromString((*structs)[0]));
  EXPECT_EQ(first.fields().at("a").string_value(), R"(} {"})");
  // A bad one is named by its place.
  absl::Status s = ErrorOf(R"({"worker":1} {"worker":-3})");
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
  EXPECT_TRUE(absl::StartsWith(s.message(),
                               "bad JSON for handoff.v1.WorkReply, message 2: (worker): "))
      << s;
  // Text that is no sequence of values is still the parser's to name whole.
  s = ErrorOf(R"({"worker":1} {"worker":)");
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
  EXPECT_TRUE(absl::StartsWith(s.message(), "bad JSON for handoff.v1.WorkReply: ")) << s;
  // Of a type whose JSON is an array, so several arrays are several messages.
  auto lists = JsonToMessages(*google::protobuf::ListValue::descriptor(), "[1, 2] [3]");
  ASSERT_TRUE(lists.ok()) << lists.status();
  ASSERT_EQ(lists->size(), 2u);
  google::protobuf::ListValue second;
  ASSERT_TRUE(second.ParseFromString((*lists)[1]));
  ASSERT_EQ(second.values_size(), 1);
  EXPECT_EQ(second.values(0).number_value(), 3);
  // Of Value, whose JSON may be a string or a number: a string ends at its
  // closing quote, brackets and escaped quotes within it or not.
  auto values = JsonToMessages(*google::protobuf::Value::descriptor(),
                               R"("a \"}" 7"[b"{"c":1})");
  ASSERT_TRUE(values.ok()) << values.status();
  ASSERT_EQ(values->size(), 4u);
  google::protobuf::Value v;
  ASSERT_TRUE(v.ParseFromString((*values)[0]));
  EXPECT_EQ(v.string_value(), R"(a "})");
  ASSERT_TRUE(v.ParseFromString((*values)[1]));
  EXPECT_EQ(v.number_value(), 7);
  ASSERT_TRUE(v.ParseFromString((*values)[2]));
  EXPECT_EQ(v.string_value(), "[b");
  // A string that never closes is no sequence: the parser's to name.
  EXPECT_FALSE(JsonToMessages(*google::protobuf::Value::descriptor(), R"("a" "b\")").ok());
}

// A ListValue's JSON is an array: an array is one ListValue, not a list of
// messages whose elements (1, "a") are no ListValue each. A Value the same.
TEST(JsonToMessagesTest, AnArrayIsOneMessageOfATypeWhoseJsonIsAnArray) {
  auto lists = JsonToMessages(*google::protobuf::ListValue::descriptor(), R"([1, "a"])");
  ASSERT_TRUE(lists.ok()) << lists.status();
  ASSERT_EQ(lists->size(), 1u);
  google::protobuf::ListValue list;
  ASSERT_TRUE(list.ParseFromString((*lists)[0]));
  ASSERT_EQ(list.values_size(), 2);
  EXPECT_EQ(list.values(0).number_value(), 1);
  EXPECT_EQ(list.values(1).string_value(), "a");
  auto values = JsonToMessages(*google::protobuf::Value::descriptor(), "[[1], [2]]");
  ASSERT_TRUE(values.ok()) << values.status();
  ASSERT_EQ(values->size(), 1u);
  google::protobuf::Value value;
  ASSERT_TRUE(value.ParseFromString((*values)[0]));
  EXPECT_EQ(value.list_value().values_size(), 2);
}

// A proto2 reply without one of its required fields is still a message on
// the wire: it is shown as it is. It was refused as bytes that do not parse
// (DATA_LOSS), after a line of protobuf's own log.
TEST(MessageToJsonTest, AProto2ReplyMissingARequiredFieldIsShownNotRefused) {
  google::protobuf::FileDescriptorProto file;
  ASSERT_TRUE(google::protobuf::TextFormat::ParseFromString(R"pb(
    name: "p2.proto" package: "p2" syntax: "proto2"
    message_type {
      name: "R"
      field { name: "a" number: 1 label: LABEL_REQUIRED type: TYPE_INT32 }
      field { name: "b" number: 2 label: LABEL_OPTIONAL type: TYPE_INT32 }
    })pb", &file));
  google::protobuf::DescriptorPool pool;
  ASSERT_NE(pool.BuildFile(file), nullptr);
  const google::protobuf::Descriptor* type = pool.FindMessageTypeByName("p2.R");
  ASSERT_NE(type, nullptr);
  // b = 5 (field 2, a varint), and no a.
  absl::StatusOr<std::string> json = MessageToJson(*type, std::string("\x10\x05", 2), false);
  ASSERT_TRUE(json.ok()) << json.status();
  EXPECT_EQ(*json, R"({"b":5})");
}

// A type with sub-message fields of every kind, for --emit_defaults.
const google::protobuf::Descriptor* NestedType(google::protobuf::DescriptorPool& pool) {
  google::protobuf::FileDescriptorProto file;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(R"pb(
    name: "nest.proto" package: "nest" syntax: "proto3"
    message_type {
      name: "Inner"
      field { name: "s" number: 1 label: LABEL_OPTIONAL type: TYPE_STRING json_name: "s" }
      field { name: "deeper" number: 2 label: LABEL_OPTIONAL type: TYPE_MESSAGE
              type_name: ".nest.Inner" json_name: "deeper" }
    }
    message_type {
      name: "Outer"
      field { name: "n" number: 1 label: LABEL_OPTIONAL type: TYPE_INT32 json_name: "n" }
      field { name: "inner" number: 2 label: LABEL_OPTIONAL type: TYPE_MESSAGE
              type_name: ".nest.Inner" json_name: "inner" }
      field { name: "items" number: 3 label: LABEL_REPEATED type: TYPE_MESSAGE
              type_name: ".nest.Inner" json_name: "items" }
      field { name: "picked" number: 4 label: LABEL_OPTIONAL type: TYPE_MESSAGE
              type_name: ".nest.Inner" oneof_index: 0 json_name: "picked" }
      field { name: "set_one" number: 5 label: LABEL_OPTIONAL type: TYPE_MESSAGE
              type_name: ".nest.Inner" json_name: "setOne" }
      field { name: "z" number: 6 label: LABEL_OPTIONAL type: TYPE_STRING json_name: "z" }
      oneof_decl { name: "choice" }
    }
    message_type {
      name: "Lone"
      field { name: "only" number: 1 label: LABEL_OPTIONAL type: TYPE_MESSAGE
              type_name: ".nest.Inner" json_name: "only" }
      field { name: "by_name" number: 2 label: LABEL_REPEATED type: TYPE_MESSAGE
              type_name: ".nest.Lone.ByNameEntry" json_name: "byName" }
      nested_type {
        name: "ByNameEntry"
        field { name: "key" number: 1 label: LABEL_OPTIONAL type: TYPE_STRING json_name: "key" }
        field { name: "value" number: 2 label: LABEL_OPTIONAL type: TYPE_MESSAGE
                type_name: ".nest.Inner" json_name: "value" }
        options { map_entry: true }
      }
    })pb", &file));
  EXPECT_NE(pool.BuildFile(file), nullptr);
  return pool.FindMessageTypeByName("nest.Outer");
}

// grpcurl's -emit-defaults (golang jsonpb's EmitDefaults) writes an unset
// sub-message field as null, in its place among the fields, at any depth; a
// oneof none of whose fields is set is left out. handoff left the field
// out, as protobuf C++'s always_print_primitive_fields does.
TEST(MessageToJsonTest, EmitDefaultsWritesAnUnsetSubMessageAsNullAsGrpcurlDoes) {
  google::protobuf::DescriptorPool pool;
  const google::protobuf::Descriptor* outer = NestedType(pool);
  ASSERT_NE(outer, nullptr);
  // items: one empty Inner (field 3); set_one: an empty Inner (field 5).
  const std::string bytes("\x1a\x00\x2a\x00", 4);
  absl::StatusOr<std::string> json = MessageToJson(*outer, bytes, false, true);
  ASSERT_TRUE(json.ok()) << json.status();
  EXPECT_EQ(*json,
            R"({"n":0,"inner":null,"items":[{"s":"","deeper":null}],)"
            R"("setOne":{"s":"","deeper":null},"z":""})");
  json = MessageToJson(*outer, bytes, true, true);
  ASSERT_TRUE(json.ok()) << json.status();
  EXPECT_EQ(*json,
            "{\n \"n\": 0,\n \"inner\": null,\n \"items\": [\n  {\n   \"s\": \"\",\n"
            "   \"deeper\": null\n  }\n ],\n \"setOne\": {\n  \"s\": \"\",\n"
            "  \"deeper\": null\n },\n \"z\": \"\"\n}");
  // Without --emit_defaults, no field at its default shows.
  json = MessageToJson(*outer, bytes, false, false);
  ASSERT_TRUE(json.ok()) << json.status();
  EXPECT_EQ(*json, R"({"items":[{}],"setOne":{}})");
}

// An object that had no member at all gets its nulls as one printed with
// them would have them; a map's message values get theirs.
TEST(MessageToJsonTest, EmitDefaultsWritesNullsInAMapsValuesAndAnEmptyObject) {
  google::protobuf::DescriptorPool pool;
  ASSERT_NE(NestedType(pool), nullptr);
  const google::protobuf::Descriptor* lone = pool.FindMessageTypeByName("nest.Lone");
  ASSERT_NE(lone, nullptr);
  absl::StatusOr<std::string> json = MessageToJson(*lone, "", false, true);
  ASSERT_TRUE(json.ok()) << json.status();
  EXPECT_EQ(*json, R"({"only":null,"byName":{}})");
  // by_name {"k": {}}.
  const std::string entry("\x12\x05\x0a\x01k\x12\x00", 7);
  json = MessageToJson(*lone, entry, false, true);
  ASSERT_TRUE(json.ok()) << json.status();
  EXPECT_EQ(*json, R"({"only":null,"byName":{"k":{"s":"","deeper":null}}})");
  json = MessageToJson(*lone, entry, true, true);
  ASSERT_TRUE(json.ok()) << json.status();
  EXPECT_EQ(*json,
            "{\n \"only\": null,\n \"byName\": {\n  \"k\": {\n   \"s\": \"\",\n"
            "   \"deeper\": null\n  }\n }\n}");
  google::protobuf::DynamicMessageFactory factory;
  const google::protobuf::Message& empty = *factory.GetPrototype(lone);
  EXPECT_EQ(AsJsonpbEmitsDefaults(empty, "{}", true), "{\n \"only\": null\n}");
  EXPECT_EQ(AsJsonpbEmitsDefaults(empty, "{}", false), R"({"only":null})");
}


// singular messages or proto2 scalars"); protobuf C++ printed its default,
// so `"a":0` could not be told from a field the server set to 0.
TEST(MessageToJsonTest, EmitDefaultsWritesAnUnsetProto2ScalarAsNullAsGrpcurlDoes) {
  google::protobuf::FileDescriptorProto file;
  ASSERT_TRUE(google::protobuf::TextFormat::ParseFromString(R"pb(
    name: "two.proto" package: "two" syntax: "proto2"
    message_type {
      name: "Two"
      field { name: "a" number: 1 label: LABEL_OPTIONAL type: TYPE_INT32 json_name: "a" }
      field { name: "s" number: 2 label: LABEL_OPTIONAL type: TYPE_STRING json_name: "s" }
      field { name: "d" number: 3 label: LABEL_OPTIONAL type: TYPE_INT32 default_value: "7"
              json_name: "d" }
      field { name: "zero" number: 4 label: LABEL_OPTIONAL type: TYPE_INT32 json_name: "zero" }
      field { name: "r" number: 5 label: LABEL_REPEATED type: TYPE_INT32 json_name: "r" }
      field { name: "o" number: 6 label: LABEL_OPTIONAL type: TYPE_INT32 oneof_index: 0
              json_name: "o" }
      oneof_decl { name: "choice" }
    }
    message_type {
      name: "Box"
      field { name: "kids" number: 1 label: LABEL_REPEATED type: TYPE_MESSAGE
              type_name: ".two.Two" json_name: "kids" }
      field { name: "by_key" number: 2 label: LABEL_REPEATED type: TYPE_MESSAGE
              type_name: ".two.Box.ByKeyEntry" json_name: "byKey" }
      nested_type {
        name: "ByKeyEntry"
        field { name: "key" number: 1 label: LABEL_OPTIONAL type: TYPE_STRING json_name: "key" }
        field { name: "value" number: 2 label: LABEL_OPTIONAL type: TYPE_MESSAGE
                type_name: ".two.Two" json_name: "value" }
        options { map_entry: true }
      }
    })pb", &file));
  google::protobuf::DescriptorPool pool;
  ASSERT_NE(pool.BuildFile(file), nullptr);
  const google::protobuf::Descriptor* two = pool.FindMessageTypeByName("two.Two");
  ASSERT_NE(two, nullptr);
  // zero = 0, set: it prints as 0.
  const std::string bytes("\x20\x00", 2);
  absl::StatusOr<std::string> json = MessageToJson(*two, bytes, false, true);
  ASSERT_TRUE(json.ok()) << json.status();
  EXPECT_EQ(*json, R"({"a":null,"s":null,"d":null,"zero":0,"r":[]})");
  json = MessageToJson(*two, bytes, true, true);
  ASSERT_TRUE(json.ok()) << json.status();
  EXPECT_EQ(*json, "{\n \"a\": null,\n \"s\": null,\n \"d\": null,\n \"zero\": 0,\n \"r\": []\n}");
  json = MessageToJson(*two, bytes, false, false);
  ASSERT_TRUE(json.ok()) << json.status();
  EXPECT_EQ(*json, R"({"zero":0})");
  // At depth, each element and map value by its own fields: kids [{zero:
  // 0}, {}], by_key {"k": {a: 1}}.
  const google::protobuf::Descriptor* box = pool.FindMessageTypeByName("two.Box");
  ASSERT_NE(box, nullptr);
  const std::string boxed("\x0a\x02\x20\x00\x0a\x00\x12\x07\x0a\x01k\x12\x02\x08\x01", 15);
  json = MessageToJson(*box, boxed, false, true);
  ASSERT_TRUE(json.ok()) << json.status();
  EXPECT_EQ(*json, R"({"kids":[{"a":null,"s":null,"d":null,"zero":0,"r":[]},)"
                   R"({"a":null,"s":null,"d":null,"zero":null,"r":[]}],)"
                   R"("byKey":{"k":{"a":1,"s":null,"d":null,"zero":null,"r":[]}}})");
}

// A map value's proto2 scalars are told unset from its message, found by
// the key protobuf printed: a string key protobuf escapes (`"`, `\`, a
// control character, `<`, U+2028) did not match the entry's key as it is,
// so its unset scalars kept their printed default (`"s":""`).
TEST(MessageToJsonTest, EmitDefaultsWritesNullsInAMapValueWhoseKeyPrintsEscaped) {
  google::protobuf::FileDescriptorProto file;
  ASSERT_TRUE(google::protobuf::TextFormat::ParseFromString(R"pb(
    name: "keyed.proto" package: "keyed" syntax: "proto2"
    message_type {
      name: "Two"
      field { name: "a" number: 1 label: LABEL_OPTIONAL type: TYPE_INT32 json_name: "a" }
      field { name: "s" number: 2 label: LABEL_OPTIONAL type: TYPE_STRING json_name: "s" }
    }
    message_type {
      name: "Box"
      field { name: "by_key" number: 1 label: LABEL_REPEATED type: TYPE_MESSAGE
              type_name: ".keyed.Box.ByKeyEntry" json_name: "byKey" }
      nested_type {
        name: "ByKeyEntry"
        field { name: "key" number: 1 label: LABEL_OPTIONAL type: TYPE_STRING json_name: "key" }
        field { name: "value" number: 2 label: LABEL_OPTIONAL type: TYPE_MESSAGE
                type_name: ".keyed.Two" json_name: "value" }
        options { map_entry: true }
      }
    })pb", &file));
  google::protobuf::DescriptorPool pool;
  ASSERT_NE(pool.BuildFile(file), nullptr);
  const google::protobuf::Descriptor* box = pool.FindMessageTypeByName("keyed.Box");
  ASSERT_NE(box, nullptr);
  // by_key {key: {a: 1}}, the key as it is and as protobuf prints it.
  for (const auto& [key, printed] : std::vector<std::pair<std::string, std::string>>{
           {"plain", "plain"},
           {"a\"b", R"(a\"b)"},
           {"c\\d", R"(c\\d)"},
           {"line\nbreak", R"(line\nbreak)"},
           {std::string("\x01", 1), R"(\u0001)"},
           {"<tag>", R"(\u003ctag\u003e)"},
           {"\xe2\x80\xa8", R"(\u2028)"}}) {
    const std::string entry = absl::StrCat("\x0a", std::string(1, static_cast<char>(key.size())),
                                           key, std::string("\x12\x02\x08\x01", 4));
    const std::string bytes =
        absl::StrCat("\x0a", std::string(1, static_cast<char>(entry.size())), entry);
    absl::StatusOr<std::string> json = MessageToJson(*box, bytes, false, true);
    ASSERT_TRUE(json.ok()) << json.status();
    EXPECT_EQ(*json, absl::StrCat(R"({"byKey":{")", printed, R"(":{"a":1,"s":null}}})"))
        << "key " << printed;
  }
}

// jsonpb writes an Any's message with EmitDefaults too: its unset
// sub-messages null among the fields after "@type". handoff left an Any's
// JSON as protobuf C++ printed it, which for an Any of empty bytes is the
// "@type" alone, without even the fields at their default.
TEST(MessageToJsonTest, EmitDefaultsWritesNullsInsideAnAnyByItsType) {
  google::protobuf::DescriptorPool pool;
  ASSERT_NE(NestedType(pool), nullptr);
  google::protobuf::FileDescriptorProto file;
  google::protobuf::Any::descriptor()->file()->CopyTo(&file);
  ASSERT_NE(pool.BuildFile(file), nullptr);
  ASSERT_TRUE(google::protobuf::TextFormat::ParseFromString(R"pb(
    name: "holder.proto" package: "hold" syntax: "proto3"
    dependency: "google/protobuf/any.proto"
    message_type {
      name: "Holder"
      field { name: "any" number: 1 label: LABEL_OPTIONAL type: TYPE_MESSAGE
              type_name: ".google.protobuf.Any" json_name: "any" }
      field { name: "wrapped" number: 2 label: LABEL_OPTIONAL type: TYPE_MESSAGE
              type_name: ".google.protobuf.Any" json_name: "wrapped" }
    })pb", &file));
  ASSERT_NE(pool.BuildFile(file), nullptr);
  const google::protobuf::Descriptor* holder = pool.FindMessageTypeByName("hold.Holder");
  ASSERT_NE(holder, nullptr);
  // any: an empty nest.Inner; wrapped: an Any of that Any, which prints
  // {"@type": ..., "value": {...}}.
  google::protobuf::Any inner;
  inner.set_type_url("type.googleapis.com/nest.Inner");
  google::protobuf::Any wrapped;
  wrapped.PackFrom(inner);
  const std::string any = inner.SerializeAsString();
  const std::string wrapping = wrapped.SerializeAsString();
  const std::string bytes =
      absl::StrCat("\x0a", std::string(1, static_cast<char>(any.size())), any, "\x12",
                   std::string(1, static_cast<char>(wrapping.size())), wrapping);
  absl::StatusOr<std::string> json = MessageToJson(*holder, bytes, false, true);
  ASSERT_TRUE(json.ok()) << json.status();
  EXPECT_EQ(*json, R"({"any":{"@type":"type.googleapis.com/nest.Inner","s":"","deeper":null},)"
                   R"("wrapped":{"@type":"type.googleapis.com/google.protobuf.Any",)"
                   R"("value":{"@type":"type.googleapis.com/nest.Inner","s":"","deeper":null}}})");
  json = MessageToJson(
      *holder, absl::StrCat("\x0a", std::string(1, static_cast<char>(any.size())), any), true,
      true);
  ASSERT_TRUE(json.ok()) << json.status();
  EXPECT_EQ(*json,
            "{\n \"any\": {\n  \"@type\": \"type.googleapis.com/nest.Inner\",\n  \"s\": \"\",\n"
            "  \"deeper\": null\n },\n \"wrapped\": null\n}");
  // Nulls at any depth in an Any's message. any: a nest.Outer with
  // set_one {}.
  google::protobuf::Any outer;
  outer.set_type_url("type.googleapis.com/nest.Outer");
  outer.set_value(std::string("\x2a\x00", 2));
  const std::string packed = outer.SerializeAsString();
  json = MessageToJson(
      *holder, absl::StrCat("\x0a", std::string(1, static_cast<char>(packed.size())), packed),
      false, true);
  ASSERT_TRUE(json.ok()) << json.status();
  EXPECT_EQ(*json, R"({"any":{"@type":"type.googleapis.com/nest.Outer","n":0,"inner":null,)"
                   R"("items":[],"setOne":{"s":"","deeper":null},"z":""},"wrapped":null})");
}

}  // namespace
}  // namespace handoff
