// ValidateMetadata: which headers it refuses, and what it says of each.
#include "client/metadata.h"

#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "absl/status/status.h"

namespace handoff {
namespace {

// Every key gRPC C++ keeps for itself is refused by name, whatever its value
// (an empty one, a well-formed one), saying why and, where one does, what
// sets it instead. gRPC took each and dropped it or sent its own value in
// its place (ClientTest.GrpcDropsOrAltersTheKeysItReserves): the call went
// on as if the header had not been given.
TEST(ValidateMetadataTest, EveryKeyGrpcKeepsForItselfIsRefusedByNameSayingWhy) {
  const std::vector<std::pair<std::string, std::string>> refused = {
      {"content-type", "gRPC sends application/grpc itself and drops this one"},
      {"te", "gRPC sends te: trailers itself and drops this one"},
      {"user-agent",
       "gRPC sends its own (grpc-c++/VERSION ...) in its place; use --user_agent, which goes "
       "before it (handoff call, list, describe and health)"},
      {"grpc-timeout",
       "gRPC sets it from the call's deadline and drops this one; use --timeout "
       "(CallOptions::timeout in the library)"},
      {"grpc-encoding",
       "gRPC sets it from the call's compression and drops this one; use handoff load's "
       "-e/--enable-compression"},
      {"grpc-internal-encoding-request",
       "gRPC takes it as the call's compression and does not send it; use handoff load's "
       "-e/--enable-compression"},
      {"grpc-accept-encoding", "gRPC sends the compressions it can decode and drops this one"},
      {"grpc-previous-rpc-attempts",
       "gRPC sets it on a call its retry policy makes again, and drops this one"},
      {"grpc-status", "it is a server's trailer; gRPC does not send it, and the call fails"},
      {"grpc-message", "it is a server's trailer; gRPC drops it"},
      {"grpc-retry-pushback-ms",
       "it is a server's trailer (gRFC A6); gRPC sends a number of its own in its place"},
      {"endpoint-load-metrics-bin",
       "it is a server's trailer (an ORCA load report); gRPC drops it"},
      {"lb-cost-bin", "it is a server's trailer (a load balancer's cost); gRPC drops it"},
      {"grpc-server-stats-bin", "it is a server's trailer (census stats); gRPC drops it"},
      {"grpc-tags-bin", "gRPC's census filter sets it, and drops this one"},
      {"grpc-trace-bin", "gRPC's census filter sets it, and drops this one"},
  };
  for (const auto& [key, why] : refused) {
    for (const std::string value : {"x", "", "1", "application/grpc", "trailers", "1S"}) {
      const absl::Status s = ValidateMetadata(key, value);
      EXPECT_TRUE(absl::IsInvalidArgument(s)) << key << ": " << value << ": " << s;
      EXPECT_EQ(s.message(), "metadata key \"" + key + "\" is gRPC's own: " + why) << value;
    }
    // In a list, after headers that pass.
    EXPECT_EQ(ValidateMetadata({{"x-ok", "1"}, {key, "x"}}).message(),
              "metadata key \"" + key + "\" is gRPC's own: " + why);
  }
  // The list the library exports is this one, so that the test of gRPC's
  // behaviour covers every key refused here.
  std::vector<std::string> keys;
  for (const auto& [key, why] : refused) keys.push_back(key);
  EXPECT_EQ(ReservedMetadataKeys(), keys);
}

// Their neighbours gRPC sends as given (the same test against gRPC), and so
// does a key it has a use for but passes on: these are still taken.
TEST(ValidateMetadataTest, KeysGrpcSendsAsGivenAreTaken) {
  for (const std::string key :
       {"authorization", "x-timeout", "grpc-x", "grpc-timeout-ms", "host", "accept-encoding",
        "content-encoding", "lb-token", "grpc-status-details-bin", "grpc-tags", "grpc-trace",
        "traceparent", "x-user-agent", "tes"}) {
    EXPECT_TRUE(ValidateMetadata(key, "x").ok()) << key;
  }
  EXPECT_TRUE(ValidateMetadata({{"authorization", "Bearer t"}, {"trace-bin", "\x01"}}).ok());
}

// HTTP/1's connection-specific fields were sent as given: handoffd took
// them, but HTTP/2 forbids them, and a proxy in front of it resets the call.
TEST(ValidateMetadataTest, AConnectionSpecificKeyIsRefusedNamingHttp2sRule) {
  for (const std::string key :
       {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade"}) {
    EXPECT_EQ(ValidateMetadata(key, "x").message(),
              "metadata key \"" + key +
                  "\" is HTTP/1's: HTTP/2 forbids connection-specific fields (RFC 9113 section "
                  "8.2.2), and a proxy in front of the server would refuse the call");
  }
  EXPECT_TRUE(absl::IsInvalidArgument(
      MetadataFromJson(R"({"Connection":"close"})").status()));
}

TEST(MetadataFromJsonTest, AReservedKeyIsRefusedWhateverItsCase) {
  auto headers = MetadataFromJson(R"({"x-ok":"1","Grpc-Timeout":"1S"})");
  EXPECT_TRUE(absl::IsInvalidArgument(headers.status())) << headers.status();
  EXPECT_EQ(headers.status().message(),
            "metadata key \"grpc-timeout\" is gRPC's own: gRPC sets it from the call's deadline "
            "and drops this one; use --timeout (CallOptions::timeout in the library)");
}

}  // namespace
}  // namespace handoff
