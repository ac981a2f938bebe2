// Userfaultfd: the few userfaultfd(2) operations the runtime needs, as
// Status-returning calls. Opened non-blocking, with write-protect faults and
// the faulting thread's id enabled, and optionally SIGBUS in place of
// messages (signal_faults.h); no non-cooperative events, so the runtime's own
// madvise() calls never generate messages that must be read.
#pragma once

#include <linux/userfaultfd.h>

#include <cstddef>
#include <cstdint>

#include "prescient/status.h"

namespace prescient {

class Userfaultfd {
 public:
  Userfaultfd() = default;
  ~Userfaultfd();
  Userfaultfd(const Userfaultfd&) = delete;
  Userfaultfd& operator=(const Userfaultfd&) = delete;

  // With `sigbus`, faults raise SIGBUS in the faulting thread instead of
  // queueing a message.
  Status Open(bool sigbus);
  // The features this kernel's userfaultfd offers (0 if it has none).
  static uint64_t AvailableFeatures();
  int fd() const { return fd_; }

  // Registers [addr, addr+len) for missing-page and write-protect faults.
  Status Register(void* addr, size_t len);
  // Installs `len` bytes from `src` at the missing page(s) `dst`. With
  // `write_protect` the page is mapped read-only to writers, so its first write
  // raises a fault. With `wake` false, threads waiting on it stay asleep.
  // Sets *already_present when another install won the race (not an error).
  Status Copy(void* dst, const void* src, size_t len, bool write_protect, bool wake, bool* already_present);
  // Maps the shared zero page, read-only, at the missing pages of
  // [dst, dst + len) without waking anyone; a write to one is then an ordinary
  // kernel copy-on-write fault, which userfaultfd never sees. Sets *mapped to
  // the bytes mapped, which stop short at a page that is present already.
  Status ZeroPage(void* dst, size_t len, size_t* mapped);
  Status WriteProtect(void* addr, size_t len, bool protect, bool wake);
  // Wakes threads blocked on faults in the range, so they retry the access.
  Status Wake(void* addr, size_t len);

 private:
  int fd_ = -1;
};

}  // namespace prescient
