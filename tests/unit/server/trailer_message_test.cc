// Copyright 2026 The handoff Authors.
//
// TrailerMessage: a status message cut to what a trailer takes, counted as
// gRPC percent-encodes it.

#include "server/trailer_message.h"

#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/json_text.h"
#include "gtest/gtest.h"

namespace handoff {
namespace {

// What gRPC's percent-encoding makes of `s`, in bytes.
size_t Encoded(const std::string& s) {
  size_t n = 0;
  for (unsigned char c : s) n += c >= 0x20 && c <= 0x7e && c != '%' ? 1 : 3;
  return n;
}

TEST(TrailerMessageTest, AMessageThatFitsIsLeftAsItIs) {
  EXPECT_EQ(TrailerMessage(""), "");
  EXPECT_EQ(TrailerMessage("no such user"), "no such user");
  const std::string full(kTrailerMessageBytes, 'x');
  EXPECT_EQ(TrailerMessage(full), full);
}

TEST(TrailerMessageTest, ALongerOneIsCutToFitSayingSo) {
  const std::string over(kTrailerMessageBytes + 1, 'x');
  const std::string cut = TrailerMessage(over);
  EXPECT_LE(Encoded(cut), kTrailerMessageBytes);
  EXPECT_TRUE(absl::EndsWith(cut, absl::StrCat("... (", over.size(),
                                               " bytes, cut to fit a trailer)")))
      << cut;
  EXPECT_TRUE(absl::StartsWith(cut, std::string(4000, 'x')));
}

// '%' and every byte outside printable ASCII take three bytes encoded: a
// message of 2,000 of them is 6,000 bytes in its trailer.
TEST(TrailerMessageTest, EncodedBytesAreWhatCounts) {
  const std::string percent(2000, '%');
  EXPECT_LE(Encoded(TrailerMessage(percent)), kTrailerMessageBytes);
  EXPECT_NE(TrailerMessage(percent), percent);
  std::string accented;
  for (int i = 0; i < 1000; ++i) accented += "\xc3\xa9";  // é
  const std::string cut = TrailerMessage(accented);
  EXPECT_LE(Encoded(cut), kTrailerMessageBytes);
  EXPECT_TRUE(IsUtf8(cut)) << "cut inside a character";
  EXPECT_TRUE(absl::StartsWith(cut, "\xc3\xa9"));
}

}  // namespace
}  // namespace handoff
