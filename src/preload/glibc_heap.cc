#include "preload/glibc_heap.h"

#include <dlfcn.h>

#include <atomic>

#include "runtime/thread_role.h"

namespace prescient::preload {

constinit HeapAccounting g_heap_accounting;

namespace {

using UsableSizeFn = size_t (*)(void*);
constinit std::atomic<UsableSizeFn> g_usable_size{nullptr};

// Whether this thread's blocks are the program's.
bool Counted() { return !IsRuntimeThread(); }

void* Count(void* ptr) {
  if (ptr != nullptr && Counted()) g_heap_accounting.OnUnmanagedAlloc(GlibcUsableSize(ptr));
  return ptr;
}

}  // namespace

void ResolveGlibcUsableSize() {
  // dlsym may allocate; our malloc sends that to glibc uncounted, since the
  // function is not known yet.
  auto fn = reinterpret_cast<UsableSizeFn>(dlsym(RTLD_NEXT, "malloc_usable_size"));
  g_usable_size.store(fn, std::memory_order_release);
}

bool GlibcUsableSizeResolved() { return g_usable_size.load(std::memory_order_acquire) != nullptr; }

size_t GlibcUsableSize(void* ptr) {
  UsableSizeFn fn = g_usable_size.load(std::memory_order_acquire);
  return fn != nullptr && ptr != nullptr ? fn(ptr) : 0;
}

void* GlibcMalloc(size_t size) { return Count(__libc_malloc(size)); }
void* GlibcCalloc(size_t count, size_t size) { return Count(__libc_calloc(count, size)); }
void* GlibcMemalign(size_t alignment, size_t size) { return Count(__libc_memalign(alignment, size)); }

void* GlibcRealloc(void* ptr, size_t size) {
  if (ptr == nullptr || !Counted()) return Count(__libc_realloc(ptr, size));
  size_t before = GlibcUsableSize(ptr);
  void* moved = __libc_realloc(ptr, size);
  if (moved == nullptr && size != 0) return nullptr;  // the old block is untouched
  g_heap_accounting.OnUnmanagedFree(before);
  return Count(moved);
}

void GlibcFree(void* ptr) {
  if (ptr == nullptr) return;
  if (Counted()) g_heap_accounting.OnUnmanagedFree(GlibcUsableSize(ptr));
  __libc_free(ptr);
}

}  // namespace prescient::preload
