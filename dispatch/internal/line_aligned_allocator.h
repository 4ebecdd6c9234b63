// Copyright 2026 The handoff Authors.
//
// LineAlignedAllocator<T>: cache-line-aligned memory from plain operator new.
//
// A channel's state is laid out by cache line (its lock and the fields the
// lock holder touches share one; the ring's ends have one each), so it is
// allocated 64-byte aligned. Asked for that alignment, glibc 2.36 (Debian
// 12's) goes to memalign, which skips the per-thread cache, takes the
// arena's lock, and splits a larger chunk in three. A gateway makes two
// channels per call (its reply and its Context's Done) on gRPC's threads.
// This allocator asks operator new for a line more than it needs, which the
// thread cache serves, and aligns inside it: bench_call's per-call
// bookkeeping went from 699 to 525 ns with it (docs/PERF.md).
//
// For std::allocate_shared only: it is stateless, and every instance frees
// what any other allocated.

#ifndef HANDOFF_DISPATCH_INTERNAL_LINE_ALIGNED_ALLOCATOR_H_
#define HANDOFF_DISPATCH_INTERNAL_LINE_ALIGNED_ALLOCATOR_H_

#include <cstddef>
#include <cstdint>
#include <new>

namespace handoff::internal {

template <typename T>
class LineAlignedAllocator {
 public:
  using value_type = T;
  static constexpr size_t kLine = 64;
  static_assert(alignof(T) <= kLine, "aligns to a cache line at most");

  LineAlignedAllocator() = default;
  template <typename U>
  LineAlignedAllocator(const LineAlignedAllocator<U>&) {}  // NOLINT: rebinding

  T* allocate(size_t n) {
    // The aligned block starts 1 to 64 bytes in (16 to 64, as operator new
    // aligns to 16), so the byte before it is ours and can say how far.
    auto* raw =
        static_cast<unsigned char*>(::operator new(n * sizeof(T) + kLine));
    const size_t offset = kLine - reinterpret_cast<uintptr_t>(raw) % kLine;
    unsigned char* p = raw + offset;
    p[-1] = static_cast<unsigned char>(offset);
    return reinterpret_cast<T*>(p);
  }

  void deallocate(T* block, size_t) {
    auto* p = reinterpret_cast<unsigned char*>(block);
    ::operator delete(p - p[-1]);
  }

  template <typename U>
  bool operator==(const LineAlignedAllocator<U>&) const {
    return true;
  }
};

}  // namespace handoff::internal

#endif  // HANDOFF_DISPATCH_INTERNAL_LINE_ALIGNED_ALLOCATOR_H_
