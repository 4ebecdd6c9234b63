// Copyright 2026 The handoff Authors.

#include "server/malloc_in_use.h"

#include <cstdlib>
#include <string>

#ifdef HANDOFF_WITH_TCMALLOC
#include <gperftools/malloc_extension_c.h>
#include <gperftools/tcmalloc.h>
#endif

namespace handoff {

std::string MallocInUse() {
#ifdef HANDOFF_WITH_TCMALLOC
  // Linked is not the same as in use: tcmalloc serves malloc only if its
  // symbols come before libc's in the lookup order. Ask it whether it owns a
  // block that calloc just returned.
  void* probe = std::calloc(1, 64);
  const bool owned = MallocExtension_GetOwnership(probe) == MallocExtension_kOwned;
  std::free(probe);
  if (owned) {
    return std::string("tcmalloc (") + tc_version(nullptr, nullptr, nullptr) + ")";
  }
#endif
  return "system";
}

}  // namespace handoff
