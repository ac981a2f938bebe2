// Small helpers for the project's own file formats (traces, model files):
// FNV-1a checksums and a write that finishes or says why not.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "prescient/status.h"

namespace prescient {

uint32_t Fnv1a32(std::string_view bytes);
uint64_t Fnv1a64(std::string_view bytes);

// Writes all `len` bytes, retrying short writes and EINTR. `what` names the
// file in the error ("trace /tmp/x.trace").
Status WriteAll(int fd, const void* data, size_t len, const std::string& what);

}  // namespace prescient
