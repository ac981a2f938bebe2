// DlrmTrainer: a DLRM (Naumov et al. 2019) trained on the synthetic click
// log, with its embedding tables in an EmbeddingStore and its checkpoints
// kept as DESIGN.md B describes. libtorch stays behind this header.
//
// One batch N, placement `near` (the store does the embedding work):
//   Prepare(N) -> Lookup per table -> forward, backward, dense step ->
//   Update per table with the pooled gradients -> Commit(N).
// Placement `host` (the baseline) gathers the batch's distinct rows instead,
// pools and steps them here with the same embedding_ops functions, and
// scatters them back, so both placements give bit-identical models.
//
// Checkpointing:
//   relaxed         the store's undo log keeps the embeddings; the dense state
//                   goes out a slice per batch, at most max_gap batches behind;
//   strict          the same, with the whole dense state written before every
//                   commit, so recovery is exact;
//   stop-the-world  every K batches, all rows + dense state, training paused;
//   differential    every K batches, the rows changed since the last one + dense;
//   none.
// Recovery resumes at the store's next batch (relaxed, strict) or the
// checkpoint's batch (the others), so no sample is skipped or counted twice:
// batch N is always samples [N*B, (N+1)*B).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "prescient/embedding_store.h"
#include "recsys/click_log.h"
#include "recsys/metrics.h"

namespace prescient {

enum class Placement { kNear, kHost };
enum class CheckpointMode { kNone, kRelaxed, kStrict, kStopTheWorld, kDifferential };
enum class DenseOptimizer { kSgd, kAdagrad };

const char* PlacementName(Placement p);
const char* CheckpointModeName(CheckpointMode m);

struct DlrmOptions {
  ClickLogConfig data;
  uint32_t dim = 16;
  uint32_t batch_size = 256;
  uint64_t batches = 2000;                 // train until this many batches are done
  std::vector<int64_t> bottom = {64, 32};  // hidden widths of the bottom MLP (its output is dim)
  std::vector<int64_t> top = {64, 32};     // hidden widths of the top MLP (its output is the logit)
  DenseOptimizer dense_optimizer = DenseOptimizer::kAdagrad;
  double dense_lr = 0.05;
  SparseOptimizerConfig sparse = {SparseOptimizer::kRowWiseAdagrad, 0.05f, 1e-8f};
  Pooling pooling = Pooling::kSum;

  Placement placement = Placement::kNear;
  CheckpointMode checkpoint = CheckpointMode::kRelaxed;
  uint32_t checkpoint_every = 100;  // K, stop-the-world and differential
  uint32_t full_every = 8;          // differential: a full checkpoint after this many diffs
  uint32_t max_gap = 8;             // relaxed: batches the dense state may trail the embeddings
  uint32_t dense_slices = 0;        // relaxed: 0 picks (max_gap + 1) / 2
  // relaxed: after a recovery, replay the batches each restored dense slice
  // missed for the dense part alone, before training on (D92)
  bool dense_catch_up = true;
  std::string checkpoint_dir = "dlrm-checkpoint";

  uint32_t eval_every = 0;          // batches between held-out evaluations (0: at the end only)
  uint32_t eval_samples = 16384;
  int threads = 1;                  // torch intra-op threads (1: deterministic)
  bool progress = false;            // progress lines on stderr

  // Tests: called after batch N is committed (and checkpointed, if due).
  std::function<void(uint64_t batch)> on_commit;

  Status Validate() const;
  // Everything that decides the numbers: a checkpoint of another
  // fingerprint is refused.
  uint64_t Fingerprint() const;
};

struct DlrmReport {
  uint64_t batches_done = 0;      // the store's next batch at the end
  uint64_t batches_this_run = 0;
  uint64_t first_batch = 0;       // where this run started
  std::optional<uint64_t> recovered_from_batch;
  uint64_t recovered_gap = 0;     // relaxed: batches the restored dense state trailed the embeddings
  uint32_t torn_slots = 0;
  uint64_t catch_up_batches = 0;  // relaxed: batches replayed for the dense part after recovery
  // ...each with its journaled gradient: the dense state is then the
  // interrupted run's as of the embeddings' batch, bit for bit.
  bool catch_up_exact = false;
  double catch_up_seconds = 0.0;
  double train_seconds = 0.0;     // training, without evaluation
  double samples_per_s = 0.0;
  double train_loss = 0.0;        // mean over this run's last 100 batches
  ClickMetrics eval;              // held-out, at the end
  ClickMetrics ceiling;           // the hidden rule's own logits on the held-out set
  struct EvalPoint { uint64_t batch; double loss, auc; };
  std::vector<EvalPoint> evals;
  // Time on the training thread spent for checkpoints: snapshot copies,
  // waits for the dense writer, synchronous writes.
  double checkpoint_seconds = 0.0;
  double checkpoint_overhead_pct = 0.0;
  uint64_t checkpoint_bytes = 0;
  uint64_t checkpoints = 0;
  double recovery_seconds = 0.0;
  // Bytes between trainer and store per batch: indices, pooled vectors and
  // gradients (near) or whole rows both ways (host).
  double link_bytes_per_batch = 0.0;
  std::string store, placement, checkpoint;
  uint64_t max_observed_gap = 0;  // relaxed: the largest gap at any commit

  nlohmann::json ToJson() const;
};

class DlrmTrainer {
 public:
  // Starts fresh (the store must be at batch 0) or, with `resume`, recovers
  // from options.checkpoint_dir and the store. `store` must outlive the trainer.
  static Status Open(const DlrmOptions& options, EmbeddingStore* store, bool resume, std::unique_ptr<DlrmTrainer>* out);
  ~DlrmTrainer();

  // Trains until options.batches are done (or `until`, if smaller).
  Status Train(uint64_t until = UINT64_MAX);
  // Held-out metrics of the current model.
  Status Evaluate(ClickMetrics* metrics);
  // Finishes checkpoint writes, evaluates, fills the report.
  Status Finish(DlrmReport* report);
  // Crash tests: stops without finishing queued checkpoint writes.
  void Abandon();

  uint64_t next_batch() const;
  // The dense state as the checkpoint lays it out (with Adagrad, each
  // parameter followed by its accumulator).
  std::vector<float> DenseState() const;
  // DenseState()'s checkpoint slices as [begin, end) float ranges (one
  // slice, the whole state, for the modes without a sliced checkpoint), and
  // after a recovery the batch each slice's restored copy is from (empty on a
  // fresh start). Fault-injection runs check a recovery with them.
  std::vector<std::pair<size_t, size_t>> DenseSlices() const;
  std::vector<uint64_t> RecoveredSliceBatches() const;

  struct Impl;

 private:
  explicit DlrmTrainer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace prescient
