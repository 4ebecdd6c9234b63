// Copyright 2026 The handoff Authors.
//
// JobStartHeaders' hold of a unary call's Finish while the headers a job's
// start sent are in flight: the order of events it sees is driven here by
// hand, since gRPC 1.51 offers no hook to hold its writer with the headers
// in flight (RetryCommitTest shows the whole call's behaviour,
// statistically). What it hands gRPC is recorded in place of gRPC's calls.

#include "server/job_start_headers.h"

#include <functional>
#include <utility>
#include <vector>

#include "grpcpp/support/status.h"
#include "gtest/gtest.h"

namespace handoff {
namespace {

// A JobStartHeaders bound to no reactor, which records the gRPC calls it
// would make. `on_send` runs inside the headers' send, as gRPC may run a
// reaction (OnCancel, which answers the call) inline there.
class RecordingHeaders : public JobStartHeaders {
 public:
  RecordingHeaders() : JobStartHeaders(nullptr) {}

  int headers_sent = 0;
  std::vector<grpc::Status> finished;  // each Finish handed to gRPC
  std::function<void()> on_send = [] {};

 private:
  void SendHeaders() override {
    ++headers_sent;
    on_send();
  }
  void FinishCall(grpc::Status status) override { finished.push_back(std::move(status)); }
};

const grpc::Status kExhausted(grpc::StatusCode::RESOURCE_EXHAUSTED, "the handler's answer");

// A job's start sent the headers, and its quick answer came before gRPC said
// they were out. Finished then, the answer could leave with the headers as
// one trailers-only response, which gRPC's retry takes for no headers: the
// call, its job run, would be made again.
TEST(JobStartHeadersTest, AnAnswerGivenWhileAJobsHeadersAreInFlightWaitsForThemAndGoesOnce) {
  RecordingHeaders call;
  ASSERT_TRUE(call.JobStarting());
  EXPECT_EQ(call.headers_sent, 1);

  call.Finish(kExhausted);
  EXPECT_TRUE(call.finished.empty())
      << "finished with the headers still in flight: it may leave trailers-only";
  EXPECT_FALSE(call.JobStarting()) << "a job after the answer must not run";
  EXPECT_EQ(call.headers_sent, 1) << "headers sent twice";

  call.HeadersSent();  // OnSendInitialMetadataDone, ok or not
  ASSERT_EQ(call.finished.size(), 1u) << "the answer held for the headers never went";
  EXPECT_EQ(call.finished[0].error_code(), kExhausted.error_code());
  EXPECT_EQ(call.finished[0].error_message(), kExhausted.error_message());
}

// gRPC answered the call (OnCancel) inline, on the worker's thread, within
// the headers' send: that answer is held too, and the send holds no lock
// the answer takes.
TEST(JobStartHeadersTest, AnAnswerGivenInsideTheHeadersSendWaitsForThem) {
  RecordingHeaders call;
  call.on_send = [&call] { call.Finish(grpc::Status::CANCELLED); };
  ASSERT_TRUE(call.JobStarting());
  EXPECT_TRUE(call.finished.empty()) << "finished inside the headers' send";

  call.HeadersSent();
  ASSERT_EQ(call.finished.size(), 1u);
  EXPECT_EQ(call.finished[0].error_code(), grpc::StatusCode::CANCELLED);
}

// The headers were out before the answer: nothing to wait for.
TEST(JobStartHeadersTest, AnAnswerAfterTheHeadersAreOutGoesAtOnceAndOnce) {
  RecordingHeaders call;
  ASSERT_TRUE(call.JobStarting());
  ASSERT_TRUE(call.JobStarting()) << "a second job of a started call runs";
  EXPECT_EQ(call.headers_sent, 1) << "a call's headers are sent once";
  call.HeadersSent();
  EXPECT_TRUE(call.finished.empty()) << "finished with no answer given";

  call.Finish(grpc::Status::OK);
  ASSERT_EQ(call.finished.size(), 1u);
  EXPECT_TRUE(call.finished[0].ok());
}

// A call answered before any job of it started (refused, its deadline or
// cancel): answered at once, with no headers, so that a policy that
// retries its code may make it again; a job that reaches a worker later
// sends nothing and does not run.
TEST(JobStartHeadersTest, AnAnswerBeforeAnyJobGoesAtOnceAndALaterJobSendsNothing) {
  RecordingHeaders call;
  call.Finish(grpc::Status(grpc::StatusCode::DEADLINE_EXCEEDED, "the call's deadline"));
  ASSERT_EQ(call.finished.size(), 1u) << "an answer with no headers in flight was held";
  EXPECT_EQ(call.finished[0].error_code(), grpc::StatusCode::DEADLINE_EXCEEDED);

  EXPECT_FALSE(call.JobStarting()) << "a job after the answer must not run";
  EXPECT_EQ(call.headers_sent, 0) << "headers sent for a job that did not run";
  EXPECT_FALSE(call.started());
  EXPECT_EQ(call.finished.size(), 1u) << "finished twice";
}

}  // namespace
}  // namespace handoff
