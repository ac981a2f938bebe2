// The unmanaged side of the transparent heap: glibc's own allocator, reached
// through its __libc_* entry points (the public names are ours now), with the
// program's live bytes counted for the report.
//
// Allocations made by runtime threads, or inside a RuntimeScope, are not the
// program's and are not counted.
#pragma once

#include <cstddef>

#include "preload/heap_accounting.h"

extern "C" {
void* __libc_malloc(size_t size);
void* __libc_calloc(size_t count, size_t size);
void* __libc_realloc(void* ptr, size_t size);
void* __libc_memalign(size_t alignment, size_t size);
void __libc_free(void* ptr);
}

namespace prescient::preload {

// The accounting of the whole heap, managed and unmanaged.
extern HeapAccounting g_heap_accounting;

// glibc exports no __libc_ name for malloc_usable_size, so it is looked up
// with dlsym(RTLD_NEXT) once, early in start-up. Until then blocks are not
// counted (only the dynamic loader allocates that early).
void ResolveGlibcUsableSize();
bool GlibcUsableSizeResolved();
// 0 until resolved.
size_t GlibcUsableSize(void* ptr);

void* GlibcMalloc(size_t size);
void* GlibcCalloc(size_t count, size_t size);
// Any alignment malloc() does not already give.
void* GlibcMemalign(size_t alignment, size_t size);
void* GlibcRealloc(void* ptr, size_t size);
void GlibcFree(void* ptr);

}  // namespace prescient::preload
