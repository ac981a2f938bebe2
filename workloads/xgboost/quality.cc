#include "xgboost/quality.h"

#include <algorithm>
#include <cmath>

#include <fmt/core.h>

namespace xgb {

std::string DescribeQuality(const FamilySpec& spec, const Table& test, const std::vector<float>& predictions) {
  const size_t rows = test.labels.size();
  if (rows == 0) return "no held-out rows";
  if (spec.task == Task::kRegression) {
    double mean = 0, model = 0, baseline = 0;
    for (float y : test.labels) mean += y;
    mean /= static_cast<double>(rows);
    for (size_t r = 0; r < rows; ++r) {
      model += (predictions[r] - test.labels[r]) * (predictions[r] - test.labels[r]);
      baseline += (mean - test.labels[r]) * (mean - test.labels[r]);
    }
    return fmt::format("rmse {:.4f} (predicting the mean: {:.4f})", std::sqrt(model / static_cast<double>(rows)),
                       std::sqrt(baseline / static_cast<double>(rows)));
  }
  if (spec.task == Task::kBinary) {
    // Log loss against always predicting the base rate of positives.
    double positives = 0, model = 0;
    for (float y : test.labels) positives += y;
    double base = positives / static_cast<double>(rows), baseline = 0;
    for (size_t r = 0; r < rows; ++r) {
      double p = std::clamp(static_cast<double>(predictions[r]), 1e-7, 1 - 1e-7);
      double y = test.labels[r];
      model -= y * std::log(p) + (1 - y) * std::log(1 - p);
      baseline -= y * std::log(base) + (1 - y) * std::log(1 - base);
    }
    return fmt::format("logloss {:.4f} (predicting the base rate: {:.4f})", model / static_cast<double>(rows),
                       baseline / static_cast<double>(rows));
  }
  const size_t classes = static_cast<size_t>(spec.classes);
  std::vector<size_t> count(classes, 0);
  size_t correct = 0;
  for (size_t r = 0; r < rows; ++r) {
    size_t truth = static_cast<size_t>(test.labels[r]);
    const float* p = &predictions[r * classes];
    size_t guess = static_cast<size_t>(std::max_element(p, p + classes) - p);
    correct += guess == truth;
    ++count[truth];
  }
  double majority = static_cast<double>(*std::max_element(count.begin(), count.end())) / static_cast<double>(rows);
  return fmt::format("accuracy {:.4f} (majority class: {:.4f})",
                     static_cast<double>(correct) / static_cast<double>(rows), majority);
}

}  // namespace xgb
