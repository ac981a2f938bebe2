// Gradient-boosted trees through libxgboost's C API: the hist method, a fixed
// thread count and seed, so that the same inputs give bit-identical models.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "xgboost/tabular.h"

namespace xgb {

struct TrainOptions {
  int rounds = 0;
  int threads = 2;
  uint64_t seed = 1;
};

struct TrainResult {
  std::string metric;  // XGBoost's evaluation on the held-out table, e.g. "test-rmse:0.5123"
  double metric_value = 0;
  std::vector<float> predictions;  // on the held-out table: one per row, or one per row and class
};

// Trains on `train` and evaluates on `test`. `train` is emptied once XGBoost
// has its own copy, so the run's footprint is XGBoost's, not ours twice.
// Exits the process with a message on any XGBoost error.
TrainResult Train(const FamilySpec& spec, Table&& train, const Table& test, const TrainOptions& options);

// Bytes the run needs at its peak, for the header line; the family sizes are
// calibrated with it.
uint64_t EstimateFootprintBytes(const FamilySpec& spec, int64_t rows, int64_t entries);

}  // namespace xgb
