// Copyright 2026 The handoff Authors.
//
// AdminHttpServer when accept() fails: out of file descriptors, it fails with
// EMFILE for as long as the connection waits in the listen backlog.

#include "server/admin_http.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "gtest/gtest.h"
#include "tests/util/wait_until.h"

namespace handoff {
namespace {

using ::handoff::testing::WaitUntil;

// While it lives, this process can open no file descriptor: the soft
// RLIMIT_NOFILE is lowered (so that filling the table takes at most 256
// descriptors, not the million a container may allow) and every number under
// it is taken. The destructor gives both back.
class FullFdTable {
 public:
  FullFdTable() {
    int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
    EXPECT_GE(null, 0);
    fds_.push_back(null);
    EXPECT_EQ(getrlimit(RLIMIT_NOFILE, &saved_), 0);
    rlimit low = saved_;
    low.rlim_cur = std::min<rlim_t>(saved_.rlim_cur, 256);
    EXPECT_EQ(setrlimit(RLIMIT_NOFILE, &low), 0);
    for (;;) {
      int fd = fcntl(null, F_DUPFD_CLOEXEC, 0);
      if (fd < 0) {
        EXPECT_EQ(errno, EMFILE);
        break;
      }
      fds_.push_back(fd);
    }
  }
  ~FullFdTable() {
    for (int fd : fds_) close(fd);
    setrlimit(RLIMIT_NOFILE, &saved_);
  }

 private:
  rlimit saved_{};
  std::vector<int> fds_;
};

// Accepting again at once failed again at once: the admin thread spun at 100%
// CPU for as long as the descriptors were short (~1 s of CPU per second).
TEST(AdminHttpTest, FailedAcceptIsRetriedAfterADelayNotAtOnce) {
#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
  // A sanitizer's runtime probes memory through a pipe of its own (UBSan's
  // vptr check does, in Asio's scheduler): with no descriptor left, the probe
  // fails and it reports a bad object where there is none.
  GTEST_SKIP() << "needs a full descriptor table, which a sanitizer cannot "
                  "run with";
#endif
  absl::StatusOr<std::unique_ptr<AdminHttpServer>> server =
      AdminHttpServer::Start("127.0.0.1:0", [](std::string_view) {
        return HttpResponse{200, "text/plain", "up\n"};
      });
  ASSERT_TRUE(server.ok()) << server.status();
  int client = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(client, 0);
  timeval ten_seconds{10, 0};
  setsockopt(client, SOL_SOCKET, SO_RCVTIMEO, &ten_seconds, sizeof ten_seconds);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(static_cast<uint16_t>((*server)->port()));
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  {
    FullFdTable full;
    const auto before = std::chrono::steady_clock::now();
    // The kernel completes the handshake; only accept() needs a descriptor.
    ASSERT_EQ(connect(client, reinterpret_cast<sockaddr*>(&to), sizeof to), 0);
    ASSERT_TRUE(WaitUntil([&] { return (*server)->accept_failures() >= 3; }));
    // Three failures are two retries, each at least the delay after the last.
    EXPECT_GE(std::chrono::steady_clock::now() - before,
              2 * AdminHttpServer::kAcceptRetryDelay);
  }
  // With descriptors to spare again, the next retry takes the connection.
  const std::string request = "GET /healthz HTTP/1.1\r\n\r\n";
  ASSERT_EQ(write(client, request.data(), request.size()),
            static_cast<ssize_t>(request.size()));
  std::string reply;
  char buf[512];
  for (ssize_t n; (n = read(client, buf, sizeof buf)) > 0;) reply.append(buf, n);
  close(client);
  EXPECT_TRUE(absl::StartsWith(reply, "HTTP/1.1 200 OK")) << reply;
  const int64_t failures = (*server)->accept_failures();
  (*server)->Stop();  // returns although a retry may have been pending
  EXPECT_GE(failures, 3);
}

}  // namespace
}  // namespace handoff
