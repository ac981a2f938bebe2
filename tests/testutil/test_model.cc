#include "testutil/test_model.h"

#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <random>

#include "testutil/testutil.h"

namespace prescient::testing {

RetNetWeights RandomWeights(const RetNetConfig& config, uint64_t seed) {
  RetNetWeights w;
  EXPECT_TRUE(RetNetWeights::Create(config, &w).ok());
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  for (const auto& t : RetNetTensors(config)) {
    float* p = w.mutable_data() + t.offset;
    const bool gain = t.name.ends_with(".gain");
    const float scale = t.shape.size() == 2 && t.name != "embed" ? 1.0f / std::sqrt(static_cast<float>(t.shape[0])) : 0.5f;
    for (size_t i = 0; i < t.size(); ++i) p[i] = gain ? 1.0f + 0.2f * normal(rng) : scale * normal(rng);
  }
  return w;
}

Vocabulary TestVocabulary() { return {.map_ordinals = 4, .deltas = {1, -1, 2}}; }

const std::string& TestModelPath() {
  static const std::unique_ptr<TempDir> dir = std::make_unique<TempDir>();
  static const std::string path = [] {
    std::string p = dir->file("test.model");
    Vocabulary v = TestVocabulary();
    RetNetWeights w = RandomWeights(RetNetConfig::Default(v.size() - 1), 3);
    w.set_provenance({{"vocabulary", v.ToJson()}});
    Status st = w.Save(p);
    EXPECT_TRUE(st.ok()) << st.ToString();
    return p;
  }();
  return path;
}

}  // namespace prescient::testing
