#include "client/symbol_description.h"

#include <google/protobuf/descriptor.pb.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/strip.h"
#include "client/dynamic_call.h"
#include "client/proto_source.h"

namespace handoff {
namespace {

namespace pb = google::protobuf;

// What the pool's database said, if it was more than "no such name".
absl::Status LookupFailure(const absl::Status* lookup_error) {
  if (lookup_error == nullptr || lookup_error->ok() || absl::IsNotFound(*lookup_error)) {
    return absl::OkStatus();
  }
  return *lookup_error;
}

// The field a map's entry message or a group's type was made for: protobuf
// makes these types for the field, and no .proto source declares them
// apart from it. Null for any other message.
const pb::FieldDescriptor* FieldMadeFor(const pb::Descriptor& d) {
  const pb::Descriptor* parent = d.containing_type();
  if (parent == nullptr) return nullptr;
  for (int i = 0; i < parent->field_count(); ++i) {
    const pb::FieldDescriptor* f = parent->field(i);
    if (f->message_type() != &d) continue;
    if (d.options().map_entry() ? f->is_map() : f->type() == pb::FieldDescriptor::TYPE_GROUP) {
      return f;
    }
  }
  return nullptr;
}

// What grpcurl calls a field: a group's before an extension's.
absl::string_view FieldKind(const pb::FieldDescriptor& f) {
  if (f.type() == pb::FieldDescriptor::TYPE_GROUP) return "a group field";
  return f.is_extension() ? "an extension" : "a field";
}

}  // namespace

absl::StatusOr<std::string> DescribeSymbol(const pb::DescriptorPool& pool, absl::string_view symbol,
                                           const absl::Status* lookup_error,
                                           absl::string_view hint) {
  // An empty part (".", "pkg.Msg.", two separators in a row) is refused as
  // such, as SplitMethodName refuses it in a method: looked up, it was "no
  // symbol 'pkg.Msg.'", sending the user to look for a name only mistyped.
  {
    absl::string_view rest = symbol;
    if (!absl::ConsumePrefix(&rest, "/")) absl::ConsumePrefix(&rest, ".");
    std::string parts(rest);
    absl::StrReplaceAll({{"/", "."}}, &parts);
    if (parts.empty() || parts.front() == '.' || parts.back() == '.' ||
        absl::StrContains(parts, "..")) {
      return absl::InvalidArgumentError(
          absl::StrCat("symbol '", symbol,
                       "' has an empty part; want package.Name or package.Service/Method"));
    }
  }
  std::string name(absl::StripPrefix(symbol, "."));
  // A method as `call` takes it, pkg.Service/Method or /pkg.Service/Method:
  // no symbol has a slash, and a name copied from a call is meant.
  if (absl::StrContains(symbol, "/")) {
    if (absl::StatusOr<MethodName> method = SplitMethodName(symbol); method.ok()) {
      name = absl::StrCat(method->service, ".", method->method);
    }
  }
  // One lookup reaches the database: the pool then holds the file that
  // defines the name, or remembers that none does, and the rest are local.
  auto described = [&](absl::string_view what, const std::string& source) {
    return absl::StrCat(name, " is ", what, ":\n", source);
  };
  if (const auto* d = pool.FindServiceByName(name)) return described("a service", ProtoSource(*d));
  if (absl::Status s = LookupFailure(lookup_error); !s.ok()) return s;
  if (const auto* d = pool.FindMessageTypeByName(name)) {
    // As grpcurl's describe: such a type is shown as the field it is for.
    if (const pb::FieldDescriptor* f = FieldMadeFor(*d)) {
      return described(d->options().map_entry() ? "the entry type for a map field"
                                                : "the type of a group field",
                       ProtoSource(*f));
    }
    return described("a message", ProtoSource(*d));
  }
  if (const auto* d = pool.FindMethodByName(name)) return described("a method", ProtoSource(*d));
  if (const auto* d = pool.FindEnumTypeByName(name)) return described("an enum", ProtoSource(*d));
  if (const auto* d = pool.FindFieldByName(name)) return described(FieldKind(*d), ProtoSource(*d));
  if (const auto* d = pool.FindExtensionByName(name)) {
    return described(FieldKind(*d), ProtoSource(*d));
  }
  if (const auto* d = pool.FindOneofByName(name)) return described("a one-of", ProtoSource(*d));
  if (const auto* d = pool.FindEnumValueByName(name)) {
    return described("an enum value", ProtoSource(*d));
  }
  // An enum value by its enum's name, pkg.Enum.VALUE, as grpcurl names it:
  // protobuf's C++ scopes it beside its enum (pkg.VALUE), found above.
  if (const size_t dot = name.rfind('.'); dot != std::string::npos) {
    if (const auto* e = pool.FindEnumTypeByName(name.substr(0, dot))) {
      if (const auto* d = e->FindValueByName(name.substr(dot + 1))) {
        return described("an enum value", ProtoSource(*d));
      }
    }
  }
  if (absl::Status s = LookupFailure(lookup_error); !s.ok()) return s;
  return absl::NotFoundError(
      absl::StrCat("no symbol '", absl::StripPrefix(symbol, "."), "'", hint));
}

absl::StatusOr<std::string> DescribeServices(const pb::DescriptorPool& pool,
                                             const std::vector<std::string>& names,
                                             const absl::Status* lookup_error) {
  std::string out;
  for (const std::string& name : names) {
    if (!out.empty()) out += "\n";
    absl::StatusOr<std::string> one = DescribeSymbol(pool, name, lookup_error);
    if (absl::IsNotFound(one.status())) {
      absl::StrAppend(&out, name, " is a service the server does not describe\n");
      continue;
    }
    if (!one.ok()) {
      return absl::Status(one.status().code(),
                          absl::StrCat("describing ", name, ": ", one.status().message()));
    }
    out += *one;
  }
  return out;
}

}  // namespace handoff
