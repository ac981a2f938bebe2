// A deterministic, single-threaded program with a mix of access patterns
// (sweeps, strides, pointer-chasing, hot-set reuse) over one large array.
// Tests trace it and replay the trace in the simulator, then compare with
// the runtime's own fault counts on the same run.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <vector>

int main(int argc, char** argv) {
  const size_t mib = argc > 1 ? std::strtoul(argv[1], nullptr, 10) : 32;
  const size_t words = mib << 17;  // 8-byte words
  std::vector<uint64_t> data(words);
  uint64_t x = 88172645463325252ull, sum = 0;
  auto next = [&x] {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return x;
  };
  for (size_t i = 0; i < words; i += 64) data[i] = next();             // fill: a sweep of writes
  for (int pass = 0; pass < 2; ++pass) {
    for (size_t i = 0; i < words; i += 512) sum += data[i];             // strided reads
  }
  size_t hot = words / 8;
  for (int i = 0; i < 200000; ++i) sum += data[(next() % hot)];        // a hot set
  size_t pos = 0;
  for (int i = 0; i < 100000; ++i) {                                    // pointer chasing
    pos = (data[pos] + pos * 31 + 7) % words;
    data[pos] += i;
  }
  for (size_t i = words; i-- > 0;) sum += i % 4096 == 0 ? data[i] : 0;  // a backward sweep
  std::printf("checksum=%016llx\n", static_cast<unsigned long long>(sum));
  return 0;
}
