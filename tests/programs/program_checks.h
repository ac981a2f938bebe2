// What the ordinary test programs (and the bench programs built like them)
// share beyond the workloads' digest and generator (workloads/common/
// checksum.h, random.h): failing loudly, byte streams derived from a seed
// that can be written and checked at any offset, and words that carry their
// own index. Header-only and knowing nothing of prescient, so a program that
// includes it is still an ordinary program.
#pragma once

#include <algorithm>
#include <cerrno>
#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "common/checksum.h"

namespace program {

// Prints "<program>: <message>" on stderr and exits 1. Stdout is flushed
// first, so what the program printed before stays in order.
[[noreturn]] [[gnu::format(printf, 1, 2)]] inline void Fail(const char* format, ...) {
  std::fflush(stdout);
  std::fprintf(stderr, "%s: ", program_invocation_short_name);
  va_list args;
  va_start(args, format);
  std::vfprintf(stderr, format, args);
  va_end(args);
  std::fputc('\n', stderr);
  std::exit(1);
}

// Stream `seed` is a sequence of bytes with a known value at every offset.
// Seed 0 is all zeros, what a fresh calloc or anonymous mmap holds.
inline uint64_t PatternWord(uint64_t seed, uint64_t word) {
  return seed == 0 ? 0 : workload::Mix64(seed * 0x9e3779b97f4a7c15ULL + word);
}

inline uint8_t PatternByte(uint64_t seed, uint64_t offset) {
  return static_cast<uint8_t>(PatternWord(seed, offset >> 3) >> (offset & 7) * 8);
}

// Writes bytes [offset, offset + n) of stream `seed` to p, a word at a time
// where the offset allows.
inline void FillPattern(void* p, size_t n, uint64_t seed, uint64_t offset = 0) {
  auto* bytes = static_cast<uint8_t*>(p);
  for (size_t i = 0; i < n;) {
    const uint64_t at = offset + i;
    if ((at & 7) == 0 && n - i >= 8) {
      const uint64_t word = PatternWord(seed, at >> 3);
      std::memcpy(bytes + i, &word, 8);
      i += 8;
    } else {
      bytes[i++] = PatternByte(seed, at);
    }
  }
}

// The first i where p[i] is not byte offset + i of stream `seed`, or n.
inline size_t FirstMismatch(const void* p, size_t n, uint64_t seed, uint64_t offset = 0) {
  const auto* bytes = static_cast<const uint8_t*>(p);
  for (size_t i = 0; i < n;) {
    const uint64_t at = offset + i;
    if ((at & 7) == 0 && n - i >= 8) {
      const uint64_t word = PatternWord(seed, at >> 3);
      if (std::memcmp(bytes + i, &word, 8) == 0) {
        i += 8;
        continue;
      }
    }
    if (bytes[i] != PatternByte(seed, at)) return i;
    ++i;
  }
  return n;
}

// Fails naming `what` unless p holds bytes [offset, offset + n) of `seed`.
inline void ExpectPattern(const void* p, size_t n, uint64_t seed, uint64_t offset, const char* what) {
  const size_t bad = FirstMismatch(p, n, seed, offset);
  if (bad != n)
    Fail("%s: byte %zu of %zu is 0x%02x, expected 0x%02x", what, bad, n, static_cast<const uint8_t*>(p)[bad],
         PatternByte(seed, offset + bad));
}

// Adds n bytes to an order-sensitive digest (a word at a time, then the tail).
inline void AddBytes(workload::Checksum* sum, const void* p, size_t n) {
  const auto* bytes = static_cast<const uint8_t*>(p);
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t word;
    std::memcpy(&word, bytes + i, 8);
    sum->Add(word);
  }
  for (; i < n; ++i) sum->Add(bytes[i]);
}

// Words in one malloc'd array that each hold their own index (the high bits)
// and how often they were updated (the low kCountBits). A word read back
// from a lost, zeroed or misplaced page shows at once by its tag, and Verify
// checks every count against the updates that were made.
class TaggedWords {
 public:
  static constexpr int kCountBits = 24;

  explicit TaggedWords(size_t n) : n_(n), words_(static_cast<uint64_t*>(std::malloc(n * sizeof(uint64_t)))) {
    if (words_ == nullptr) Fail("cannot allocate %zu words", n);
  }
  ~TaggedWords() { std::free(words_); }
  TaggedWords(const TaggedWords&) = delete;
  TaggedWords& operator=(const TaggedWords&) = delete;

  size_t size() const { return n_; }

  // Words [begin, end) get their tags and a count of 0.
  void Tag(size_t begin, size_t end) {
    for (size_t i = begin; i < end; ++i) words_[i] = Expected(i, 0);
  }

  // Reads word i, checks its tag, and counts one more update to it.
  void Bump(size_t i) {
    const uint64_t word = words_[i];
    if (word >> kCountBits != i + 1)
      Fail("word %zu reads %016llx, which is not its own (a lost or misplaced page?)", i,
           static_cast<unsigned long long>(word));
    words_[i] = word + 1;
  }

  // Checks every word of [begin, end) given the sorted indices of every Bump
  // made in that range.
  void Verify(size_t begin, size_t end, const std::vector<uint64_t>& sorted_bumps) const {
    auto next = std::lower_bound(sorted_bumps.begin(), sorted_bumps.end(), begin);
    for (size_t i = begin; i < end; ++i) {
      uint64_t count = 0;
      for (; next != sorted_bumps.end() && *next == i; ++next) ++count;
      if (words_[i] != Expected(i, count))
        Fail("word %zu is %016llx after the run, expected %016llx", i, static_cast<unsigned long long>(words_[i]),
             static_cast<unsigned long long>(Expected(i, count)));
    }
  }

  void AddTo(workload::Checksum* sum, size_t begin, size_t end) const {
    for (size_t i = begin; i < end; ++i) sum->Add(words_[i]);
  }

 private:
  static uint64_t Expected(size_t i, uint64_t count) { return (uint64_t{i} + 1) << kCountBits | count; }

  size_t n_;
  uint64_t* words_;
};

}  // namespace program
