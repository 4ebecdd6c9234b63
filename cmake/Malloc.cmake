# Malloc.cmake: which malloc the servers run on.
#
#   -DHANDOFF_MALLOC=tcmalloc   Debian's gperftools tcmalloc: the default
#                               (libgoogle-perftools-dev to build,
#                               libtcmalloc-minimal4 to run)
#   -DHANDOFF_MALLOC=system     glibc's malloc; the only choice under a
#                               sanitizer, which brings its own
#
# Why not glibc's: a gateway call's state is allocated on a gRPC thread and
# freed in part on a worker, and its serialised reply the other way round.
# glibc frees another thread's chunk into that thread's arena, under the
# arena's lock, whenever the freeing thread's small cache for the size is full
# — which, between a producer and a consumer, is always. At -c 16 -m 16 most
# of handoffd's futex calls were those locks (docs/PERF.md, 2026-12-04).
# tcmalloc frees into the freeing thread's cache and moves whole batches
# between threads. (Envoy, a gateway too, links tcmalloc by default.)
#
# handoff_use_malloc(target) links the choice into an executable: handoffd,
# and raw_server, so that tests/bench/compare_echo.sh compares like with
# like. Libraries and test binaries keep the system's (call_allocations_test
# replaces operator new itself).

set(HANDOFF_MALLOC "" CACHE STRING
    "The servers' malloc: tcmalloc | system (default: tcmalloc; system under a sanitizer)")
set_property(CACHE HANDOFF_MALLOC PROPERTY STRINGS "" tcmalloc system)

set(HANDOFF_MALLOC_USED "${HANDOFF_MALLOC}")
if(HANDOFF_MALLOC_USED STREQUAL "")
  if(HANDOFF_SANITIZE STREQUAL "")
    set(HANDOFF_MALLOC_USED tcmalloc)
  else()
    set(HANDOFF_MALLOC_USED system)
  endif()
endif()

if(HANDOFF_MALLOC_USED STREQUAL "tcmalloc")
  if(NOT HANDOFF_SANITIZE STREQUAL "")
    message(FATAL_ERROR "HANDOFF_MALLOC=tcmalloc with HANDOFF_SANITIZE=${HANDOFF_SANITIZE}: "
            "the sanitizer replaces malloc itself; leave HANDOFF_MALLOC empty or set it to 'system'")
  endif()
  find_library(HANDOFF_TCMALLOC_LIBRARY NAMES tcmalloc_minimal)
  find_path(HANDOFF_TCMALLOC_INCLUDE_DIR gperftools/malloc_extension_c.h)
  if(NOT HANDOFF_TCMALLOC_LIBRARY OR NOT HANDOFF_TCMALLOC_INCLUDE_DIR)
    message(FATAL_ERROR "tcmalloc not found: apt-get install libgoogle-perftools-dev "
            "(scripts/install-deps.sh does), or configure with -DHANDOFF_MALLOC=system")
  endif()
elseif(NOT HANDOFF_MALLOC_USED STREQUAL "system")
  message(FATAL_ERROR "HANDOFF_MALLOC must be 'tcmalloc' or 'system', not '${HANDOFF_MALLOC}'")
endif()
message(STATUS "handoff: the servers use ${HANDOFF_MALLOC_USED} malloc")

# --no-as-needed: raw_server calls nothing of tcmalloc's by name, and a
# linker that drops unreferenced libraries would leave it on glibc's.
set(CMAKE_LINK_LIBRARY_USING_handoff_no_as_needed
    "LINKER:--push-state,--no-as-needed" "<LINK_ITEM>" "LINKER:--pop-state")
set(CMAKE_LINK_LIBRARY_USING_handoff_no_as_needed_SUPPORTED TRUE)

function(handoff_use_malloc target)
  if(HANDOFF_MALLOC_USED STREQUAL "tcmalloc")
    target_link_libraries(${target} PRIVATE
      "$<LINK_LIBRARY:handoff_no_as_needed,${HANDOFF_TCMALLOC_LIBRARY}>")
    target_include_directories(${target} SYSTEM PRIVATE ${HANDOFF_TCMALLOC_INCLUDE_DIR})
    target_compile_definitions(${target} PRIVATE HANDOFF_WITH_TCMALLOC=1)
  endif()
endfunction()
