// xgboost: gradient-boosted tree training with libxgboost's hist method on
// generated tabular data. An ordinary program: it knows nothing of far
// memory. Usage: see workload_args.h; --threads defaults to 2 here, since
// XGBoost's results are reproducible only for a fixed thread count. Two flags
// of its own, for quick runs in tests:
//   --rows N      N training rows instead of the family's size
//   --rounds N    N boosting rounds instead of the family's
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include <fmt/core.h>

#include "common/checksum.h"
#include "common/output.h"
#include "common/workload_args.h"
#include "xgboost/quality.h"
#include "xgboost/tabular.h"
#include "xgboost/train.h"

namespace {

constexpr int kDefaultThreads = 2;
// The held-out slice, as a share of the training rows.
constexpr int64_t kHeldOutDivisor = 40;

// Takes `--name N` out of argv, leaving the shared flags for
// ParseWorkloadArgs (which rejects anything it does not know). Returns 0 when
// the flag is absent; exits with a message naming it when N is not in range.
int64_t TakeIntegerFlag(int* argc, char** argv, const std::string& name, int64_t min, int64_t max) {
  int64_t result = 0;
  int kept = 1;
  for (int i = 1; i < *argc; ++i) {
    if (argv[i] != name) {
      argv[kept++] = argv[i];
      continue;
    }
    if (i + 1 >= *argc) {
      fmt::print(stderr, "xgboost: {} needs a value\n", name);
      std::exit(2);
    }
    std::string value = argv[++i];
    char* end = nullptr;
    long long n = std::strtoll(value.c_str(), &end, 10);
    if (value.empty() || *end != '\0' || n < min || n > max) {
      fmt::print(stderr, "xgboost: {} '{}' must be an integer from {} to {}\n", name, value, min, max);
      std::exit(2);
    }
    result = n;
  }
  *argc = kept;
  return result;
}

}  // namespace

int main(int argc, char** argv) {
  int64_t rows_flag = TakeIntegerFlag(&argc, argv, "--rows", 100, 1'000'000'000);
  int64_t rounds_flag = TakeIntegerFlag(&argc, argv, "--rounds", 1, 100'000);
  workload::WorkloadArgs args = workload::ParseWorkloadArgs(
      argc, argv, "xgboost", "gradient-boosted trees (libxgboost, hist) on generated tabular data", xgb::FamilyNames());
  const xgb::FamilySpec& spec = *xgb::FindFamily(args.input);
  const int64_t rows = rows_flag > 0 ? rows_flag : args.small ? spec.small_rows : spec.rows;
  xgb::TrainOptions options;
  options.rounds = static_cast<int>(rounds_flag > 0 ? rounds_flag : args.small ? spec.small_rounds : spec.rounds);
  options.threads = args.threads > 0 ? args.threads : kDefaultThreads;
  options.seed = args.seed;
  fmt::print("xgboost: input={} seed={} size={} rows={} rounds={} threads={}\n", args.input, args.seed,
             args.small ? "small" : "default", rows, options.rounds, options.threads);
  std::fflush(stdout);

  workload::Stopwatch total;
  workload::Stopwatch phase;
  xgb::Table train = xgb::GenerateTable(spec, rows, args.seed, /*stream=*/0);
  xgb::Table test = xgb::GenerateTable(spec, rows / kHeldOutDivisor, args.seed, /*stream=*/1);
  workload::PrintPhase("generate", phase.Seconds());
  fmt::print("data: columns={} entries={} ({:.1f} % present) held_out_rows={} estimated_footprint={}\n", train.cols,
             train.nonzeros(), 100.0 * static_cast<double>(train.nonzeros()) / (static_cast<double>(rows) * train.cols),
             test.rows,
             workload::FormatBytes(xgb::EstimateFootprintBytes(spec, rows, static_cast<int64_t>(train.nonzeros()))));
  std::fflush(stdout);

  phase.Restart();
  xgb::TrainResult result = xgb::Train(spec, std::move(train), test, options);
  workload::PrintPhase("train", phase.Seconds());
  fmt::print("result: {} {}\n", result.metric, xgb::DescribeQuality(spec, test, result.predictions));

  workload::Checksum checksum;
  checksum.Add(static_cast<uint64_t>(result.predictions.size()));
  // Quantized, so that the digest compares models, not last-bit noise.
  for (float p : result.predictions) checksum.AddFixedPoint(p, 1e-6);
  checksum.AddFixedPoint(result.metric_value, 1e-6);
  workload::PrintPhase("total", total.Seconds());
  workload::PrintPeakRss();
  checksum.Print();
  return 0;
}
