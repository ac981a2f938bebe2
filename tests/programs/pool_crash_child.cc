// The victim of the pool's crash tests (tests/integration/pool_crash_test.cc):
// opens (recovering) or creates a pool of testing::PoolTestTables() and runs
// deterministic batches on it until `until` batches are committed, while the
// test SIGKILLs it, from outside after a random delay or from inside at a
// persistence point (PRESCIENT_POOL_CRASH_AT).
//
//   pool_crash_child POOL SEED UNTIL SAMPLES [--no-undo-log]
// POOL "tcp:HOST:PORT" trains on a memory node's pool (RemoteEmbeddingStore)
// instead of opening a file.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "memnode/pmem_embedding_store.h"
#include "transport/remote_embedding_store.h"
#include "testutil/pool_batches.h"

int main(int argc, char** argv) {
  using namespace prescient;
  if (argc < 5) {
    std::fprintf(stderr, "usage: %s POOL SEED UNTIL SAMPLES [--no-undo-log]\n", argv[0]);
    return 2;
  }
  const std::string path = argv[1];
  const uint64_t seed = std::strtoull(argv[2], nullptr, 10);
  const uint64_t until = std::strtoull(argv[3], nullptr, 10);
  const uint32_t samples = static_cast<uint32_t>(std::strtoul(argv[4], nullptr, 10));
  PmemPoolOptions options;
  options.undo_log = !(argc > 5 && std::strcmp(argv[5], "--no-undo-log") == 0);
  Status st;
  std::unique_ptr<EmbeddingStore> pool;
  if (path.rfind("tcp:", 0) == 0) {
    pool = RemoteEmbeddingStore::Connect(path.substr(4), {}, &st);
  } else {
    pool = PmemEmbeddingStore::OpenOrCreate(path, testing::PoolTestTables(), seed, options, &st);
  }
  if (pool == nullptr) {
    std::fprintf(stderr, "%s\n", st.ToString().c_str());
    return 1;
  }
  std::printf("opened next_batch=%llu\n", static_cast<unsigned long long>(pool->next_batch()));
  std::fflush(stdout);
  for (uint64_t b = pool->next_batch(); b < until; ++b) {
    st = testing::RunPoolBatch(*pool, seed, b, samples);
    if (!st.ok()) {
      std::fprintf(stderr, "batch %llu: %s\n", static_cast<unsigned long long>(b), st.ToString().c_str());
      return 1;
    }
  }
  std::printf("done next_batch=%llu\n", static_cast<unsigned long long>(pool->next_batch()));
  return 0;
}
