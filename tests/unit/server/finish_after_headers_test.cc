// Copyright 2026 The handoff Authors.
//
// FinishAfterHeaders, the gate StreamCall's Finish passes: the order of
// events it sees in a stream is driven here by hand, since gRPC 1.51 offers
// no hook to hold its writer with the headers in flight
// (StreamRetryCommitTest shows the whole stream's behaviour, statistically).

#include "server/finish_after_headers.h"

#include "gtest/gtest.h"

namespace handoff {
namespace {

// A job's start sent the stream's headers (JobStarting), its reply failed
// the stream at once, and every Act that followed, while gRPC had not yet
// said the headers were out, found the stream otherwise ready to finish.
// Finished then, the status could be framed beside the headers as one
// trailers-only response, and the stream, its job run, made again.
TEST(FinishAfterHeadersTest, AFinishDueWhileAJobsHeadersAreInFlightWaitsForThemAndThenGoesOnce) {
  FinishAfterHeaders gate;
  gate.HeadersSending();
  EXPECT_FALSE(gate.TakeFinish())
      << "finished with the headers still in flight: it may leave trailers-only";
  EXPECT_FALSE(gate.TakeFinish()) << "another thread's Act, before OnSendInitialMetadataDone";
  EXPECT_FALSE(gate.finished());

  gate.HeadersDone();  // OnSendInitialMetadataDone, ok or not
  EXPECT_TRUE(gate.TakeFinish()) << "the Finish held for the headers never went";
  EXPECT_TRUE(gate.finished());
  EXPECT_FALSE(gate.TakeFinish()) << "finished twice";
}

// The headers went out before the stream was ready to end: its end is not
// held, and goes once.
TEST(FinishAfterHeadersTest, HeadersOutBeforeTheEndLetTheFinishGoAtOnceAndOnce) {
  FinishAfterHeaders gate;
  gate.HeadersSending();
  gate.HeadersDone();
  EXPECT_TRUE(gate.TakeFinish());
  EXPECT_FALSE(gate.TakeFinish()) << "finished twice";
}

// A stream whose headers went with its first reply, or that ended before any
// job started (no headers of their own): nothing to wait for.
TEST(FinishAfterHeadersTest, AStreamWithNoHeadersOfItsOwnInFlightFinishesAtOnceAndOnce) {
  FinishAfterHeaders gate;
  EXPECT_TRUE(gate.TakeFinish());
  EXPECT_TRUE(gate.finished());
  EXPECT_FALSE(gate.TakeFinish()) << "finished twice";
}

}  // namespace
}  // namespace handoff
