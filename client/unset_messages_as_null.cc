#include "client/unset_messages_as_null.h"

#include <algorithm>
#include <cstddef>
#include <string>
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

  bool Value(const pb::Descriptor* type, int depth) {
    SkipSpace();
    if (pos_ >= json_.size()) return false;
    switch (json_[pos_]) {
      case '{':
        if (type != nullptr && !JsonIsNotItsFields(*type)) return Object(*type, depth);
        return Entries(nullptr, depth);
      case '[':
        return Array(nullptr, depth);
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
  // A field's value: an array of its elements if repeated, an object of
  // its values if a map.
  bool Field(const pb::FieldDescriptor& f, int depth) {
    SkipSpace();
    if (f.is_map()) {
      const pb::FieldDescriptor* value = f.message_type()->map_value();
      if (pos_ < json_.size() && json_[pos_] == '{') return Entries(value->message_type(), depth);
    } else if (f.is_repeated()) {
      if (pos_ < json_.size() && json_[pos_] == '[') return Array(f.message_type(), depth);
    }
    return Value(f.message_type(), depth);
  }

  bool Array(const pb::Descriptor* element, int depth) {
    ++pos_;  // [
    SkipSpace();
    if (pos_ < json_.size() && json_[pos_] == ']') return ++pos_, true;
    while (true) {
      if (!Value(element, depth + 1)) return false;
      SkipSpace();
      if (pos_ >= json_.size()) return false;
      if (json_[pos_++] == ']') return true;
      if (json_[pos_ - 1] != ',') return false;
    }
  }

  // An object whose values are all of type `value` (a map's, or nothing
  // known).
  bool Entries(const pb::Descriptor* value, int depth) {
    return Members([&](absl::string_view) { return Value(value, depth + 1); });
  }

  // An object of `type`'s fields: nulls for its unset message fields.
  bool Object(const pb::Descriptor& type, int depth) {
    const size_t start = pos_;
    struct Key {
      size_t pos;
      int field;  // index in `type`, -1 if none (an extension)
    };
    std::vector<Key> keys;
    size_t last_value_end = 0;
    const bool ok = Members([&](absl::string_view name) {
      const pb::FieldDescriptor* f = nullptr;
      for (int i = 0; i < type.field_count() && f == nullptr; ++i) {
        if (type.field(i)->json_name() == name) f = type.field(i);
      }
      keys.push_back({key_pos_, f == nullptr ? -1 : f->index()});
      const bool parsed = f != nullptr ? Field(*f, depth + 1) : Value(nullptr, depth + 1);
      last_value_end = pos_;
      return parsed;
    });
    if (!ok) return false;
    const std::string colon = pretty_ ? ": " : ":";
    const std::string inner = Break(depth + 1);
    std::vector<std::string> nulls;  // for an object with no members at all
    for (int i = 0; i < type.field_count(); ++i) {
      const pb::FieldDescriptor* f = type.field(i);
      if (f->is_repeated() || f->message_type() == nullptr || f->containing_oneof() != nullptr) {
        continue;
      }
      if (std::any_of(keys.begin(), keys.end(), [&](const Key& k) { return k.field == i; })) {
        continue;  // set
      }
      const std::string null = absl::StrCat("\"", f->json_name(), "\"", colon, "null");
      if (keys.empty()) {
        nulls.push_back(null);
        continue;
      }
      auto later =
          std::find_if(keys.begin(), keys.end(), [&](const Key& k) { return k.field > i; });
      if (later != keys.end()) {
        edits_.push_back({later->pos, later->pos, absl::StrCat(null, ",", inner)});
      } else {
        edits_.push_back({last_value_end, last_value_end, absl::StrCat(",", inner, null)});
      }
    }
    if (!nulls.empty()) {
      std::string text = "{";
      for (size_t i = 0; i < nulls.size(); ++i) {
        absl::StrAppend(&text, i == 0 ? "" : ",", inner, nulls[i]);
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
};

}  // namespace

std::string UnsetMessagesAsNull(const pb::Descriptor& type, absl::string_view json, bool pretty) {
  Walker walker(json, pretty);
  if (!walker.Value(&type, 0)) return std::string(json);
  return walker.Result();
}

}  // namespace handoff
