// Copyright 2026 The handoff Authors.
//
// InPrivateNetwork: a check run in a child process that has a network
// namespace of its own, with its loopback interface up and no other. There a
// test may listen on a wildcard address (0.0.0.0, [::]) and be reached only
// through loopback, as this project's tests must be, instead of skipping
// wherever the host has other interfaces.

#ifndef HANDOFF_TESTS_UNIT_SERVER_PRIVATE_NETWORK_H_
#define HANDOFF_TESTS_UNIT_SERVER_PRIVATE_NETWORK_H_

#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <functional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"

namespace handoff::testing {

// Runs `check` in a forked child inside a new network namespace (a new user
// namespace too, where the process may not make one otherwise) whose lo is
// up. `check` returns "" if it passed, else what failed; that is returned.
// Unavailable, with the reason, if this host allows no such namespace (a
// container without user namespaces): the caller skips.
inline absl::StatusOr<std::string> InPrivateNetwork(const std::function<std::string()>& check) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) {
    return absl::UnavailableError(absl::StrCat("pipe: ", std::strerror(errno)));
  }
  const pid_t pid = fork();
  if (pid < 0) {
    close(fds[0]);
    close(fds[1]);
    return absl::UnavailableError(absl::StrCat("fork: ", std::strerror(errno)));
  }
  if (pid == 0) {
    close(fds[0]);
    // 'U': no namespace to be had; 'R': the check's result follows.
    auto report = [&](char kind, const std::string& text) {
      const std::string out = kind + text;
      size_t done = 0;
      while (done < out.size()) {
        ssize_t n = write(fds[1], out.data() + done, out.size() - done);
        if (n <= 0) break;
        done += static_cast<size_t>(n);
      }
      _exit(0);
    };
    if (unshare(CLONE_NEWNET) != 0 && unshare(CLONE_NEWUSER | CLONE_NEWNET) != 0) {
      report('U', absl::StrCat("unshare: ", std::strerror(errno)));
    }
    const int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    ifreq lo{};
    std::strncpy(lo.ifr_name, "lo", IFNAMSIZ - 1);
    if (s < 0 || ioctl(s, SIOCGIFFLAGS, &lo) != 0) {
      report('U', absl::StrCat("lo: ", std::strerror(errno)));
    }
    lo.ifr_flags = static_cast<short>(lo.ifr_flags | IFF_UP);
    if (ioctl(s, SIOCSIFFLAGS, &lo) != 0) {
      report('U', absl::StrCat("bringing lo up: ", std::strerror(errno)));
    }
    close(s);
    report('R', check());
  }
  close(fds[1]);
  std::string got;
  char buf[4096];
  for (;;) {
    ssize_t n = read(fds[0], buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    got.append(buf, static_cast<size_t>(n));
  }
  close(fds[0]);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (got.empty()) {
    return absl::InternalError(absl::StrCat("the child ended without a word, status ", status));
  }
  if (got[0] == 'U') return absl::UnavailableError(got.substr(1));
  return got.substr(1);
}

}  // namespace handoff::testing

#endif  // HANDOFF_TESTS_UNIT_SERVER_PRIVATE_NETWORK_H_
