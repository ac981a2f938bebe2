#include "preload/heap.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>

#include "preload/glibc_heap.h"
#include "preload/say.h"
#include "runtime/thread_role.h"

namespace prescient::preload {

namespace {

// Written once by ActivateManagedHeap() before the threshold is published;
// everything else reads them after seeing the threshold (or a region pointer).
constinit std::atomic<PageAllocator*> g_pages{nullptr};
constinit std::atomic<uintptr_t> g_region_begin{0}, g_region_end{0};
constinit std::atomic<uint64_t> g_min_managed{UINT64_MAX};
constinit std::atomic<bool> g_forked_child{false};
constinit std::atomic<bool> g_warned_full{false};

bool WantsManaged(size_t size) {
  return size >= g_min_managed.load(std::memory_order_acquire) && !IsRuntimeThread();
}

void* AllocateManaged(size_t size, size_t alignment) {
  PageAllocator* pages = g_pages.load(std::memory_order_acquire);
  void* ptr = pages->allocate(size, std::max<size_t>(alignment, 1));
  if (ptr != nullptr) {
    g_heap_accounting.OnManagedAlloc(PageAllocator::RunBytes(size));
    return ptr;
  }
  g_heap_accounting.OnFallback();
  if (!g_warned_full.exchange(true)) {
    SayRaw("prescient: warning: the far-memory region is full; further large allocations stay in local memory\n");
  }
  return nullptr;
}

[[noreturn]] void InvalidPointer(const char* call, const void* ptr) {
  SayRaw("prescient: ");
  SayRaw(call);
  SayRaw("(): ");
  SayHex(reinterpret_cast<uintptr_t>(ptr));
  SayRaw(" is inside the far-memory region but is not the start of a live block (double free or invalid pointer)\n");
  abort();
}

void FreeManaged(void* ptr) {
  if (g_forked_child.load(std::memory_order_relaxed)) return;  // the parent's pages
  size_t released = g_pages.load(std::memory_order_acquire)->release(ptr);
  if (released == 0) InvalidPointer("free", ptr);
  g_heap_accounting.OnManagedFree(released);
}

void* ReallocateManaged(void* ptr, size_t size) {
  PageAllocator* pages = g_pages.load(std::memory_order_acquire);
  size_t old_size = pages->usable_size(ptr);
  if (old_size == 0) InvalidPointer("realloc", ptr);
  if (size == 0 && !g_forked_child.load(std::memory_order_relaxed)) {  // glibc's realloc(p, 0) frees
    FreeManaged(ptr);
    return nullptr;
  }
  if (size <= old_size) {
    // Give back the tail only when it is most of the block: a shrink is often
    // followed by regrowth, which would then have to copy.
    if (PageAllocator::RunBytes(size) <= old_size / 2 && !g_forked_child.load(std::memory_order_relaxed)) {
      g_heap_accounting.OnManagedFree(pages->shrink_in_place(ptr, size));
    }
    return ptr;
  }
  if (!g_forked_child.load(std::memory_order_relaxed) && pages->try_grow_in_place(ptr, size)) {
    g_heap_accounting.OnManagedGrow(PageAllocator::RunBytes(size) - old_size);
    return ptr;
  }
  // In a forked child this copy reads the parent's far memory, which the
  // fork guard reports and stops: the child has no one to serve its faults.
  void* moved = HeapAllocate(size, 0);
  if (moved == nullptr) return nullptr;
  std::memcpy(moved, ptr, old_size);
  FreeManaged(ptr);
  return moved;
}

}  // namespace

void ActivateManagedHeap(PageAllocator* pages, uint64_t min_alloc) {
  auto begin = reinterpret_cast<uintptr_t>(pages->base());
  g_region_begin.store(begin, std::memory_order_relaxed);
  g_region_end.store(begin + pages->size(), std::memory_order_relaxed);
  g_pages.store(pages, std::memory_order_release);
  g_min_managed.store(std::max<uint64_t>(min_alloc, 1), std::memory_order_release);
}

void EnterForkedChild() {
  g_min_managed.store(UINT64_MAX, std::memory_order_relaxed);
  g_forked_child.store(true, std::memory_order_relaxed);
}

bool InForkedChild() { return g_forked_child.load(std::memory_order_relaxed); }

bool InRegion(const void* ptr) {
  auto p = reinterpret_cast<uintptr_t>(ptr);
  return p >= g_region_begin.load(std::memory_order_relaxed) && p < g_region_end.load(std::memory_order_relaxed);
}

PageAllocator* ManagedPages() { return g_pages.load(std::memory_order_acquire); }
uint64_t MinManagedBytes() { return g_min_managed.load(std::memory_order_relaxed); }

void* HeapAllocate(size_t size, size_t alignment) {
  if (WantsManaged(size)) {
    if (void* ptr = AllocateManaged(size, alignment)) return ptr;
  }
  return alignment <= alignof(std::max_align_t) ? GlibcMalloc(size) : GlibcMemalign(alignment, size);
}

void* HeapAllocateZeroed(size_t size) {
  // Free region pages read as zero (see PageAllocator), so no memset: it
  // would fault in, and later write back, pages that hold nothing.
  if (WantsManaged(size)) {
    if (void* ptr = AllocateManaged(size, 0)) return ptr;
  }
  return GlibcCalloc(1, size);
}

void* HeapReallocate(void* ptr, size_t size) {
  if (ptr == nullptr) return HeapAllocate(size, 0);
  if (InRegion(ptr)) return ReallocateManaged(ptr, size);
  if (WantsManaged(size)) {
    // A block growing past the threshold (the usual malloc + realloc growth
    // of a buffer) moves into the region.
    if (void* moved = AllocateManaged(size, 0)) {
      std::memcpy(moved, ptr, std::min(GlibcUsableSize(ptr), size));
      GlibcFree(ptr);
      return moved;
    }
  }
  return GlibcRealloc(ptr, size);
}

void HeapFree(void* ptr) {
  if (ptr == nullptr) return;
  if (InRegion(ptr)) {
    FreeManaged(ptr);
  } else {
    GlibcFree(ptr);
  }
}

size_t HeapUsableSize(void* ptr) {
  if (ptr == nullptr) return 0;
  if (InRegion(ptr)) return g_pages.load(std::memory_order_acquire)->usable_size(ptr);
  // Asked before start-up (by another library's constructor, say). Safe here
  // and not on the allocation paths: dlsym may call malloc, never this.
  if (!GlibcUsableSizeResolved()) ResolveGlibcUsableSize();
  return GlibcUsableSize(ptr);
}

}  // namespace prescient::preload
