// -b/-B's bytes: one message, or several count-delimited, as ghz reads them.
#include "client/load/binary_requests.h"

#include <google/protobuf/util/delimited_message_util.h>
#include <gtest/gtest.h>

#include <sstream>

#include "handoff/v1/gateway.pb.h"

namespace handoff::load {
namespace {

v1::WorkRequest Work(uint32_t cpu_us, const std::string& payload) {
  v1::WorkRequest w;
  w.set_cpu_us(cpu_us);
  w.set_payload(payload);
  return w;
}

// What Go's proto.Buffer.EncodeMessage, or C++'s SerializeDelimitedToOstream,
// writes for `messages`.
std::string Delimited(const std::vector<v1::WorkRequest>& messages) {
  std::ostringstream out;
  for (const auto& m : messages) {
    EXPECT_TRUE(google::protobuf::util::SerializeDelimitedToOstream(m, &out));
  }
  return out.str();
}

TEST(BinaryRequestsTest, CountDelimitedBytesAreSplitIntoTheirMessages) {
  const std::vector<v1::WorkRequest> sent = {Work(1, "a"), Work(2, ""), Work(300, "ccc")};
  const auto pieces = BinaryRequests(Delimited(sent), v1::WorkRequest::descriptor());
  ASSERT_EQ(pieces.size(), 3u);
  for (size_t i = 0; i < sent.size(); ++i) {
    v1::WorkRequest got;
    ASSERT_TRUE(got.ParseFromString(pieces[i]));
    EXPECT_EQ(got.cpu_us(), sent[i].cpu_us()) << i;
    EXPECT_EQ(got.payload(), sent[i].payload()) << i;
  }
}

TEST(BinaryRequestsTest, OneSerializedMessageStaysOneMessage) {
  const std::string one = Work(7, "hello").SerializeAsString();
  const auto pieces = BinaryRequests(one, v1::WorkRequest::descriptor());
  ASSERT_EQ(pieces.size(), 1u);
  EXPECT_EQ(pieces[0], one);
}

TEST(BinaryRequestsTest, WithoutTheTypeTheBytesAreOneMessage) {
  const std::string bytes = Delimited({Work(1, "a"), Work(2, "b")});
  const auto pieces = BinaryRequests(bytes, nullptr);
  ASSERT_EQ(pieces.size(), 1u);
  EXPECT_EQ(pieces[0], bytes);
}

TEST(BinaryRequestsTest, ALengthPastTheEndOrAPieceThatDoesNotParseMeansOneMessage) {
  std::string truncated = Delimited({Work(1, "abcdef")});
  truncated.pop_back();
  EXPECT_EQ(BinaryRequests(truncated, v1::WorkRequest::descriptor()).size(), 1u);
  // A length of 2, then two bytes that are no WorkRequest (field 0).
  const std::string bad_piece("\x02\x00\x00", 3);
  EXPECT_EQ(BinaryRequests(bad_piece, v1::WorkRequest::descriptor()).size(), 1u);
}

TEST(BinaryRequestsTest, NoBytesAreOneEmptyMessage) {
  const auto pieces = BinaryRequests("", v1::WorkRequest::descriptor());
  ASSERT_EQ(pieces.size(), 1u);
  EXPECT_EQ(pieces[0], "");
}

}  // namespace
}  // namespace handoff::load
