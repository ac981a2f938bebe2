// A miniature workload with the command line of the real ones
// (workloads/common/workload_args.h: --small, --seed, --input, --threads,
// --list-inputs), so tests can drive `prescient bench paper` end to end in
// seconds. Its three input families walk a 12 MiB array (24 MiB without
// --small) in three page orders: sequential runs, a fixed stride, and a
// pointer chase through a seeded permutation; each is walked three times.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <numeric>
#include <string>
#include <vector>

namespace {

constexpr size_t kPageWords = 4096 / sizeof(uint64_t);

uint64_t Mix(uint64_t x) {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdull;
  x ^= x >> 33;
  return x;
}

int Usage(const char* bad) {
  std::fprintf(stderr, "paper_mini: unknown argument '%s' (use --small, --seed N, --input runs|stride|chase, --threads N, --list-inputs)\n", bad);
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  const char* families[] = {"runs", "stride", "chase"};
  bool small = false;
  uint64_t seed = 1;
  std::string input = families[0];
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--list-inputs") {
      for (const char* f : families) std::printf("%s\n", f);
      return 0;
    }
    if (a == "--small") {
      small = true;
    } else if ((a == "--seed" || a == "--input" || a == "--threads") && i + 1 < argc) {
      const std::string v = argv[++i];
      if (a == "--seed") seed = std::strtoull(v.c_str(), nullptr, 10);
      if (a == "--input") input = v;
    } else if (a != "--") {
      return Usage(argv[i]);
    }
  }
  if (input != "runs" && input != "stride" && input != "chase") return Usage(input.c_str());

  const size_t pages = (small ? 12u : 24u) << 8;
  std::vector<uint64_t> data(pages * kPageWords);
  for (size_t p = 0; p < pages; ++p) data[p * kPageWords] = Mix(seed + p);
  std::vector<size_t> order(pages);
  std::iota(order.begin(), order.end(), 0);
  if (input == "stride") {
    for (size_t i = 0; i < pages; ++i) order[i] = (i * 7) % pages;  // 7 and pages are coprime
  } else if (input == "chase") {
    for (size_t i = pages - 1; i > 0; --i) std::swap(order[i], order[Mix(seed * 1000003 + i) % (i + 1)]);
  } else {  // runs of 16 pages, the runs in a seeded order
    std::vector<size_t> runs(pages / 16);
    std::iota(runs.begin(), runs.end(), 0);
    for (size_t i = runs.size() - 1; i > 0; --i) std::swap(runs[i], runs[Mix(seed + i) % (i + 1)]);
    for (size_t r = 0; r < runs.size(); ++r)
      for (size_t k = 0; k < 16; ++k) order[r * 16 + k] = runs[r] * 16 + k;
  }
  uint64_t sum = 0;
  for (int pass = 0; pass < 3; ++pass)
    for (size_t p : order) {
      uint64_t& w = data[p * kPageWords + (pass * 8) % kPageWords];
      w += sum;
      sum = Mix(sum ^ w);
    }
  std::printf("checksum=%016llx\n", static_cast<unsigned long long>(sum));
  return 0;
}
