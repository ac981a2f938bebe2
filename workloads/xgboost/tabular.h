// Generated tabular data for gradient-boosted trees: features drawn from fixed
// distributions and labels from a hidden rule plus noise, so that training
// has something real to learn (and the held-out error shows whether it did).
// The families differ in layout (dense rows vs. CSR with ~99 % zeros) and in
// task, which changes what XGBoost's hist method keeps and walks: one byte
// per cell and a handful of features per histogram for dense data, sparse
// rows and thousands of mostly empty histogram columns for CSR, and one tree
// per class per round for multiclass.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace xgb {

enum class Task { kRegression, kBinary, kMulticlass };

struct FamilySpec {
  std::string name;
  Task task;
  bool sparse;
  int64_t rows, small_rows;  // training rows; the held-out slice is extra
  int32_t cols;              // dense families only; sparse ones derive it
  int32_t classes;           // multiclass only
  int32_t rounds, small_rounds;
  int32_t max_depth;
};

// Every family, the default first.
const std::vector<FamilySpec>& Families();
const FamilySpec* FindFamily(const std::string& name);
std::vector<std::string> FamilyNames();

// Row-major dense values, or CSR (indptr/indices/values) when `sparse`.
struct Table {
  int64_t rows = 0;
  int32_t cols = 0;
  bool sparse = false;
  std::vector<float> values;
  std::vector<size_t> indptr;
  std::vector<uint32_t> indices;
  std::vector<float> labels;  // a class index for multiclass, 0/1 for binary

  size_t nonzeros() const { return values.size(); }
};

// Deterministic for (spec, rows, seed, stream). The hidden rule depends on
// the seed alone, so a training table and a held-out table generated with
// different streams follow the same rule.
Table GenerateTable(const FamilySpec& spec, int64_t rows, uint64_t seed, uint64_t stream);

}  // namespace xgb
