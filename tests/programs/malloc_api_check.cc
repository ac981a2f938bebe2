// Checks the contract of every C allocation function (and C++ new/delete) a
// preloaded allocator replaces. An ordinary program: run natively it checks
// glibc, under `prescient run` it checks the transparent heap. Prints one line
// per failure and exits non-zero if there was any.
#include <errno.h>
#include <malloc.h>
#include <stdlib.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <new>
#include <vector>

namespace {

int g_failures = 0;

void Expect(bool ok, const char* what, size_t detail = 0) {
  if (!ok) {
    std::printf("FAIL %s (%zu)\n", what, detail);
    ++g_failures;
  }
}

bool Aligned(const void* p, size_t alignment) { return reinterpret_cast<uintptr_t>(p) % alignment == 0; }

bool AllZero(const unsigned char* p, size_t n) {
  for (size_t i = 0; i < n; ++i)
    if (p[i] != 0) return false;
  return true;
}

void Fill(unsigned char* p, size_t n, unsigned seed) {
  for (size_t i = 0; i < n; ++i) p[i] = static_cast<unsigned char>(i * 13 + seed);
}

bool Holds(const unsigned char* p, size_t n, unsigned seed) {
  for (size_t i = 0; i < n; ++i)
    if (p[i] != static_cast<unsigned char>(i * 13 + seed)) return false;
  return true;
}

void CheckCalloc() {
  for (size_t n : {size_t{100}, size_t{64} << 10, size_t{3} << 20}) {
    // Dirty a block, free it, and calloc the same size: reused memory must
    // still read as zero.
    auto* dirty = static_cast<unsigned char*>(malloc(n));
    Fill(dirty, n, 7);
    free(dirty);
    auto* z = static_cast<unsigned char*>(calloc(n, 1));
    Expect(z != nullptr && AllZero(z, n), "calloc zeroes", n);
    free(z);
  }
  volatile size_t huge = SIZE_MAX / 2;  // volatile: the compiler would warn at a constant
  errno = 0;
  Expect(calloc(huge, 4) == nullptr && errno == ENOMEM, "calloc overflow -> ENOMEM");
}

void CheckRealloc() {
  size_t n = 1000;
  auto* p = static_cast<unsigned char*>(malloc(n));
  Fill(p, n, 1);
  // Grow from small through the managed threshold and far beyond, then back.
  for (size_t next : {size_t{40} << 10, size_t{1} << 20, size_t{9} << 20, size_t{64} << 10, size_t{200}}) {
    auto* q = static_cast<unsigned char*>(realloc(p, next));
    Expect(q != nullptr && Holds(q, std::min(n, next), 1), "realloc keeps contents", next);
    p = q;
    n = next;
    Fill(p, n, 1);
  }
  free(p);
  p = static_cast<unsigned char*>(realloc(nullptr, 100 << 10));
  Expect(p != nullptr, "realloc(NULL) allocates");
  Expect(malloc_usable_size(p) >= (100 << 10), "usable size >= request", malloc_usable_size(p));
  Fill(p, 100 << 10, 3);
  Expect(realloc(p, 0) == nullptr, "realloc(p, 0) frees");
  volatile size_t huge = SIZE_MAX / 2;
  errno = 0;
  Expect(reallocarray(nullptr, huge, 3) == nullptr && errno == ENOMEM, "reallocarray overflow -> ENOMEM");
  p = static_cast<unsigned char*>(reallocarray(nullptr, 1000, 100));
  Expect(p != nullptr && malloc_usable_size(p) >= 100000, "reallocarray allocates");
  free(p);
}

void CheckAlignment() {
  for (size_t alignment : {size_t{16}, size_t{64}, size_t{4096}, size_t{65536}, size_t{2} << 20}) {
    for (size_t n : {size_t{24}, size_t{128} << 10}) {
      void* p = nullptr;
      Expect(posix_memalign(&p, alignment, n) == 0 && Aligned(p, alignment), "posix_memalign", alignment);
      std::memset(p, 1, n);
      free(p);
      // C11 wants the size a multiple of the alignment; sanitizers insist.
      p = aligned_alloc(alignment, (n + alignment - 1) / alignment * alignment);
      Expect(p != nullptr && Aligned(p, alignment), "aligned_alloc", alignment);
      free(p);
      p = memalign(alignment, n);
      Expect(p != nullptr && Aligned(p, alignment), "memalign", alignment);
      std::memset(p, 2, n);
      free(p);
    }
  }
  void* p = nullptr;
  Expect(posix_memalign(&p, 24, 100) == EINVAL, "posix_memalign rejects a non-power-of-two");
  long page = sysconf(_SC_PAGESIZE);
  p = valloc(100 << 10);
  Expect(p != nullptr && Aligned(p, page), "valloc");
  free(p);
  p = pvalloc(5000);
  Expect(p != nullptr && Aligned(p, page) && malloc_usable_size(p) >= 8192, "pvalloc rounds up", malloc_usable_size(p));
  free(p);
}

struct alignas(4096) PageObject {
  unsigned char bytes[64 << 10];
};

void CheckCxx() {
  auto* a = new unsigned char[1 << 20];
  Fill(a, 1 << 20, 5);
  Expect(Holds(a, 1 << 20, 5), "new[]");
  delete[] a;
  auto* o = new PageObject;
  Expect(Aligned(o, 4096), "aligned new");
  delete o;
  std::vector<int> v(1 << 20, 7);
  v.resize(3 << 20, 9);
  Expect(v[0] == 7 && v[(3 << 20) - 1] == 9, "vector");
  free(nullptr);
  Expect(malloc_usable_size(nullptr) == 0, "usable size of NULL");
}

}  // namespace

int main() {
  CheckCalloc();
  CheckRealloc();
  CheckAlignment();
  CheckCxx();
  std::printf("%s\n", g_failures == 0 ? "all ok" : "failures");
  return g_failures == 0 ? 0 : 1;
}
