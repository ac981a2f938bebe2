// ForkGuard: what happens to the region across fork().
//
// A forked child inherits the region's address range but not the runtime's
// threads, so no one would serve its faults: an evicted page would silently
// read as zeros. Instead, in the child the range is replaced by an
// inaccessible mapping, the heap stops managing anything, and a touch of far
// memory ends the child with a message that says why, and records it in the
// run's lost-work file so that the run fails. fork + exec works (the
// new image starts its own runtime), and so do posix_spawn and system(),
// which never run fork handlers.
//
// The parent marks the range MADV_DONTFORK, so a fork does not copy the
// region's page tables or break copy-on-write on its resident pages.
#pragma once

#include <string>

#include "runtime/page_allocator.h"

namespace prescient::preload {

// Call once, after the heap is active. `pages` covers the whole region;
// `lost_work_file` is RunConfig::lost_work_file (may be empty).
void InstallForkGuard(PageAllocator* pages, const std::string& lost_work_file);

}  // namespace prescient::preload
