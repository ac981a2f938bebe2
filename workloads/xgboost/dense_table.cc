// Dense families: every cell present. Columns cycle through four value
// distributions so that XGBoost's quantile sketch sees different shapes, and
// the label comes from a hidden ensemble of small trees over a few columns
// plus a linear part, which boosted trees can learn but not trivially.
#include <algorithm>
#include <array>
#include <vector>

#include "xgboost/generators.h"

namespace xgb {
namespace {

enum FeatureKind { kUniform, kSkewed, kOrdinal, kBell, kKinds };

FeatureKind KindOf(int32_t col) { return static_cast<FeatureKind>(col % kKinds); }

float DrawFeature(FeatureKind kind, workload::Rng& rng) {
  switch (kind) {
    case kUniform:
      return static_cast<float>(rng.UniformDouble());
    case kSkewed: {  // most values near 0, a long tail to 100
      double u = rng.UniformDouble();
      return static_cast<float>(100.0 * u * u * u);
    }
    case kOrdinal:  // a small integer code, as a label-encoded category
      return static_cast<float>(rng.Uniform(16));
    default:
      return static_cast<float>(rng.UniformDouble() + rng.UniformDouble() + rng.UniformDouble());
  }
}

// The typical magnitude of each kind, to put linear terms on one scale.
double Scale(FeatureKind kind) {
  static constexpr double kScale[kKinds] = {1.0, 100.0, 15.0, 3.0};
  return kScale[kind];
}

// A depth-2 tree: split on `a`, then on `b`, four leaves.
struct SmallTree {
  int32_t a, b;
  float split_a, split_b;
  std::array<double, 4> leaf;
};

// One hidden rule per output (one for regression, one per class).
class HiddenRule {
 public:
  HiddenRule(int32_t cols, workload::Rng& rng) {
    constexpr int kTrees = 16, kLinear = 4;
    for (int t = 0; t < kTrees; ++t) {
      SmallTree tree;
      tree.a = static_cast<int32_t>(rng.Uniform(static_cast<uint64_t>(cols)));
      tree.b = static_cast<int32_t>(rng.Uniform(static_cast<uint64_t>(cols)));
      // Splits at values the features actually take, so no leaf is empty.
      tree.split_a = DrawFeature(KindOf(tree.a), rng);
      tree.split_b = DrawFeature(KindOf(tree.b), rng);
      for (double& leaf : tree.leaf) leaf = Signed(rng);
      trees_.push_back(tree);
    }
    for (int l = 0; l < kLinear; ++l) {
      int32_t col = static_cast<int32_t>(rng.Uniform(static_cast<uint64_t>(cols)));
      linear_.push_back({col, 1.5 * Signed(rng) / Scale(KindOf(col))});
    }
  }

  double Score(const float* row) const {
    double score = 0;
    for (const SmallTree& t : trees_) score += t.leaf[(row[t.a] < t.split_a ? 0 : 2) + (row[t.b] < t.split_b ? 0 : 1)];
    for (const auto& [col, coef] : linear_) score += coef * row[col];
    return score;
  }

 private:
  std::vector<SmallTree> trees_;
  std::vector<std::pair<int32_t, double>> linear_;
};

}  // namespace

Table GenerateDenseTable(const FamilySpec& spec, int64_t rows, uint64_t seed, uint64_t stream) {
  // The rule comes from the seed alone: training and held-out rows share it.
  workload::Rng rule_rng = workload::StreamRng(seed, 0);
  const int outputs = spec.task == Task::kMulticlass ? spec.classes : 1;
  std::vector<HiddenRule> rules;
  for (int o = 0; o < outputs; ++o) rules.emplace_back(spec.cols, rule_rng);

  Table table;
  table.rows = rows;
  table.cols = spec.cols;
  table.values.resize(static_cast<size_t>(rows) * static_cast<size_t>(spec.cols));
  table.labels.resize(static_cast<size_t>(rows));
  workload::Rng rng = workload::StreamRng(seed, 100 + stream);
  for (int64_t r = 0; r < rows; ++r) {
    float* row = &table.values[static_cast<size_t>(r) * static_cast<size_t>(spec.cols)];
    for (int32_t c = 0; c < spec.cols; ++c) row[c] = DrawFeature(KindOf(c), rng);
    float label;
    if (spec.task == Task::kMulticlass) {
      // The class whose score, blurred by noise, is highest.
      int best = 0;
      double best_score = -1e300;
      for (int o = 0; o < outputs; ++o) {
        double s = rules[static_cast<size_t>(o)].Score(row) + Gaussish(rng);
        if (s > best_score) best_score = s, best = o;
      }
      label = static_cast<float>(best);
    } else {
      label = static_cast<float>(rules[0].Score(row) + 0.5 * Gaussish(rng));
    }
    table.labels[static_cast<size_t>(r)] = label;
  }
  return table;
}

}  // namespace xgb
