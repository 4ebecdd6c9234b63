// Copyright 2026 The handoff Authors.
//
// SplitHostPort: the address forms --listen and --admin_listen take, and the
// ones they refuse.

#include "server/host_port.h"

#include "absl/strings/match.h"
#include "gtest/gtest.h"

namespace handoff {
namespace {

TEST(SplitHostPortTest, SplitsAHostOrABracketedIpv6AddressFromItsPort) {
  auto a = SplitHostPort("0.0.0.0:9090");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->first, "0.0.0.0");
  EXPECT_EQ(a->second, 9090);
  auto b = SplitHostPort("[::1]:0");
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->first, "::1");
  EXPECT_EQ(b->second, 0);
  auto c = SplitHostPort(":80");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->first, "0.0.0.0");
  auto d = SplitHostPort("localhost:65535");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->first, "localhost");
  EXPECT_EQ(d->second, 65535);
}

TEST(SplitHostPortTest, RefusesAMissingOrOutOfRangePortSayingWhy) {
  for (const char* address : {"localhost", "foo", "[::1]"}) {
    auto hp = SplitHostPort(address);
    EXPECT_TRUE(absl::IsInvalidArgument(hp.status())) << address;
    EXPECT_TRUE(absl::StrContains(hp.status().message(), "is not host:port"))
        << hp.status();
  }
  for (const char* address :
       {"h:99999", "h:65536", "h:85537", "h:-1", "h:", "h:x", "h:+80",
        "h: 80", "h:80 ", "h:0x50", "h:99999999999999999999"}) {
    auto hp = SplitHostPort(address);
    EXPECT_TRUE(absl::IsInvalidArgument(hp.status())) << address;
    EXPECT_TRUE(absl::StrContains(hp.status().message(),
                                  "the port must be a number from 0 to 65535"))
        << address << ": " << hp.status();
  }
}

TEST(SplitHostPortTest, RefusesIpv6WithoutBrackets) {
  for (const char* address : {"::1:80", "::", "[::1:80", "::1]:80"}) {
    auto hp = SplitHostPort(address);
    EXPECT_TRUE(absl::IsInvalidArgument(hp.status())) << address;
  }
  auto hp = SplitHostPort("::1:80");
  EXPECT_TRUE(absl::StrContains(hp.status().message(), "in brackets"))
      << hp.status();
}

}  // namespace
}  // namespace handoff
