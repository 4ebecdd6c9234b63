// Copyright 2026 The handoff Authors.
//
// This process's threads as /proc shows them: for tests of thread names and
// scheduling policies, which only the kernel's view can confirm.

#ifndef HANDOFF_TESTS_UTIL_THREADS_H_
#define HANDOFF_TESTS_UTIL_THREADS_H_

#include <sched.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace handoff::testutil {

struct ThreadInfo {
  int tid;
  std::string name;  // comm: at most 15 characters
  int policy;        // SCHED_OTHER, SCHED_BATCH, ...; -1 if it just exited
};

inline std::vector<ThreadInfo> ThreadsOfThisProcess() {
  std::vector<ThreadInfo> threads;
  for (const auto& task : std::filesystem::directory_iterator("/proc/self/task")) {
    std::ifstream comm(task.path() / "comm");
    std::string name;
    if (!std::getline(comm, name)) continue;  // exited meanwhile
    const int tid = std::stoi(task.path().filename());
    threads.push_back({tid, name, sched_getscheduler(tid)});
  }
  return threads;
}

}  // namespace handoff::testutil

#endif  // HANDOFF_TESTS_UTIL_THREADS_H_
