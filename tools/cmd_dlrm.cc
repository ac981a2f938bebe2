// `prescient dlrm train`: trains the DLRM on the synthetic click log with
// its embeddings in an EmbeddingStore (DESIGN.md B, issue 6).
//
//   prescient dlrm train [--pool FILE | --memnode HOST:PORT] --batches 2000 --seed 1 [--small]
//       [--placement near|host] [--checkpoint relaxed|strict|stop-the-world|differential|none] [--resume] ...
//
// Without --pool or --memnode the tables live in this process's DRAM.
//
// Progress goes to stderr; the last line on stdout is one JSON object with
// at least batches_done, auc, loss, samples_per_s and recovered_from_batch.
#include <cstdio>
#include <fstream>
#include <memory>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "commands.h"
#include "list_flags.h"
#include "token_flags.h"

#include "common/file_io.h"
#include "memnode/dram_embedding_store.h"
#include "memnode/pmem_embedding_store.h"
#include "transport/remote_embedding_store.h"
#include "recsys/trainer.h"

namespace prescient::cli {

namespace {

struct DlrmArgs {
  std::string store = "dram";
  std::string placement = "near", checkpoint = "relaxed", dense_opt = "adagrad", sparse_opt = "adagrad", pooling = "sum";
  std::string checkpoint_dir, json, bottom, top;
  std::string pool, memnode, pool_latency, pool_undo_log = "auto", digest_log;
  bool small = false, strict = false, resume = false, quiet = false, report_digests = false, no_catch_up = false;
  uint64_t seed = 1, batches = 2000, rows = 0;
  uint32_t dim = 0, batch_size = 0, hot = 1, checkpoint_every = 100, full_every = 8, max_gap = 8, dense_slices = 0, eval_every = 0,
           eval_samples = 0;
  double lr = 0.05, sparse_lr = 0.05;
  int threads = 1;
  TokenFlags token;
  std::string memnode_token;  // what `token` resolves to, read once by Train
};

int Fail(const std::string& message) {
  fmt::print(stderr, "prescient dlrm train: {}\n", message);
  return 2;
}

Status ParseWidths(const std::string& text, std::vector<int64_t>* out) {
  out->clear();
  for (const std::string& w : SplitList(text)) {
    char* end = nullptr;
    const long long v = std::strtoll(w.c_str(), &end, 10);
    if (end == w.c_str() || *end != '\0' || v < 1) return Status::InvalidArgument(fmt::format("'{}' is not a layer width", w));
    out->push_back(v);
  }
  return Status::Ok();
}

// THE place where stores are made by name:
//   --store dram (default)    this process's memory; gone with it;
//   --pool FILE               a local PmemEmbeddingStore: created with the
//                             model's tables and seed when FILE is absent,
//                             opened and recovered (undo log rolled back)
//                             when present; a corrupt or foreign file is
//                             refused by the pool and never overwritten;
//   --memnode HOST:PORT       the pool a memory node serves (its own --pool).
Status MakeStore(const DlrmArgs& a, const DlrmOptions& o, std::unique_ptr<EmbeddingStore>* out) {
  const std::vector<TableSpec> tables = o.data.Tables(o.dim);
  if (a.store == "dram") {
    *out = std::make_unique<DramEmbeddingStore>(tables, o.data.seed);
    return Status::Ok();
  }
  if (a.store == "pool") {
    PmemPoolOptions po;
    // The snapshot baselines recover from their own files; an undo log
    // under them would charge them for a guarantee they do not use (D87).
    const bool snapshots = o.checkpoint == CheckpointMode::kStopTheWorld || o.checkpoint == CheckpointMode::kDifferential;
    if (a.pool_undo_log == "on" || a.pool_undo_log == "sync") po.undo_log = true;
    else if (a.pool_undo_log == "off") po.undo_log = false;
    else if (a.pool_undo_log == "auto") po.undo_log = !snapshots;
    else return Status::InvalidArgument(fmt::format("--pool-undo-log {}: expected on, sync, off or auto", a.pool_undo_log));
    po.log_ahead = a.pool_undo_log != "sync";
    if (!po.undo_log && !snapshots && o.checkpoint != CheckpointMode::kNone) {
      return Status::InvalidArgument(fmt::format("--checkpoint {} keeps the embeddings with the pool's undo log; it cannot be off",
                                                 CheckpointModeName(o.checkpoint)));
    }
    if (!a.pool_latency.empty()) PRESCIENT_RETURN_IF_ERROR(ParsePoolLatency(a.pool_latency, &po.latency));
    Status st;
    auto store = PmemEmbeddingStore::OpenOrCreate(a.pool, tables, o.data.seed, po, &st);
    if (store == nullptr) return st;
    const PoolRecovery& r = store->recovery();
    if (r.rolled_back) spdlog::info("dlrm: pool {} rolled back batch {} ({} rows) in {:.3f} s", a.pool, r.batch, r.rows_restored, r.seconds);
    if (r.torn) spdlog::warn("dlrm: pool {} holds part of batch {} (no undo log); the checkpoint restores it", a.pool, r.batch);
    *out = std::move(store);
    return Status::Ok();
  }
  if (a.store == "memnode") {
    Status st;
    RemotePoolOptions remote;
    remote.token = a.memnode_token;
    auto store = RemoteEmbeddingStore::Connect(a.memnode, remote, &st);
    if (store == nullptr) return st;
    // Start() checks the shapes; the rows must also have begun from this seed.
    if (store->seed() != o.data.seed) {
      return Status::InvalidArgument(fmt::format("the memory node's pool ({}) was initialised with seed {}, this run uses {}",
                                                 store->describe(), store->seed(), o.data.seed));
    }
    *out = std::move(store);
    return Status::Ok();
  }
  return Status::InvalidArgument(fmt::format("--store {}: unknown store (known: dram, pool, memnode)", a.store));
}
// Whether the store outlives this process (a resume needs one, unless the
// checkpoint files hold the rows themselves).
bool StoreSurvivesRestart(const DlrmArgs& a) { return a.store != "dram"; }

// Digests for fault injection: every row and Adagrad accumulator of every
// table, and the dense state, whole and per checkpoint slice. A reference
// run logs them per batch (--digest-log); a recovered run prints them as of
// the recovered batch, so a driver can check both bit for bit.
std::string Hex(uint64_t v) { return fmt::format("{:016x}", v); }

Status DigestStore(EmbeddingStore& store, std::string* out) {
  std::string parts;
  std::vector<uint32_t> ids;
  std::vector<float> buf;
  for (uint32_t t = 0; t < store.tables().size(); ++t) {
    const TableSpec& spec = store.tables()[t];
    for (uint64_t first = 0; first < spec.rows; first += 16384) {
      const uint64_t n = std::min<uint64_t>(16384, spec.rows - first);
      ids.resize(n);
      for (uint64_t i = 0; i < n; ++i) ids[i] = static_cast<uint32_t>(first + i);
      buf.resize(n * (spec.dim + 1));
      PRESCIENT_RETURN_IF_ERROR(store.GatherRows(t, ids, buf.data()));
      PRESCIENT_RETURN_IF_ERROR(store.GatherAdagradState(t, ids, buf.data() + n * spec.dim));
      const uint64_t h = Fnv1a64(std::string_view(reinterpret_cast<const char*>(buf.data()), buf.size() * sizeof(float)));
      parts.append(reinterpret_cast<const char*>(&h), sizeof h);
    }
  }
  *out = Hex(Fnv1a64(parts));
  return Status::Ok();
}

std::string DigestFloats(const float* p, size_t n) { return Hex(Fnv1a64(std::string_view(reinterpret_cast<const char*>(p), n * sizeof(float)))); }

struct Digests {
  std::string emb, dense;
  std::vector<std::string> slices;
};

Status DigestAll(EmbeddingStore& store, const DlrmTrainer& trainer, Digests* d) {
  PRESCIENT_RETURN_IF_ERROR(DigestStore(store, &d->emb));
  const std::vector<float> dense = trainer.DenseState();
  d->dense = DigestFloats(dense.data(), dense.size());
  d->slices.clear();
  for (const auto& [b, e] : trainer.DenseSlices()) d->slices.push_back(DigestFloats(dense.data() + b, e - b));
  return Status::Ok();
}

int Train(DlrmArgs a) {
  // Logs go to stderr: stdout's last line is the JSON report.
  spdlog::set_default_logger(spdlog::stderr_color_mt("dlrm"));
  if (!a.pool.empty() && !a.memnode.empty()) return Fail("--pool and --memnode are two different stores; give one");
  if ((!a.pool.empty() || !a.memnode.empty()) && a.store != "dram") return Fail("--store is implied by --pool / --memnode");
  if (!a.pool.empty()) a.store = "pool";
  if (!a.memnode.empty()) a.store = "memnode";
  if (a.store != "memnode" && !a.token.file.empty()) return Fail("--token-file is only used with --memnode; add --memnode HOST:PORT or drop --token-file");
  if (a.store == "memnode") {
    if (Status s = TokenFromFlags(a.token, &a.memnode_token); !s.ok()) return Fail(s.message());
  }
  if (a.store != "pool" && (!a.pool_latency.empty() || a.pool_undo_log != "auto")) return Fail("--pool-latency and --pool-undo-log need --pool FILE (a memory node takes its own)");
  DlrmOptions o;
  // --small: a minute-scale configuration for CI and quick checks.
  o.data.max_rows = a.small ? 2000 : 100000;
  o.dim = a.small ? 8 : 16;
  o.batch_size = a.small ? 128 : 256;
  o.eval_samples = a.small ? 8192 : 16384;
  if (a.small) o.bottom = o.top = {32};
  if (a.rows) o.data.max_rows = a.rows;
  if (a.dim) o.dim = a.dim;
  if (a.batch_size) o.batch_size = a.batch_size;
  if (a.eval_samples) o.eval_samples = a.eval_samples;
  if (!a.bottom.empty()) {
    if (Status s = ParseWidths(a.bottom, &o.bottom); !s.ok()) return Fail("--bottom: " + s.message());
  }
  if (!a.top.empty()) {
    if (Status s = ParseWidths(a.top, &o.top); !s.ok()) return Fail("--top: " + s.message());
  }
  o.data.seed = a.seed;
  o.data.hot = a.hot;
  o.batches = a.batches;
  o.dense_lr = a.lr;
  o.sparse.lr = static_cast<float>(a.sparse_lr);
  o.threads = a.threads;
  o.checkpoint_every = a.checkpoint_every;
  o.full_every = a.full_every;
  o.max_gap = a.max_gap;
  o.dense_slices = a.dense_slices;
  o.dense_catch_up = !a.no_catch_up;
  o.eval_every = a.eval_every;
  o.progress = !a.quiet;
  // A local pool keeps its dense checkpoint beside it, so FILE and
  // FILE.ckpt are the whole state of a run.
  o.checkpoint_dir = !a.checkpoint_dir.empty() ? a.checkpoint_dir : a.store == "pool" ? a.pool + ".ckpt" : "dlrm-checkpoint";

  if (a.placement == "near") o.placement = Placement::kNear;
  else if (a.placement == "host") o.placement = Placement::kHost;
  else return Fail(fmt::format("--placement {}: expected near or host", a.placement));
  if (a.checkpoint == "relaxed" || a.checkpoint == "undo") o.checkpoint = a.strict ? CheckpointMode::kStrict : CheckpointMode::kRelaxed;
  else if (a.checkpoint == "strict") o.checkpoint = CheckpointMode::kStrict;
  else if (a.checkpoint == "stop-the-world") o.checkpoint = CheckpointMode::kStopTheWorld;
  else if (a.checkpoint == "differential") o.checkpoint = CheckpointMode::kDifferential;
  else if (a.checkpoint == "none") o.checkpoint = CheckpointMode::kNone;
  else return Fail(fmt::format("--checkpoint {}: expected relaxed (or undo), strict, stop-the-world, differential or none", a.checkpoint));
  if (a.strict && o.checkpoint != CheckpointMode::kStrict) return Fail(fmt::format("--strict applies to --checkpoint relaxed, not {}", a.checkpoint));
  if (a.dense_opt == "sgd") o.dense_optimizer = DenseOptimizer::kSgd;
  else if (a.dense_opt == "adagrad") o.dense_optimizer = DenseOptimizer::kAdagrad;
  else return Fail(fmt::format("--dense-opt {}: expected sgd or adagrad", a.dense_opt));
  if (a.sparse_opt == "sgd") o.sparse.kind = SparseOptimizer::kSgd;
  else if (a.sparse_opt == "adagrad") o.sparse.kind = SparseOptimizer::kRowWiseAdagrad;
  else return Fail(fmt::format("--sparse-opt {}: expected sgd or adagrad (row-wise)", a.sparse_opt));
  if (a.pooling == "sum") o.pooling = Pooling::kSum;
  else if (a.pooling == "mean") o.pooling = Pooling::kMean;
  else return Fail(fmt::format("--pooling {}: expected sum or mean", a.pooling));
  if (Status s = o.Validate(); !s.ok()) return Fail(s.message());
  if (a.resume && !StoreSurvivesRestart(a) && (o.checkpoint == CheckpointMode::kRelaxed || o.checkpoint == CheckpointMode::kStrict)) {
    return Fail(fmt::format("--resume with --store {} and --checkpoint {}: the embeddings live only in this process's memory; "
                            "use a persistent store, or --checkpoint stop-the-world|differential, whose files hold the rows",
                            a.store, CheckpointModeName(o.checkpoint)));
  }

  std::unique_ptr<EmbeddingStore> store;
  if (Status s = MakeStore(a, o, &store); !s.ok()) return Fail(s.message());
  std::unique_ptr<DlrmTrainer> trainer;
  std::FILE* digest_log = nullptr;
  Digests d;
  auto log_digests = [&](uint64_t batch) -> Status {
    PRESCIENT_RETURN_IF_ERROR(DigestAll(*store, *trainer, &d));
    fmt::print(digest_log, "{} {} {} {}\n", batch, d.emb, d.dense, fmt::join(d.slices, ","));
    return Status::Ok();
  };
  Status digest_status;
  if (!a.digest_log.empty()) {
    digest_log = std::fopen(a.digest_log.c_str(), a.resume ? "a" : "w");
    if (digest_log == nullptr) return Fail(fmt::format("cannot write {}", a.digest_log));
    o.on_commit = [&](uint64_t batch) {
      if (Status s = log_digests(batch + 1); !s.ok() && digest_status.ok()) digest_status = s;
    };
  }
  if (Status s = DlrmTrainer::Open(o, store.get(), a.resume, &trainer); !s.ok()) return Fail(s.message());
  // The state training starts from, for the fault-injection checks.
  // (A pass over every row: only when asked, as a big remote pool would pay it on the link.)
  Digests start;
  if (a.report_digests || digest_log) {
    if (Status s = DigestAll(*store, *trainer, &start); !s.ok()) return Fail(s.message());
  }
  auto* remote = dynamic_cast<RemoteEmbeddingStore*>(store.get());
  const uint64_t wire0 = remote ? remote->bytes_sent() + remote->bytes_received() : 0;
  if (digest_log) {
    if (Status s = log_digests(trainer->next_batch()); !s.ok()) return Fail(s.message());
  }
  fmt::print(stderr, "prescient dlrm train: {} tables of dim {} on {}, placement {}, checkpoint {}, batches {} -> {} of {}\n",
             o.data.Tables(o.dim).size(), o.dim, store->describe(), PlacementName(o.placement), CheckpointModeName(o.checkpoint),
             trainer->next_batch(), o.batches, o.batch_size);
  if (Status s = trainer->Train(); !s.ok()) return Fail(s.message());
  const uint64_t wire_bytes = remote ? remote->bytes_sent() + remote->bytes_received() - wire0 : 0;
  if (!digest_status.ok()) return Fail(digest_status.message());
  if (digest_log) std::fclose(digest_log);
  DlrmReport report;
  if (Status s = trainer->Finish(&report); !s.ok()) return Fail(s.message());
  fmt::print(stderr, "held-out: loss {:.4f}, accuracy {:.4f}, AUC {:.4f} (the hidden rule's own logits: AUC {:.4f}, loss {:.4f}); "
             "{:.0f} samples/s; checkpoint {:.2f}% of training time\n",
             report.eval.loss, report.eval.accuracy, report.eval.auc, report.ceiling.auc, report.ceiling.loss, report.samples_per_s,
             report.checkpoint_overhead_pct);
  nlohmann::json j = report.ToJson();
  if (remote) {
    // What really crossed the link while training (frames, headers included;
    // the node keeps Prepare's indices, so Lookup and Update do not resend them).
    j["wire_bytes_per_batch"] = report.batches_this_run ? static_cast<double>(wire_bytes) / static_cast<double>(report.batches_this_run) : 0.0;
  }
  j["recovered_slice_batches"] = trainer->RecoveredSliceBatches();
  if (a.report_digests || digest_log) {
    j["start_emb_digest"] = start.emb;
    j["start_dense_digest"] = start.dense;
    j["start_slice_digests"] = start.slices;
  }
  if (!a.json.empty()) {
    std::ofstream f(a.json);
    f << j.dump(2) << "\n";
    if (!f) return Fail(fmt::format("cannot write {}", a.json));
  }
  fmt::print("{}\n", j.dump());
  return 0;
}

}  // namespace

void AddDlrmCommand(CLI::App& app, int* exit_code) {
  auto* dlrm = app.add_subcommand("dlrm", "Recommendation training with embeddings in a persistent, near-memory pool");
  dlrm->require_subcommand(1);
  auto* cmd = dlrm->add_subcommand("train", "Train a DLRM on a synthetic Criteo-shaped click log");
  auto a = std::make_shared<DlrmArgs>();
  cmd->add_option("--store", a->store, "Where the embedding tables live: dram (or use --pool / --memnode)")->capture_default_str();
  cmd->add_option("--pool", a->pool, "Keep the tables in this persistent pool file (created when absent, recovered when present)");
  cmd->add_option("--memnode", a->memnode, "Keep the tables in the pool a memory node serves (HOST:PORT)");
  AddTokenFlags(cmd, "the --memnode's shared secret", &a->token);
  cmd->add_option("--pool-latency", a->pool_latency, "--pool: extra PMEM-like latency: pmem, pmem:DRAM_NS, READ_NS,WRITE_NS or off");
  cmd->add_option("--pool-undo-log", a->pool_undo_log, "--pool: on (written beside the lookups), sync (inside prepare), off, or auto (off for stop-the-world/differential)")->capture_default_str();
  cmd->add_flag("--report-digests", a->report_digests, "Report digests of the rows and dense state training starts from (fault injection)");
  cmd->add_option("--digest-log", a->digest_log, "Append 'BATCH EMB DENSE SLICES' digests at the start and after every commit (fault injection)");
  cmd->add_flag("--small", a->small, "A small configuration (2000 rows per table, dim 8, batch 128)");
  cmd->add_option("--batches", a->batches, "Train until this many batches are done")->capture_default_str();
  cmd->add_option("--seed", a->seed, "Seed of the data, the hidden rule and the initial weights")->capture_default_str();
  // 0 stands for "the default" inside; given on the command line it is refused, not quietly replaced.
  const CLI::Range at_least_one(uint64_t{1}, uint64_t{UINT32_MAX});
  cmd->add_option("--rows", a->rows, "Rows per table: Criteo's cardinalities capped here (default 100000, --small 2000)")->check(at_least_one);
  cmd->add_option("--dim", a->dim, "Embedding dimension (default 16, --small 8)")->check(at_least_one);
  cmd->add_option("--batch-size", a->batch_size, "Samples per batch (default 256, --small 128)")->check(at_least_one);
  cmd->add_option("--hot", a->hot, "Indices per sparse feature per sample")->capture_default_str();
  cmd->add_option("--bottom", a->bottom, "Bottom MLP hidden widths, comma-separated (default 64,32; --small 32)");
  cmd->add_option("--top", a->top, "Top MLP hidden widths, comma-separated (default 64,32; --small 32)");
  cmd->add_option("--lr", a->lr, "Dense learning rate")->capture_default_str();
  cmd->add_option("--sparse-lr", a->sparse_lr, "Embedding learning rate")->capture_default_str();
  cmd->add_option("--dense-opt", a->dense_opt, "Dense optimizer: sgd or adagrad")->capture_default_str();
  cmd->add_option("--sparse-opt", a->sparse_opt, "Embedding optimizer: sgd or adagrad (row-wise)")->capture_default_str();
  cmd->add_option("--pooling", a->pooling, "Bag pooling: sum or mean")->capture_default_str();
  cmd->add_option("--placement", a->placement, "near: the store pools and updates; host: rows come to the trainer and go back")->capture_default_str();
  cmd->add_option("--checkpoint", a->checkpoint, "relaxed (undo), strict, stop-the-world, differential or none")->capture_default_str();
  cmd->add_flag("--strict", a->strict, "With relaxed: keep the dense checkpoint exactly at the embeddings' batch");
  cmd->add_option("--max-gap", a->max_gap, "relaxed: batches the dense checkpoint may trail the embeddings")->capture_default_str();
  cmd->add_option("--dense-slices", a->dense_slices, "relaxed: slices of the dense state (0: (max-gap + 1) / 2)")->capture_default_str();
  cmd->add_flag("--no-catch-up", a->no_catch_up,
                "relaxed: after a recovery, train on with the restored dense state as it is, instead of first replaying the batches its slices missed");
  cmd->add_option("--checkpoint-every", a->checkpoint_every, "stop-the-world, differential: batches between checkpoints")->capture_default_str();
  cmd->add_option("--full-every", a->full_every, "differential: diffs between full checkpoints")->capture_default_str();
  cmd->add_option("--checkpoint-dir", a->checkpoint_dir, "Directory of the checkpoint files (default ./dlrm-checkpoint)");
  cmd->add_flag("--resume", a->resume, "Continue from the recovered batch after a crash");
  cmd->add_option("--eval-every", a->eval_every, "Batches between held-out evaluations (0: at the end)")->capture_default_str();
  cmd->add_option("--eval-samples", a->eval_samples, "Held-out samples (default 16384, --small 8192)")->check(at_least_one);
  cmd->add_option("--threads", a->threads, "Torch threads (1 is deterministic)")->capture_default_str();
  cmd->add_option("--json", a->json, "Also write the report here");
  cmd->add_flag("--quiet", a->quiet, "No progress lines");
  cmd->callback([a, exit_code] { *exit_code = Train(*a); });
}

}  // namespace prescient::cli
