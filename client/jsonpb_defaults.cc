#include "client/jsonpb_defaults.h"

#include <google/protobuf/dynamic_message.h>
#include <google/protobuf/message.h>
#include <google/protobuf/util/json_util.h>
#include <google/protobuf/wrappers.pb.h>

#include <algorithm>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"

namespace handoff {
namespace {

namespace pb = google::protobuf;

// Types protobuf writes as something other than an object of their fields.
bool JsonIsNotItsFields(const pb::Descriptor& type) {
  static constexpr absl::string_view kSpecial[] = {
      "google.protobuf.Any",         "google.protobuf.Timestamp",   "google.protobuf.Duration",
      "google.protobuf.FieldMask",   "google.protobuf.Struct",      "google.protobuf.Value",
      "google.protobuf.ListValue",   "google.protobuf.DoubleValue", "google.protobuf.FloatValue",
      "google.protobuf.Int64Value",  "google.protobuf.UInt64Value", "google.protobuf.Int32Value",
      "google.protobuf.UInt32Value", "google.protobuf.BoolValue",   "google.protobuf.StringValue",
      "google.protobuf.BytesValue"};
  return std::find(std::begin(kSpecial), std::end(kSpecial), type.full_name()) !=
         std::end(kSpecial);
}

bool IsOneOf(char c, absl::string_view set) { return set.find(c) != absl::string_view::npos; }

// jsonpb writes such a field as null when it is not set: a singular field
// with presence (a message, or any proto2 field) that no oneof holds.
bool NullWhenUnset(const pb::FieldDescriptor& f) {
  return !f.is_repeated() && f.containing_oneof() == nullptr && f.has_presence();
}

// How jsonpb writes `f` at its default (proto3 JSON's, protobuf C++'s too).
std::string DefaultJson(const pb::FieldDescriptor& f) {
  if (f.is_map()) return "{}";
  if (f.is_repeated()) return "[]";
  switch (f.cpp_type()) {
    case pb::FieldDescriptor::CPPTYPE_INT64:
    case pb::FieldDescriptor::CPPTYPE_UINT64:
      return "\"0\"";
    case pb::FieldDescriptor::CPPTYPE_BOOL:
      return "false";
    case pb::FieldDescriptor::CPPTYPE_STRING:
      return "\"\"";
    case pb::FieldDescriptor::CPPTYPE_ENUM:
      if (f.enum_type()->full_name() == "google.protobuf.NullValue") return "null";
      return absl::StrCat("\"", f.default_value_enum()->name(), "\"");
    case pb::FieldDescriptor::CPPTYPE_MESSAGE:
      return "null";
    default:
      return "0";
  }
}

// The message of `f` in `parent`, or null if `parent` is.
const pb::Message* SubMessage(const pb::Message* parent, const pb::FieldDescriptor& f) {
  if (parent == nullptr || f.message_type() == nullptr) return nullptr;
  return &parent->GetReflection()->GetMessage(*parent, &f);
}

// The message values of map `f` of `parent` by their keys as JSON prints
// them (the last entry of a key, as the map keeps); empty if `parent` is
// null or the values are not messages. Built once a map, not looked up
// entry by entry for each key: a map of n entries was n * n key prints.
std::unordered_map<std::string, const pb::Message*> MapValues(const pb::Message* parent,
                                                              const pb::FieldDescriptor& f) {
  std::unordered_map<std::string, const pb::Message*> values;
  if (parent == nullptr) return values;
  const pb::FieldDescriptor* key_field = f.message_type()->map_key();
  const pb::FieldDescriptor* value_field = f.message_type()->map_value();
  if (value_field->message_type() == nullptr) return values;
  const pb::Reflection& reflection = *parent->GetReflection();
  for (int i = 0; i < reflection.FieldSize(*parent, &f); ++i) {
    const pb::Message& entry = reflection.GetRepeatedMessage(*parent, &f, i);
    const pb::Reflection& entry_reflection = *entry.GetReflection();
    std::string text;
    switch (key_field->cpp_type()) {
      case pb::FieldDescriptor::CPPTYPE_STRING:
        text = entry_reflection.GetString(entry, key_field);
        break;
      case pb::FieldDescriptor::CPPTYPE_BOOL:
        text = entry_reflection.GetBool(entry, key_field) ? "true" : "false";
        break;
      case pb::FieldDescriptor::CPPTYPE_INT32:
        text = absl::StrCat(entry_reflection.GetInt32(entry, key_field));
        break;
      case pb::FieldDescriptor::CPPTYPE_INT64:
        text = absl::StrCat(entry_reflection.GetInt64(entry, key_field));
        break;
      case pb::FieldDescriptor::CPPTYPE_UINT32:
        text = absl::StrCat(entry_reflection.GetUInt32(entry, key_field));
        break;
      case pb::FieldDescriptor::CPPTYPE_UINT64:
        text = absl::StrCat(entry_reflection.GetUInt64(entry, key_field));
        break;
      default:
        continue;
    }
    values[std::move(text)] = &entry_reflection.GetMessage(entry, value_field);
  }
  return values;
}

// The string a JSON string's text between its quotes, `raw`, stands for;
// none if it is not one. Protobuf's printer escapes more than `"`, `\` and
// control characters (`<` as \u003c, U+2028 as \u2028), so its own parser,
// which reads a StringValue from a JSON string, undoes what it wrote.
std::optional<std::string> JsonUnescaped(absl::string_view raw) {
  if (raw.find('\\') == absl::string_view::npos) return std::string(raw);
  pb::StringValue value;
  if (!pb::util::JsonStringToMessage(absl::StrCat("\"", raw, "\""), &value).ok()) {
    return std::nullopt;
  }
  return std::move(*value.mutable_value());
}

// Replace text[begin, end) with `text` (an insertion if begin == end).
struct Edit {
  size_t begin;
  size_t end;
  std::string text;
};

// Walks protobuf's JSON with the type of each value at hand, noting where
// nulls go. Each method starts at a value's first character and leaves
// `pos_` just past it; false if the text is not the JSON expected.
class Walker {
 public:
  Walker(absl::string_view json, bool pretty) : json_(json), pretty_(pretty) {}

  // `message`, if known, is the value's, for the fields it has.
  bool Value(const pb::Descriptor* type, const pb::Message* message, int depth) {
    SkipSpace();
    if (pos_ >= json_.size()) return false;
    switch (json_[pos_]) {
      case '{':
        if (type != nullptr && type->full_name() == "google.protobuf.Any") {
          return Any(*type, message, depth);
        }
        if (type != nullptr && !JsonIsNotItsFields(*type)) return Object(*type, message, depth);
        return Entries(nullptr, nullptr, nullptr, depth);
      case '[':
        return Array(nullptr, nullptr, nullptr, depth);
      case '"':
        return String(nullptr);
      default:
        // A number, true, false or null: up to what ends it.
        while (pos_ < json_.size() && !IsOneOf(json_[pos_], ",}] \n\r\t")) ++pos_;
        return true;
    }
  }

  // Everything noted, applied to the text.
  std::string Result() {
    std::stable_sort(edits_.begin(), edits_.end(),
                     [](const Edit& a, const Edit& b) { return a.begin < b.begin; });
    std::string out;
    size_t from = 0;
    for (const Edit& e : edits_) {
      absl::StrAppend(&out, json_.substr(from, e.begin - from), e.text);
      from = e.end;
    }
    absl::StrAppend(&out, json_.substr(from));
    return out;
  }

 private:
  // A field's value in `parent` (if known): an array of its elements if
  // repeated, an object of its values if a map.
  bool Field(const pb::FieldDescriptor& f, const pb::Message* parent, int depth) {
    SkipSpace();
    if (f.is_map()) {
      const pb::FieldDescriptor* value = f.message_type()->map_value();
      if (pos_ < json_.size() && json_[pos_] == '{') {
        return Entries(value->message_type(), parent, &f, depth);
      }
    } else if (f.is_repeated()) {
      if (pos_ < json_.size() && json_[pos_] == '[') {
        return Array(f.message_type(), parent, &f, depth);
      }
      parent = nullptr;
    }
    return Value(f.message_type(), SubMessage(parent, f), depth);
  }

  // The elements of `field` of `parent`, if known, of type `element`.
  bool Array(const pb::Descriptor* element, const pb::Message* parent,
             const pb::FieldDescriptor* field, int depth) {
    ++pos_;  // [
    SkipSpace();
    if (pos_ < json_.size() && json_[pos_] == ']') return ++pos_, true;
    const int known = parent != nullptr && field->message_type() != nullptr
                          ? parent->GetReflection()->FieldSize(*parent, field)
                          : 0;
    for (int i = 0;; ++i) {
      const pb::Message* message =
          i < known ? &parent->GetReflection()->GetRepeatedMessage(*parent, field, i) : nullptr;
      if (!Value(element, message, depth + 1)) return false;
      SkipSpace();
      if (pos_ >= json_.size()) return false;
      if (json_[pos_++] == ']') return true;
      if (json_[pos_ - 1] != ',') return false;
    }
  }

  // An Any, {"@type": URL, its message's fields...}, or {"@type": URL,
  // "value": ...} for a type whose JSON is not its fields: the message's
  // type from `any_type`'s pool by the URL; left as it is if not there.
  // `any`, if known, is the Any, whose bytes give the message.
  bool Any(const pb::Descriptor& any_type, const pb::Message* any, int depth) {
    const size_t start = pos_;
    absl::string_view url;
    const bool ok = Members([&](absl::string_view name) {
      SkipSpace();
      if (name == "@type" && pos_ < json_.size() && json_[pos_] == '"') return String(&url);
      return Value(nullptr, nullptr, depth + 1);
    });
    if (!ok) return false;
    const pb::Descriptor* type =
        any_type.file()->pool()->FindMessageTypeByName(std::string(url.substr(url.rfind('/') + 1)));
    if (type == nullptr) return true;
    const pb::Message* message = nullptr;
    const pb::FieldDescriptor* value = any_type.FindFieldByNumber(2);
    if (any != nullptr && value != nullptr) {
      std::unique_ptr<pb::Message> parsed(factory_.GetPrototype(type)->New());
      if (parsed->ParsePartialFromString(any->GetReflection()->GetString(*any, value))) {
        message = owned_.emplace_back(std::move(parsed)).get();
      }
    }
    // Again, now with the type at hand. Protobuf C++ prints an Any whose
    // message is empty bytes (all at default) as its "@type" alone, with
    // none of always_print_primitive_fields' fields: any field missing in
    // it is filled in.
    pos_ = start;
    ++in_any_;
    const bool walked = JsonIsNotItsFields(*type) ? Members([&](absl::string_view name) {
      return name == "value" ? Value(type, message, depth + 1) : Value(nullptr, nullptr, depth + 1);
    })
                                                  : Object(*type, message, depth);
    --in_any_;
    return walked;
  }

  // An object whose values are all of type `value` (the map `field` of
  // `parent`'s, if known, or nothing known).
  bool Entries(const pb::Descriptor* value, const pb::Message* parent,
               const pb::FieldDescriptor* field, int depth) {
    const auto values = field != nullptr ? MapValues(parent, *field)
                                         : std::unordered_map<std::string, const pb::Message*>();
    return Members([&](absl::string_view key) {
      // A key printed with an escape is matched unescaped; one that will
      // not unescape is walked without its message.
      const pb::Message* message = nullptr;
      if (std::optional<std::string> unescaped = JsonUnescaped(key)) {
        if (auto it = values.find(*unescaped); it != values.end()) message = it->second;
      }
      return Value(value, message, depth + 1);
    });
  }

  // An object of `type`'s fields: nulls for its unset message fields, and
  // for its unset proto2 scalars if `message` (its own) is known.
  bool Object(const pb::Descriptor& type, const pb::Message* message, int depth) {
    const size_t start = pos_;
    struct Key {
      size_t pos;
      int field;  // index in `type`, -1 if none (an extension)
      size_t value_begin;
      size_t value_end;
    };
    std::vector<Key> keys;
    size_t last_value_end = 0;
    const bool ok = Members([&](absl::string_view name) {
      const pb::FieldDescriptor* f = nullptr;
      for (int i = 0; i < type.field_count() && f == nullptr; ++i) {
        if (type.field(i)->json_name() == name) f = type.field(i);
      }
      const size_t key_pos = key_pos_;  // before a nested object moves it
      SkipSpace();
      const size_t value_begin = pos_;
      const bool parsed =
          f != nullptr ? Field(*f, message, depth + 1) : Value(nullptr, nullptr, depth + 1);
      keys.push_back({key_pos, f == nullptr ? -1 : f->index(), value_begin, pos_});
      last_value_end = pos_;
      return parsed;
    });
    if (!ok) return false;
    const std::string colon = pretty_ ? ": " : ":";
    const std::string inner = Break(depth + 1);
    std::vector<std::string> members;  // for an object with no members at all
    for (int i = 0; i < type.field_count(); ++i) {
      const pb::FieldDescriptor* f = type.field(i);
      auto printed =
          std::find_if(keys.begin(), keys.end(), [&](const Key& k) { return k.field == i; });
      std::string value = "null";
      if (in_any_ > 0 && printed == keys.end() && f->containing_oneof() == nullptr) {
        // Protobuf left it out, so it is not set (an empty Any's message):
        // jsonpb writes a field with presence as null, the others at their
        // default.
        if (!NullWhenUnset(*f)) value = DefaultJson(*f);
      } else if (!NullWhenUnset(*f)) {
        continue;
      } else if (f->message_type() == nullptr) {
        // A scalar prints with its default when unset: only the message
        // tells.
        if (message == nullptr || message->GetReflection()->HasField(*message, f)) continue;
        if (printed != keys.end()) {
          edits_.push_back({printed->value_begin, printed->value_end, "null"});
          continue;
        }
      } else if (printed != keys.end()) {
        continue;  // set
      }
      const std::string member = absl::StrCat("\"", f->json_name(), "\"", colon, value);
      if (keys.empty()) {
        members.push_back(member);
        continue;
      }
      auto later =
          std::find_if(keys.begin(), keys.end(), [&](const Key& k) { return k.field > i; });
      if (later != keys.end()) {
        edits_.push_back({later->pos, later->pos, absl::StrCat(member, ",", inner)});
      } else {
        edits_.push_back({last_value_end, last_value_end, absl::StrCat(",", inner, member)});
      }
    }
    if (!members.empty()) {
      std::string text = "{";
      for (size_t i = 0; i < members.size(); ++i) {
        absl::StrAppend(&text, i == 0 ? "" : ",", inner, members[i]);
      }
      absl::StrAppend(&text, Break(depth), "}");
      edits_.push_back({start, pos_, std::move(text)});
    }
    return true;
  }

  // An object's members: `member(name)` reads each value (false if it
  // could not), with `key_pos_` where its name starts.
  template <typename Member>
  bool Members(Member member) {
    ++pos_;  // {
    SkipSpace();
    if (pos_ < json_.size() && json_[pos_] == '}') return ++pos_, true;
    while (true) {
      SkipSpace();
      key_pos_ = pos_;
      absl::string_view name;
      if (pos_ >= json_.size() || json_[pos_] != '"' || !String(&name)) return false;
      SkipSpace();
      if (pos_ >= json_.size() || json_[pos_++] != ':') return false;
      if (!member(name)) return false;
      SkipSpace();
      if (pos_ >= json_.size()) return false;
      if (json_[pos_++] == '}') return true;
      if (json_[pos_ - 1] != ',') return false;
    }
  }

  // A string; `*raw`, if given, is its text between the quotes, as written.
  bool String(absl::string_view* raw) {
    const size_t open = pos_++;
    while (pos_ < json_.size()) {
      if (json_[pos_] == '\\') {
        pos_ += 2;
      } else if (json_[pos_++] == '"') {
        if (raw != nullptr) *raw = json_.substr(open + 1, pos_ - open - 2);
        return true;
      }
    }
    return false;
  }

  void SkipSpace() {
    while (pos_ < json_.size() && IsOneOf(json_[pos_], " \n\r\t")) ++pos_;
  }

  // What goes before a member at `depth`: protobuf indents one space a level.
  std::string Break(int depth) const {
    return pretty_ ? absl::StrCat("\n", std::string(depth, ' ')) : "";
  }

  absl::string_view json_;
  bool pretty_;
  size_t pos_ = 0;
  size_t key_pos_ = 0;
  std::vector<Edit> edits_;
  int in_any_ = 0;  // how many Anys the value being walked is in
  pb::DynamicMessageFactory factory_;
  std::vector<std::unique_ptr<pb::Message>> owned_;  // Anys' messages
};

}  // namespace

std::string AsJsonpbEmitsDefaults(const pb::Message& message, absl::string_view json, bool pretty) {
  Walker walker(json, pretty);
  if (!walker.Value(message.GetDescriptor(), &message, 0)) return std::string(json);
  return walker.Result();
}

}  // namespace handoff
