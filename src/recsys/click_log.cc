#include "recsys/click_log.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace prescient {

namespace {

// Criteo Kaggle's cardinalities of C1..C26.
constexpr uint64_t kCriteoRows[kSparseFeatures] = {1460, 583,   10131227, 2202608, 305,  24,      12517, 633,   3,
                                                   93145, 5683, 8351593,  3194,    27,   14992,   5461306, 10,  5652,
                                                   2173, 4,     7046547,  18,      15,   286181,  105,   142572};

// The hidden rule's shape. Effects sit mostly on tables of modest size, as
// in real logs, where most of the signal is in features a model sees often;
// one large table (C3) carries an effect whose tail is unlearnable.
constexpr int kInformative[] = {0, 1, 2, 4, 6, 7, 10, 12, 16, 19, 22, 24};
constexpr float kEffectScale = 0.45f;
constexpr int kPairP = 5, kPairQ = 13;  // C6 (24 rows) x C14 (27 rows)
constexpr int kPairDim = 4;
constexpr float kPairScale = 1.0f;
constexpr int kCrossTable = 21;  // dense I1 x C22
constexpr float kCrossScale = 0.5f;
constexpr float kBias = -1.6f;

uint64_t Mix(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}
uint64_t Key(uint64_t a, uint64_t b, uint64_t c, uint64_t d) { return Mix(Mix(Mix(Mix(a) ^ b) ^ c) ^ d); }
// (0, 1), 53 bits.
double Unit(uint64_t h) { return (static_cast<double>(h >> 11) + 0.5) * (1.0 / 9007199254740992.0); }
double Gaussian(uint64_t h) {  // Box-Muller from one hash
  const double u1 = Unit(h), u2 = Unit(Mix(h));
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
}

// Salts that keep the generator's uses of the hash apart.
enum Salt : uint64_t { kDenseSalt = 1, kMissingSalt, kSparseSalt, kLabelSalt, kWeightSalt, kEffectSalt, kPairSalt, kPermSalt, kDenseShapeSalt };

uint64_t ModInverse(uint64_t a, uint64_t m) {
  int64_t t = 0, new_t = 1;
  int64_t r = static_cast<int64_t>(m), new_r = static_cast<int64_t>(a % m);
  while (new_r != 0) {
    const int64_t q = r / new_r;
    t = std::exchange(new_t, t - q * new_t);
    r = std::exchange(new_r, r - q * new_r);
  }
  return static_cast<uint64_t>(t < 0 ? t + static_cast<int64_t>(m) : t);
}

}  // namespace

std::vector<uint64_t> ClickLogConfig::TableRows() const {
  std::vector<uint64_t> rows(kSparseFeatures);
  for (int t = 0; t < kSparseFeatures; ++t) rows[t] = std::max<uint64_t>(1, std::min(kCriteoRows[t], max_rows));
  return rows;
}

std::vector<TableSpec> ClickLogConfig::Tables(uint32_t dim) const {
  std::vector<TableSpec> specs;
  const std::vector<uint64_t> rows = TableRows();
  for (int t = 0; t < kSparseFeatures; ++t) specs.push_back({"C" + std::to_string(t + 1), rows[t], dim});
  return specs;
}

double ClickLogConfig::ZipfExponent(uint32_t table) const {
  // Spread deterministically (not by seed) so the shape is a property of the config.
  const double f = static_cast<double>((table * 7) % kSparseFeatures) / (kSparseFeatures - 1);
  return zipf_min + (zipf_max - zipf_min) * f;
}

ClickLog::ClickLog(ClickLogConfig config) : config_(std::move(config)), rows_(config_.TableRows()) {
  for (uint32_t t = 0; t < kSparseFeatures; ++t) {
    exponent_.push_back(config_.ZipfExponent(t));
    const uint64_t n = rows_[t];
    uint64_t mul = n == 1 ? 1 : Key(config_.seed, kPermSalt, t, 0) % n;
    while (n > 1 && (mul == 0 || std::gcd(mul, n) != 1)) mul = (mul + 1) % n;
    perm_mul_.push_back(mul);
    perm_add_.push_back(n == 1 ? 0 : Key(config_.seed, kPermSalt, t, 1) % n);
    perm_inv_.push_back(n == 1 ? 0 : ModInverse(mul, n));
  }
}

uint32_t ClickLog::RankOf(uint32_t table, uint32_t index) const {
  const uint64_t n = rows_[table];
  const uint64_t shifted = (index + n - perm_add_[table]) % n;
  return static_cast<uint32_t>((shifted * perm_inv_[table]) % n);
}

float ClickLog::HiddenLogit(const float* dense, const uint32_t* first) const {
  const uint64_t seed = config_.seed;
  double logit = kBias;
  for (int j = 0; j < kDenseFeatures; ++j) {
    // Every other dense feature matters, with a seeded sign and size.
    if (j % 2 == 1) continue;
    const double w = 0.25 * Gaussian(Key(seed, kWeightSalt, j, 0));
    const double mu = 1.0 + 0.25 * j;  // log1p(x) is centred near mu (see Generate)
    logit += w * (dense[j] - mu);
  }
  for (int t : kInformative) logit += kEffectScale * Gaussian(Key(seed, kEffectSalt, t, first[t]));
  double pair = 0.0;
  for (int k = 0; k < kPairDim; ++k) {
    pair += 0.5 * Gaussian(Key(seed, kPairSalt, kPairP * 64 + k, first[kPairP])) * 0.5 * Gaussian(Key(seed, kPairSalt, kPairQ * 64 + k, first[kPairQ]));
  }
  logit += kPairScale * pair * 2.0;
  logit += kCrossScale * (dense[0] - 1.0) * Gaussian(Key(seed, kEffectSalt, kCrossTable, first[kCrossTable]));
  return static_cast<float>(logit);
}

void ClickLog::Generate(ClickStream stream, uint64_t first, uint32_t count, ClickBatch* out) const {
  const uint64_t seed = config_.seed, s = static_cast<uint64_t>(stream);
  const uint32_t hot = std::max<uint32_t>(1, config_.hot);
  out->first_sample = first;
  out->count = count;
  out->dense.resize(size_t{count} * kDenseFeatures);
  out->indices.resize(kSparseFeatures);
  for (auto& v : out->indices) v.resize(size_t{count} * hot);
  out->offsets.resize(count + 1);
  for (uint32_t b = 0; b <= count; ++b) out->offsets[b] = b * hot;
  out->labels.resize(count);
  out->true_logits.resize(count);
  uint32_t firsts[kSparseFeatures];
  for (uint32_t b = 0; b < count; ++b) {
    const uint64_t i = first + b;
    float* dense = out->dense.data() + size_t{b} * kDenseFeatures;
    for (int j = 0; j < kDenseFeatures; ++j) {
      // Counts with a log-normal body; some features are often missing (0).
      const double mu = 1.0 + 0.25 * j, sigma = 0.8 + 0.05 * j;
      const double missing = 0.05 * (j % 4);
      double x = 0.0;
      if (Unit(Key(seed, s, i, kMissingSalt * 64 + j)) >= missing) x = std::floor(std::exp(mu + sigma * Gaussian(Key(seed, s, i, kDenseSalt * 64 + j))));
      dense[j] = static_cast<float>(std::log1p(x));
    }
    for (uint32_t t = 0; t < kSparseFeatures; ++t) {
      const uint64_t n = rows_[t];
      const double e = exponent_[t];
      for (uint32_t k = 0; k < hot; ++k) {
        const double u = Unit(Key(seed, s, i, (kSparseSalt << 32) | (uint64_t{t} << 8) | k));
        // Inverse CDF of a continuous power law x^-e on [1, n + 1).
        double x;
        if (std::abs(e - 1.0) < 1e-9) {
          x = std::exp(u * std::log(static_cast<double>(n) + 1.0));
        } else {
          const double a = std::pow(static_cast<double>(n) + 1.0, 1.0 - e);
          x = std::pow((a - 1.0) * u + 1.0, 1.0 / (1.0 - e));
        }
        const uint64_t rank = std::min<uint64_t>(n - 1, static_cast<uint64_t>(x) - 1);
        const uint32_t index = static_cast<uint32_t>((rank * perm_mul_[t] + perm_add_[t]) % n);
        out->indices[t][size_t{b} * hot + k] = index;
        if (k == 0) firsts[t] = index;
      }
    }
    const float logit = HiddenLogit(dense, firsts);
    const double p = 1.0 / (1.0 + std::exp(-static_cast<double>(logit)));
    out->true_logits[b] = logit;
    out->labels[b] = Unit(Key(seed, s, i, kLabelSalt << 32)) < p ? 1.0f : 0.0f;
  }
}

}  // namespace prescient
