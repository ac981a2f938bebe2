// The two table generators behind GenerateTable (tabular.h), and the small
// pieces of randomness they share.
#pragma once

#include <cstdint>

#include "common/random.h"
#include "xgboost/tabular.h"

namespace xgb {

Table GenerateDenseTable(const FamilySpec& spec, int64_t rows, uint64_t seed, uint64_t stream);
Table GenerateSparseTable(const FamilySpec& spec, int64_t rows, uint64_t seed, uint64_t stream);

// Roughly standard normal: a centred sum of four uniforms, scaled to unit
// variance. Needs no libm, and its tails are bounded, which suits labels.
inline double Gaussish(workload::Rng& rng) {
  double sum = rng.UniformDouble() + rng.UniformDouble() + rng.UniformDouble() + rng.UniformDouble();
  return (sum - 2.0) * 1.7320508075688772;  // sqrt(12 / 4)
}

// Uniform in [-1, 1).
inline double Signed(workload::Rng& rng) { return 2.0 * rng.UniformDouble() - 1.0; }

}  // namespace xgb
