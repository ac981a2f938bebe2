// An ordinary OpenMP program (two threads): parallel loops fill, transform
// and update two large malloc'd arrays and reduce them (sum, xor, max and a
// count), then one thread recomputes every element and every reduction
// sequentially from the formulas and checks them. Integer arithmetic only,
// so the answer does not depend on the order threads combine in. About
// 96 MiB; prints checksum= last.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "common/checksum.h"
#include "program_checks.h"

namespace {

using program::Fail;
using workload::Mix64;

constexpr int64_t kWords = int64_t{6} << 20;  // 48 MiB each
constexpr int kThreads = 2;

uint64_t A0(int64_t i) { return Mix64(static_cast<uint64_t>(i)); }
// b[i] reads a[i] and its mirror, so each thread reads pages the other writes.
uint64_t B(int64_t i) { return A0(i) ^ (A0(kWords - 1 - i) >> 7); }
uint64_t A1(int64_t i) { return A0(i) + B(i) * 3; }

struct Reductions {
  uint64_t sum = 0, bits = 0, max = 0, count = 0;
};

// `what`, element i of an array or (i < 0) a reduction, must be `want`.
void Expect(uint64_t got, uint64_t want, const char* what, int64_t i = -1) {
  if (got == want) return;
  const std::string name = i < 0 ? what : std::string(what) + "[" + std::to_string(i) + "]";
  Fail("%s is %016llx, the sequential recomputation %016llx", name.c_str(), static_cast<unsigned long long>(got),
       static_cast<unsigned long long>(want));
}

}  // namespace

int main() {
  auto* a = static_cast<uint64_t*>(std::malloc(kWords * sizeof(uint64_t)));
  auto* b = static_cast<uint64_t*>(std::malloc(kWords * sizeof(uint64_t)));
  if (a == nullptr || b == nullptr) Fail("cannot allocate");

#pragma omp parallel for num_threads(kThreads) schedule(static)
  for (int64_t i = 0; i < kWords; ++i) a[i] = A0(i);

#pragma omp parallel for num_threads(kThreads) schedule(static)
  for (int64_t i = 0; i < kWords; ++i) b[i] = a[i] ^ (a[kWords - 1 - i] >> 7);

  uint64_t sum = 0, bits = 0, max = 0, count = 0;
#pragma omp parallel for num_threads(kThreads) schedule(static) reduction(+ : sum, count) reduction(^ : bits) \
    reduction(max : max)
  for (int64_t i = 0; i < kWords; ++i) {
    sum += b[i];
    bits ^= b[i] * 0x9e3779b97f4a7c15ULL;
    max = std::max(max, b[i]);
    count += (b[i] & 15) == 0;
  }

  // Chunks handed out as threads ask: which thread touches which page
  // changes from run to run, the result must not.
#pragma omp parallel for num_threads(kThreads) schedule(dynamic, 4096)
  for (int64_t i = 0; i < kWords; ++i) a[i] += b[i] * 3;

  Reductions want;
  for (int64_t i = 0; i < kWords; ++i) {
    const uint64_t bi = B(i);
    Expect(b[i], bi, "b", i);
    Expect(a[i], A1(i), "a", i);
    want.sum += bi;
    want.bits ^= bi * 0x9e3779b97f4a7c15ULL;
    want.max = std::max(want.max, bi);
    want.count += (bi & 15) == 0;
  }
  Expect(sum, want.sum, "the sum reduction");
  Expect(bits, want.bits, "the xor reduction");
  Expect(max, want.max, "the max reduction");
  Expect(count, want.count, "the count reduction");

  workload::Checksum digest;
  for (uint64_t v : {sum, bits, max, count}) digest.Add(v);
  for (int64_t i = 0; i < kWords; i += 512) digest.Add(a[i]);
  std::free(a);
  std::free(b);
  std::printf("%d threads, %lld words, count %llu\n", kThreads, static_cast<long long>(kWords),
              static_cast<unsigned long long>(count));
  digest.Print();
  return 0;
}
