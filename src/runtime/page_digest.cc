#include "runtime/page_digest.h"

// Inlined: the digest is taken on the fault path, once per clean page.
#define XXH_INLINE_ALL
#include <xxhash.h>

#include "prescient/backend.h"

namespace prescient {

uint64_t PageDigest(const std::byte* page) { return XXH3_64bits(page, kPageSize); }

}  // namespace prescient
