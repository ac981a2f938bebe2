// An ordinary program that grows one buffer with realloc from 1 KiB to
// 64 MiB by half again each step, as a growing log or string builder does,
// then shrinks it back by quarters. After every move it checks all it had
// written, then writes the new part. A small block allocated after each step
// keeps the buffer from always growing in place, so most steps move it.
// 64 MiB, up to about 110 MiB while a move copies; prints checksum= last.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "common/checksum.h"
#include "program_checks.h"

namespace {

using program::Fail;

constexpr size_t kStart = 1024;
constexpr size_t kEnd = size_t{64} << 20;
constexpr uint64_t kSeed = 3;

}  // namespace

int main() {
  size_t size = kStart;
  auto* buffer = static_cast<uint8_t*>(std::malloc(size));
  if (buffer == nullptr) Fail("cannot allocate %zu bytes", size);
  program::FillPattern(buffer, size, kSeed);
  std::vector<void*> blockers;
  workload::Checksum sum;
  int steps = 0;
  while (size < kEnd) {
    const size_t grown = std::min(kEnd, size + size / 2);
    buffer = static_cast<uint8_t*>(std::realloc(buffer, grown));
    if (buffer == nullptr) Fail("realloc to %zu bytes failed", grown);
    program::ExpectPattern(buffer, size, kSeed, 0, "growing realloc kept the old contents");
    program::FillPattern(buffer + size, grown - size, kSeed, size);
    size = grown;
    blockers.push_back(std::malloc(40 << 10));
    sum.Add(size);
    ++steps;
  }
  while (size > kStart) {
    const size_t shrunk = std::max(kStart, size / 4);
    buffer = static_cast<uint8_t*>(std::realloc(buffer, shrunk));
    if (buffer == nullptr) Fail("realloc to %zu bytes failed", shrunk);
    size = shrunk;
    program::ExpectPattern(buffer, size, kSeed, 0, "shrinking realloc kept the contents");
    ++steps;
  }
  program::AddBytes(&sum, buffer, size);
  std::free(buffer);
  for (void* p : blockers) std::free(p);
  std::printf("%d reallocs up to %zu MiB and back\n", steps, kEnd >> 20);
  sum.Print();
  return 0;
}
