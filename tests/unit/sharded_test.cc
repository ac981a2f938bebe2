// The sharded backend over embedded stores: pages land on the shard the
// striping rule names, batches that span shards round-trip, and errors name
// the shard.
#include <algorithm>
#include <atomic>
#include <cstring>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "prescient/backend.h"

namespace prescient {
namespace {

constexpr uint64_t kStripe = 16;

struct Shards {
  std::vector<Backend*> raw;  // still owned by the sharded backend
  std::unique_ptr<Backend> sharded;
};

Shards MakeShards(int n) {
  Shards s;
  std::vector<std::unique_ptr<Backend>> shards;
  for (int i = 0; i < n; ++i) {
    shards.push_back(MakeInProcessStore(LinkModel{0, 0, 0}));
    s.raw.push_back(shards.back().get());
  }
  s.sharded = MakeSharded(std::move(shards), kStripe);
  return s;
}

void Fill(std::byte* p, uint64_t page_no) {
  for (size_t i = 0; i < kPageSize; i += 8) {
    uint64_t v = page_no * 1000003 + i;
    std::memcpy(p + i, &v, 8);
  }
}

Status Transfer(Backend& b, bool write, std::vector<PageIo> batch) {
  Status st;
  IoTicket t = write ? b.write_pages(batch, &st) : b.read_pages(batch, &st);
  if (t == 0) return st;
  return b.wait(t);
}

TEST(Sharded, PagesGoToTheirStripesShard) {
  Shards s = MakeShards(3);
  const uint64_t kPages = 3 * kStripe * 10;
  std::vector<std::byte> data(kPages * kPageSize);
  std::vector<PageIo> batch;
  for (uint64_t p = 0; p < kPages; ++p) {
    Fill(&data[p * kPageSize], p);
    batch.push_back({p, &data[p * kPageSize]});
  }
  ASSERT_TRUE(Transfer(*s.sharded, true, batch).ok());
  for (Backend* shard : s.raw) EXPECT_EQ(shard->stats().pages_written, kPages / 3);

  // Each page is on exactly the shard (p / stripe) % n, and only there.
  std::vector<std::byte> page(kPageSize);
  for (uint64_t p = 0; p < kPages; p += 7) {
    for (size_t i = 0; i < s.raw.size(); ++i) {
      Status st = Transfer(*s.raw[i], false, {{p, page.data()}});
      EXPECT_EQ(st.ok(), i == (p / kStripe) % 3) << "page " << p << " shard " << i;
    }
  }
  EXPECT_EQ(s.sharded->stats().pages_written, kPages);
  EXPECT_EQ(s.sharded->describe(), "sharded over [embedded store, embedded store, embedded store]");
}

TEST(Sharded, RoundTripFromSeveralThreads) {
  Shards s = MakeShards(4);
  constexpr int kThreads = 4;
  constexpr uint64_t kPagesPerThread = 700;
  std::atomic<int> failures{0};
  auto worker = [&](uint64_t id) {
    std::vector<std::byte> data(kPagesPerThread * kPageSize), back(kPagesPerThread * kPageSize);
    std::vector<IoTicket> tickets;
    // Odd batch sizes, so batches straddle stripes and shards.
    for (uint64_t first = 0; first < kPagesPerThread; first += 53) {
      std::vector<PageIo> batch;
      for (uint64_t i = first; i < std::min(first + 53, kPagesPerThread); ++i) {
        uint64_t p = id * 100000 + i * 3;
        Fill(&data[i * kPageSize], p);
        batch.push_back({p, &data[i * kPageSize]});
      }
      Status st;
      IoTicket t = s.sharded->write_pages(batch, &st);
      if (t == 0) ++failures;
      else tickets.push_back(t);
    }
    for (IoTicket t : tickets) failures += s.sharded->wait(t).ok() ? 0 : 1;
    std::vector<PageIo> all;
    for (uint64_t i = 0; i < kPagesPerThread; ++i) all.push_back({id * 100000 + i * 3, &back[i * kPageSize]});
    failures += Transfer(*s.sharded, false, all).ok() ? 0 : 1;  // one batch larger than the inline buffer
    failures += std::memcmp(data.data(), back.data(), data.size()) == 0 ? 0 : 1;
  };
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) threads.emplace_back(worker, i);
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
}

TEST(Sharded, ErrorsNameTheShard) {
  Shards s = MakeShards(2);
  std::vector<std::byte> page(kPageSize);
  Fill(page.data(), 0);
  ASSERT_TRUE(Transfer(*s.sharded, true, {{0, page.data()}}).ok());
  // Page 16 is in the second stripe, so on shard 1, and was never written.
  std::vector<std::byte> a(kPageSize), b(kPageSize);
  Status st = Transfer(*s.sharded, false, {{0, a.data()}, {16, b.data()}});
  EXPECT_EQ(st.code(), Status::Code::kNotFound);
  EXPECT_NE(st.message().find("shard 1 of 2"), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("embedded store"), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("page 16"), std::string::npos) << st.message();
}

TEST(Sharded, DiscardReachesEveryShard) {
  Shards s = MakeShards(3);
  std::vector<std::byte> data(200 * kPageSize);
  std::vector<PageIo> batch;
  for (uint64_t p = 0; p < 200; ++p) batch.push_back({p, &data[p * kPageSize]});
  ASSERT_TRUE(Transfer(*s.sharded, true, batch).ok());
  ASSERT_TRUE(s.sharded->discard_pages(20, 100).ok());
  std::vector<std::byte> page(kPageSize);
  for (uint64_t p : {20, 31, 32, 48, 119}) EXPECT_FALSE(Transfer(*s.sharded, false, {{p, page.data()}}).ok()) << p;
  for (uint64_t p : {19, 120, 199}) EXPECT_TRUE(Transfer(*s.sharded, false, {{p, page.data()}}).ok()) << p;
}

TEST(Sharded, OneShardIsThatShard) {
  std::vector<std::unique_ptr<Backend>> one;
  one.push_back(MakeInProcessStore(LinkModel{}));
  Backend* raw = one.front().get();
  auto b = MakeSharded(std::move(one));
  EXPECT_EQ(b.get(), raw);
}

TEST(Sharded, MakeBackendParsesTheMemnodeList) {
  Status st;
  auto b = MakeBackend("", TcpOptions{}, LinkModel{}, &st);
  ASSERT_NE(b, nullptr) << st.ToString();
  EXPECT_EQ(b->describe(), "embedded store");
  b = MakeBackend("127.0.0.1:1,,127.0.0.1:2", TcpOptions{}, LinkModel{}, &st);
  EXPECT_EQ(b, nullptr);
  EXPECT_EQ(st.code(), Status::Code::kInvalidArgument);
  b = MakeBackend("nonsense", TcpOptions{}, LinkModel{}, &st);
  EXPECT_EQ(b, nullptr);
  EXPECT_NE(st.message().find("HOST:PORT"), std::string::npos) << st.message();
}

}  // namespace
}  // namespace prescient
