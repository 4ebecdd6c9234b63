#include "client/local_descriptors.h"

#include <algorithm>
#include <filesystem>
#include <set>

#include <google/protobuf/compiler/importer.h>
#include <google/protobuf/descriptor.pb.h>
#include <google/protobuf/descriptor_database.h>

#include "absl/memory/memory.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/read_file.h"

namespace handoff {
namespace {

namespace pb = google::protobuf;

// The first error of a parse, as "file:line:column: message".
class FirstParseError : public pb::compiler::MultiFileErrorCollector {
 public:
  void AddError(const std::string& filename, int line, int column,
                const std::string& message) override {
    if (!first_.empty()) return;
    // 0-based, and -1 when the error is about the file as a whole.
    first_ = line >= 0 ? absl::StrCat(filename, ":", line + 1, ":", column + 1, ": ", message)
                       : absl::StrCat(filename, ": ", message);
  }
  const std::string& first() const { return first_; }

 private:
  std::string first_;
};

// The first error of building a file into the pool.
class FirstBuildError : public pb::DescriptorPool::ErrorCollector {
 public:
  void AddError(const std::string& filename, const std::string& element_name,
                const pb::Message*, ErrorLocation, const std::string& message) override {
    if (!first_.empty()) return;
    first_ = element_name.empty() || element_name == filename
                 ? absl::StrCat(filename, ": ", message)
                 : absl::StrCat(filename, ": ", element_name, ": ", message);
  }
  const std::string& first() const { return first_; }

 private:
  std::string first_;
};

// Protobuf's own .proto files (google/protobuf/...), as compiled into
// libprotobuf, and nothing else the binary happens to hold (handoff's own
// gateway.proto, say): an import of another file must come from the user's.
class ProtobufOwnFiles : public pb::DescriptorDatabase {
 public:
  bool FindFileByName(const std::string& filename, pb::FileDescriptorProto* output) override {
    return IsProtobufs(filename) && compiled_.FindFileByName(filename, output);
  }
  bool FindFileContainingSymbol(const std::string& symbol,
                                pb::FileDescriptorProto* output) override {
    return compiled_.FindFileContainingSymbol(symbol, output) && IsProtobufs(output->name());
  }
  bool FindFileContainingExtension(const std::string& containing_type, int field_number,
                                   pb::FileDescriptorProto* output) override {
    return compiled_.FindFileContainingExtension(containing_type, field_number, output) &&
           IsProtobufs(output->name());
  }

 private:
  static bool IsProtobufs(absl::string_view filename) {
    return absl::StartsWith(filename, "google/protobuf/");
  }

  pb::DescriptorPoolDatabase compiled_{*pb::DescriptorPool::generated_pool()};
};

}  // namespace

struct LocalDescriptors::Sources {
  // What an import of google/protobuf/... falls back to.
  ProtobufOwnFiles builtin;

  // --proto
  pb::compiler::DiskSourceTree tree;
  FirstParseError parse_errors;
  std::unique_ptr<pb::compiler::SourceTreeDescriptorDatabase> source_db;

  // --protoset
  pb::SimpleDescriptorDatabase protoset_db;
  std::unique_ptr<pb::MergedDescriptorDatabase> merged;
  FirstBuildError build_errors;
};

LocalDescriptors::LocalDescriptors() : sources_(std::make_unique<Sources>()) {}
LocalDescriptors::~LocalDescriptors() = default;

absl::StatusOr<std::unique_ptr<LocalDescriptors>> LocalDescriptors::FromProtoFile(
    const std::string& proto_file, const std::vector<std::string>& import_paths) {
  std::error_code ec;
  if (!std::filesystem::exists(proto_file, ec)) {
    return absl::NotFoundError(absl::StrCat("no such file: ", proto_file));
  }
  // What cannot be read (a directory, a FIFO nothing writes to, a file
  // without permission) is named as ReadFile names it, before protobuf's
  // source tree, which says only that it could not.
  if (absl::StatusOr<std::string> text = ReadFile(proto_file); !text.ok()) {
    return text.status();
  }
  if (!std::filesystem::is_regular_file(proto_file, ec)) {
    return absl::InvalidArgumentError(absl::StrCat(proto_file, " is not a regular file"));
  }
  auto local = absl::WrapUnique(new LocalDescriptors);
  local->source_ = proto_file;
  Sources& s = *local->sources_;
  std::vector<std::string> roots = import_paths;
  const std::string own_dir = std::filesystem::path(proto_file).parent_path().string();
  roots.push_back(own_dir.empty() ? "." : own_dir);
  roots.push_back(".");
  for (const std::string& root : roots) s.tree.MapPath("", root);

  // The name the file has among its imports: relative to the first root
  // that holds it, as protoc names it.
  std::string name;
  std::string shadowing;
  switch (s.tree.DiskFileToVirtualFile(proto_file, &name, &shadowing)) {
    case pb::compiler::DiskSourceTree::SUCCESS:
      break;
    case pb::compiler::DiskSourceTree::SHADOWED:
      return absl::InvalidArgumentError(
          absl::StrCat(proto_file, " is imported as \"", name, "\", which ", shadowing,
                       " (earlier in the import paths) shadows"));
    default:
      return absl::NotFoundError(absl::StrCat("cannot read ", proto_file));
  }

  s.source_db = std::make_unique<pb::compiler::SourceTreeDescriptorDatabase>(&s.tree, &s.builtin);
  s.source_db->RecordErrorsTo(&s.parse_errors);
  local->pool_ = std::make_unique<pb::DescriptorPool>(
      s.source_db.get(), s.source_db->GetValidationErrorCollector());
  if (local->pool_->FindFileByName(name) == nullptr) {
    std::string why = s.parse_errors.first();
    if (why.empty()) why = absl::StrCat(name, ": does not build");
    // An import that is nowhere: say where it was looked for.
    if (absl::StrContains(why, "File not found")) {
      absl::StrAppend(&why, " (looked in ", absl::StrJoin(roots, ", "), ")");
    }
    return absl::InvalidArgumentError(why);
  }
  local->files_.push_back(name);
  return local;
}

absl::StatusOr<std::unique_ptr<LocalDescriptors>> LocalDescriptors::FromProtoset(
    const std::string& path) {
  // ReadFile, not std::ifstream: a FIFO nothing writes to would be waited
  // on for ever, and a directory read as a set that does not parse.
  absl::StatusOr<std::string> bytes = ReadFile(path);
  if (!bytes.ok()) return bytes.status();
  pb::FileDescriptorSet set;
  if (!set.ParseFromString(*bytes)) {
    return absl::InvalidArgumentError(absl::StrCat(
        path, " is not a FileDescriptorSet (protoc --include_imports --descriptor_set_out)"));
  }
  if (set.file_size() == 0) {
    return absl::InvalidArgumentError(absl::StrCat(path, " holds no files"));
  }
  auto local = absl::WrapUnique(new LocalDescriptors);
  local->source_ = path;
  Sources& s = *local->sources_;
  // SimpleDescriptorDatabase::Add logs a duplicate to stderr before it
  // refuses it: refuse it here first, in one line.
  std::set<std::string> names;
  for (const pb::FileDescriptorProto& file : set.file()) {
    if (!names.insert(file.name()).second) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, " holds ", file.name(), " twice"));
    }
    // Add also refuses a file that defines a name an earlier one defined,
    // or whose names are malformed (logging which, on stderr).
    if (!s.protoset_db.Add(file)) {
      return absl::InvalidArgumentError(absl::StrCat(
          path, ": ", file.name(),
          " defines a name another file of the set defines too, or a malformed one"));
    }
  }
  s.merged = std::make_unique<pb::MergedDescriptorDatabase>(&s.protoset_db, &s.builtin);
  local->pool_ = std::make_unique<pb::DescriptorPool>(s.merged.get(), &s.build_errors);
  for (const pb::FileDescriptorProto& file : set.file()) {
    if (local->pool_->FindFileByName(file.name()) == nullptr) {
      const std::string& why = s.build_errors.first();
      return absl::InvalidArgumentError(absl::StrCat(
          path, ": ", why.empty() ? absl::StrCat(file.name(), " does not build") : why,
          " (protoc --include_imports puts every import in the set)"));
    }
    local->files_.push_back(file.name());
  }
  return local;
}

std::vector<std::string> LocalDescriptors::ServiceNames() const {
  std::vector<std::string> names;
  for (const std::string& file : files_) {
    const pb::FileDescriptor* built = pool_->FindFileByName(file);
    if (built == nullptr) continue;  // built when loaded: cannot happen
    for (int i = 0; i < built->service_count(); ++i) {
      names.push_back(built->service(i)->full_name());
    }
  }
  std::sort(names.begin(), names.end());
  return names;
}

absl::StatusOr<std::unique_ptr<LocalDescriptors>> LocalDescriptors::FromFlags(
    const std::string& proto, const std::vector<std::string>& import_paths,
    const std::string& protoset) {
  if (proto.empty() && protoset.empty()) return nullptr;
  auto loaded = !proto.empty() ? FromProtoFile(proto, import_paths) : FromProtoset(protoset);
  if (!loaded.ok()) {
    return absl::Status(loaded.status().code(),
                        absl::StrCat(!proto.empty() ? "--proto: " : "--protoset: ",
                                     loaded.status().message()));
  }
  return loaded;
}

}  // namespace handoff
