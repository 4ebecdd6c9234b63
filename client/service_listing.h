// ServiceListing: what `handoff list` prints, from a server's reflection.
//
//   handoff.v1.Gateway
//     Echo(handoff.v1.EchoRequest) returns (handoff.v1.EchoReply)
//     Stream(stream handoff.v1.WorkRequest) returns (stream handoff.v1.WorkReply)
//
// A listing is all or nothing: a lookup that fails part-way (the session's
// deadline, a server that went away) fails the whole of it, rather than
// leaving out the methods of the services it had not reached yet.
#ifndef HANDOFF_CLIENT_SERVICE_LISTING_H_
#define HANDOFF_CLIENT_SERVICE_LISTING_H_

#include <string>

#include "absl/status/statusor.h"
#include "client/reflection_database.h"

namespace handoff {

// Each service the server lists, sorted, under it its methods' signatures;
// only the service `only` if it is not empty (NotFound if the server lists
// no such service). A service the server lists but does not describe
// (reflection answers NOT_FOUND: gRPC's own health service has no
// descriptor) is listed without methods. Any other failure to describe a
// service is the listing's: db.last_error(), naming the service.
absl::StatusOr<std::string> ServiceListing(ReflectionDatabase& db, const std::string& only);

}  // namespace handoff

#endif  // HANDOFF_CLIENT_SERVICE_LISTING_H_
