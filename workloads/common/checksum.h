// A result digest that is the same on every machine and every run: the last
// line a workload prints is `checksum=<16 hex digits>`, and tests and scripts
// compare runs by it (native vs. far memory, one thread count vs. another).
//
// Floating-point results must be quantized before they are added
// (AddFixedPoint), so that a different summation order cannot change the
// digest; integers go in as they are.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstdio>

namespace workload {

// SplitMix64's finalizer: a fixed, well-mixed 64-bit bijection.
inline uint64_t Mix64(uint64_t x) {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  x ^= x >> 31;
  return x;
}

// Order-sensitive: Add(a); Add(b) differs from Add(b); Add(a).
class Checksum {
 public:
  void Add(uint64_t value) { state_ = Mix64(state_ ^ Mix64(value + 0x9e3779b97f4a7c15ULL)) + 0x632be59bd9b4e019ULL; }

  // Adds round(value / unit) as a signed integer, e.g. unit 1e-9 keeps nine
  // decimal places. NaN and infinities get fixed codes of their own.
  void AddFixedPoint(double value, double unit) {
    if (std::isnan(value)) return Add(0x7ff8000000000000ULL);
    if (std::isinf(value)) return Add(value > 0 ? 0x7ff0000000000000ULL : 0xfff0000000000000ULL);
    Add(static_cast<uint64_t>(std::llround(value / unit)));
  }

  uint64_t value() const { return state_; }

  // Prints `checksum=<16 hex digits>` as a line of its own and flushes.
  void Print() const {
    std::printf("checksum=%016llx\n", static_cast<unsigned long long>(state_));
    std::fflush(stdout);
  }

 private:
  uint64_t state_ = 0x243f6a8885a308d3ULL;  // nonzero, so an empty digest is not 0
};

}  // namespace workload
