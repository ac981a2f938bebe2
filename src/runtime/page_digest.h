// PageDigest: a 64-bit digest of a page's contents (XXH3), by which the
// evictor tells, under DirtyTracking::kDigest, whether a page mapped clean
// and writable was written since it came in (D109). A write that leaves the
// digest unchanged is missed with probability 2^-64; a page whose contents
// came back to what they were needs no write-back anyway.
#pragma once

#include <cstddef>
#include <cstdint>

namespace prescient {

uint64_t PageDigest(const std::byte* page);

}  // namespace prescient
