// An allocation-heavy ordinary program, to measure what running under far
// memory costs a program that mostly allocates and frees rather than
// computes. Each of N operations is picked at random among malloc, calloc,
// posix_memalign, mmap, realloc and freeing (free or munmap), on blocks of
// 1 B to 4 MiB (log-uniform), with at most 64 live at once. Every new block
// gets a pattern (calloc'd and mmap'd ones must read as zeros first); a
// block is checked before it is freed, and its kept part after a realloc.
// A fixed seed makes the run the same every time; prints checksum= last.
//
//   churn [--ops N] [--seed S]   (defaults 8000, 1)
#include <sys/mman.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iterator>
#include <string>
#include <vector>

#include "common/checksum.h"
#include "common/output.h"
#include "common/random.h"
#include "program_checks.h"

namespace {

using program::Fail;

constexpr size_t kMaxLive = 64;
constexpr int kSizeBits = 22;  // sizes below 4 MiB

enum Op : uint64_t { kMalloc, kCalloc, kMemalign, kMmap, kRealloc, kFree };

struct Block {
  uint8_t* data;
  size_t size;
  uint64_t seed;
  bool mapped;
};

// Log-uniform in [1, 4 MiB): a power of two, then uniform below the next.
size_t RandomSize(workload::Rng& rng) {
  const size_t low = size_t{1} << rng.Uniform(kSizeBits);
  return low + rng.Uniform(low);
}

// What to do next: the allocations outweigh the frees, so the live set
// stays near its cap.
Op RandomOp(workload::Rng& rng, size_t live) {
  if (live == 0) return kMalloc;
  if (live == kMaxLive) return kFree;
  static constexpr Op kMix[] = {kMalloc, kMalloc, kCalloc, kMemalign, kMmap, kRealloc, kRealloc, kRealloc,
                                kFree,   kFree,   kFree,   kFree};
  return kMix[rng.Uniform(std::size(kMix))];
}

Block Allocate(Op op, size_t size, uint64_t seed, workload::Rng& rng) {
  void* p = nullptr;
  const char* what = "malloc";
  switch (op) {
    case kCalloc:
      what = "calloc";
      p = std::calloc(size, 1);
      break;
    case kMemalign: {
      what = "posix_memalign";
      const size_t alignment = size_t{8} << rng.Uniform(14);  // 8 B to 64 KiB
      if (posix_memalign(&p, alignment, size) != 0) p = nullptr;
      if (p != nullptr && reinterpret_cast<uintptr_t>(p) % alignment != 0)
        Fail("posix_memalign(%zu, %zu) returned %p", alignment, size, p);
      break;
    }
    case kMmap:
      what = "mmap";
      p = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      if (p == MAP_FAILED) p = nullptr;
      break;
    default:
      p = std::malloc(size);
  }
  if (p == nullptr) Fail("%s of %zu bytes failed", what, size);
  Block b{static_cast<uint8_t*>(p), size, seed, op == kMmap};
  if (op == kCalloc || op == kMmap) program::ExpectPattern(b.data, size, 0, 0, "a new calloc'd or mmap'd block");
  program::FillPattern(b.data, size, seed);
  return b;
}

void Release(const Block& b) {
  program::ExpectPattern(b.data, b.size, b.seed, 0, "a block about to be freed");
  if (b.mapped) munmap(b.data, b.size);
  else std::free(b.data);
}

}  // namespace

int main(int argc, char** argv) {
  uint64_t ops = 8000, seed = 1;
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    if ((flag == "--ops" || flag == "--seed") && i + 1 < argc) {
      (flag == "--ops" ? ops : seed) = std::strtoull(argv[++i], nullptr, 10);
    } else {
      std::fprintf(stderr, "usage: churn [--ops N] [--seed S]\n");
      return 2;
    }
  }
  workload::Stopwatch clock;
  workload::Rng rng(seed);
  workload::Checksum sum;
  std::vector<Block> live;
  uint64_t allocated = 0;
  for (uint64_t i = 0; i < ops; ++i) {
    const Op op = RandomOp(rng, live.size());
    sum.Add(op);
    if (op == kFree) {
      const size_t victim = rng.Uniform(live.size());
      Release(live[victim]);
      live[victim] = live.back();
      live.pop_back();
      continue;
    }
    const size_t size = RandomSize(rng);
    sum.Add(size);
    allocated += size;
    if (op != kRealloc) {
      live.push_back(Allocate(op, size, seed * 1000003 + i + 1, rng));
      continue;
    }
    Block& b = live[rng.Uniform(live.size())];
    if (b.mapped) {  // realloc is not for mmap'd memory: a program moves it by hand
      Block moved = Allocate(kMalloc, size, b.seed, rng);
      std::memcpy(moved.data, b.data, std::min(size, b.size));
      Release(b);
      b = moved;
      continue;
    }
    auto* p = static_cast<uint8_t*>(std::realloc(b.data, size));
    if (p == nullptr) Fail("realloc to %zu bytes failed", size);
    program::ExpectPattern(p, std::min(size, b.size), b.seed, 0, "a realloc'ed block");
    if (size > b.size) program::FillPattern(p + b.size, size - b.size, b.seed, b.size);
    b.data = p;
    b.size = size;
  }
  for (const Block& b : live) Release(b);
  std::printf("%llu operations, %.1f GiB allocated, %.2f s\n", static_cast<unsigned long long>(ops),
              static_cast<double>(allocated) / (1 << 30), clock.Seconds());
  sum.Print();
  return 0;
}
