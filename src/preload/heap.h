// The transparent heap: decides, for every allocation the program makes,
// whether it lives in the region (managed) or on glibc's heap, and routes
// free/realloc/usable-size by where the block is.
//
//   managed   = at least the run's min-alloc threshold, from an application
//               thread, while the heap is active;
//   unmanaged = everything else: small blocks, every block a runtime thread
//               asks for (the runtime serves the region's faults, so it must
//               never fault on it), blocks before start-up has finished, and
//               every block in a forked child.
//
// A block is managed exactly when its address is inside the region, which is
// a range check and needs no lookup.
#pragma once

#include <cstddef>
#include <cstdint>

#include "runtime/page_allocator.h"

namespace prescient::preload {

// From now on, application allocations of `min_alloc` bytes or more come
// from `pages`, which manages the whole region.
void ActivateManagedHeap(PageAllocator* pages, uint64_t min_alloc);
// In a forked child: nothing new is managed, and free() of a managed block
// does nothing (its pages belong to the parent's region).
void EnterForkedChild();
bool InForkedChild();

bool InRegion(const void* ptr);
PageAllocator* ManagedPages();  // nullptr before activation
uint64_t MinManagedBytes();     // the threshold in force; SIZE_MAX when inactive

// `alignment` 0 means what malloc() guarantees.
void* HeapAllocate(size_t size, size_t alignment);
void* HeapAllocateZeroed(size_t size);
void* HeapReallocate(void* ptr, size_t size);
void HeapFree(void* ptr);
size_t HeapUsableSize(void* ptr);

}  // namespace prescient::preload
