#include "xgboost/tabular.h"

#include "xgboost/generators.h"

namespace xgb {

const std::vector<FamilySpec>& Families() {
  // Sizes are calibrated so that a run peaks near 1 GiB by default and near
  // 60 MiB with --small (see EstimateFootprintBytes in train.h).
  static const std::vector<FamilySpec> families = {
      // Dense numeric regression: 48 columns of four value shapes.
      {.name = "dense-regression",
       .task = Task::kRegression,
       .sparse = false,
       .rows = 1'750'000,
       .small_rows = 38'000,
       .cols = 48,
       .classes = 0,
       .rounds = 40,
       .small_rounds = 20,
       .max_depth = 6},
      // Click-through-like binary classification on one-hot CSR data.
      {.name = "sparse-classification",
       .task = Task::kBinary,
       .sparse = true,
       .rows = 1'650'000,
       .small_rows = 50'000,
       .cols = 0,
       .classes = 0,
       .rounds = 40,
       .small_rounds = 20,
       .max_depth = 6},
      // Six classes over 32 dense columns: six trees per round, and six
      // gradient, hessian and prediction values per row.
      {.name = "dense-multiclass",
       .task = Task::kMulticlass,
       .sparse = false,
       .rows = 2'250'000,
       .small_rows = 60'000,
       .cols = 32,
       .classes = 6,
       .rounds = 20,
       .small_rounds = 10,
       .max_depth = 6},
  };
  return families;
}

const FamilySpec* FindFamily(const std::string& name) {
  for (const FamilySpec& f : Families())
    if (f.name == name) return &f;
  return nullptr;
}

std::vector<std::string> FamilyNames() {
  std::vector<std::string> names;
  for (const FamilySpec& f : Families()) names.push_back(f.name);
  return names;
}

Table GenerateTable(const FamilySpec& spec, int64_t rows, uint64_t seed, uint64_t stream) {
  return spec.sparse ? GenerateSparseTable(spec, rows, seed, stream) : GenerateDenseTable(spec, rows, seed, stream);
}

}  // namespace xgb
