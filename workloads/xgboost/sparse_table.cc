// The sparse family, shaped like click-through data: a row is a set of
// categorical fields, one-hot encoded (one column per category, popular
// categories far more common than rare ones), plus a few occasional counts.
// About 30 of ~2,700 columns are present in a row, so the table is CSR with
// ~99 % zeros. The click probability is a logistic function of per-category
// weights, a few field-pair interactions and the counts.
#include <cmath>
#include <vector>

#include "common/checksum.h"
#include "xgboost/generators.h"

namespace xgb {
namespace {

constexpr int32_t kFields = 26;
constexpr int32_t kCounts = 12;         // count columns after the one-hot ones
constexpr double kFieldPresent = 0.92;  // a field is sometimes left empty
constexpr double kCountPresent = 0.15;
constexpr int32_t kPairs[][2] = {{0, 1}, {2, 5}, {3, 7}, {4, 11}};

int32_t Categories(int32_t field) { return 10 + (field * 61) % 190; }

// A weight in [-1, 1) fixed by (seed, a, b) and needing no storage.
double HashedWeight(uint64_t seed, uint64_t a, uint64_t b) {
  uint64_t h = workload::Mix64(workload::Mix64(seed ^ (a * 0x9e3779b97f4a7c15ULL)) ^ (b + 0x632be59bd9b4e019ULL));
  return static_cast<double>(h >> 11) * 0x1.0p-52 - 1.0;
}

}  // namespace

Table GenerateSparseTable(const FamilySpec& spec, int64_t rows, uint64_t seed, uint64_t stream) {
  std::vector<uint32_t> field_offset(kFields + 1, 0);
  for (int32_t f = 0; f < kFields; ++f) field_offset[f + 1] = field_offset[f] + static_cast<uint32_t>(Categories(f));
  const uint32_t count_offset = field_offset[kFields];

  Table table;
  table.rows = rows;
  table.cols = static_cast<int32_t>(count_offset) + kCounts;
  table.sparse = true;
  // Expected entries per row, with a margin so that the vectors never regrow.
  size_t expected =
      static_cast<size_t>(rows) * static_cast<size_t>(kFields * kFieldPresent + kCounts * kCountPresent + 2);
  table.values.reserve(expected);
  table.indices.reserve(expected);
  table.indptr.reserve(static_cast<size_t>(rows) + 1);
  table.labels.resize(static_cast<size_t>(rows));

  workload::Rng rng = workload::StreamRng(seed, 200 + stream);
  std::vector<int32_t> category(kFields);
  table.indptr.push_back(0);
  for (int64_t r = 0; r < rows; ++r) {
    double logit = -1.2;
    for (int32_t f = 0; f < kFields; ++f) {
      category[f] = -1;
      if (rng.UniformDouble() >= kFieldPresent) continue;
      double u = rng.UniformDouble();
      category[f] = static_cast<int32_t>(Categories(f) * u * u);  // popular categories first
      table.indices.push_back(field_offset[f] + static_cast<uint32_t>(category[f]));
      table.values.push_back(1.0f);
      // Early fields matter most, as the few strong signals in real logs do.
      logit += HashedWeight(seed, static_cast<uint64_t>(f), static_cast<uint64_t>(category[f])) * 2.0 / (1.0 + f / 4.0);
    }
    for (const auto& pair : kPairs) {
      int32_t a = category[pair[0]], b = category[pair[1]];
      if (a >= 0 && b >= 0)
        logit += 0.8 * HashedWeight(seed, 1000 + static_cast<uint64_t>(pair[0]),
                                    static_cast<uint64_t>(a) * 4096 + static_cast<uint64_t>(b));
    }
    for (int32_t c = 0; c < kCounts; ++c) {
      if (rng.UniformDouble() >= kCountPresent) continue;
      double u = rng.UniformDouble();
      float count = static_cast<float>(1 + static_cast<int>(20 * u * u));
      table.indices.push_back(count_offset + static_cast<uint32_t>(c));
      table.values.push_back(count);
      logit += 0.1 * HashedWeight(seed, 2000, static_cast<uint64_t>(c)) * count;
    }
    logit += 0.5 * Gaussish(rng);
    double p = 1.0 / (1.0 + std::exp(-logit));
    table.labels[static_cast<size_t>(r)] = rng.UniformDouble() < p ? 1.0f : 0.0f;
    table.indptr.push_back(table.values.size());
  }
  return table;
}

}  // namespace xgb
