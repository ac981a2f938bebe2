// Checkpoint files of the DLRM trainer: the relaxed dense checkpoint's
// slots, and the stop-the-world / differential embedding snapshots.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <iterator>

#include <fmt/format.h>

#include "common/file_io.h"
#include "memnode/dram_embedding_store.h"
#include "recsys/dense_checkpoint.h"
#include "recsys/gradient_journal.h"
#include "recsys/snapshot_checkpoint.h"
#include "testutil/testutil.h"

namespace prescient {
namespace {

using testing::TempDir;

std::string ReadBytes(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), {});
}
void WriteBytes(const std::string& path, const std::string& bytes) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f << bytes;
}
std::vector<float> Ramp(size_t n, float base) {
  std::vector<float> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = base + static_cast<float>(i);
  return v;
}

TEST(DenseCheckpoint, SlicesRoundTripWithTheirBatches) {
  TempDir dir;
  const std::string path = dir.file("dense.ckpt");
  std::unique_ptr<DenseCheckpoint> ckpt;
  ASSERT_TRUE(DenseCheckpoint::Create(path, Ramp(1000, 0), 4, 42, 0, &ckpt).ok());
  const std::vector<float> s5 = Ramp(1000, 5000), s6 = Ramp(1000, 6000);
  ckpt->Submit(0, 5, s5.data());
  ckpt->Submit(1, 6, s6.data());
  ckpt->Submit(0, 7, s6.data());  // slice 0 again: its slot alternates
  ASSERT_TRUE(ckpt->Close().ok());
  ckpt.reset();

  RecoveredDense rec;
  ASSERT_TRUE(DenseCheckpoint::Recover(path, 42, 10, &rec, &ckpt).ok());
  EXPECT_EQ(rec.slice_batch, (std::vector<uint64_t>{7, 6, 0, 0}));
  EXPECT_EQ(rec.gap, 10u);
  for (size_t i = 0; i < 1000; ++i) {
    const float want = i < 250 ? s6[i] : i < 500 ? s6[i] : static_cast<float>(i);
    ASSERT_EQ(rec.state[i], want) << i;
  }
  ckpt.reset();
  // An embedding store at batch 6: slice 0's batch-7 copy is from its
  // future, so its older copy (batch 5) is the one restored.
  ASSERT_TRUE(DenseCheckpoint::Recover(path, 42, 6, &rec, &ckpt).ok());
  EXPECT_EQ(rec.slice_batch, (std::vector<uint64_t>{5, 6, 0, 0}));
  EXPECT_EQ(rec.state[0], 5000.0f);
  ckpt.reset();
  // Another model's file.
  EXPECT_EQ(DenseCheckpoint::Recover(path, 43, 10, &rec, &ckpt).code(), Status::Code::kInvalidArgument);
}

TEST(DenseCheckpoint, WaitingForAWriteNobodyQueuedFailsInsteadOfHanging) {
  TempDir dir;
  std::unique_ptr<DenseCheckpoint> ckpt;
  ASSERT_TRUE(DenseCheckpoint::Create(dir.file("dense.ckpt"), Ramp(100, 0), 2, 1, 0, &ckpt).ok());
  const std::vector<float> s = Ramp(100, 1);
  ckpt->Submit(0, 3, s.data());
  ckpt->Submit(1, 3, s.data());
  EXPECT_TRUE(ckpt->WaitDurable(3).ok());
  EXPECT_EQ(ckpt->OldestDurable(), 3u);
  ckpt->Submit(0, 4, s.data());
  const Status st = ckpt->WaitDurable(4);  // slice 1 stays at 3
  EXPECT_EQ(st.code(), Status::Code::kInternal);
  EXPECT_NE(st.message().find("slice 1 is durable at batch 3"), std::string::npos) << st.message();
}

TEST(DenseCheckpoint, StrictCopiesFollowTheStoresCommit) {
  TempDir dir;
  const std::string path = dir.file("dense.ckpt");
  std::unique_ptr<DenseCheckpoint> ckpt;
  ASSERT_TRUE(DenseCheckpoint::Create(path, Ramp(100, 0), 1, 1, 0, &ckpt).ok());
  ASSERT_TRUE(ckpt->WriteAllNow(1, Ramp(100, 100).data()).ok());
  ASSERT_TRUE(ckpt->WriteAllNow(2, Ramp(100, 200).data()).ok());  // written before the store's commit of batch 1
  ckpt->Abandon();
  ckpt.reset();
  RecoveredDense rec;
  // The commit happened: batch 2. It did not: batch 1, and the copy for 1.
  ASSERT_TRUE(DenseCheckpoint::Recover(path, 1, 2, &rec, &ckpt).ok());
  EXPECT_EQ(rec.gap, 0u);
  EXPECT_EQ(rec.state[0], 200.0f);
  ckpt.reset();
  ASSERT_TRUE(DenseCheckpoint::Recover(path, 1, 1, &rec, &ckpt).ok());
  EXPECT_EQ(rec.gap, 0u);
  EXPECT_EQ(rec.state[0], 100.0f);
}

TEST(DenseCheckpoint, TornSlotFallsBackToTheOtherCopy) {
  TempDir dir;
  const std::string path = dir.file("dense.ckpt");
  std::unique_ptr<DenseCheckpoint> ckpt;
  ASSERT_TRUE(DenseCheckpoint::Create(path, Ramp(100, 0), 1, 1, 0, &ckpt).ok());  // slot 1: batch 0
  ASSERT_TRUE(ckpt->WriteAllNow(3, Ramp(100, 300).data()).ok());                    // slot 0: batch 3
  ckpt.reset();
  std::string bytes = ReadBytes(path);
  bytes[64 + 64 + 17] ^= 0x40;  // a torn write in slot 0's payload
  WriteBytes(path, bytes);
  RecoveredDense rec;
  ASSERT_TRUE(DenseCheckpoint::Recover(path, 1, 3, &rec, &ckpt).ok());
  EXPECT_EQ(rec.torn_slots, 1u);
  EXPECT_EQ(rec.slice_batch[0], 0u);
  EXPECT_EQ(rec.state[5], 5.0f);
}

TEST(DenseCheckpoint, CorruptOrTruncatedFileIsRefusedWithItsOffsetAndLeftAlone) {
  TempDir dir;
  const std::string path = dir.file("dense.ckpt");
  std::unique_ptr<DenseCheckpoint> ckpt;
  ASSERT_TRUE(DenseCheckpoint::Create(path, Ramp(100, 0), 1, 1, 0, &ckpt).ok());
  ASSERT_TRUE(ckpt->WriteAllNow(3, Ramp(100, 300).data()).ok());
  ckpt.reset();
  const std::string good = ReadBytes(path);
  RecoveredDense rec;

  std::string both = good;
  both[64 + 64 + 8] ^= 1;                      // slot 0 payload
  both[64 + (64 + 400) + 64 + 8] ^= 1;         // slot 1 payload
  WriteBytes(path, both);
  Status s = DenseCheckpoint::Recover(path, 1, 3, &rec, &ckpt);
  EXPECT_EQ(s.code(), Status::Code::kCorruption);
  EXPECT_NE(s.message().find(path), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("offset 64: payload checksum mismatch"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("offset 528: payload checksum mismatch"), std::string::npos) << s.message();
  EXPECT_EQ(ReadBytes(path), both);  // not repaired, not overwritten

  WriteBytes(path, good.substr(0, 700));
  s = DenseCheckpoint::Recover(path, 1, 3, &rec, &ckpt);
  EXPECT_EQ(s.code(), Status::Code::kCorruption);
  EXPECT_NE(s.message().find("truncated at offset 700"), std::string::npos) << s.message();
  EXPECT_EQ(ReadBytes(path).size(), 700u);

  WriteBytes(path, good.substr(0, 30));
  s = DenseCheckpoint::Recover(path, 1, 3, &rec, &ckpt);
  EXPECT_NE(s.message().find("truncated at offset 30"), std::string::npos) << s.message();

  std::string header = good;
  header[3] = 'X';
  WriteBytes(path, header);
  s = DenseCheckpoint::Recover(path, 1, 3, &rec, &ckpt);
  EXPECT_NE(s.message().find("offset 0: not a prescient dense checkpoint"), std::string::npos) << s.message();

  // A crafted header with a valid checksum but a slice size that would wrap
  // the slot arithmetic is refused before anything is read into a buffer.
  std::string crafted = good;
  const uint64_t huge = uint64_t{1} << 62;
  std::memcpy(crafted.data() + 24, &huge, 8);
  const uint64_t sum = Fnv1a64(std::string_view(crafted.data(), 56));
  std::memcpy(crafted.data() + 56, &sum, 8);
  WriteBytes(path, crafted);
  s = DenseCheckpoint::Recover(path, 1, 3, &rec, &ckpt);
  EXPECT_EQ(s.code(), Status::Code::kCorruption);
  EXPECT_NE(s.message().find("inconsistent slice layout"), std::string::npos) << s.message();
}

std::vector<TableSpec> Tables() { return {{"a", 300, 4}, {"b", 40000, 8}}; }

void Scribble(DramEmbeddingStore& store, uint32_t table, std::vector<uint32_t> rows, float v) {
  std::vector<float> vals(rows.size() * store.tables()[table].dim, v);
  ASSERT_TRUE(store.ScatterRows(table, rows, vals.data()).ok());
}
bool SameRows(const DramEmbeddingStore& a, const DramEmbeddingStore& b) {
  for (uint32_t t = 0; t < a.tables().size(); ++t)
    for (uint64_t r = 0; r < a.tables()[t].rows; ++r)
      if (std::memcmp(a.row(t, r), b.row(t, r), a.tables()[t].dim * sizeof(float)) != 0) return false;
  return true;
}

TEST(GradientJournal, KeepsTheLastBatchesAndRefusesDamage) {
  TempDir dir;
  const std::string path = dir.file("dense.journal");
  auto gradient = [](uint64_t batch) {
    std::vector<float> g(1000);
    for (size_t i = 0; i < g.size(); ++i) g[i] = static_cast<float>(batch) + 0.001f * static_cast<float>(i);
    return g;
  };
  {
    std::unique_ptr<GradientJournal> j;
    ASSERT_TRUE(GradientJournal::Create(path, 77, 1000, 3, &j).ok());
    std::vector<float> out;
    EXPECT_FALSE(j->Read(0, &out)) << "an empty slot is absent";
    for (uint64_t b = 0; b < 5; ++b) {
      j->Submit(b, gradient(b));
      ASSERT_TRUE(j->WaitDurable().ok());
    }
  }
  std::unique_ptr<GradientJournal> j;
  ASSERT_TRUE(GradientJournal::Open(path, 77, 1000, &j).ok());
  std::vector<float> out;
  for (uint64_t b = 2; b < 5; ++b) {
    ASSERT_TRUE(j->Read(b, &out)) << b;
    EXPECT_EQ(out, gradient(b));
  }
  EXPECT_FALSE(j->Read(1, &out)) << "overwritten by batch 4";
  EXPECT_FALSE(j->Read(5, &out)) << "never written";
  j.reset();

  // One flipped byte in batch 3's floats: that slot reads as absent.
  const std::string good = ReadBytes(path);
  std::string bad = good;
  bad[64 + (3 % 3) * (32 + 4000) + 32 + 100] ^= 0x10;
  WriteBytes(path, bad);
  ASSERT_TRUE(GradientJournal::Open(path, 77, 1000, &j).ok());
  EXPECT_FALSE(j->Read(3, &out));
  EXPECT_TRUE(j->Read(4, &out));
  j.reset();

  EXPECT_EQ(GradientJournal::Open(path, 78, 1000, &j).code(), Status::Code::kInvalidArgument) << "another model's";
  WriteBytes(path, good.substr(0, good.size() - 10));
  Status st = GradientJournal::Open(path, 77, 1000, &j);
  EXPECT_EQ(st.code(), Status::Code::kCorruption);
  EXPECT_NE(st.message().find("truncated"), std::string::npos) << st.message();
  WriteBytes(path, "not a journal at all, just some bytes that are long enough to fill a header of 64 bytes");
  st = GradientJournal::Open(path, 77, 1000, &j);
  EXPECT_NE(st.message().find("not a gradient journal"), std::string::npos) << st.message();
  EXPECT_EQ(GradientJournal::Open(dir.file("absent"), 77, 1000, &j).code(), Status::Code::kNotFound);
}

TEST(SnapshotCheckpoint, FullAndDifferentialChainsRestoreTheStore) {
  TempDir dir;
  DramEmbeddingStore store(Tables(), 9);
  SnapshotCheckpointer ckpt(dir.path(), Tables(), 77, /*full_every=*/2);
  ASSERT_TRUE(ckpt.Write(store, 0, Ramp(10, 0)).ok());  // full
  Scribble(store, 0, {1, 2}, 1.5f);
  ckpt.Touch(0, {1, 2});
  ASSERT_TRUE(ckpt.Write(store, 5, Ramp(10, 5)).ok());  // diff on 0
  Scribble(store, 1, {39999}, -2.0f);
  ckpt.Touch(1, {39999});
  ASSERT_TRUE(ckpt.Write(store, 9, Ramp(10, 9)).ok());  // diff on 5
  EXPECT_EQ(ckpt.stats().full, 1u);
  EXPECT_EQ(ckpt.stats().rows, 300u + 40000u + 2u + 1u);  // the diffs hold only the changed rows

  DramEmbeddingStore fresh(Tables(), 9);
  SnapshotCheckpointer reader(dir.path(), Tables(), 77, 2);
  uint64_t batch = 0;
  std::vector<float> dense;
  ASSERT_TRUE(reader.Recover(fresh, &batch, &dense).ok());
  EXPECT_EQ(batch, 9u);
  EXPECT_EQ(fresh.next_batch(), 9u);
  EXPECT_EQ(dense, Ramp(10, 9));
  EXPECT_TRUE(SameRows(store, fresh));

  // A third diff would exceed full_every: a full checkpoint replaces the chain.
  Scribble(store, 0, {7}, 3.0f);
  ckpt.Touch(0, {7});
  ASSERT_TRUE(ckpt.Write(store, 12, Ramp(10, 12)).ok());
  EXPECT_EQ(ckpt.stats().full, 2u);
  EXPECT_NE(::access(ckpt.diff_path(5).c_str(), F_OK), 0);
  DramEmbeddingStore fresh2(Tables(), 9);
  ASSERT_TRUE(reader.Recover(fresh2, &batch, &dense).ok());
  EXPECT_EQ(batch, 12u);
  EXPECT_TRUE(SameRows(store, fresh2));
}

TEST(SnapshotCheckpoint, CorruptOrTruncatedFileIsRefusedBeforeTheStoreIsTouched) {
  TempDir dir;
  DramEmbeddingStore store(Tables(), 9);
  SnapshotCheckpointer ckpt(dir.path(), Tables(), 77, 0);
  Scribble(store, 1, {5}, 4.0f);
  ASSERT_TRUE(ckpt.Write(store, 20, Ramp(10, 0)).ok());
  const std::string good = ReadBytes(ckpt.full_path());
  ASSERT_GT(good.size(), 1u << 20);  // more than one chunk
  uint64_t batch = 0;
  std::vector<float> dense;

  std::string bad = good;
  bad[(1 << 20) + 16 + 100] ^= 1;  // inside the second chunk, which starts at 8 + 2^20 + 8
  WriteBytes(ckpt.full_path(), bad);
  DramEmbeddingStore fresh(Tables(), 9);
  Status s = ckpt.Recover(fresh, &batch, &dense);
  EXPECT_EQ(s.code(), Status::Code::kCorruption);
  EXPECT_NE(s.message().find(fmt::format("chunk at offset {}: checksum mismatch", (1 << 20) + 16)), std::string::npos) << s.message();
  EXPECT_EQ(ReadBytes(ckpt.full_path()), bad);
  EXPECT_EQ(fresh.next_batch(), 0u);
  EXPECT_EQ(fresh.row(1, 5)[0], DramEmbeddingStore(Tables(), 9).row(1, 5)[0]);  // nothing was scattered

  WriteBytes(ckpt.full_path(), good.substr(0, good.size() - 3));
  s = ckpt.Recover(fresh, &batch, &dense);
  EXPECT_EQ(s.code(), Status::Code::kCorruption);
  EXPECT_NE(s.message().find(fmt::format("truncated at offset {}", good.size() - 3)), std::string::npos) << s.message();
  EXPECT_NE(s.message().find(ckpt.full_path()), std::string::npos) << s.message();
}

}  // namespace
}  // namespace prescient
