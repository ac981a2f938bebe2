// libFuzzer target: the memory node's embedding-pool protocol. The input is
// a sequence of requests from two connections, each
//   u8 connection (low bit), u8 op (0x0100 + value: every pool op and some
//   that are not), u16 payload length (little-endian), payload
// served by a real PoolService over a small persistent pool. After each
// input both connections end, so a batch left in flight is rolled back, as
// when a trainer dies, and the next input starts at a batch boundary.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <spdlog/spdlog.h>

#include "memnode/pmem_embedding_store.h"
#include "memnode/pool_service.h"
#include "transport/pool_protocol.h"

namespace {

std::string g_dir;
bool g_verbose = false;
prescient::PoolService* g_pool = nullptr;

void RemovePoolDir() {
  if (!g_dir.empty()) std::filesystem::remove_all(g_dir);
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  spdlog::set_level(spdlog::level::off);
  g_verbose = std::getenv("PRESCIENT_FUZZ_VERBOSE") != nullptr;
  // A pool in memory when /dev/shm is there: every commit syncs it.
  const std::filesystem::path base = std::filesystem::is_directory("/dev/shm") ? "/dev/shm" : std::filesystem::temp_directory_path();
  std::string pattern = (base / "prescient-pool-fuzz-XXXXXX").string();
  if (mkdtemp(pattern.data()) == nullptr) std::abort();
  g_dir = pattern;
  std::atexit(RemovePoolDir);
  prescient::Status st;
  auto store = prescient::PmemEmbeddingStore::OpenOrCreate(g_dir + "/pool", {{"a", 64, 4}, {"b", 17, 8}}, /*seed=*/1, {}, &st);
  if (store == nullptr) {
    std::fprintf(stderr, "cannot create the fuzz pool: %s\n", st.ToString().c_str());
    std::abort();
  }
  g_pool = new prescient::PoolService(std::move(store));
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::vector<std::byte> payload, out;
  bool malformed = false;
  // Every input starts at batch 0, so its PREPAREs and COMMITs can match.
  prescient::wire::PutU64(&payload, 0);
  (void)g_pool->Handle(static_cast<uint16_t>(prescient::wire::PoolOp::kReset), payload, &out, &malformed, 3);
  size_t at = 0;
  while (at + 4 <= size) {
    const uint64_t connection = 1 + (data[at] & 1);
    const uint16_t op = static_cast<uint16_t>(0x0100 + data[at + 1]);
    size_t len = data[at + 2] | (size_t{data[at + 3]} << 8);
    at += 4;
    len = std::min(len, size - at);
    // A session's payload buffer is a vector: aligned, as the parser expects.
    payload.assign(reinterpret_cast<const std::byte*>(data + at), reinterpret_cast<const std::byte*>(data + at + len));
    at += len;
    malformed = false;
    out.clear();
    prescient::Status st = g_pool->Handle(op, payload, &out, &malformed, connection);
    // To replay a finding with each answer: PRESCIENT_FUZZ_VERBOSE=1 pool_protocol_fuzz FILE
    if (g_verbose) std::fprintf(stderr, "connection %d %s (%zu bytes): %s\n", static_cast<int>(connection), prescient::wire::PoolOpName(op), len,
                                st.ToString().c_str());
  }
  g_pool->SessionEnded(1);
  g_pool->SessionEnded(2);
  return 0;
}
