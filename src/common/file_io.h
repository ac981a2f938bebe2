// Small helpers for the project's own file formats (traces, model files):
// FNV-1a checksums, and a write and a positional read that finish or say
// why not.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "prescient/status.h"

namespace prescient {

uint32_t Fnv1a32(std::string_view bytes);
uint64_t Fnv1a64(std::string_view bytes);
inline uint64_t Fnv1a64(const void* data, size_t len) { return Fnv1a64(std::string_view(static_cast<const char*>(data), len)); }

// Fixed-width fields of a binary header or record, at byte offset `off`.
template <typename T>
void PutAt(uint8_t* p, size_t off, T v) {
  std::memcpy(p + off, &v, sizeof v);
}
template <typename T>
T GetAt(const uint8_t* p, size_t off) {
  T v;
  std::memcpy(&v, p + off, sizeof v);
  return v;
}

// Creates an anonymous file of this process (memfd, close-on-exec, mode
// 0600, sealable) and names it by a path any process of this user can open
// while this process lives: /proc/PID/fd/N. `prescient run` shares files
// with the processes of a run this way: nothing on disk, nothing left behind.
Status CreateProcessFile(const char* name, int* fd, std::string* path);

// Writes all `len` bytes, retrying short writes and EINTR. `what` names the
// file in the error ("trace /tmp/x.trace").
Status WriteAll(int fd, const void* data, size_t len, const std::string& what);

// Writes all `len` bytes at `offset` (pwrite), retrying short writes and
// EINTR; the error names `what` and the offset.
Status WriteAllAt(int fd, const void* data, size_t len, uint64_t offset, const std::string& what);

// Reads exactly `len` bytes at `offset`, retrying short reads and EINTR. A
// file that ends first is Corruption "<what>: truncated at offset N", N
// where the missing bytes begin.
Status ReadAllAt(int fd, void* dst, size_t len, uint64_t offset, const std::string& what);

}  // namespace prescient
