#include "xgboost/train.h"

#include <xgboost/c_api.h>

#include <cstdio>
#include <cstdlib>
#include <limits>
#include <string>

#include <fmt/core.h>

namespace xgb {
namespace {

// Every C API call returns 0 or -1; on -1 the reason is in XGBGetLastError.
#define XGB_CHECK(call)                                                         \
  do {                                                                          \
    if ((call) != 0) {                                                          \
      fmt::print(stderr, "xgboost: {} failed: {}\n", #call, XGBGetLastError()); \
      std::exit(1);                                                             \
    }                                                                           \
  } while (0)

DMatrixHandle MakeDMatrix(const Table& t, int threads) {
  DMatrixHandle m = nullptr;
  if (t.sparse) {
    // Absent entries in CSR are missing values, which is what one-hot
    // zeros mean to XGBoost's sparsity-aware splits.
    XGB_CHECK(XGDMatrixCreateFromCSREx(t.indptr.data(), t.indices.data(), t.values.data(), t.indptr.size(),
                                       t.values.size(), static_cast<size_t>(t.cols), &m));
  } else {
    XGB_CHECK(XGDMatrixCreateFromMat_omp(t.values.data(), static_cast<bst_ulong>(t.rows),
                                         static_cast<bst_ulong>(t.cols),
                                         /*missing=*/std::numeric_limits<float>::quiet_NaN(), &m, threads));
  }
  XGB_CHECK(XGDMatrixSetFloatInfo(m, "label", t.labels.data(), static_cast<bst_ulong>(t.labels.size())));
  return m;
}

const char* Objective(Task task) {
  switch (task) {
    case Task::kRegression:
      return "reg:squarederror";
    case Task::kBinary:
      return "binary:logistic";
    default:
      return "multi:softprob";
  }
}

const char* Metric(Task task) {
  switch (task) {
    case Task::kRegression:
      return "rmse";
    case Task::kBinary:
      return "logloss";
    default:
      return "mlogloss";
  }
}

void SetParams(BoosterHandle b, const FamilySpec& spec, const TrainOptions& options) {
  std::string seed = std::to_string(options.seed), threads = std::to_string(options.threads);
  std::string depth = std::to_string(spec.max_depth), classes = std::to_string(spec.classes);
  const std::pair<const char*, const char*> params[] = {
      {"verbosity", "0"},  // the last line of output must stay the checksum
      {"tree_method", "hist"},
      {"nthread", threads.c_str()},
      {"seed", seed.c_str()},
      {"objective", Objective(spec.task)},
      {"eval_metric", Metric(spec.task)},
      {"max_depth", depth.c_str()},
      {"eta", "0.3"},
      {"max_bin", "256"},
      // Row and column sampling draw from XGBoost's own seeded generator:
      // deterministic for a fixed seed and thread count.
      {"subsample", "0.8"},
      {"colsample_bytree", "0.8"},
  };
  for (const auto& [key, value] : params) XGB_CHECK(XGBoosterSetParam(b, key, value));
  if (spec.task == Task::kMulticlass) XGB_CHECK(XGBoosterSetParam(b, "num_class", classes.c_str()));
}

}  // namespace

TrainResult Train(const FamilySpec& spec, Table&& train, const Table& test, const TrainOptions& options) {
  XGB_CHECK(XGBSetGlobalConfig("{\"verbosity\": 0}"));
  DMatrixHandle dtrain = MakeDMatrix(train, options.threads);
  train = Table();  // XGBoost copied it
  DMatrixHandle dtest = MakeDMatrix(test, options.threads);

  BoosterHandle booster = nullptr;
  XGB_CHECK(XGBoosterCreate(&dtrain, 1, &booster));
  SetParams(booster, spec, options);
  for (int round = 0; round < options.rounds; ++round) XGB_CHECK(XGBoosterUpdateOneIter(booster, round, dtrain));

  TrainResult result;
  const char* names[] = {"test"};
  const char* eval = nullptr;
  XGB_CHECK(XGBoosterEvalOneIter(booster, options.rounds - 1, &dtest, names, 1, &eval));
  // "[19]\ttest-rmse:0.512345": keep what follows the tab.
  std::string text = eval;
  result.metric = text.substr(text.find('\t') + 1);
  result.metric_value = std::strtod(result.metric.substr(result.metric.rfind(':') + 1).c_str(), nullptr);

  bst_ulong length = 0;
  const float* predictions = nullptr;
  XGB_CHECK(
      XGBoosterPredict(booster, dtest, /*option_mask=*/0, /*ntree_limit=*/0, /*training=*/0, &length, &predictions));
  result.predictions.assign(predictions, predictions + length);

  XGB_CHECK(XGBoosterFree(booster));
  XGB_CHECK(XGDMatrixFree(dtest));
  XGB_CHECK(XGDMatrixFree(dtrain));
  return result;
}

uint64_t EstimateFootprintBytes(const FamilySpec& spec, int64_t rows, int64_t entries) {
  // Per entry, measured: dense 12 B (XGBoost's 8 B page entry next to our
  // 4 B value while it copies), CSR 24 B (our 8 B, XGBoost's page as it
  // grows, then its bin index). Per row and output: gradient pair, prediction
  // cache, label and row partition, ~24 B. Dense histograms: 16 B per bin,
  // up to 256 bins per column, for every node of one tree.
  uint64_t per_entry = spec.sparse ? 24 : 12;
  uint64_t outputs = spec.task == Task::kMulticlass ? static_cast<uint64_t>(spec.classes) : 1;
  uint64_t per_row = 12 * outputs + 12;
  uint64_t nodes = (uint64_t{2} << spec.max_depth) - 1;
  uint64_t histograms = spec.sparse ? 0 : nodes * static_cast<uint64_t>(spec.cols) * 256 * 16;
  constexpr uint64_t kLibrary = uint64_t{12} << 20;
  return static_cast<uint64_t>(entries) * per_entry + static_cast<uint64_t>(rows) * per_row + histograms + kLibrary;
}

}  // namespace xgb
