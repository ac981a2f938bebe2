// Writes the fuzz targets' seed corpora from the protocols' own encoders:
// fuzz_seeds DIR writes DIR/page_protocol_fuzz/* and DIR/pool_protocol_fuzz/*.
// Each seed is a conversation that reaches a part of the protocol a random
// input would take long to find.
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "transport/pool_protocol.h"
#include "transport/protocol.h"

namespace {

using Bytes = std::vector<std::byte>;
namespace wire = prescient::wire;

void Save(const std::filesystem::path& dir, const std::string& name, const Bytes& bytes) {
  std::filesystem::create_directories(dir);
  std::ofstream(dir / name, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

Bytes operator+(Bytes a, const Bytes& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

Bytes Pages(size_t count) {
  Bytes data(count * prescient::kPageSize);
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<std::byte>(i * 7);
  return data;
}

void PageSeeds(const std::filesystem::path& dir) {
  const Bytes hello = wire::EncodeHello(1, {wire::kVersion, 42, "fuzz-token"});  // page_protocol_fuzz.cc's
  const std::vector<uint64_t> pages = {0, 1, 512, 1000003};
  Save(dir, "hello", hello);
  Save(dir, "write_read_discard",
       hello + wire::EncodeWrite(2, pages, Pages(pages.size())) + wire::EncodeRead(3, pages) + wire::EncodeDiscard(4, {0, 600}) +
           wire::EncodeRead(5, pages) + wire::EncodeEmpty(wire::Op::kStats, 6) + wire::EncodeEmpty(wire::Op::kPing, 7));
  Save(dir, "hello_twice", hello + hello);
  Save(dir, "read_before_hello", wire::EncodeRead(1, pages));
  Save(dir, "wrong_token", wire::EncodeHello(1, {wire::kVersion, 7, "fuzz-tokem"}) + wire::EncodeEmpty(wire::Op::kPing, 2));
  Save(dir, "no_token", wire::EncodeHello(1, {wire::kVersion, 7, ""}) + wire::EncodeEmpty(wire::Op::kPing, 2));
  Save(dir, "pool_op_without_pool", hello + wire::EncodeEmpty(static_cast<wire::Op>(wire::PoolOp::kInfo), 2));
}

// One request of the pool target's input: connection, op, length, payload.
Bytes PoolRequest(int connection, wire::PoolOp op, const Bytes& payload) {
  Bytes r = {static_cast<std::byte>(connection), static_cast<std::byte>(static_cast<uint16_t>(op) - 0x0100),
             static_cast<std::byte>(payload.size() & 0xFF), static_cast<std::byte>(payload.size() >> 8)};
  return r + payload;
}

void PutBags(Bytes* out, const std::vector<uint32_t>& offsets, const std::vector<uint32_t>& indices) {
  wire::PutBags(out, {indices, offsets});
}

void PoolSeeds(const std::filesystem::path& dir) {
  // Tables of the target's pool: a (64 rows x 4), b (17 rows x 8).
  Bytes prepare;
  wire::PutU64(&prepare, 0);
  wire::PutU32(&prepare, 2);
  wire::PutU32(&prepare, 0);
  PutBags(&prepare, {0, 2, 3}, {1, 5, 63});
  PutBags(&prepare, {0, 1, 3}, {16, 0, 2});
  Bytes lookup_prepared;
  wire::PutU32(&lookup_prepared, 0);
  lookup_prepared.push_back(std::byte{0});  // sum
  lookup_prepared.push_back(static_cast<std::byte>(wire::kUsePreparedBags));
  lookup_prepared.push_back(std::byte{0});
  lookup_prepared.push_back(std::byte{0});
  Bytes update;
  wire::PutU64(&update, 0);
  wire::PutU32(&update, 0);
  for (uint8_t b : {0, 0, static_cast<int>(wire::kUsePreparedBags), 0}) update.push_back(static_cast<std::byte>(b));  // sum, sgd
  wire::PutF32(&update, 0.1f);
  wire::PutF32(&update, 1e-8f);
  wire::PutU32(&update, 8);
  wire::PutU32(&update, 0);
  for (int i = 0; i < 8; ++i) wire::PutF32(&update, 0.5f * i);
  Bytes commit;
  wire::PutU64(&commit, 0);
  Bytes gather;
  wire::PutU32(&gather, 1);
  wire::PutU32(&gather, 2);
  wire::PutU32(&gather, 0);
  wire::PutU32(&gather, 16);
  Bytes scatter = gather;
  for (int i = 0; i < 16; ++i) wire::PutF32(&scatter, 1.0f + i);
  Bytes scatter_state = gather;
  wire::PutF32(&scatter_state, 0.25f);
  wire::PutF32(&scatter_state, 0.5f);
  const Bytes none;

  Save(dir, "info", PoolRequest(0, wire::PoolOp::kInfo, none) + PoolRequest(0, wire::PoolOp::kNextBatch, none));
  Save(dir, "batch", PoolRequest(0, wire::PoolOp::kPrepare, prepare) + PoolRequest(0, wire::PoolOp::kLookup, lookup_prepared) +
                         PoolRequest(0, wire::PoolOp::kUpdate, update) + PoolRequest(0, wire::PoolOp::kCommit, commit));
  Save(dir, "batch_meddled", PoolRequest(0, wire::PoolOp::kPrepare, prepare) + PoolRequest(1, wire::PoolOp::kReset, commit) +
                                 PoolRequest(1, wire::PoolOp::kUpdate, update) + PoolRequest(0, wire::PoolOp::kUpdate, update) +
                                 PoolRequest(1, wire::PoolOp::kCommit, commit) + PoolRequest(0, wire::PoolOp::kCommit, commit));
  Save(dir, "batch_abandoned", PoolRequest(0, wire::PoolOp::kPrepare, prepare) + PoolRequest(0, wire::PoolOp::kUpdate, update));
  Save(dir, "rows", PoolRequest(0, wire::PoolOp::kScatter, scatter) + PoolRequest(0, wire::PoolOp::kGather, gather) +
                        PoolRequest(0, wire::PoolOp::kScatterState, scatter_state) + PoolRequest(0, wire::PoolOp::kGatherState, gather));
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: fuzz_seeds DIR\n");
    return 2;
  }
  PageSeeds(std::filesystem::path(argv[1]) / "page_protocol_fuzz");
  PoolSeeds(std::filesystem::path(argv[1]) / "pool_protocol_fuzz");
  return 0;
}
