// Copyright 2026 The handoff Authors.
//
// MallocInUse: which malloc this process actually runs on, for `handoffd
// --version`. The build chooses (cmake/Malloc.cmake); this asks the running
// process, so a link that stopped putting tcmalloc in front of glibc's
// malloc shows up as "system" rather than as the choice that was made.
//
// Compiled into the handoffd executable only: with tcmalloc it calls into
// libtcmalloc_minimal, which the handoff_server library does not link.

#ifndef HANDOFF_SERVER_MALLOC_IN_USE_H_
#define HANDOFF_SERVER_MALLOC_IN_USE_H_

#include <string>

namespace handoff {

// "tcmalloc (gperftools 2.10)" when tcmalloc serves this process's malloc;
// otherwise "system" (glibc's, or a sanitizer's).
std::string MallocInUse();

}  // namespace handoff

#endif  // HANDOFF_SERVER_MALLOC_IN_USE_H_
