// The trace file format: round trips, and every kind of damage is reported
// with the byte offset where it is.
#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <random>

#include "prescient/trace.h"
#include "testutil/testutil.h"

namespace prescient {
namespace {

std::vector<TraceRecord> SampleRecords(size_t n) {
  std::mt19937_64 rng(7);
  std::vector<TraceRecord> out;
  for (size_t i = 0; i < n; ++i) {
    TraceRecord r;
    r.event = i % 97 == 0 ? TraceEvent::kDiscard : (i % 5 == 0 ? TraceEvent::kFirstWrite : TraceEvent::kAccess);
    r.write = r.event == TraceEvent::kFirstWrite || rng() % 2;
    r.thread = static_cast<uint32_t>(rng() % 4);
    r.page = i % 3 == 0 ? rng() % (1ull << 36) : i;  // large jumps and runs
    r.count = r.event == TraceEvent::kDiscard ? 1 + rng() % 1000 : 1;
    r.compute_ns = r.event == TraceEvent::kDiscard ? 0 : rng() % 100000;
    if (r.event == TraceEvent::kDiscard) r.write = false;
    out.push_back(r);
  }
  return out;
}

void Write(const std::string& path, const std::vector<TraceRecord>& records) {
  Status st;
  auto w = TraceWriter::Create(path, {{"kind", kAccessKind}, {"command", "test"}}, &st);
  ASSERT_NE(w, nullptr) << st.ToString();
  for (const auto& r : records) ASSERT_TRUE(w->Append(r).ok());
  ASSERT_TRUE(w->Finish().ok());
}

Status ReadBack(const std::string& path, std::vector<TraceRecord>* out) {
  Status st;
  auto r = TraceReader::Open(path, &st);
  if (!r) return st;
  return r->ReadAll(out);
}

TEST(TraceFormat, RoundTripsEveryFieldAcrossBlocks) {
  testing::TempDir dir;
  auto records = SampleRecords(200000);  // several blocks
  Write(dir.file("t.trace"), records);
  std::vector<TraceRecord> back;
  Status st = ReadBack(dir.file("t.trace"), &back);
  ASSERT_TRUE(st.ok()) << st.ToString();
  ASSERT_EQ(back.size(), records.size());
  for (size_t i = 0; i < records.size(); ++i) {
    ASSERT_EQ(back[i].event, records[i].event) << i;
    ASSERT_EQ(back[i].write, records[i].write) << i;
    ASSERT_EQ(back[i].thread, records[i].thread) << i;
    ASSERT_EQ(back[i].page, records[i].page) << i;
    ASSERT_EQ(back[i].count, records[i].count) << i;
    ASSERT_EQ(back[i].compute_ns, records[i].compute_ns) << i;
  }
  Status open_st;
  auto reader = TraceReader::Open(dir.file("t.trace"), &open_st);
  EXPECT_EQ(reader->header()["kind"], kAccessKind);
  EXPECT_EQ(reader->header()["format_version"], kTraceVersion);
}

TEST(TraceFormat, SequentialStreamsCompressWell) {
  testing::TempDir dir;
  std::vector<TraceRecord> records(100000);
  for (size_t i = 0; i < records.size(); ++i) records[i].page = i, records[i].compute_ns = 1000;
  Write(dir.file("seq.trace"), records);
  std::ifstream in(dir.file("seq.trace"), std::ios::ate | std::ios::binary);
  EXPECT_LT(static_cast<size_t>(in.tellg()), records.size() / 4) << "well under one byte per record";
}

class DamagedTrace : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = dir_.file("t.trace");
    Write(path_, SampleRecords(150000));
    std::ifstream in(path_, std::ios::binary);
    bytes_.assign(std::istreambuf_iterator<char>(in), {});
  }
  void Rewrite(const std::string& bytes) {
    std::ofstream out(path_, std::ios::binary | std::ios::trunc);
    out << bytes;
  }
  Status Read() {
    std::vector<TraceRecord> records;
    return ReadBack(path_, &records);
  }
  testing::TempDir dir_;
  std::string path_;
  std::string bytes_;
};

TEST_F(DamagedTrace, TruncationNamesTheOffset) {
  for (size_t cut : {size_t{10}, size_t{30}, bytes_.size() / 2, bytes_.size() - 24, bytes_.size() - 1}) {
    Rewrite(bytes_.substr(0, cut));
    Status st = Read();
    ASSERT_FALSE(st.ok()) << "cut at " << cut;
    EXPECT_EQ(st.code(), Status::Code::kCorruption) << st.ToString();
    EXPECT_NE(st.message().find("truncated"), std::string::npos) << st.message();
    EXPECT_NE(st.message().find("byte"), std::string::npos) << st.message();
  }
}

// Issue 18, item 7: models and pools refuse trailing bytes; so does a trace.
TEST_F(DamagedTrace, BytesAfterTheFooterAreRefused) {
  for (const std::string& tail : {std::string("x"), std::string(4096, '\0')}) {
    Rewrite(bytes_ + tail);
    Status st = Read();
    ASSERT_FALSE(st.ok()) << tail.size() << " bytes appended";
    EXPECT_EQ(st.code(), Status::Code::kCorruption) << st.ToString();
    EXPECT_NE(st.message().find(std::to_string(tail.size()) + " unexpected bytes after its footer"), std::string::npos) << st.message();
  }
}

TEST_F(DamagedTrace, AFlippedByteInABlockIsCaught) {
  std::string damaged = bytes_;
  damaged[damaged.size() / 2] ^= 0x40;
  Rewrite(damaged);
  Status st = Read();
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.code(), Status::Code::kCorruption);
  EXPECT_NE(st.message().find("at byte"), std::string::npos) << st.message();
}

TEST_F(DamagedTrace, AFlippedHeaderByteIsCaught) {
  std::string damaged = bytes_;
  damaged[30] ^= 0x01;  // inside the header JSON
  Rewrite(damaged);
  Status st = Read();
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("checksum"), std::string::npos) << st.message();
}

TEST_F(DamagedTrace, ForeignFilesAndFutureVersionsAreRefused) {
  Rewrite("this is not a trace, just some text that is long enough");
  Status st = Read();
  EXPECT_NE(st.message().find("not a prescient trace"), std::string::npos) << st.message();
  std::string future = bytes_;
  future[8] = 99;  // version
  Rewrite(future);
  st = Read();
  EXPECT_NE(st.message().find("version 99"), std::string::npos) << st.message();
}

TEST(TraceFormat, TheTrailerComesBackAfterTheLastRecord) {
  testing::TempDir dir;
  std::string path = dir.file("t.trace");
  Status st;
  auto w = TraceWriter::Create(path, {{"kind", kAccessKind}}, &st);
  for (const auto& r : SampleRecords(70000)) ASSERT_TRUE(w->Append(r).ok());
  ASSERT_TRUE(w->Finish({{"program_user_cpu_ns", 123456789}}).ok());

  auto reader = TraceReader::Open(path, &st);
  ASSERT_NE(reader, nullptr) << st.ToString();
  EXPECT_TRUE(reader->trailer().empty()) << "known only at the end";
  std::vector<TraceRecord> records;
  ASSERT_TRUE(reader->ReadAll(&records).ok());
  EXPECT_EQ(records.size(), 70000u);
  EXPECT_EQ(reader->trailer()["program_user_cpu_ns"], 123456789);

  // A damaged trailer is caught by its checksum, at its offset.
  std::ifstream in(path, std::ios::binary);
  std::string bytes(std::istreambuf_iterator<char>(in), {});
  bytes[bytes.size() - 3] ^= 0x01;
  { std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes; }
  records.clear();
  st = ReadBack(path, &records);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("trailer JSON at byte"), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("checksum"), std::string::npos) << st.message();
}

TEST(TraceFormat, AnUnfinishedTraceSaysItWasCutShort) {
  testing::TempDir dir;
  std::string path = dir.file("t.trace");
  {
    Status st;
    auto w = TraceWriter::Create(path, {{"kind", kAccessKind}}, &st);
    for (const auto& r : SampleRecords(100000)) ASSERT_TRUE(w->Append(r).ok());
    // Destroyed without Finish(), as when a capture is killed.
  }
  std::vector<TraceRecord> records;
  Status st = ReadBack(path, &records);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("without its footer"), std::string::npos) << st.message();
  EXPECT_EQ(records.size(), 65536u) << "the complete block is still readable";
}

}  // namespace
}  // namespace prescient
