#include "client/proto_source.h"

#include <google/protobuf/descriptor.pb.h>
#include <google/protobuf/text_format.h>

#include <algorithm>
#include <climits>
#include <cstdint>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"

namespace handoff {
namespace {

namespace pb = google::protobuf;

// The highest field number; a range reaching it is "N to max".
constexpr int kMaxFieldNumber = 536870911;

struct Option {
  std::string name;
  std::string value;
};

// protoprint's string literal: C escapes for \n \r \t " and \, octal for
// any other byte outside printable ASCII.
std::string Quoted(absl::string_view s) {
  std::string out = "\"";
  for (const char c : s) {
    switch (c) {
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      default: {
        const auto u = static_cast<unsigned char>(c);
        if (u >= 0x20 && u < 0x7f) {
          out += c;
        } else {
          out += absl::StrFormat("\\%03o", u);
        }
      }
    }
  }
  return out + "\"";
}

// Go's %f, as protoprint prints a float option or default.
std::string Float(double v) { return absl::StrFormat("%f", v); }

std::string OptionValue(const pb::Message& m, const pb::FieldDescriptor& f, int index) {
  const pb::Reflection& r = *m.GetReflection();
  const bool rep = f.is_repeated();
  switch (f.cpp_type()) {
    case pb::FieldDescriptor::CPPTYPE_INT32:
      return absl::StrCat(rep ? r.GetRepeatedInt32(m, &f, index) : r.GetInt32(m, &f));
    case pb::FieldDescriptor::CPPTYPE_INT64:
      return absl::StrCat(rep ? r.GetRepeatedInt64(m, &f, index) : r.GetInt64(m, &f));
    case pb::FieldDescriptor::CPPTYPE_UINT32:
      return absl::StrCat(rep ? r.GetRepeatedUInt32(m, &f, index) : r.GetUInt32(m, &f));
    case pb::FieldDescriptor::CPPTYPE_UINT64:
      return absl::StrCat(rep ? r.GetRepeatedUInt64(m, &f, index) : r.GetUInt64(m, &f));
    case pb::FieldDescriptor::CPPTYPE_FLOAT:
      return Float(rep ? r.GetRepeatedFloat(m, &f, index) : r.GetFloat(m, &f));
    case pb::FieldDescriptor::CPPTYPE_DOUBLE:
      return Float(rep ? r.GetRepeatedDouble(m, &f, index) : r.GetDouble(m, &f));
    case pb::FieldDescriptor::CPPTYPE_BOOL:
      return (rep ? r.GetRepeatedBool(m, &f, index) : r.GetBool(m, &f)) ? "true" : "false";
    case pb::FieldDescriptor::CPPTYPE_ENUM:
      return (rep ? r.GetRepeatedEnum(m, &f, index) : r.GetEnum(m, &f))->name();
    case pb::FieldDescriptor::CPPTYPE_STRING:
      return Quoted(rep ? r.GetRepeatedString(m, &f, index) : r.GetString(m, &f));
    case pb::FieldDescriptor::CPPTYPE_MESSAGE: {
      pb::TextFormat::Printer printer;
      printer.SetSingleLineMode(true);
      std::string text;
      printer.PrintToString(rep ? r.GetRepeatedMessage(m, &f, index) : r.GetMessage(m, &f), &text);
      return absl::StrCat("{ ", absl::StripTrailingAsciiWhitespace(text), " }");
    }
  }
  return "";
}

// protoprint's order: standard options by name, then custom ones by name.
bool OptionLess(const Option& a, const Option& b) {
  const bool ca = a.name.front() == '(', cb = b.name.front() == '(';
  if (ca != cb) return cb;
  return a.name < b.name;
}

// The options set in `options`, each value of a repeated one its own, plus
// `extra` (a field's default and json_name), in protoprint's order.
std::vector<Option> Options(const pb::Message& options, std::vector<Option> extra = {}) {
  std::vector<Option> out = std::move(extra);
  std::vector<const pb::FieldDescriptor*> fields;
  options.GetReflection()->ListFields(options, &fields);
  for (const pb::FieldDescriptor* f : fields) {
    // Uninterpreted options are resolved by the time a pool holds them.
    if (f->name() == "uninterpreted_option") continue;
    const std::string name =
        f->is_extension() ? absl::StrCat("(.", f->full_name(), ")") : std::string(f->name());
    const int n = f->is_repeated() ? options.GetReflection()->FieldSize(options, f) : 1;
    for (int i = 0; i < n; ++i) out.push_back({name, OptionValue(options, *f, i)});
  }
  std::stable_sort(out.begin(), out.end(), OptionLess);
  return out;
}

// ` [a = 1, b = 2]`, or nothing.
std::string ShortOptions(const std::vector<Option>& options) {
  if (options.empty()) return "";
  return absl::StrCat(" [",
                      absl::StrJoin(options, ", ",
                                    [](std::string* out, const Option& o) {
                                      absl::StrAppend(out, o.name, " = ", o.value);
                                    }),
                      "]");
}

// protobuf's default JSON name: lowerCamelCase of the field's name.
std::string DefaultJsonName(absl::string_view name) {
  std::string out;
  bool upper = false;
  for (const char c : name) {
    if (c == '_') {
      upper = true;
    } else {
      out += upper ? absl::ascii_toupper(c) : c;
      upper = false;
    }
  }
  return out;
}

std::string FieldDefault(const pb::FieldDescriptor& f) {
  switch (f.cpp_type()) {
    case pb::FieldDescriptor::CPPTYPE_INT32:
      return absl::StrCat(f.default_value_int32());
    case pb::FieldDescriptor::CPPTYPE_INT64:
      return absl::StrCat(f.default_value_int64());
    case pb::FieldDescriptor::CPPTYPE_UINT32:
      return absl::StrCat(f.default_value_uint32());
    case pb::FieldDescriptor::CPPTYPE_UINT64:
      return absl::StrCat(f.default_value_uint64());
    case pb::FieldDescriptor::CPPTYPE_FLOAT:
      return Float(f.default_value_float());
    case pb::FieldDescriptor::CPPTYPE_DOUBLE:
      return Float(f.default_value_double());
    case pb::FieldDescriptor::CPPTYPE_BOOL:
      return f.default_value_bool() ? "true" : "false";
    case pb::FieldDescriptor::CPPTYPE_ENUM:
      return f.default_value_enum()->name();
    case pb::FieldDescriptor::CPPTYPE_STRING:
      return Quoted(f.default_value_string());
    case pb::FieldDescriptor::CPPTYPE_MESSAGE:
      return "";
  }
  return "";
}

bool IsGroup(const pb::FieldDescriptor& f) { return f.type() == pb::FieldDescriptor::TYPE_GROUP; }

std::string TypeName(const pb::FieldDescriptor& f) {
  if (f.is_map()) {
    return absl::StrCat("map<", TypeName(*f.message_type()->map_key()), ", ",
                        TypeName(*f.message_type()->map_value()), ">");
  }
  switch (f.type()) {
    case pb::FieldDescriptor::TYPE_ENUM:
      return absl::StrCat(".", f.enum_type()->full_name());
    case pb::FieldDescriptor::TYPE_MESSAGE:
      return absl::StrCat(".", f.message_type()->full_name());
    case pb::FieldDescriptor::TYPE_GROUP:
      return std::string(f.message_type()->name());
    default:
      return f.type_name();
  }
}

// A label is written where the source needs one: not in a map or a oneof,
// and in proto3 only `repeated` or an explicit `optional`.
absl::string_view Label(const pb::FieldDescriptor& f) {
  if (f.is_map() || f.real_containing_oneof() != nullptr) return "";
  const bool proto3 = f.file()->syntax() == pb::FileDescriptor::SYNTAX_PROTO3;
  switch (f.label()) {
    case pb::FieldDescriptor::LABEL_REPEATED:
      return "repeated ";
    case pb::FieldDescriptor::LABEL_REQUIRED:
      return "required ";
    case pb::FieldDescriptor::LABEL_OPTIONAL:
      return !proto3 || f.has_optional_keyword() ? "optional " : "";
  }
  return "";
}

template <typename T>
std::vector<const T*> SortedBy(int n, auto at, auto less) {
  std::vector<const T*> out;
  for (int i = 0; i < n; ++i) out.push_back(at(i));
  std::stable_sort(out.begin(), out.end(), less);
  return out;
}

class Printer {
 public:
  std::string Take() { return std::move(out_); }

  void Service(const pb::ServiceDescriptor& d, int indent) {
    Comments(d, indent);
    Line(indent, "service ", d.name(), " {");
    LongOptions(Options(d.options()), indent + 1);
    const auto methods = SortedBy<pb::MethodDescriptor>(
        d.method_count(), [&](int i) { return d.method(i); },
        [](auto* a, auto* b) { return a->name() < b->name(); });
    for (const pb::MethodDescriptor* m : methods) Method(*m, indent + 1);
    Line(indent, "}");
  }

  void Method(const pb::MethodDescriptor& d, int indent) {
    Comments(d, indent);
    const std::string head = absl::StrCat(
        "rpc ", d.name(), " ( ", d.client_streaming() ? "stream " : "", ".",
        d.input_type()->full_name(), " ) returns ( ", d.server_streaming() ? "stream " : "", ".",
        d.output_type()->full_name(), " )");
    const std::vector<Option> options = Options(d.options());
    if (options.empty()) {
      Line(indent, head, ";");
      return;
    }
    Line(indent, head, " {");
    LongOptions(options, indent + 1);
    Line(indent, "}");
  }

  void Message(const pb::Descriptor& d, int indent) {
    Comments(d, indent);
    Line(indent, "message ", d.name(), " {");
    MessageBody(d, indent + 1);
    Line(indent, "}");
  }

  // An extension is printed in its own `extend` block; `Field` prints the
  // field alone.
  void Extension(const pb::FieldDescriptor& d, int indent) {
    Line(indent, "extend .", d.containing_type()->full_name(), " {");
    Field(d, indent + 1);
    Line(indent, "}");
  }

  void Field(const pb::FieldDescriptor& d, int indent) {
    // A group's comments are its type's, where the source puts them.
    if (IsGroup(d)) {
      Comments(*d.message_type(), indent);
      Line(indent, Label(d), "group ", d.message_type()->name(), " = ", d.number(), " {");
      MessageBody(*d.message_type(), indent + 1);
      Line(indent, "}");
      return;
    }
    Comments(d, indent);
    std::vector<Option> extra;
    if (d.has_default_value()) extra.push_back({"default", FieldDefault(d)});
    if (d.has_json_name() && d.json_name() != DefaultJsonName(d.name())) {
      extra.push_back({"json_name", Quoted(d.json_name())});
    }
    Line(indent, Label(d), TypeName(d), " ", d.name(), " = ", d.number(),
         ShortOptions(Options(d.options(), std::move(extra))), ";");
  }

  void Oneof(const pb::OneofDescriptor& d, int indent) {
    Comments(d, indent);
    Line(indent, "oneof ", d.name(), " {");
    LongOptions(Options(d.options()), indent + 1);
    for (const pb::FieldDescriptor* f :
         ByNumber(d.field_count(), [&](int i) { return d.field(i); })) {
      Field(*f, indent + 1);
    }
    Line(indent, "}");
  }

  void Enum(const pb::EnumDescriptor& d, int indent) {
    Comments(d, indent);
    Line(indent, "enum ", d.name(), " {");
    LongOptions(Options(d.options()), indent + 1);
    const auto values = SortedBy<pb::EnumValueDescriptor>(
        d.value_count(), [&](int i) { return d.value(i); },
        [](auto* a, auto* b) {
          return a->number() != b->number() ? a->number() < b->number() : a->name() < b->name();
        });
    for (const pb::EnumValueDescriptor* v : values) EnumValue(*v, indent + 1);
    std::vector<std::pair<int, int>> reserved;
    for (int i = 0; i < d.reserved_range_count(); ++i) {
      reserved.emplace_back(d.reserved_range(i)->start, d.reserved_range(i)->end);
    }
    ReservedRanges(reserved, INT_MAX, indent + 1);
    ReservedNames(
        d.reserved_name_count(), [&](int i) { return d.reserved_name(i); }, indent + 1);
    Line(indent, "}");
  }

  void EnumValue(const pb::EnumValueDescriptor& d, int indent) {
    Comments(d, indent);
    Line(indent, d.name(), " = ", d.number(), ShortOptions(Options(d.options())), ";");
  }

 private:
  template <typename... Parts>
  void Line(int indent, const Parts&... parts) {
    out_.append(2 * indent, ' ');
    absl::StrAppend(&out_, parts..., "\n");
  }

  // A doc comment: the element's leading comment, `//` a line.
  template <typename D>
  void Comments(const D& d, int indent) {
    pb::SourceLocation where;
    if (!d.GetSourceLocation(&where)) return;
    std::vector<absl::string_view> lines = absl::StrSplit(where.leading_comments, '\n');
    if (!lines.empty() && lines.front().empty()) lines.erase(lines.begin());
    if (!lines.empty() && lines.back().empty()) lines.pop_back();
    for (const absl::string_view line : lines) {
      Line(indent, "//", absl::StripTrailingAsciiWhitespace(line));
    }
  }

  void LongOptions(const std::vector<Option>& options, int indent) {
    for (const Option& o : options) Line(indent, "option ", o.name, " = ", o.value, ";");
  }

  static std::vector<const pb::FieldDescriptor*> ByNumber(int n, auto at) {
    return SortedBy<pb::FieldDescriptor>(
        n, at, [](auto* a, auto* b) { return a->number() < b->number(); });
  }

  // Ranges of [start, end], `max_end` written as `max`.
  void ReservedRanges(std::vector<std::pair<int, int>> ranges, int max_end, int indent) {
    if (ranges.empty()) return;
    std::stable_sort(ranges.begin(), ranges.end());
    std::vector<std::string> parts;
    for (const auto& [start, end] : ranges) {
      if (start == end) {
        parts.push_back(absl::StrCat(start));
      } else if (end == max_end) {
        parts.push_back(absl::StrCat(start, " to max"));
      } else {
        parts.push_back(absl::StrCat(start, " to ", end));
      }
    }
    Line(indent, "reserved ", absl::StrJoin(parts, ", "), ";");
  }

  void ReservedNames(int n, auto at, int indent) {
    if (n == 0) return;
    std::vector<std::string> names;
    for (int i = 0; i < n; ++i) names.push_back(Quoted(at(i)));
    std::sort(names.begin(), names.end());
    Line(indent, "reserved ", absl::StrJoin(names, ", "), ";");
  }

  void MessageBody(const pb::Descriptor& d, int indent) {
    LongOptions(Options(d.options()), indent);
    // Fields by number, a oneof at its first field's place.
    std::vector<const pb::OneofDescriptor*> printed;
    for (const pb::FieldDescriptor* f :
         ByNumber(d.field_count(), [&](int i) { return d.field(i); })) {
      const pb::OneofDescriptor* oneof = f->real_containing_oneof();
      if (oneof == nullptr) {
        Field(*f, indent);
      } else if (std::find(printed.begin(), printed.end(), oneof) == printed.end()) {
        printed.push_back(oneof);
        Oneof(*oneof, indent);
      }
    }
    // A map's entry and a group's type are printed as their fields.
    auto made_for_a_field = [&](const pb::Descriptor& nested) {
      for (int i = 0; i < d.field_count(); ++i) {
        const pb::FieldDescriptor& f = *d.field(i);
        if (f.message_type() == &nested && (f.is_map() || IsGroup(f))) return true;
      }
      for (int i = 0; i < d.extension_count(); ++i) {
        if (d.extension(i)->message_type() == &nested && IsGroup(*d.extension(i))) return true;
      }
      return false;
    };
    const auto by_name = [](auto* a, auto* b) { return a->name() < b->name(); };
    for (const pb::Descriptor* nested : SortedBy<pb::Descriptor>(
             d.nested_type_count(), [&](int i) { return d.nested_type(i); }, by_name)) {
      if (!made_for_a_field(*nested)) Message(*nested, indent);
    }
    for (const pb::EnumDescriptor* e : SortedBy<pb::EnumDescriptor>(
             d.enum_type_count(), [&](int i) { return d.enum_type(i); }, by_name)) {
      Enum(*e, indent);
    }
    ExtensionRanges(d, indent);
    Extensions(d, indent);
    std::vector<std::pair<int, int>> reserved;
    for (int i = 0; i < d.reserved_range_count(); ++i) {
      reserved.emplace_back(d.reserved_range(i)->start, d.reserved_range(i)->end - 1);
    }
    ReservedRanges(reserved, kMaxFieldNumber, indent);
    ReservedNames(
        d.reserved_name_count(), [&](int i) { return d.reserved_name(i); }, indent);
  }

  // Ranges in order, those in a row with the same options in one statement.
  void ExtensionRanges(const pb::Descriptor& d, int indent) {
    std::vector<const pb::Descriptor::ExtensionRange*> ranges;
    for (int i = 0; i < d.extension_range_count(); ++i) ranges.push_back(d.extension_range(i));
    std::stable_sort(ranges.begin(), ranges.end(),
                     [](auto* a, auto* b) { return a->start < b->start; });
    auto options_of = [](const pb::Descriptor::ExtensionRange* r) {
      return r->options_ == nullptr ? std::string() : r->options_->SerializeAsString();
    };
    for (size_t i = 0; i < ranges.size();) {
      std::vector<std::string> parts;
      size_t j = i;
      for (; j < ranges.size() && options_of(ranges[j]) == options_of(ranges[i]); ++j) {
        const int start = ranges[j]->start, last = ranges[j]->end - 1;
        parts.push_back(start == last             ? absl::StrCat(start)
                        : last == kMaxFieldNumber ? absl::StrCat(start, " to max")
                                                  : absl::StrCat(start, " to ", last));
      }
      const std::string options =
          ranges[i]->options_ == nullptr ? "" : ShortOptions(Options(*ranges[i]->options_));
      Line(indent, "extensions ", absl::StrJoin(parts, ", "), options, ";");
      i = j;
    }
  }

  // Extensions declared in `d`, an `extend` block for each extendee, by
  // its name, each block's fields by number.
  void Extensions(const pb::Descriptor& d, int indent) {
    const auto exts = SortedBy<pb::FieldDescriptor>(
        d.extension_count(), [&](int i) { return d.extension(i); },
        [](auto* a, auto* b) {
          if (a->containing_type() != b->containing_type()) {
            return a->containing_type()->full_name() < b->containing_type()->full_name();
          }
          return a->number() < b->number();
        });
    for (size_t i = 0; i < exts.size();) {
      const pb::Descriptor* extendee = exts[i]->containing_type();
      Line(indent, "extend .", extendee->full_name(), " {");
      for (; i < exts.size() && exts[i]->containing_type() == extendee; ++i) {
        Field(*exts[i], indent + 1);
      }
      Line(indent, "}");
    }
  }

  std::string out_;
};

template <typename D, typename Print>
std::string Printed(const D& d, Print print) {
  Printer p;
  print(p, d);
  return p.Take();
}

}  // namespace

std::string ProtoSource(const pb::ServiceDescriptor& d) {
  return Printed(d, [](Printer& p, const auto& x) { p.Service(x, 0); });
}
std::string ProtoSource(const pb::MethodDescriptor& d) {
  return Printed(d, [](Printer& p, const auto& x) { p.Method(x, 0); });
}
std::string ProtoSource(const pb::Descriptor& d) {
  return Printed(d, [](Printer& p, const auto& x) { p.Message(x, 0); });
}
std::string ProtoSource(const pb::FieldDescriptor& d) {
  return Printed(d, [](Printer& p, const pb::FieldDescriptor& x) {
    if (x.is_extension()) {
      p.Extension(x, 0);
    } else {
      p.Field(x, 0);
    }
  });
}
std::string ProtoSource(const pb::OneofDescriptor& d) {
  return Printed(d, [](Printer& p, const auto& x) { p.Oneof(x, 0); });
}
std::string ProtoSource(const pb::EnumDescriptor& d) {
  return Printed(d, [](Printer& p, const auto& x) { p.Enum(x, 0); });
}
std::string ProtoSource(const pb::EnumValueDescriptor& d) {
  return Printed(d, [](Printer& p, const auto& x) { p.EnumValue(x, 0); });
}

}  // namespace handoff
