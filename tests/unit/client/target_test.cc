// Copyright 2026 The handoff Authors.

#include "client/load/target.h"

#include <tuple>

#include "gtest/gtest.h"

namespace handoff::load {
namespace {

TEST(TargetTest, SplitsHostAndPortOfEachForm) {
  for (auto [target, host, port] : {
           std::tuple{"localhost:50051", "localhost", "50051"},
           std::tuple{"dns:///gw.internal:443", "gw.internal", "443"},
           std::tuple{"10.1.2.3:9", "10.1.2.3", "9"},
           std::tuple{"[::1]:50051", "::1", "50051"},
       }) {
    absl::StatusOr<HostPort> split = SplitTarget(target);
    ASSERT_TRUE(split.ok()) << target << ": " << split.status();
    EXPECT_EQ(split->host, host) << target;
    EXPECT_EQ(split->port, port) << target;
  }
}

TEST(TargetTest, RefusesWhatIsNotHostPort) {
  for (const char* target : {"localhost", "localhost:", "unix:/tmp/s",
                             "ipv4:127.0.0.1:1", "http://x:1", "[::1:50051"}) {
    EXPECT_EQ(SplitTarget(target).status().code(), absl::StatusCode::kInvalidArgument)
        << target;
  }
}

TEST(TargetTest, TellsLoopbackFromRemote) {
  for (const char* target : {"127.0.0.1:50051", "127.8.9.10:1", "localhost:1",
                             "LocalHost:1", "dns:///localhost:1", "[::1]:1",
                             "0.0.0.0:50051", "[::]:1", "unix:/run/handoff.sock",
                             "unix-abstract:handoff", "ipv4:127.0.0.1:1,10.0.0.1:1"}) {
    EXPECT_TRUE(IsLoopbackTarget(target)) << target;
  }
  for (const char* target : {"10.0.0.1:50051", "gw.internal:443", "[2001:db8::1]:1",
                             "ipv4:10.0.0.1:1,127.0.0.1:1", "nonsense"}) {
    EXPECT_FALSE(IsLoopbackTarget(target)) << target;
  }
}

TEST(TargetTest, APortMustBeANumberFrom1To65535) {
  EXPECT_TRUE(CheckTargetPort("127.0.0.1:50051").ok());
  EXPECT_TRUE(CheckTargetPort("dns:///localhost:65535").ok());
  EXPECT_TRUE(CheckTargetPort("[::1]:1").ok());
  // Forms gRPC judges itself.
  EXPECT_TRUE(CheckTargetPort("unix:/run/handoff.sock").ok());
  // An abstract socket's name is no port: `--addr=unix-abstract:handoff`
  // was refused as "wants a port from 1 to 65535, not 'handoff'".
  EXPECT_TRUE(CheckTargetPort("unix-abstract:handoff").ok());
  EXPECT_TRUE(CheckTargetPort("unix-abstract:handoff:1").ok());
  EXPECT_TRUE(CheckTargetPort("ipv4:127.0.0.1:1,127.0.0.2:2").ok());
  EXPECT_TRUE(CheckTargetPort("localhost").ok());
  EXPECT_TRUE(CheckTargetPort("fe80::").ok());  // a bare IPv6 address
  EXPECT_FALSE(CheckTargetPort("unixbox:").ok());  // a host named so, no port
  for (const char* bad : {"127.0.0.1:99999", "127.0.0.1:0", "localhost:http",
                          "dns:///h:65536", "[::1]:-1", "localhost:", "dns:///h:",
                          "[::1]", "[::1]:"}) {
    absl::Status s = CheckTargetPort(bad);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_NE(s.message().find(bad), absl::string_view::npos) << s;
  }
}

}  // namespace
}  // namespace handoff::load
