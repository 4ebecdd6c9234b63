// ReflectionDatabase: protobuf descriptors fetched from a server over gRPC
// server reflection (grpc.reflection.v1alpha), so the CLI can call methods it
// has no .proto for.
//
//   ReflectionDatabase db(channel, absl::Seconds(5));
//   google::protobuf::DescriptorPool pool(&db, db.build_errors());
//   const auto* service = pool.FindServiceByName("handoff.v1.Gateway");
//
// Lookups run on one reflection stream, opened on first use and kept for the
// database's lifetime; every file the server sends is cached, so resolving a
// file's dependencies costs no extra round trip when the server sends them
// along (gRPC's server does). A stream that ends UNAVAILABLE (a connection
// the server recycled, say) is replaced, a bounded number of times, within
// the session's one deadline. Not thread-safe: one pool, one thread.
#ifndef HANDOFF_CLIENT_REFLECTION_DATABASE_H_
#define HANDOFF_CLIENT_REFLECTION_DATABASE_H_

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <google/protobuf/descriptor.h>
#include <google/protobuf/descriptor.pb.h>
#include <google/protobuf/descriptor_database.h>
#include <grpc/support/time.h>
#include <grpcpp/channel.h>
#include <grpcpp/client_context.h>
#include <grpcpp/support/sync_stream.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "grpc/reflection/v1alpha/reflection.grpc.pb.h"

namespace handoff {

class ReflectionDatabase : public google::protobuf::DescriptorDatabase {
 public:
  // `timeout` bounds the whole reflection session. With `wait_for_ready`,
  // the session waits (within `timeout`) for a server that cannot be reached
  // yet, instead of failing UNAVAILABLE on the first refused connection.
  // `metadata` goes with the session's one call (a token for a server that
  // guards its reflection, say); a header gRPC cannot send fails every
  // lookup with INVALID_ARGUMENT naming it (metadata.h). `target` is the
  // channel's, as CallError (call_error.h) takes it, empty if unknown: a
  // session that runs out of time says whether its stream ever had a
  // connection, "the server could not be reached (the channel had no
  // connection at the deadline: CONNECTING): no answer within 5s", or "the
  // server was reached, but its reflection gave no answer within 5s".
  ReflectionDatabase(std::shared_ptr<grpc::Channel> channel, absl::Duration timeout,
                     bool wait_for_ready = false,
                     std::vector<std::pair<std::string, std::string>> metadata = {},
                     std::string target = "");
  ~ReflectionDatabase() override;

  // Fully-qualified names of every service the server exposes.
  absl::StatusOr<std::vector<std::string>> ListServices();

  bool FindFileByName(const std::string& filename,
                      google::protobuf::FileDescriptorProto* output) override;
  bool FindFileContainingSymbol(const std::string& symbol_name,
                                google::protobuf::FileDescriptorProto* output) override;
  bool FindFileContainingExtension(const std::string& containing_type,
                                   int field_number,
                                   google::protobuf::FileDescriptorProto* output) override;

  // Why the latest lookup failed: NOT_FOUND when the server does not know
  // the name; UNIMPLEMENTED when it has no reflection service; UNAVAILABLE,
  // DEADLINE_EXCEEDED... when it cannot be reached; the server's own code
  // when it answers with an error (UNKNOWN if that code is none of gRPC's,
  // or OK); INTERNAL, naming the file and protobuf's reason, when the pool
  // given build_errors() refused a file the server sent (an import it never
  // sends, a type it does not define). OK after a success.
  const absl::Status& last_error() const { return last_error_; }

  // The error collector of a pool over this database. Without one,
  // protobuf logs each reason it refuses a file on stderr, a few lines per
  // lookup, and the lookup fails as if the server did not know the name.
  google::protobuf::DescriptorPool::ErrorCollector* build_errors() { return &build_errors_; }

 private:
  using Request = grpc::reflection::v1alpha::ServerReflectionRequest;
  using Response = grpc::reflection::v1alpha::ServerReflectionResponse;

  // Streams a lookup may take: a stream that ends UNAVAILABLE is replaced
  // by a new one this many times less one before the lookup fails.
  static constexpr int kMaxAttempts = 3;

  absl::StatusOr<Response> RoundTrip(const Request& request);
  using Wanted = std::function<bool(const google::protobuf::FileDescriptorProto&)>;
  // Caches every file in the response and copies the one `wanted` accepts
  // to output.
  bool TakeFiles(const absl::StatusOr<Response>& response, const Wanted& wanted,
                 google::protobuf::FileDescriptorProto* output);
  // Whether `file` defines `symbol` (or the top-level definition holding it).
  static bool Defines(const google::protobuf::FileDescriptorProto& file,
                      absl::string_view symbol);

  std::shared_ptr<grpc::Channel> channel_;
  absl::Duration timeout_;
  bool wait_for_ready_;
  std::vector<std::pair<std::string, std::string>> metadata_;
  std::string target_;
  std::unique_ptr<grpc::reflection::v1alpha::ServerReflection::Stub> stub_;
  std::unique_ptr<grpc::ClientContext> context_;
  std::unique_ptr<grpc::ClientReaderWriter<Request, Response>> stream_;
  // When the session ends: set as the first stream opens, kept by the
  // streams that replace it.
  std::optional<gpr_timespec> deadline_;
  absl::Status stream_error_;  // sticky once the session has failed
  // Keeps, in last_error_, the first reason the pool gave since the last
  // lookup: the later ones of the same build follow from it ("Import ...
  // was not found or had errors").
  class BuildErrors : public google::protobuf::DescriptorPool::ErrorCollector {
   public:
    explicit BuildErrors(ReflectionDatabase* db) : db_(db) {}
    void AddError(const std::string& filename, const std::string& element_name,
                  const google::protobuf::Message* descriptor, ErrorLocation location,
                  const std::string& message) override;

   private:
    ReflectionDatabase* db_;
  };

  std::map<std::string, google::protobuf::FileDescriptorProto> files_;
  absl::Status last_error_;
  bool last_error_is_build_error_ = false;
  BuildErrors build_errors_{this};
};

}  // namespace handoff

#endif  // HANDOFF_CLIENT_REFLECTION_DATABASE_H_
