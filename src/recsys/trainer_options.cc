// DlrmOptions and DlrmReport: checks, fingerprint and JSON, kept apart from
// trainer.cc so they compile without libtorch.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include "common/file_io.h"
#include "recsys/trainer.h"

namespace prescient {

const char* PlacementName(Placement p) { return p == Placement::kNear ? "near" : "host"; }

const char* CheckpointModeName(CheckpointMode m) {
  switch (m) {
    case CheckpointMode::kNone: return "none";
    case CheckpointMode::kRelaxed: return "relaxed";
    case CheckpointMode::kStrict: return "strict";
    case CheckpointMode::kStopTheWorld: return "stop-the-world";
    case CheckpointMode::kDifferential: return "differential";
  }
  return "?";
}

Status DlrmOptions::Validate() const {
  if (dim < 1 || dim > 1024) return Status::InvalidArgument(fmt::format("dim {} must be 1 to 1024", dim));
  if (batch_size < 1 || batch_size > (1u << 20)) return Status::InvalidArgument(fmt::format("batch size {} must be 1 to 2^20", batch_size));
  if (data.max_rows < 2) return Status::InvalidArgument(fmt::format("rows per table {} must be at least 2", data.max_rows));
  if (data.max_rows > (1ull << 31)) return Status::InvalidArgument(fmt::format("rows per table {} exceeds 2^31", data.max_rows));
  if (data.hot < 1 || data.hot > 64) return Status::InvalidArgument(fmt::format("indices per bag {} must be 1 to 64", data.hot));
  if (!(data.zipf_min > 0.0) || data.zipf_max < data.zipf_min) return Status::InvalidArgument("zipf exponents need 0 < min <= max");
  if (!(dense_lr > 0.0) || !(sparse.lr > 0.0f)) return Status::InvalidArgument("learning rates must be positive");
  for (int64_t w : bottom)
    if (w < 1) return Status::InvalidArgument("bottom MLP widths must be positive");
  for (int64_t w : top)
    if (w < 1) return Status::InvalidArgument("top MLP widths must be positive");
  if (threads < 1) return Status::InvalidArgument(fmt::format("threads {} must be at least 1", threads));
  if ((checkpoint == CheckpointMode::kStopTheWorld || checkpoint == CheckpointMode::kDifferential) && checkpoint_every < 1) {
    return Status::InvalidArgument("--checkpoint-every must be at least 1");
  }
  if (checkpoint == CheckpointMode::kRelaxed && max_gap < 1) {
    return Status::InvalidArgument("--max-gap 0 is --checkpoint strict (the dense state exactly at the embeddings' batch)");
  }
  if (checkpoint != CheckpointMode::kNone && checkpoint_dir.empty()) return Status::InvalidArgument("--checkpoint-dir is empty");
  // Row-wise Adagrad's accumulators live in the store with the rows: host
  // placement reads and writes them with the rows (GatherAdagradState), and
  // the snapshot baselines checkpoint them with the rows, so every mode and
  // placement resumes with the optimizer the run had (D86).
  return Status::Ok();
}

uint64_t DlrmOptions::Fingerprint() const {
  // Placement and checkpointing are left out: they do not change the numbers.
  std::string s = fmt::format("dlrm1 seed={} rows={} hot={} zipf={},{} dim={} batch={} bottom={} top={} dense={}:{} sparse={}:{}:{} pool={}",
                              data.seed, data.max_rows, data.hot, data.zipf_min, data.zipf_max, dim, batch_size, fmt::join(bottom, ","),
                              fmt::join(top, ","), static_cast<int>(dense_optimizer), dense_lr, static_cast<int>(sparse.kind), sparse.lr,
                              sparse.eps, static_cast<int>(pooling));
  return Fnv1a64(s);
}

nlohmann::json DlrmReport::ToJson() const {
  nlohmann::json evals_json = nlohmann::json::array();
  for (const EvalPoint& e : evals) evals_json.push_back({{"batch", e.batch}, {"loss", e.loss}, {"auc", e.auc}});
  return {{"batches_done", batches_done},
          {"batches_this_run", batches_this_run},
          {"first_batch", first_batch},
          {"auc", eval.auc},
          {"loss", eval.loss},
          {"accuracy", eval.accuracy},
          {"eval_samples", eval.samples},
          {"ceiling_auc", ceiling.auc},
          {"ceiling_loss", ceiling.loss},
          {"ceiling_accuracy", ceiling.accuracy},
          {"train_loss", train_loss},
          {"samples_per_s", samples_per_s},
          {"train_seconds", train_seconds},
          {"recovered_from_batch", recovered_from_batch ? nlohmann::json(*recovered_from_batch) : nlohmann::json(nullptr)},
          {"recovered_gap", recovered_gap},
          {"torn_slots", torn_slots},
          {"catch_up_batches", catch_up_batches},
          {"catch_up_exact", catch_up_exact},
          {"catch_up_seconds", catch_up_seconds},
          {"recovery_seconds", recovery_seconds},
          {"max_observed_gap", max_observed_gap},
          {"checkpoint_seconds", checkpoint_seconds},
          {"checkpoint_overhead_pct", checkpoint_overhead_pct},
          {"checkpoint_bytes", checkpoint_bytes},
          {"checkpoints", checkpoints},
          {"link_bytes_per_batch", link_bytes_per_batch},
          {"store", store},
          {"placement", placement},
          {"checkpoint", checkpoint},
          {"evals", evals_json}};
}

}  // namespace prescient
