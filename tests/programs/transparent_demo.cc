// An ordinary multi-threaded C++ program that knows nothing of prescient, for
// testing transparent mode: it allocates the ways real programs do (a growing
// std::vector, new[]/delete[], a malloc'ed buffer grown with realloc, calloc,
// per-thread arrays) and prints checksums that must not depend on where its
// memory lives. Run natively and under `prescient run`, the output must match.
//
//   transparent_demo [--scale N] [--exit CODE]
//
// --scale multiplies every size (default 1: about 300 MiB at peak).
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace {

constexpr size_t kMiB = size_t{1} << 20;

uint64_t Mix(uint64_t x) {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdULL;
  x ^= x >> 33;
  return x;
}

uint64_t Checksum(const uint64_t* data, size_t n) {
  uint64_t sum = 0;
  for (size_t i = 0; i < n; ++i) sum = sum * 31 + data[i];
  return sum;
}

// A vector grown one element at a time: libstdc++ reallocates by doubling,
// through operator new and delete.
uint64_t GrowVector(size_t bytes) {
  std::vector<uint64_t> v;
  for (size_t i = 0; i < bytes / sizeof(uint64_t); ++i) v.push_back(Mix(i));
  return Checksum(v.data(), v.size());
}

uint64_t NewArray(size_t bytes) {
  size_t n = bytes / sizeof(uint64_t);
  auto* a = new uint64_t[n];
  for (size_t i = 0; i < n; ++i) a[i] = Mix(i * 7);
  // Read it back in a different order, so evicted pages must come back.
  uint64_t sum = 0;
  for (size_t stride = 0; stride < 8; ++stride)
    for (size_t i = stride; i < n; i += 8) sum += a[i] ^ stride;
  delete[] a;
  return sum;
}

// Starts small (on glibc's heap under prescient) and doubles with realloc
// until far past the managed threshold.
uint64_t ReallocGrowth(size_t bytes) {
  size_t cap = 1024;
  auto* buf = static_cast<uint64_t*>(std::malloc(cap));
  size_t n = 0;
  while (n * sizeof(uint64_t) < bytes) {
    if ((n + 1) * sizeof(uint64_t) > cap) {
      cap *= 2;
      buf = static_cast<uint64_t*>(std::realloc(buf, cap));
      if (buf == nullptr) std::abort();
    }
    buf[n] = Mix(n + 99);
    ++n;
  }
  uint64_t sum = Checksum(buf, n);
  buf = static_cast<uint64_t*>(std::realloc(buf, 64 * 1024));  // shrink, keep the head
  sum ^= Checksum(buf, 64 * 1024 / sizeof(uint64_t));
  std::free(buf);
  return sum;
}

uint64_t Calloc(size_t bytes) {
  size_t n = bytes / sizeof(uint64_t);
  auto* z = static_cast<uint64_t*>(std::calloc(n, sizeof(uint64_t)));
  uint64_t nonzero = 0;
  for (size_t i = 0; i < n; ++i) nonzero += z[i] != 0;
  for (size_t i = 0; i < n; i += 512) z[i] = i;
  uint64_t sum = Checksum(z, n) + nonzero * 1000003;
  std::free(z);
  return sum;
}

void Worker(int id, size_t bytes, uint64_t* out) {
  size_t n = bytes / sizeof(uint64_t);
  std::unique_ptr<uint64_t[]> a(new uint64_t[n]);
  for (size_t i = 0; i < n; ++i) a[i] = Mix(i + (uint64_t(id) << 40));
  uint64_t sum = 0;
  for (int pass = 0; pass < 2; ++pass) sum = sum * 3 + Checksum(a.get(), n);
  *out = sum;
}

}  // namespace

int main(int argc, char** argv) {
  double scale = 1;
  int exit_code = 0;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string flag = argv[i];
    if (flag == "--scale") scale = std::atof(argv[i + 1]);
    else if (flag == "--exit") exit_code = std::atoi(argv[i + 1]);
    else {
      std::fprintf(stderr, "usage: transparent_demo [--scale N] [--exit CODE]\n");
      return 2;
    }
  }
  auto mib = [scale](double m) { return static_cast<size_t>(m * scale * kMiB); };

  // A little small-object heap too, as any real program has.
  std::vector<std::string> names;
  for (int i = 0; i < 2000; ++i) names.push_back("item-" + std::to_string(i));

  // The vector stays live while the rest runs, so the peak is their sum.
  std::vector<uint64_t> keep(mib(64) / sizeof(uint64_t));
  for (size_t i = 0; i < keep.size(); ++i) keep[i] = Mix(i ^ 0x5555);

  std::printf("vector  %016llx\n", static_cast<unsigned long long>(GrowVector(mib(64))));
  std::printf("new[]   %016llx\n", static_cast<unsigned long long>(NewArray(mib(48))));
  std::printf("realloc %016llx\n", static_cast<unsigned long long>(ReallocGrowth(mib(48))));
  std::printf("calloc  %016llx\n", static_cast<unsigned long long>(Calloc(mib(32))));

  constexpr int kThreads = 4;
  uint64_t sums[kThreads] = {};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) threads.emplace_back(Worker, t, mib(32), &sums[t]);
  for (auto& th : threads) th.join();
  for (int t = 0; t < kThreads; ++t) std::printf("thread%d %016llx\n", t, static_cast<unsigned long long>(sums[t]));

  std::printf("keep    %016llx\n", static_cast<unsigned long long>(Checksum(keep.data(), keep.size())));
  std::printf("names   %zu\n", names.size());
  return exit_code;
}
