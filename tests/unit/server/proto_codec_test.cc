// Copyright 2026 The handoff Authors.
//
// CountTopLevelField: a repeated field's size, read off the bytes.

#include "server/proto_codec.h"

#include <string>

#include "google/protobuf/struct.pb.h"
#include "gtest/gtest.h"
#include "handoff/v1/gateway.pb.h"

namespace handoff {
namespace {

grpc::ByteBuffer BufferOf(const std::string& bytes) {
  grpc::Slice slice(bytes);
  return grpc::ByteBuffer(&slice, 1);
}

constexpr int kItems = v1::BatchRequest::kItemsFieldNumber;

TEST(CountTopLevelFieldTest, CountsTheElementsOfARepeatedField) {
  v1::BatchRequest batch;
  for (int i = 0; i < 7; ++i) {
    v1::WorkRequest* item = batch.add_items();
    item->set_cpu_us(i);
    item->set_payload(std::string(i * 100, 'x'));
  }
  const grpc::ByteBuffer buffer = BufferOf(batch.SerializeAsString());
  EXPECT_EQ(CountTopLevelField(buffer, kItems, 100), 7);
  EXPECT_EQ(CountTopLevelField(buffer, kItems, 7), 7);
  // Counting stops one past the limit: enough to refuse.
  EXPECT_EQ(CountTopLevelField(buffer, kItems, 3), 4);
  // The buffer is left as it was, for the parse that follows.
  v1::BatchRequest parsed;
  ASSERT_TRUE(ParseMessage(buffer, &parsed).ok());
  EXPECT_EQ(parsed.items_size(), 7);
}

// Nested fields of the same number are inside an element, skipped whole.
TEST(CountTopLevelFieldTest, FieldsInsideAnElementAreNotCounted) {
  v1::BatchReply reply;  // items = 1, and each item's code = 1
  for (int i = 0; i < 3; ++i) reply.add_items()->set_code(2);
  EXPECT_EQ(CountTopLevelField(BufferOf(reply.SerializeAsString()), 1, 100), 3);
}

TEST(CountTopLevelFieldTest, OtherFieldsAndTheEmptyMessageCountNothing) {
  v1::WorkRequest work;
  work.set_cpu_us(5);  // fields 1 and 2
  work.set_sleep_us(6);
  EXPECT_EQ(CountTopLevelField(BufferOf(work.SerializeAsString()), 3, 100), 0);
  EXPECT_EQ(CountTopLevelField(BufferOf(""), kItems, 100), 0);
  // Field 1 as a varint is an unknown field to BatchRequest, not an item.
  EXPECT_EQ(CountTopLevelField(BufferOf(std::string("\x08\x05\x08\x06", 4)), kItems, 100), 0);
}

// Bytes that do not parse are counted as far as they do; ParseMessage then
// refuses them.
TEST(CountTopLevelFieldTest, BytesThatDoNotParseAreCountedAsFarAsTheyDo) {
  // Two empty items, then an item that claims 100 bytes and has 1.
  const std::string bytes("\x0a\x00\x0a\x00\x0a\x64\x01", 7);
  EXPECT_EQ(CountTopLevelField(BufferOf(bytes), kItems, 100), 3);
  EXPECT_EQ(CountTopLevelField(BufferOf(std::string("\xff\xff", 2)), kItems, 100), 0);
}

// Which requests are parsed with protobuf's logging off: those that can hold
// a string (a nested message's too), not Echo's or Work's, which pay nothing for it.
TEST(CanHoldStringFieldTest, OnlyMessagesWithAStringSomewhereInThem) {
  EXPECT_TRUE(CanHoldStringField(v1::CallRequest::descriptor()));   // handler
  EXPECT_TRUE(CanHoldStringField(v1::BatchReply::descriptor()));    // items[].message
  EXPECT_FALSE(CanHoldStringField(v1::EchoRequest::descriptor()));  // bytes only
  EXPECT_FALSE(CanHoldStringField(v1::WorkRequest::descriptor()));
  EXPECT_FALSE(CanHoldStringField(v1::BatchRequest::descriptor()));
  EXPECT_TRUE(CanHoldStringField(google::protobuf::ListValue::descriptor()));  // in Value
}

}  // namespace
}  // namespace handoff
