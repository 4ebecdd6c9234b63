// Copyright 2026 The handoff Authors.
//
// Ports for tests that must give a port up and have a server take it again:
// a stand-in that refuses the client's first connection before handoffd is
// up, a server that goes away and comes back. Between the close and the new
// bind, a port from the kernel's ephemeral range can go to any socket that
// connects or binds port 0 meanwhile, in any process (a parallel test's
// client), and the new bind then fails. The kernel never hands out a port
// below that range by itself: only a process that asks for that very number
// can take one.

#ifndef HANDOFF_TESTS_UTIL_PORTS_H_
#define HANDOFF_TESTS_UTIL_PORTS_H_

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>

namespace handoff::testing {

// Calls try_bind(port) on ports below the ephemeral range
// (/proc/sys/net/ipv4/ip_local_port_range), from a point that differs
// between processes so that two test binaries side by side do not contend
// port by port, until it returns true. If none binds, try_bind(0) takes a
// port from the range after all. Returns what the last try_bind returned;
// the caller reads the port it got from its socket.
template <typename TryBind>
bool BindBelowEphemeralRange(TryBind try_bind) {
  std::ifstream range("/proc/sys/net/ipv4/ip_local_port_range");
  int ephemeral_low = 32768;  // Linux's default, should the file be unreadable
  range >> ephemeral_low;
  const int low = std::max(1024, ephemeral_low - 8192);
  for (int i = 0; i < ephemeral_low - low; ++i) {
    const int port = low + (static_cast<int>(getpid()) + i) % (ephemeral_low - low);
    if (try_bind(port)) return true;
  }
  return try_bind(0);
}

// A loopback port bound but not listening, for the life of the object: it is
// ours, so no other socket takes it, and the kernel refuses every
// connection to it at once (a server that is down). port() is 0 if the
// socket could not be had.
class RefusingPort {
 public:
  RefusingPort() : fd_(socket(AF_INET, SOCK_STREAM, 0)) {
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof addr;
    if (fd_ >= 0 && bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
        getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &length) == 0) {
      port_ = ntohs(addr.sin_port);
    }
  }
  ~RefusingPort() {
    if (fd_ >= 0) close(fd_);
  }
  RefusingPort(const RefusingPort&) = delete;
  RefusingPort& operator=(const RefusingPort&) = delete;

  int port() const { return port_; }

 private:
  int fd_;
  int port_ = 0;
};

}  // namespace handoff::testing

#endif  // HANDOFF_TESTS_UTIL_PORTS_H_
