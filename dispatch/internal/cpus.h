// Copyright 2026 The handoff Authors.
//
// CpusOf: the CPUs a thread may run on, as the kernel's affinity mask has
// them (taskset, a container's cpuset). Read for the whole process through
// its main thread, CpusOf(getpid()): the spin policy asks whether there is
// more than one (SpinningCanHelp), and pin_workers deals the workers out
// over them. Not the calling thread's own mask: a caller pinned to one core
// on purpose still has peers that run elsewhere.

#ifndef HANDOFF_DISPATCH_INTERNAL_CPUS_H_
#define HANDOFF_DISPATCH_INTERNAL_CPUS_H_

#include <sys/types.h>

#include <vector>

namespace handoff::internal {

// The CPUs thread `tid` may run on, in increasing order; empty if its mask
// cannot be read (it has exited, or has more CPUs than a cpu_set_t holds).
std::vector<int> CpusOf(pid_t tid);

}  // namespace handoff::internal

#endif  // HANDOFF_DISPATCH_INTERNAL_CPUS_H_
