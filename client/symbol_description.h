// SymbolDescription: what `handoff describe` prints, as grpcurl's `describe`
// does: a line saying what the symbol is, then its definition as .proto
// source.
//
//   handoff.v1.Gateway is a service:
//   service Gateway {
//     rpc Echo ( .handoff.v1.EchoRequest ) returns ( .handoff.v1.EchoReply );
//   }
//
// A service, a method, a message (its fields, nested types and oneofs),
// an enum, a field, a oneof ("a one-of", as grpcurl says) or an enum value
// (by protobuf's name, pkg.VALUE, or by its enum's, pkg.Enum.VALUE, as
// grpcurl names it); the source is ProtoSource's, as grpcurl prints it.
#ifndef HANDOFF_CLIENT_SYMBOL_DESCRIPTION_H_
#define HANDOFF_CLIENT_SYMBOL_DESCRIPTION_H_

#include <google/protobuf/descriptor.h>

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace handoff {

// The description of `symbol` (fully-qualified, a leading dot allowed; a
// method also as SplitMethodName takes it, pkg.Service/Method) in
// `pool`. INVALID_ARGUMENT, "symbol 'NAME' has an empty part; ...", for a
// name with one ("", ".", "pkg.Msg.", "pkg..Msg", "pkg.Svc//M"), before
// any lookup. NOT_FOUND, "no symbol 'NAME'" with `hint` after it, if the pool
// knows no such name; any other failure of the pool's database (a server
// that cannot be reached) is `*lookup_error`'s, if given and not OK or
// NOT_FOUND after the lookup.
absl::StatusOr<std::string> DescribeSymbol(const google::protobuf::DescriptorPool& pool,
                                           absl::string_view symbol,
                                           const absl::Status* lookup_error,
                                           absl::string_view hint = "");

// The descriptions of the services `names`, in that order, a blank line
// between two. A service the pool does not know (the server lists it, but
// its reflection does not describe it: gRPC's own health service) is a
// line saying so, "NAME is a service the server does not describe", rather
// than a failure; other failures are DescribeSymbol's.
absl::StatusOr<std::string> DescribeServices(const google::protobuf::DescriptorPool& pool,
                                             const std::vector<std::string>& names,
                                             const absl::Status* lookup_error);

}  // namespace handoff

#endif  // HANDOFF_CLIENT_SYMBOL_DESCRIPTION_H_
