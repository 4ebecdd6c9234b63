// `handoff list [SERVICE]`: services, or one service's methods, by reflection.
#include <chrono>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "client/cli/commands.h"
#include "client/reflection_database.h"
#include "client/service_listing.h"

namespace handoff::cli {

int List(const Connection& connection, const std::string& only) {
  // --timeout bounds the whole command, the wait for the connection too.
  const auto start = std::chrono::steady_clock::now();
  auto channel = Dial(connection);
  if (!channel.ok()) return Fail(connection.addr, channel.status());
  ReflectionDatabase db(*channel, TimeAfterDial(connection, start), connection.wait_for_ready,
                        connection.reflect_metadata, connection.addr);
  absl::StatusOr<std::string> listing = ServiceListing(db, only);
  if (absl::IsNotFound(listing.status()) && !only.empty()) {
    return Fail(connection.addr, listing.status());
  }
  if (!listing.ok()) {
    return Fail(absl::StrCat("listing services of ", connection.addr),
                WithTlsHint(connection, listing.status()));
  }
  if (absl::Status s = WriteStdout(*listing, "the listing"); !s.ok()) return Fail("list", s);
  return 0;
}

}  // namespace handoff::cli
