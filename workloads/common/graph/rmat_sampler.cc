#include "common/graph/rmat_sampler.h"

namespace workload::graph {

RmatSampler::RmatSampler(double a, double b, double c, int levels) {
  const double quadrant[4] = {a, b, c, 1.0 - a - b - c};
  full_steps_ = levels / kLevelsPerStep;
  rest_levels_ = levels % kLevelsPerStep;
  full_ = BuildTable(quadrant, kLevelsPerStep);
  if (rest_levels_ > 0) rest_ = BuildTable(quadrant, rest_levels_);
}

// Vose's alias method. Only IEEE double arithmetic in a fixed order, so the
// table, and hence the graph, is the same on every platform.
RmatSampler::Table RmatSampler::BuildTable(const double quadrant[4], int levels) {
  const size_t n = size_t{1} << (2 * levels);
  std::vector<double> scaled(n);
  Table table(n);
  for (size_t outcome = 0; outcome < n; ++outcome) {
    double p = 1.0;
    uint8_t src = 0, dst = 0;
    for (int level = levels - 1; level >= 0; --level) {  // most significant level first
      unsigned q = (outcome >> (2 * level)) & 3;
      p *= quadrant[q];
      src = static_cast<uint8_t>((src << 1) | (q >> 1));
      dst = static_cast<uint8_t>((dst << 1) | (q & 1));
    }
    scaled[outcome] = p * static_cast<double>(n);
    uint16_t bits = static_cast<uint16_t>(src << 8 | dst);
    table[outcome] = Slot{UINT32_MAX, bits, bits};
  }
  std::vector<size_t> small, large;
  for (size_t i = 0; i < n; ++i) (scaled[i] < 1.0 ? small : large).push_back(i);
  while (!small.empty() && !large.empty()) {
    size_t s = small.back(), l = large.back();
    small.pop_back();
    table[s].threshold = static_cast<uint32_t>(scaled[s] * 4294967296.0);
    table[s].alias = table[l].own;
    scaled[l] -= 1.0 - scaled[s];
    if (scaled[l] < 1.0) {
      large.pop_back();
      small.push_back(l);
    }
  }
  // Whatever is left has probability 1 up to rounding: keeps its own outcome.
  return table;
}

}  // namespace workload::graph
