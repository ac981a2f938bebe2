// The embedding pool, measured against the DRAM reference in the same run:
//   PoolBatch/<store>  one whole batch (Prepare, Lookup and Update of every
//                      table, Commit) of 2048 Criteo-like samples, one index
//                      per table, on 26 tables of ROWS x 16:
//                        dram          DramEmbeddingStore (no persistence)
//                        pmem          the pool with its undo log
//                        pmem_nolog    the pool without it (baselines)
//                        pmem_latency  the pool, reads 3x / writes 7x DRAM
//                        remote        the pool behind a memory node on
//                                      loopback, via RemoteEmbeddingStore
//                        remote_hot4   the same with 4 indices per bag
//                                      (multi-hot features)
//   PoolRecovery       reopening a ~1 GiB pool that a "crash" left with a
//                      batch in flight (goal < 1 s)
// Counters: samples/s, persist calls per batch, and for remote the bytes
// sent and received per batch next to what host-side training would move
// (every distinct row there and back, plus the indices).
// PRESCIENT_POOL_BENCH_DIR (default /tmp) holds the pool files: on a disk
// they are persisted with msync; on DAX persistent memory with pmem_persist.
// PRESCIENT_POOL_BENCH_ROWS sets ROWS (default 100000).
#include <unistd.h>

#include <cstdlib>
#include <memory>
#include <thread>
#include <vector>

#include <benchmark/benchmark.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "common/clock.h"
#include "memnode/dram_embedding_store.h"
#include "memnode/embedding_ops.h"
#include "memnode/pmem_embedding_store.h"
#include "memnode/server.h"
#include "transport/remote_embedding_store.h"

namespace prescient {
namespace {

constexpr uint32_t kTables = 26, kDim = 16, kSamples = 2048;
constexpr uint64_t kSeed = 1;

std::string BenchDir() {
  const char* d = std::getenv("PRESCIENT_POOL_BENCH_DIR");
  return d != nullptr && *d ? d : "/tmp";
}

uint64_t Rows() {
  const char* r = std::getenv("PRESCIENT_POOL_BENCH_ROWS");
  return r != nullptr && std::atoll(r) > 0 ? static_cast<uint64_t>(std::atoll(r)) : 100000;
}

std::vector<TableSpec> Tables(uint64_t rows) {
  std::vector<TableSpec> t;
  for (uint32_t i = 0; i < kTables; ++i) t.push_back({fmt::format("t{}", i), rows, kDim});
  return t;
}

uint64_t Mix(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

// `hot` indices per table per sample (1: Criteo-like), power-law popular.
struct Batch {
  std::vector<std::vector<uint32_t>> indices, offsets;
  std::vector<std::vector<float>> grads;
  std::vector<Bags> bags;
  Batch(uint64_t b, uint64_t rows, uint32_t hot = 1) {
    uint64_t h = Mix(b);
    for (uint32_t t = 0; t < kTables; ++t) {
      std::vector<uint32_t> idx(size_t{kSamples} * hot), off(kSamples + 1);
      for (uint32_t s = 0; s < kSamples; ++s) {
        for (uint32_t k = 0; k < hot; ++k) {
          double u = static_cast<double>((h = Mix(h)) >> 11) * (1.0 / 9007199254740992.0);
          idx[size_t{s} * hot + k] = static_cast<uint32_t>(static_cast<double>(rows) * u * u * u);
        }
        off[s + 1] = (s + 1) * hot;
      }
      std::vector<float> g(size_t{kSamples} * kDim);
      for (float& x : g) x = static_cast<float>(static_cast<int64_t>((h = Mix(h)) % 2001) - 1000) * 1e-3f;
      indices.push_back(std::move(idx));
      offsets.push_back(std::move(off));
      grads.push_back(std::move(g));
    }
    for (uint32_t t = 0; t < kTables; ++t) bags.push_back({indices[t], offsets[t]});
  }
};

void RunBatch(EmbeddingStore& store, const Batch& batch, std::vector<float>* pooled) {
  const uint64_t n = store.next_batch();
  SparseOptimizerConfig opt{SparseOptimizer::kRowWiseAdagrad, 0.05f, 1e-8f};
  Status st = store.Prepare(n, batch.bags);
  for (uint32_t t = 0; st.ok() && t < kTables; ++t) st = store.Lookup(t, batch.bags[t], Pooling::kSum, pooled->data());
  for (uint32_t t = 0; st.ok() && t < kTables; ++t) st = store.Update(n, t, batch.bags[t], Pooling::kSum, batch.grads[t].data(), opt);
  if (st.ok()) st = store.Commit(n);
  if (!st.ok()) {
    std::fprintf(stderr, "batch %llu: %s\n", static_cast<unsigned long long>(n), st.ToString().c_str());
    std::abort();
  }
}

std::unique_ptr<PmemEmbeddingStore> FreshPool(const std::string& name, const PmemPoolOptions& options, uint64_t rows) {
  const std::string path = fmt::format("{}/prescient-pool-bench-{}-{}", BenchDir(), name, getpid());
  unlink(path.c_str());
  Status st;
  auto pool = PmemEmbeddingStore::Create(path, Tables(rows), kSeed, options, &st);
  if (pool == nullptr) {
    std::fprintf(stderr, "%s\n", st.ToString().c_str());
    std::abort();
  }
  unlink(path.c_str());  // the mapping keeps it alive for the run
  return pool;
}

void BM_PoolBatch(benchmark::State& state, const std::string& kind) {
  const uint64_t rows = Rows();
  std::vector<Batch> batches;
  const uint32_t hot = kind == "remote_hot4" ? 4 : 1;
  for (uint64_t b = 0; b < 8; ++b) batches.emplace_back(b, rows, hot);
  std::unique_ptr<EmbeddingStore> store;
  std::unique_ptr<MemnodeServer> server;
  std::thread serve;
  std::string pool_path;
  PmemEmbeddingStore* pool = nullptr;
  if (kind == "dram") {
    store = std::make_unique<DramEmbeddingStore>(Tables(rows), kSeed);
  } else if (kind.rfind("remote", 0) == 0) {
    pool_path = fmt::format("{}/prescient-pool-bench-remote-{}", BenchDir(), getpid());
    unlink(pool_path.c_str());
    MemnodeOptions options;
    options.listen = "127.0.0.1:0";
    options.pool_path = pool_path;
    options.pool_create = Tables(rows);
    options.pool_seed = kSeed;
    Status st;
    server = MemnodeServer::Create(options, &st);
    if (server == nullptr) {
      state.SkipWithError(st.ToString().c_str());
      return;
    }
    serve = std::thread([&] { (void)server->Serve(); });
    store = RemoteEmbeddingStore::Connect(fmt::format("127.0.0.1:{}", server->port()), {}, &st);
    if (store == nullptr) {
      state.SkipWithError(st.ToString().c_str());
      server->Stop();
      serve.join();
      return;
    }
  } else {
    PmemPoolOptions options;
    options.undo_log = kind != "pmem_nolog";
    if (kind == "pmem_latency") options.latency = PoolLatency::PmemLike();
    auto p = FreshPool(kind, options, rows);
    pool = p.get();
    store = std::move(p);
  }
  state.SetLabel(store->describe());
  std::vector<float> pooled(size_t{kSamples} * kDim);
  size_t i = 0;
  const size_t persists_before = pool != nullptr ? pool->persist_calls() : 0;
  auto* remote = dynamic_cast<RemoteEmbeddingStore*>(store.get());
  const uint64_t sent_before = remote != nullptr ? remote->bytes_sent() : 0, received_before = remote != nullptr ? remote->bytes_received() : 0;
  for (auto _ : state) RunBatch(*store, batches[i++ % batches.size()], &pooled);
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * kSamples);
  const double n = static_cast<double>(state.iterations());
  if (pool != nullptr) state.counters["persists_per_batch"] = static_cast<double>(pool->persist_calls() - persists_before) / n;
  if (remote != nullptr) {
    state.counters["sent_per_batch"] = static_cast<double>(remote->bytes_sent() - sent_before) / n;
    state.counters["received_per_batch"] = static_cast<double>(remote->bytes_received() - received_before) / n;
    // Host-side training moves the indices, every distinct row to the host
    // and back.
    double host = 0;
    for (const Batch& b : batches)
      for (uint32_t t = 0; t < kTables; ++t) host += static_cast<double>(b.indices[t].size() * 4 + DistinctRows(b.bags[t]).size() * (4 + 2 * kDim * 4));
    state.counters["host_side_bytes_per_batch"] = host / static_cast<double>(batches.size());
  }
  if (server != nullptr) {
    store.reset();
    server->Stop();
    serve.join();
    server.reset();
    unlink(pool_path.c_str());
  }
}

void BM_PoolRecovery(benchmark::State& state) {
  // 26 x 600k x 16 floats + accumulators: 1.06 GB.
  const uint64_t rows = 600000;
  const std::string path = fmt::format("{}/prescient-pool-bench-recovery-{}", BenchDir(), getpid());
  unlink(path.c_str());
  Status st;
  { auto created = PmemEmbeddingStore::Create(path, Tables(rows), kSeed, {}, &st); }
  if (!st.ok()) {
    state.SkipWithError(st.ToString().c_str());
    return;
  }
  std::vector<float> pooled(size_t{kSamples} * kDim);
  uint64_t restored = 0;
  for (auto _ : state) {
    state.PauseTiming();
    {
      auto pool = PmemEmbeddingStore::Open(path, {}, &st);
      Batch batch(pool->next_batch(), rows);
      SparseOptimizerConfig opt{SparseOptimizer::kRowWiseAdagrad, 0.05f, 1e-8f};
      const uint64_t n = pool->next_batch();
      (void)pool->Prepare(n, batch.bags);
      for (uint32_t t = 0; t < kTables; ++t) (void)pool->Update(n, t, batch.bags[t], Pooling::kSum, batch.grads[t].data(), opt);
      // Abandoned: the batch stays in flight, as after a SIGKILL.
    }
    state.ResumeTiming();
    auto pool = PmemEmbeddingStore::Open(path, {}, &st);
    if (pool == nullptr || !pool->recovery().rolled_back) {
      state.SkipWithError("recovery did not roll back");
      break;
    }
    restored = pool->recovery().rows_restored;
  }
  state.counters["rows_restored"] = static_cast<double>(restored);
  unlink(path.c_str());
}

}  // namespace
}  // namespace prescient

int main(int argc, char** argv) {
  spdlog::set_level(spdlog::level::warn);
  for (const char* kind : {"dram", "pmem", "pmem_nolog", "pmem_latency", "remote", "remote_hot4"})
    benchmark::RegisterBenchmark(fmt::format("PoolBatch/{}", kind).c_str(), prescient::BM_PoolBatch, std::string(kind))
        ->Unit(benchmark::kMillisecond)
        ->UseRealTime();  // msync and the memory node run off this thread
  benchmark::RegisterBenchmark("PoolRecovery", prescient::BM_PoolRecovery)->Unit(benchmark::kMillisecond)->Iterations(3)->UseRealTime();
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
