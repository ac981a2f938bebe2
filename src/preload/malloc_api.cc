// The C allocation functions glibc lets a preloaded library replace (see the
// glibc manual, "Replacing malloc"). libstdc++'s operator new and delete call
// malloc and free, so C++ programs are covered too. Each entry point checks
// its arguments the way glibc does and hands over to the transparent heap.
#include <errno.h>
#include <malloc.h>
#include <stdlib.h>

#include <bit>
#include <cstddef>
#include <cstdint>

#include "preload/heap.h"
#include "prescient/backend.h"

using prescient::kPageSize;
using namespace prescient::preload;

namespace {

bool MultiplyOverflows(size_t a, size_t b, size_t* product) { return __builtin_mul_overflow(a, b, product); }

// glibc's memalign() rounds an alignment that is not a power of two up to
// one, and treats anything below a pointer's alignment as that.
void* AlignedAllocate(size_t alignment, size_t size) {
  if (alignment > SIZE_MAX / 2 + 1) {
    errno = EINVAL;
    return nullptr;
  }
  return HeapAllocate(size, std::bit_ceil(alignment));
}

}  // namespace

extern "C" {

__attribute__((visibility("default"))) void* malloc(size_t size) noexcept { return HeapAllocate(size, 0); }

__attribute__((visibility("default"))) void free(void* ptr) noexcept { HeapFree(ptr); }

__attribute__((visibility("default"))) void* calloc(size_t count, size_t size) noexcept {
  size_t total = 0;
  if (MultiplyOverflows(count, size, &total)) {
    errno = ENOMEM;
    return nullptr;
  }
  return HeapAllocateZeroed(total);
}

__attribute__((visibility("default"))) void* realloc(void* ptr, size_t size) noexcept { return HeapReallocate(ptr, size); }

__attribute__((visibility("default"))) void* reallocarray(void* ptr, size_t count, size_t size) noexcept {
  size_t total = 0;
  if (MultiplyOverflows(count, size, &total)) {
    errno = ENOMEM;
    return nullptr;
  }
  return HeapReallocate(ptr, total);
}

__attribute__((visibility("default"))) void* memalign(size_t alignment, size_t size) noexcept { return AlignedAllocate(alignment, size); }

__attribute__((visibility("default"))) void* aligned_alloc(size_t alignment, size_t size) noexcept { return AlignedAllocate(alignment, size); }

__attribute__((visibility("default"))) int posix_memalign(void** out, size_t alignment, size_t size) noexcept {
  if (alignment % sizeof(void*) != 0 || !std::has_single_bit(alignment)) return EINVAL;
  int saved = errno;
  void* ptr = HeapAllocate(size, alignment);
  errno = saved;  // POSIX: reports through the return value only
  if (ptr == nullptr) return ENOMEM;
  *out = ptr;
  return 0;
}

__attribute__((visibility("default"))) void* valloc(size_t size) noexcept { return HeapAllocate(size, kPageSize); }

__attribute__((visibility("default"))) void* pvalloc(size_t size) noexcept {
  size_t rounded = 0;
  if (__builtin_add_overflow(size, kPageSize - 1, &rounded)) {
    errno = ENOMEM;
    return nullptr;
  }
  rounded &= ~(kPageSize - 1);
  return HeapAllocate(rounded == 0 ? kPageSize : rounded, kPageSize);
}

__attribute__((visibility("default"))) size_t malloc_usable_size(void* ptr) noexcept { return HeapUsableSize(ptr); }

}  // extern "C"
