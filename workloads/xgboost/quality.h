// How good the trained model is on the held-out rows, next to what a model
// that learned nothing would score: evidence that training was meaningful.
#pragma once

#include <string>
#include <vector>

#include "xgboost/tabular.h"

namespace xgb {

// E.g. "rmse 0.61 (predicting the mean: 2.40)" for regression, log loss
// against the base rate for binary, accuracy against the majority class for
// multiclass.
std::string DescribeQuality(const FamilySpec& spec, const Table& test, const std::vector<float>& predictions);

}  // namespace xgb
