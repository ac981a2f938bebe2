// A multi-threaded ordinary program with random access over far more memory
// than its cache: T threads each make U random read-modify-write updates of
// 8-byte words in one shared malloc'd array. The array is cut into 64 KiB
// stripes dealt to the threads in turn, and each thread fills and updates
// only its own, so the result is the same however the threads interleave.
// Prints the seconds the fill and the updates took, then checksum=.
//
//   threads_update [--threads T] [--updates U] [--mib M]   (defaults 4, 2000000, 384)
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "common/checksum.h"
#include "common/output.h"
#include "common/random.h"
#include "program_checks.h"

namespace {

constexpr size_t kStripeWords = (64 << 10) / sizeof(uint64_t);
constexpr uint64_t kSeed = 1;

struct Shape {
  uint64_t* words;
  size_t stripes;
  size_t threads;
  uint64_t updates;
};

// Stripe j of thread t is stripe t + j * threads of the array.
void Worker(const Shape& s, size_t t) {
  const size_t mine = (s.stripes - t + s.threads - 1) / s.threads;
  for (size_t j = 0; j < mine; ++j) {
    const size_t first = (t + j * s.threads) * kStripeWords;
    program::FillPattern(s.words + first, kStripeWords * sizeof(uint64_t), kSeed, first * sizeof(uint64_t));
  }
  workload::Rng rng = workload::StreamRng(kSeed, t);
  for (uint64_t k = 0; k < s.updates; ++k) {
    const size_t stripe = t + rng.Uniform(mine) * s.threads;
    uint64_t& word = s.words[stripe * kStripeWords + rng.Uniform(kStripeWords)];
    word = workload::Mix64(word + k);
  }
}

}  // namespace

int main(int argc, char** argv) {
  uint64_t threads = 4, updates = 2000000, mib = 384;
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    uint64_t* value = flag == "--threads"   ? &threads
                      : flag == "--updates" ? &updates
                      : flag == "--mib"     ? &mib
                                            : nullptr;
    if (value == nullptr || i + 1 >= argc) {
      std::fprintf(stderr, "usage: threads_update [--threads T] [--updates U] [--mib M]\n");
      return 2;
    }
    *value = std::strtoull(argv[++i], nullptr, 10);
  }
  const size_t stripes = (mib << 20) / sizeof(uint64_t) / kStripeWords;
  if (threads == 0 || stripes < threads) program::Fail("need --threads >= 1 and at least 64 KiB per thread");
  auto* words = static_cast<uint64_t*>(std::malloc(stripes * kStripeWords * sizeof(uint64_t)));
  if (words == nullptr) program::Fail("cannot allocate %llu MiB", static_cast<unsigned long long>(mib));

  workload::Stopwatch clock;
  const Shape shape{words, stripes, threads, updates};
  std::vector<std::thread> workers;
  for (size_t t = 0; t < threads; ++t) workers.emplace_back(Worker, std::cref(shape), t);
  for (std::thread& w : workers) w.join();
  std::printf("%llu threads x %llu updates over %llu MiB: %.2f s\n", static_cast<unsigned long long>(threads),
              static_cast<unsigned long long>(updates), static_cast<unsigned long long>(mib), clock.Seconds());

  workload::Checksum sum;
  for (size_t i = 0; i < stripes * kStripeWords; ++i) sum.Add(words[i]);
  std::free(words);
  sum.Print();
  return 0;
}
