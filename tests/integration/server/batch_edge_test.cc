// Copyright 2026 The handoff Authors.
//
// Batch at its edges, as a client meets them.

#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "tests/integration/server/server_fixture.h"

namespace handoff::testing {
namespace {

class ShortDrainBatchTest : public ServerTest {
  void Configure(ServerConfig& c) override { c.drain_timeout = absl::Milliseconds(300); }
};

// A Batch cut off at the drain timeout with an item started: its items may
// have done what they do, and its UNAVAILABLE carries gRFC A6's server
// pushback as a unary Work's and Call's do
// (ShortDrainTest.ACallCutOffAtTheDrainTimeoutIsNotRetriedOnAnotherReplica),
// for a client that would retry it regardless of its headers. It had none.
TEST_F(ShortDrainBatchTest, ABatchCutOffAtTheDrainTimeoutCarriesThePushback) {
  AsyncCall<v1::BatchRequest, v1::BatchReply> batch;
  batch.request.add_items()->set_sleep_us(20'000'000);
  batch.ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(30)));
  StartBatch(&batch);
  ASSERT_TRUE(WaitUntil([&] { return Work().started.load() == 1; }));
  server_->Shutdown();
  EXPECT_EQ(batch.Wait().error_code(), grpc::StatusCode::UNAVAILABLE);
  const auto& trailers = batch.ctx.GetServerTrailingMetadata();
  auto it = trailers.find("grpc-retry-pushback-ms");
  ASSERT_NE(it, trailers.end());
  EXPECT_EQ(std::string(it->second.data(), it->second.size()), "-1");
}

}  // namespace
}  // namespace handoff::testing
