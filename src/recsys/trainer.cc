// DlrmTrainer: the batch loop, both placements, and every checkpoint mode.
#include "recsys/trainer.h"

#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <deque>

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <torch/nn/functional/loss.h>
#include <torch/utils.h>
#include <ATen/Parallel.h>

#include "common/clock.h"
#include "memnode/embedding_ops.h"
#include "recsys/dense_checkpoint.h"
#include "recsys/dlrm_net.h"
#include "recsys/gradient_journal.h"
#include "recsys/snapshot_checkpoint.h"

namespace prescient {

struct DlrmTrainer::Impl {
  DlrmOptions o;
  EmbeddingStore* store = nullptr;
  ClickLog log;
  DlrmNet net;
  std::vector<TableSpec> tables;
  uint64_t next = 0;  // the batch to train next (== store->next_batch())

  std::unique_ptr<DenseCheckpoint> dense_ckpt;
  std::unique_ptr<GradientJournal> journal;  // relaxed: the last batches' dense gradients
  std::unique_ptr<SnapshotCheckpointer> snapshots;
  // Host placement, row-wise Adagrad: the batch's accumulators, fetched from
  // the store with the rows and written back with them, so they live (and
  // persist, and roll back) where the rows do.
  std::vector<float> host_state;

  // Held-out set, generated once.
  ClickBatch heldout;
  DlrmReport report;
  uint64_t checkpoint_ns = 0, train_ns = 0, link_bytes = 0;
  std::deque<double> recent_loss;
  uint64_t last_progress_ns = 0;
  std::vector<uint64_t> recovered_slice_batch;  // per dense slice, the batch its restored copy is from
  bool catch_up_pending = false;

  Impl(const DlrmOptions& options, EmbeddingStore* s)
      : o(options), store(s), log(options.data), net(options), tables(options.data.Tables(options.dim)) {}

  std::string DensePath() const { return o.checkpoint_dir + "/dense.ckpt"; }
  std::string JournalPath() const { return o.checkpoint_dir + "/dense.journal"; }
  Status OpenJournal(bool fresh, uint64_t fingerprint);
  // A journal from a run with a smaller --max-gap is read by the catch-up,
  // then replaced by one that holds this run's gap.
  Status ReplaceSmallJournal();
  bool journal_too_small = false;
  uint32_t Slices() const {
    if (o.checkpoint == CheckpointMode::kStrict) return 1;
    const uint32_t s = o.dense_slices ? o.dense_slices : std::max<uint32_t>(1, (o.max_gap + 1) / 2);
    return std::min<uint32_t>(s, static_cast<uint32_t>(net.flat_size()));
  }
  std::vector<float> Dense() const { return std::vector<float>(net.flat(), net.flat() + net.flat_size()); }
  void SetDense(const std::vector<float>& v) { std::memcpy(net.flat(), v.data(), v.size() * sizeof(float)); }
  // The dense checkpoint's view of the state: with Adagrad each parameter
  // followed by its accumulator, so that a slice holds both as of the same
  // batch (a replayed step needs the accumulator as of that step).
  bool Paired() const { return net.flat_size() == 2 * net.parameter_count(); }
  std::vector<float> Packed() const;
  void Unpack(const std::vector<float>& packed);

  Status Start(bool resume);
  bool HasCheckpoint() const {
    struct stat st;
    switch (o.checkpoint) {
      case CheckpointMode::kRelaxed:
      case CheckpointMode::kStrict: return ::stat(DensePath().c_str(), &st) == 0;
      case CheckpointMode::kStopTheWorld:
      case CheckpointMode::kDifferential: return ::stat((o.checkpoint_dir + "/embeddings-full.ckpt").c_str(), &st) == 0;
      case CheckpointMode::kNone: return false;
    }
    return false;
  }
  Status LookupAll(const ClickBatch& b, float* out, std::vector<std::vector<uint32_t>>* rows, std::vector<std::vector<float>>* values);
  Status TrainBatch(ClickBatch& b);
  Status CheckpointBeforeCommit(uint64_t batch);
  Status CheckpointAfterCommit(uint64_t batch);
  Status Evaluate(ClickMetrics* m);
  Status CatchUpDense();
};

namespace {

uint64_t SinceNs(uint64_t t0) { return NowNanos() - t0; }

Status MakeDir(const std::string& dir) {
  if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) return Status::FromErrno(fmt::format("creating checkpoint directory {}", dir), errno);
  return Status::Ok();
}

}  // namespace

Status DlrmTrainer::Impl::Start(bool resume) {
  if (store->tables().size() != tables.size()) {
    return Status::InvalidArgument(fmt::format("the store has {} tables; the model needs {}", store->tables().size(), tables.size()));
  }
  for (size_t t = 0; t < tables.size(); ++t) {
    const TableSpec& have = store->tables()[t];
    if (have.rows != tables[t].rows || have.dim != tables[t].dim) {
      return Status::InvalidArgument(fmt::format("store table {} is {} x {}; the model needs {} x {}", t, have.rows, have.dim, tables[t].rows, tables[t].dim));
    }
  }
  if (o.checkpoint != CheckpointMode::kNone) PRESCIENT_RETURN_IF_ERROR(MakeDir(o.checkpoint_dir));
  const uint64_t fingerprint = o.Fingerprint();
  const uint64_t t0 = NowNanos();
  // A crash before the first checkpoint became durable leaves none: the run
  // starts over, which loses nothing, as long as the store has not moved.
  if (resume && o.checkpoint != CheckpointMode::kNone && store->next_batch() == 0 && !HasCheckpoint()) {
    spdlog::warn("dlrm: no checkpoint in {} yet; starting at batch 0", o.checkpoint_dir);
    resume = false;
  }
  if (!resume) {
    if (store->next_batch() != 0) {
      return Status::InvalidArgument(fmt::format("the store ({}) is at batch {}, not at the start; resume it, or start from a fresh store",
                                                 store->describe(), store->next_batch()));
    }
    if (o.checkpoint == CheckpointMode::kRelaxed || o.checkpoint == CheckpointMode::kStrict) {
      PRESCIENT_RETURN_IF_ERROR(DenseCheckpoint::Create(DensePath(), Packed(), Slices(), fingerprint, 0, &dense_ckpt, Paired() ? 2 : 1));
      if (o.checkpoint == CheckpointMode::kRelaxed) PRESCIENT_RETURN_IF_ERROR(OpenJournal(/*fresh=*/true, fingerprint));
    } else if (o.checkpoint == CheckpointMode::kStopTheWorld || o.checkpoint == CheckpointMode::kDifferential) {
      snapshots = std::make_unique<SnapshotCheckpointer>(o.checkpoint_dir, tables, fingerprint,
                                                         o.checkpoint == CheckpointMode::kDifferential ? o.full_every : 0,
                                                         o.sparse.kind == SparseOptimizer::kRowWiseAdagrad);
      PRESCIENT_RETURN_IF_ERROR(snapshots->Clear());
      // Batch 0's checkpoint: a crash before the first K batches must still
      // find rows to restore, as the store itself may not survive.
      PRESCIENT_RETURN_IF_ERROR(snapshots->Write(*store, 0, Dense()));
    }
    next = 0;
    return Status::Ok();
  }
  switch (o.checkpoint) {
    case CheckpointMode::kNone:
      return Status::InvalidArgument("--checkpoint none keeps nothing to resume from");
    case CheckpointMode::kRelaxed:
    case CheckpointMode::kStrict: {
      // The store's undo log has put the embeddings at next_batch(); the
      // dense state comes from its slices, each at most max_gap behind.
      const uint64_t e = store->next_batch();
      RecoveredDense rec;
      PRESCIENT_RETURN_IF_ERROR(DenseCheckpoint::Recover(DensePath(), fingerprint, e, &rec, &dense_ckpt));
      const uint64_t bound = o.checkpoint == CheckpointMode::kStrict ? 0 : o.max_gap;
      if (rec.gap > bound) {
        return Status::Corruption(fmt::format("dense checkpoint {} trails the embeddings (batch {}) by {} batches, more than the bound {}",
                                              DensePath(), e, rec.gap, bound));
      }
      if (dense_ckpt->slices() != Slices()) {
        spdlog::warn("dense checkpoint {} has {} slices; continuing with them (this run would pick {})", DensePath(), dense_ckpt->slices(), Slices());
      }
      if (rec.state.size() != net.flat_size() || (Paired() && dense_ckpt->granule() != 2))
        return Status::Corruption(fmt::format("dense checkpoint {} holds {} floats in slices of granule {}; this model needs {} in granule {}", DensePath(),
                                              rec.state.size(), dense_ckpt->granule(), net.flat_size(), Paired() ? 2 : 1));
      Unpack(rec.state);
      net.SetStepCount(static_cast<int64_t>(rec.oldest_batch));
      if (o.checkpoint == CheckpointMode::kRelaxed) PRESCIENT_RETURN_IF_ERROR(OpenJournal(/*fresh=*/false, fingerprint));
      catch_up_pending = o.dense_catch_up && rec.gap > 0;
      // Without a catch-up the restored mix *is* the dense state before
      // batch e. Say so on disk: the round robin writes only after commits,
      // so a slice restored at the bound would otherwise be waited for
      // forever, and a second crash must restore this state, not an older
      // mix. A catch-up writes its result instead (a crash before then
      // recovers the same mix and replays the same batches).
      if (!catch_up_pending) {
        PRESCIENT_RETURN_IF_ERROR(dense_ckpt->WriteAllNow(e, Packed().data()));
        PRESCIENT_RETURN_IF_ERROR(ReplaceSmallJournal());
      }
      next = e;
      report.recovered_gap = rec.gap;
      report.torn_slots = rec.torn_slots;
      recovered_slice_batch = rec.slice_batch;
      break;
    }
    case CheckpointMode::kStopTheWorld:
    case CheckpointMode::kDifferential: {
      snapshots = std::make_unique<SnapshotCheckpointer>(o.checkpoint_dir, tables, fingerprint,
                                                         o.checkpoint == CheckpointMode::kDifferential ? o.full_every : 0,
                                                         o.sparse.kind == SparseOptimizer::kRowWiseAdagrad);
      std::vector<float> dense;
      PRESCIENT_RETURN_IF_ERROR(snapshots->Recover(*store, &next, &dense));
      if (dense.size() != net.flat_size()) return Status::Corruption(fmt::format("checkpoint in {} holds {} dense floats, the model has {}", o.checkpoint_dir, dense.size(), net.flat_size()));
      SetDense(dense);
      net.SetStepCount(static_cast<int64_t>(next));
      recovered_slice_batch = {next};
      break;
    }
  }
  report.recovered_from_batch = next;
  report.recovery_seconds = static_cast<double>(SinceNs(t0)) * 1e-9;
  spdlog::info("dlrm: recovered at batch {} (dense gap {} batches) in {:.3f} s", next, report.recovered_gap, report.recovery_seconds);
  return Status::Ok();
}

// Pooled vectors of every table into out (26 x B x dim). Host placement
// gathers the distinct rows first and keeps them for the update.
Status DlrmTrainer::Impl::LookupAll(const ClickBatch& b, float* out, std::vector<std::vector<uint32_t>>* rows,
                                   std::vector<std::vector<float>>* values) {
  const uint32_t d = o.dim;
  const size_t idx_bytes = b.indices[0].size() * sizeof(uint32_t) + b.offsets.size() * sizeof(uint32_t);
  for (uint32_t t = 0; t < tables.size(); ++t) {
    const Bags bags = b.bags(t);
    float* dst = out + size_t{t} * b.count * d;
    if (o.placement == Placement::kNear) {
      PRESCIENT_RETURN_IF_ERROR(store->Lookup(t, bags, o.pooling, dst));
      link_bytes += idx_bytes + size_t{b.count} * d * sizeof(float);
      continue;
    }
    std::vector<uint32_t>& r = (*rows)[t];
    std::vector<float>& v = (*values)[t];
    r = DistinctRows(bags);
    v.resize(r.size() * d);
    PRESCIENT_RETURN_IF_ERROR(store->GatherRows(t, r, v.data()));
    link_bytes += r.size() * (sizeof(uint32_t) + d * sizeof(float));
    PoolBags(bags, o.pooling, d, [&](uint32_t row) { return v.data() + (std::lower_bound(r.begin(), r.end(), row) - r.begin()) * d; }, dst);
  }
  return Status::Ok();
}

Status DlrmTrainer::Impl::TrainBatch(ClickBatch& b) {
  const uint64_t batch = next;
  const uint32_t d = o.dim, B = b.count, T = static_cast<uint32_t>(tables.size());
  std::vector<Bags> bags;
  for (uint32_t t = 0; t < T; ++t) bags.push_back(b.bags(t));
  PRESCIENT_RETURN_IF_ERROR(store->Prepare(batch, bags));
  link_bytes += T * (b.indices[0].size() + b.offsets.size()) * sizeof(uint32_t);

  auto emb = torch::empty({T, B, d});
  std::vector<std::vector<uint32_t>> rows(T);
  std::vector<std::vector<float>> values(T);
  PRESCIENT_RETURN_IF_ERROR(LookupAll(b, emb.data_ptr<float>(), &rows, &values));
  emb.requires_grad_(true);
  auto dense = torch::from_blob(b.dense.data(), {B, kDenseFeatures});
  auto labels = torch::from_blob(b.labels.data(), {B});
  auto logits = net.Forward(dense, emb);
  auto loss = torch::nn::functional::binary_cross_entropy_with_logits(logits, labels);
  net.ZeroGrad();
  loss.backward();
  // Durable before this batch commits (CheckpointBeforeCommit); written
  // while the embeddings are updated.
  if (journal) journal->Submit(batch, net.Gradients());
  net.Step();
  recent_loss.push_back(loss.item<double>());
  if (recent_loss.size() > 100) recent_loss.pop_front();

  auto grad = emb.grad().contiguous();
  const float* g = grad.data_ptr<float>();
  for (uint32_t t = 0; t < T; ++t) {
    const float* gt = g + size_t{t} * B * d;
    if (o.placement == Placement::kNear) {
      PRESCIENT_RETURN_IF_ERROR(store->Update(batch, t, bags[t], o.pooling, gt, o.sparse));
      link_bytes += (b.indices[t].size() + b.offsets.size()) * sizeof(uint32_t) + size_t{B} * d * sizeof(float);
    } else {
      // rows[t] and rg.rows are both the batch's distinct rows, ascending.
      const RowGradients rg = CoalesceGradients(bags[t], o.pooling, d, gt);
      const bool adagrad = o.sparse.kind == SparseOptimizer::kRowWiseAdagrad;
      host_state.assign(rows[t].size(), 0.0f);
      if (adagrad) {
        PRESCIENT_RETURN_IF_ERROR(store->GatherAdagradState(t, rows[t], host_state.data()));
        link_bytes += rows[t].size() * (sizeof(uint32_t) + sizeof(float));
      }
      for (size_t i = 0; i < rg.rows.size(); ++i) {
        StepRow(o.sparse, d, rg.grads.data() + i * d, values[t].data() + i * d, &host_state[i]);
      }
      PRESCIENT_RETURN_IF_ERROR(store->ScatterRows(t, rows[t], values[t].data()));
      link_bytes += rows[t].size() * (sizeof(uint32_t) + d * sizeof(float));
      if (adagrad) {
        PRESCIENT_RETURN_IF_ERROR(store->ScatterAdagradState(t, rows[t], host_state.data()));
        link_bytes += rows[t].size() * (sizeof(uint32_t) + sizeof(float));
      }
    }
    if (snapshots && o.checkpoint == CheckpointMode::kDifferential) snapshots->Touch(t, o.placement == Placement::kHost ? rows[t] : DistinctRows(bags[t]));
  }
  PRESCIENT_RETURN_IF_ERROR(CheckpointBeforeCommit(batch));
  PRESCIENT_RETURN_IF_ERROR(store->Commit(batch));
  next = batch + 1;
  PRESCIENT_RETURN_IF_ERROR(CheckpointAfterCommit(batch));
  if (o.on_commit) o.on_commit(batch);
  return Status::Ok();
}

// The restored dense slices are from batches b_i <= e, so slice i missed the
// updates of batches [b_i, e). Replays those batches in order for the dense
// part alone: a forward and backward pass on the embeddings as they are now
// (at e; they are read, never updated), one optimizer step, and the step
// undone on every slice that had already seen that batch. Every sample has
// then updated every dense parameter once, as in an uninterrupted run; what
// differs is only that the replayed passes saw the embeddings of batch e.
Status DlrmTrainer::Impl::CatchUpDense() {
  catch_up_pending = false;
  const uint64_t t0 = NowNanos(), e = next;
  const uint64_t first = *std::min_element(recovered_slice_batch.begin(), recovered_slice_batch.end());
  const uint64_t saved_link = link_bytes;
  const uint32_t T = static_cast<uint32_t>(tables.size());
  ClickBatch b;
  std::vector<std::vector<uint32_t>> rows(T);
  std::vector<std::vector<float>> values(T);
  std::vector<float> gradient;
  report.catch_up_exact = true;
  for (uint64_t t = first; t < e; ++t) {
    net.ZeroGrad();
    if (journal && journal->Read(t, &gradient)) {
      net.SetGradients(gradient.data());
    } else {
      // Not journaled (an older checkpoint directory, or a damaged slot):
      // recompute it, on the embeddings as they are at e.
      report.catch_up_exact = false;
      log.TrainBatch(t, o.batch_size, &b);
      auto emb = torch::empty({T, b.count, o.dim});
      PRESCIENT_RETURN_IF_ERROR(LookupAll(b, emb.data_ptr<float>(), &rows, &values));
      auto logits = net.Forward(torch::from_blob(b.dense.data(), {b.count, kDenseFeatures}), emb);
      auto loss = torch::nn::functional::binary_cross_entropy_with_logits(logits, torch::from_blob(b.labels.data(), {b.count}));
      loss.backward();
    }
    const std::vector<float> before = Packed();
    net.Step();
    std::vector<float> after = Packed();
    for (uint32_t i = 0; i < dense_ckpt->slices(); ++i) {
      if (recovered_slice_batch[i] <= t) continue;  // this slice missed batch t: keep the step
      const size_t lo = dense_ckpt->slice_begin(i), hi = dense_ckpt->slice_end(i);
      std::memcpy(after.data() + lo, before.data() + lo, (hi - lo) * sizeof(float));
    }
    Unpack(after);
    ++report.catch_up_batches;
  }
  link_bytes = saved_link;  // recovery, not training traffic
  PRESCIENT_RETURN_IF_ERROR(dense_ckpt->WriteAllNow(e, Packed().data()));
  PRESCIENT_RETURN_IF_ERROR(ReplaceSmallJournal());
  report.catch_up_seconds = static_cast<double>(SinceNs(t0)) * 1e-9;
  spdlog::info("dlrm: dense state caught up over batches {}..{} in {:.3f} s ({})", first, e - 1, report.catch_up_seconds,
               report.catch_up_exact ? "with their journaled gradients: exact" : "some recomputed on the current embeddings: approximate");
  return Status::Ok();
}

std::vector<float> DlrmTrainer::Impl::Packed() const {
  if (!Paired()) return Dense();
  const size_t n = net.parameter_count();
  const float* flat = net.flat();
  std::vector<float> packed(2 * n);
  for (size_t i = 0; i < n; ++i) {
    packed[2 * i] = flat[i];
    packed[2 * i + 1] = flat[n + i];
  }
  return packed;
}

void DlrmTrainer::Impl::Unpack(const std::vector<float>& packed) {
  if (!Paired()) return SetDense(packed);
  const size_t n = net.parameter_count();
  float* flat = net.flat();
  for (size_t i = 0; i < n; ++i) {
    flat[i] = packed[2 * i];
    flat[n + i] = packed[2 * i + 1];
  }
}

Status DlrmTrainer::Impl::OpenJournal(bool fresh, uint64_t fingerprint) {
  const uint32_t slots = static_cast<uint32_t>(o.max_gap + 1);
  if (!fresh) {
    Status st = GradientJournal::Open(JournalPath(), fingerprint, net.parameter_count(), &journal);
    if (st.ok()) {
      journal_too_small = journal->slots() < slots;
      return Status::Ok();
    }
    // The journal only makes the catch-up exact; without it the catch-up
    // recomputes. A damaged one is kept aside for a look, not overwritten.
    spdlog::warn("{}; the dense catch-up will recompute the gradients", st.message());
    if (st.code() != Status::Code::kNotFound) (void)::rename(JournalPath().c_str(), (JournalPath() + ".damaged").c_str());
  }
  return GradientJournal::Create(JournalPath(), fingerprint, net.parameter_count(), slots, &journal);
}

Status DlrmTrainer::Impl::ReplaceSmallJournal() {
  // Every slice is now durable at the embeddings' batch: no older gradient
  // is needed again.
  if (!journal_too_small) return Status::Ok();
  journal_too_small = false;
  journal.reset();
  return GradientJournal::Create(JournalPath(), o.Fingerprint(), net.parameter_count(), static_cast<uint32_t>(o.max_gap + 1), &journal);
}

Status DlrmTrainer::Impl::CheckpointBeforeCommit(uint64_t batch) {
  const uint64_t t0 = NowNanos();
  if (journal) PRESCIENT_RETURN_IF_ERROR(journal->WaitDurable());
  if (o.checkpoint == CheckpointMode::kStrict) {
    // The whole dense state as of "before batch+1", durable before the
    // embeddings commit; recovery picks whichever copy matches the store.
    PRESCIENT_RETURN_IF_ERROR(dense_ckpt->WriteAllNow(batch + 1, Packed().data()));
  } else if (o.checkpoint == CheckpointMode::kRelaxed && batch + 1 > o.max_gap) {
    // After this commit the embeddings are at batch+1: every slice must be
    // durable at batch+1-max_gap or later first.
    PRESCIENT_RETURN_IF_ERROR(dense_ckpt->WaitDurable(batch + 1 - o.max_gap));
  }
  if (dense_ckpt) report.max_observed_gap = std::max(report.max_observed_gap, batch + 1 - dense_ckpt->OldestDurable());
  checkpoint_ns += SinceNs(t0);
  return Status::Ok();
}

Status DlrmTrainer::Impl::CheckpointAfterCommit(uint64_t batch) {
  const uint64_t t0 = NowNanos();
  if (o.checkpoint == CheckpointMode::kRelaxed) {
    // Round robin: slice batch mod S is always the oldest one.
    dense_ckpt->Submit(static_cast<uint32_t>(batch % dense_ckpt->slices()), batch + 1, Packed().data());
  } else if (snapshots && (batch + 1) % o.checkpoint_every == 0) {
    PRESCIENT_RETURN_IF_ERROR(snapshots->Write(*store, batch + 1, Dense()));
  }
  checkpoint_ns += SinceNs(t0);
  return Status::Ok();
}

Status DlrmTrainer::Impl::Evaluate(ClickMetrics* m) {
  torch::NoGradGuard no_grad;
  const uint32_t chunk = 4096, d = o.dim;
  std::vector<float> logits;
  logits.reserve(heldout.count);
  ClickBatch part;
  std::vector<std::vector<uint32_t>> rows(tables.size());
  std::vector<std::vector<float>> values(tables.size());
  const uint64_t saved_link = link_bytes;
  for (uint32_t first = 0; first < heldout.count; first += chunk) {
    const uint32_t n = std::min(chunk, heldout.count - first);
    log.Generate(ClickStream::kHeldOut, first, n, &part);
    auto emb = torch::empty({static_cast<int64_t>(tables.size()), n, d});
    PRESCIENT_RETURN_IF_ERROR(LookupAll(part, emb.data_ptr<float>(), &rows, &values));
    auto out = net.Forward(torch::from_blob(part.dense.data(), {n, kDenseFeatures}), emb).contiguous();
    logits.insert(logits.end(), out.data_ptr<float>(), out.data_ptr<float>() + n);
  }
  link_bytes = saved_link;  // evaluation is not training traffic
  *m = ScoreLogits(logits, heldout.labels);
  return Status::Ok();
}

DlrmTrainer::DlrmTrainer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
DlrmTrainer::~DlrmTrainer() {
  if (impl_ && impl_->dense_ckpt) (void)impl_->dense_ckpt->Close();
}

Status DlrmTrainer::Open(const DlrmOptions& options, EmbeddingStore* store, bool resume, std::unique_ptr<DlrmTrainer>* out) {
  PRESCIENT_RETURN_IF_ERROR(options.Validate());
  at::set_num_threads(options.threads);
  auto impl = std::make_unique<Impl>(options, store);
  PRESCIENT_RETURN_IF_ERROR(impl->Start(resume));
  impl->log.Generate(ClickStream::kHeldOut, 0, options.eval_samples, &impl->heldout);
  impl->report.ceiling = ScoreLogits(impl->heldout.true_logits, impl->heldout.labels);
  impl->report.first_batch = impl->next;
  out->reset(new DlrmTrainer(std::move(impl)));
  return Status::Ok();
}

Status DlrmTrainer::Train(uint64_t until) {
  Impl& m = *impl_;
  until = std::min(until, m.o.batches);
  if (m.catch_up_pending) PRESCIENT_RETURN_IF_ERROR(m.CatchUpDense());
  ClickBatch b;
  while (m.next < until) {
    if (m.store->next_batch() != m.next) {
      return Status::Internal(fmt::format("the store is at batch {} but the trainer at {}", m.store->next_batch(), m.next));
    }
    const uint64_t t0 = NowNanos();
    m.log.TrainBatch(m.next, m.o.batch_size, &b);
    PRESCIENT_RETURN_IF_ERROR(m.TrainBatch(b));
    m.train_ns += SinceNs(t0);
    ++m.report.batches_this_run;
    if (m.o.eval_every && m.next % m.o.eval_every == 0 && m.next < m.o.batches) {
      ClickMetrics e;
      PRESCIENT_RETURN_IF_ERROR(m.Evaluate(&e));
      m.report.evals.push_back({m.next, e.loss, e.auc});
      if (m.o.progress) fmt::print(stderr, "dlrm: batch {}: held-out loss {:.4f}, AUC {:.4f}\n", m.next, e.loss, e.auc);
    }
    if (m.o.progress && (NowNanos() - m.last_progress_ns > 2'000'000'000ull || m.next == until)) {
      m.last_progress_ns = NowNanos();
      double loss = 0;
      for (double l : m.recent_loss) loss += l;
      const double secs = static_cast<double>(m.train_ns) * 1e-9;
      fmt::print(stderr, "dlrm: batch {}/{}  train loss {:.4f}  {:.0f} samples/s  checkpoint {:.1f}%\n", m.next, m.o.batches,
                 loss / static_cast<double>(std::max<size_t>(1, m.recent_loss.size())),
                 static_cast<double>(m.report.batches_this_run) * m.o.batch_size / std::max(secs, 1e-9),
                 100.0 * static_cast<double>(m.checkpoint_ns) / static_cast<double>(std::max<uint64_t>(1, m.train_ns)));
    }
  }
  return Status::Ok();
}

Status DlrmTrainer::Evaluate(ClickMetrics* metrics) { return impl_->Evaluate(metrics); }

Status DlrmTrainer::Finish(DlrmReport* report) {
  Impl& m = *impl_;
  if (m.dense_ckpt) {
    PRESCIENT_RETURN_IF_ERROR(m.dense_ckpt->Close());
    // The end of the run is a batch boundary like any other, but no later
    // batch brings the lagging slices up. Without this a crash after the last
    // commit (during evaluation) would resume from a mix up to --max-gap
    // batches old and end with another model than the finished run's.
    if (m.o.checkpoint == CheckpointMode::kRelaxed && m.report.batches_this_run > 0) {
      const uint64_t t0 = NowNanos();
      PRESCIENT_RETURN_IF_ERROR(m.dense_ckpt->WriteAllNow(m.next, m.Packed().data()));
      m.checkpoint_ns += SinceNs(t0);
    }
  }
  DlrmReport& r = m.report;
  PRESCIENT_RETURN_IF_ERROR(m.Evaluate(&r.eval));
  r.batches_done = m.next;
  r.train_seconds = static_cast<double>(m.train_ns) * 1e-9;
  r.samples_per_s = r.train_seconds > 0 ? static_cast<double>(r.batches_this_run) * m.o.batch_size / r.train_seconds : 0.0;
  for (double l : m.recent_loss) r.train_loss += l;
  r.train_loss /= static_cast<double>(std::max<size_t>(1, m.recent_loss.size()));
  r.checkpoint_seconds = static_cast<double>(m.checkpoint_ns) * 1e-9;
  r.checkpoint_overhead_pct = m.train_ns ? 100.0 * static_cast<double>(m.checkpoint_ns) / static_cast<double>(m.train_ns) : 0.0;
  if (m.dense_ckpt) {
    r.checkpoint_bytes = m.dense_ckpt->bytes_written() + (m.journal ? m.journal->bytes_written() : 0);
    r.checkpoints = r.batches_this_run;
  }
  if (m.snapshots) {
    r.checkpoint_bytes = m.snapshots->stats().bytes;
    r.checkpoints = m.snapshots->stats().checkpoints;
  }
  r.link_bytes_per_batch = r.batches_this_run ? static_cast<double>(m.link_bytes) / static_cast<double>(r.batches_this_run) : 0.0;
  r.store = m.store->describe();
  r.placement = PlacementName(m.o.placement);
  r.checkpoint = CheckpointModeName(m.o.checkpoint);
  *report = r;
  return Status::Ok();
}

void DlrmTrainer::Abandon() {
  if (impl_->dense_ckpt) impl_->dense_ckpt->Abandon();
}

uint64_t DlrmTrainer::next_batch() const { return impl_->next; }

std::vector<std::pair<size_t, size_t>> DlrmTrainer::DenseSlices() const {
  const size_t n = impl_->net.flat_size();
  if (!impl_->dense_ckpt) return {{0, n}};
  std::vector<std::pair<size_t, size_t>> out;
  const uint32_t s = impl_->dense_ckpt->slices();
  for (uint32_t i = 0; i < s; ++i) out.emplace_back(impl_->dense_ckpt->slice_begin(i), impl_->dense_ckpt->slice_end(i));
  return out;
}

std::vector<uint64_t> DlrmTrainer::RecoveredSliceBatches() const { return impl_->recovered_slice_batch; }
std::vector<float> DlrmTrainer::DenseState() const { return impl_->Packed(); }

}  // namespace prescient
