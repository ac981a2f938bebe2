// `prescient train --traces a.trace,b.trace --out model.bin`: trains the
// farsight policy's RetNet on the fault streams of traced runs.
//
// Each trace is replayed in the simulator under `none` at every --local
// size, which yields the demand faults a run at that size takes: the events
// the policy sees. Fresh Future Maps turn each stream into ordinals, exactly
// as a run would, and the model learns to predict the next ordinal. Nothing
// about any run's addresses reaches the weights.
#include <cstdio>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "commands.h"
#include "list_flags.h"
#include "prefetch/vocabulary.h"
#include "prescient/retnet_train.h"
#include "sim/access_stream.h"
#include "sim/simulator.h"

namespace prescient::cli {

namespace {

struct TrainArgs {
  std::string traces, out, local = "50";
  int ordinals = 8, deltas = 8, epochs = 4, window = 128, threads = 1;
  int64_t max_steps = 0;
  uint64_t seed = 1;
};

int Fail(const std::string& message) {
  fmt::print(stderr, "prescient train: {}\n", message);
  return 2;
}

int Train(const TrainArgs& a) {
  std::vector<double> locals;
  Status parsed = ParseLocalPercents(a.local, &locals);
  if (!parsed.ok()) return Fail(parsed.message());
  if (locals.empty()) return Fail("--local names no size");
  std::vector<std::string> traces = SplitList(a.traces);
  if (traces.empty()) return Fail("--traces names no trace");
  if (a.ordinals < 0 || a.ordinals > 32) return Fail(fmt::format("--ordinals {} must be 0 to 32", a.ordinals));
  if (a.deltas < 0 || a.deltas > 16) return Fail(fmt::format("--deltas {} must be 0 to 16", a.deltas));
  if (a.ordinals + a.deltas == 0) return Fail("--ordinals 0 --deltas 0 leaves the model nothing to predict");

  TrainOptions opts;
  opts.epochs = a.epochs;
  opts.window = a.window;
  opts.seed = a.seed;
  opts.threads = a.threads;
  opts.max_steps = a.max_steps;
  std::vector<std::vector<uint64_t>> streams;
  nlohmann::json sources = nlohmann::json::array();
  for (const std::string& path : traces) {
    AccessStream stream;
    Status st = LoadAccessStream(path, &stream);
    if (!st.ok()) return Fail(st.message());
    for (double pct : locals) {
      st = CheckTraceModels(a.local, path, stream, pct);
      if (!st.ok()) return Fail(st.message());
      std::vector<uint64_t> faults;
      SimConfig config;
      config.policy = "none";
      config.local_fraction = pct / 100.0;
      config.fault_log = &faults;
      SimResult result;
      st = Simulate(stream, config, &result);
      if (!st.ok()) return Fail(fmt::format("{}: {}", path, st.message()));
      fmt::print(stderr, "prescient train: {} at {:g}% local: {} faults\n", path, pct, faults.size());
      sources.push_back({{"trace", path}, {"local_pct", pct}, {"faults", faults.size()}});
      streams.push_back(std::move(faults));
    }
  }
  Vocabulary vocabulary{.map_ordinals = a.ordinals, .deltas = Vocabulary::CommonestDeltas(streams, a.ordinals, a.deltas)};
  fmt::print(stderr, "prescient train: vocabulary {}\n", vocabulary.ToJson().dump());
  std::vector<std::vector<uint8_t>> sequences;
  for (const auto& faults : streams) sequences.push_back(TokensOf(faults, vocabulary));
  opts.model = RetNetConfig::Default(vocabulary.size() - 1);
  opts.provenance = {{"sources", sources}, {"command", "prescient train"}, {"vocabulary", vocabulary.ToJson()}};

  RetNetWeights weights;
  TrainReport report;
  Status st = TrainRetNet(sequences, opts, &weights, &report);
  if (!st.ok()) return Fail(st.message());
  st = weights.Save(a.out);
  if (!st.ok()) return Fail(st.message());
  fmt::print("validation: top-1 {:.3f}, top-{} {:.3f} (always guessing the commonest ordinal: {:.3f}), loss {:.3f}; {} parameters; "
             "{:.1f} s; wrote {}\n",
             report.val_top1, opts.topk, report.val_topk, report.val_majority, report.val_loss, weights.parameter_count(), report.seconds, a.out);
  fmt::print("{}\n", report.ToJson().dump());
  return 0;
}

}  // namespace

void AddTrainCommand(CLI::App& app, int* exit_code) {
  auto* cmd = app.add_subcommand("train", "Train the farsight policy's model on traced runs");
  auto args = std::make_shared<TrainArgs>();
  cmd->add_option("--traces", args->traces, "Traces from `prescient trace`, comma-separated")->required();
  cmd->add_option("--out", args->out, "The model file to write")->required();
  cmd->add_option("--local", args->local, "Local memory sizes (%) whose fault streams to learn, comma-separated")->capture_default_str();
  cmd->add_option("--ordinals", args->ordinals, "Future Map entries per page (0: no Future Maps, deltas only)")->capture_default_str();
  cmd->add_option("--deltas", args->deltas, "Small steps between faults the vocabulary names besides the maps' ordinals")->capture_default_str();
  cmd->add_option("--epochs", args->epochs, "Passes over the training tokens")->capture_default_str();
  cmd->add_option("--window", args->window, "Tokens per training window")->capture_default_str();
  cmd->add_option("--max-steps", args->max_steps, "Stop after this many optimizer steps (0: no cap)")->capture_default_str();
  cmd->add_option("--seed", args->seed, "Seed for initialization and batching")->capture_default_str();
  cmd->add_option("--threads", args->threads, "Torch threads")->capture_default_str();
  cmd->callback([args, exit_code] { *exit_code = Train(*args); });
}

}  // namespace prescient::cli
