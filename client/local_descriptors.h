// LocalDescriptors: a service's types from files on disk rather than from
// the server's reflection — a .proto source and what it imports (ghz's
// --proto with --import-paths), or a compiled FileDescriptorSet (--protoset,
// from `protoc --include_imports --descriptor_set_out`) — so that JSON
// requests can be typed for a server that does not serve reflection.
//
//   auto local = LocalDescriptors::FromProtoFile("api/greeter.proto", {"third_party"});
//   if (!local.ok()) return local.status();   // names file:line:column
//   auto method = FindMethod((*local)->pool(), "helloworld.Greeter.SayHello");
//
// Imports are looked up, in order, in the import paths, the directory of the
// .proto file itself and the working directory (where ghz looks too); an
// import of Protobuf's own types (google/protobuf/empty.proto, ...) found in
// none of them is served from the copies compiled into libprotobuf. A
// protoset that leaves those out is completed the same way.
#ifndef HANDOFF_CLIENT_LOCAL_DESCRIPTORS_H_
#define HANDOFF_CLIENT_LOCAL_DESCRIPTORS_H_

#include <memory>
#include <string>
#include <vector>

#include <google/protobuf/descriptor.h>

#include "absl/status/statusor.h"

namespace handoff {

class LocalDescriptors {
 public:
  // Parses `proto_file` and its imports. INVALID_ARGUMENT names the file,
  // line and column of the first error; NOT_FOUND, a file that is not there;
  // a file that cannot be read has ReadFile's status ("cannot read PATH:
  // Is a directory", common/read_file.h).
  static absl::StatusOr<std::unique_ptr<LocalDescriptors>> FromProtoFile(
      const std::string& proto_file, const std::vector<std::string>& import_paths);

  // Reads a serialized FileDescriptorSet. INVALID_ARGUMENT when it does not
  // parse or a file in it does not build (an import left out, say); a file
  // that cannot be read, ReadFile's status (a FIFO nothing writes to is one,
  // at once).
  static absl::StatusOr<std::unique_ptr<LocalDescriptors>> FromProtoset(
      const std::string& path);

  // What the CLI's flags name: the .proto file if there is one, else the
  // protoset, else neither (nullptr). An error starts with the flag at
  // fault ("--proto: ...").
  static absl::StatusOr<std::unique_ptr<LocalDescriptors>> FromFlags(
      const std::string& proto, const std::vector<std::string>& import_paths,
      const std::string& protoset);

  ~LocalDescriptors();
  LocalDescriptors(const LocalDescriptors&) = delete;
  LocalDescriptors& operator=(const LocalDescriptors&) = delete;

  // Every file named and everything it imports, built.
  const google::protobuf::DescriptorPool& pool() const { return *pool_; }

  // The file the descriptors came from, as it was named.
  const std::string& source() const { return source_; }

  // The full names of the services the files named define (the .proto
  // file, or each file of the protoset), sorted; not those of their
  // imports, which --proto did not name.
  std::vector<std::string> ServiceNames() const;

 private:
  struct Sources;
  LocalDescriptors();

  std::string source_;
  // The names, in the pool, of the files named.
  std::vector<std::string> files_;
  // Declared before pool_, which reads them while it lives.
  std::unique_ptr<Sources> sources_;
  std::unique_ptr<google::protobuf::DescriptorPool> pool_;
};

}  // namespace handoff

#endif  // HANDOFF_CLIENT_LOCAL_DESCRIPTORS_H_
