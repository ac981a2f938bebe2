// LibcAllocator: an std allocator that takes memory straight from glibc's own
// heap (__libc_malloc), bypassing whatever malloc is interposed.
//
// Bookkeeping of the transparent heap uses it: the interposed malloc calls
// into that bookkeeping, so the bookkeeping must not call malloc back, and its
// nodes must never land in the managed region (a thread holding the allocator
// lock would then fault on far memory).
#pragma once

#include <cstddef>
#include <new>

extern "C" {
void* __libc_malloc(size_t size);
void __libc_free(void* ptr);
}

namespace prescient {

template <typename T>
struct LibcAllocator {
  using value_type = T;

  LibcAllocator() noexcept = default;
  template <typename U>
  LibcAllocator(const LibcAllocator<U>&) noexcept {}

  T* allocate(size_t n) {
    if (n > size_t(-1) / sizeof(T)) throw std::bad_array_new_length();
    void* p = __libc_malloc(n * sizeof(T));
    if (p == nullptr) throw std::bad_alloc();
    return static_cast<T*>(p);
  }
  void deallocate(T* p, size_t) noexcept { __libc_free(p); }

  template <typename U>
  bool operator==(const LibcAllocator<U>&) const noexcept { return true; }
};

}  // namespace prescient
