// The embedded store: storage semantics under concurrency, errors for
// missing pages, and the link model's lower bound on completion time.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <random>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "prescient/backend.h"

namespace prescient {
namespace {

// Every byte of page `page_no` as written by `writer`, so a page mixed up
// with another page or another writer's copy is caught.
void FillPage(std::byte* p, uint64_t page_no, uint32_t writer) {
  uint64_t seed = page_no * 0x9E3779B97F4A7C15ull + writer;
  for (size_t i = 0; i < kPageSize; i += 8) {
    seed ^= seed << 13;
    seed ^= seed >> 7;
    seed ^= seed << 17;
    std::memcpy(p + i, &seed, 8);
  }
}

bool PageMatches(const std::byte* p, uint64_t page_no, uint32_t writer) {
  std::vector<std::byte> expected(kPageSize);
  FillPage(expected.data(), page_no, writer);
  return std::memcmp(p, expected.data(), kPageSize) == 0;
}

Status WriteOne(Backend& b, uint64_t page_no, const std::byte* data) {
  PageIo io{page_no, const_cast<std::byte*>(data)};
  Status st;
  IoTicket t = b.write_pages({&io, 1}, &st);
  if (t == 0) return st;
  return b.wait(t);
}

Status ReadOne(Backend& b, uint64_t page_no, std::byte* data) {
  PageIo io{page_no, data};
  Status st;
  IoTicket t = b.read_pages({&io, 1}, &st);
  if (t == 0) return st;
  return b.wait(t);
}

TEST(InProcessStore, RoundTripsManyPagesFromSeveralThreads) {
  auto store = MakeInProcessStore(LinkModel{0, 0, 0});
  constexpr int kThreads = 4;
  constexpr uint64_t kPagesPerThread = 3000;
  constexpr size_t kBatch = 37;
  std::atomic<int> failures{0};

  auto worker = [&](uint32_t id) {
    // Interleaved page numbers, so threads share chunks of the table.
    auto page_of = [&](uint64_t i) { return i * kThreads + id; };
    std::vector<std::byte> data(kPagesPerThread * kPageSize);
    for (uint64_t i = 0; i < kPagesPerThread; ++i) FillPage(&data[i * kPageSize], page_of(i), id);
    // Several batches in flight before any is waited.
    std::vector<IoTicket> tickets;
    for (uint64_t first = 0; first < kPagesPerThread; first += kBatch) {
      std::vector<PageIo> batch;
      for (uint64_t i = first; i < std::min(first + kBatch, kPagesPerThread); ++i) batch.push_back({page_of(i), &data[i * kPageSize]});
      Status st;
      IoTicket t = store->write_pages(batch, &st);
      if (t == 0) ++failures;
      else tickets.push_back(t);
    }
    for (IoTicket t : tickets) failures += store->wait(t).ok() ? 0 : 1;

    std::vector<std::byte> back(kPagesPerThread * kPageSize);
    std::vector<uint64_t> order(kPagesPerThread);
    for (uint64_t i = 0; i < kPagesPerThread; ++i) order[i] = i;
    std::shuffle(order.begin(), order.end(), std::mt19937(id));
    tickets.clear();
    for (uint64_t first = 0; first < kPagesPerThread; first += kBatch) {
      std::vector<PageIo> batch;
      for (uint64_t k = first; k < std::min(first + kBatch, kPagesPerThread); ++k) batch.push_back({page_of(order[k]), &back[order[k] * kPageSize]});
      Status st;
      IoTicket t = store->read_pages(batch, &st);
      if (t == 0) ++failures;
      else tickets.push_back(t);
    }
    for (IoTicket t : tickets) failures += store->wait(t).ok() ? 0 : 1;
    for (uint64_t i = 0; i < kPagesPerThread; ++i) failures += PageMatches(&back[i * kPageSize], page_of(i), id) ? 0 : 1;
  };
  std::vector<std::thread> threads;
  for (uint32_t id = 0; id < kThreads; ++id) threads.emplace_back(worker, id);
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);

  BackendStats s = store->stats();
  EXPECT_EQ(s.pages_written, kThreads * kPagesPerThread);
  EXPECT_EQ(s.pages_read, kThreads * kPagesPerThread);
  EXPECT_EQ(s.bytes_sent, kThreads * kPagesPerThread * kPageSize);
}

TEST(InProcessStore, ReadingANeverWrittenPageIsAnErrorNamingThePage) {
  auto store = MakeInProcessStore(LinkModel{});
  std::vector<std::byte> page(kPageSize);
  FillPage(page.data(), 5, 0);
  ASSERT_TRUE(WriteOne(*store, 5, page.data()).ok());

  std::vector<std::byte> a(kPageSize), b(kPageSize);
  PageIo batch[] = {{5, a.data()}, {6, b.data()}};
  Status st;
  IoTicket t = store->read_pages(batch, &st);
  Status result = t == 0 ? st : store->wait(t);
  EXPECT_EQ(result.code(), Status::Code::kNotFound) << result.ToString();
  EXPECT_NE(result.message().find("page 6"), std::string::npos) << result.message();

  // Far beyond anything written, in a part of the table never touched.
  result = ReadOne(*store, uint64_t{1} << 38, a.data());
  EXPECT_EQ(result.code(), Status::Code::kNotFound);
}

TEST(InProcessStore, DiscardedPagesAreGone) {
  auto store = MakeInProcessStore(LinkModel{0, 0, 0});
  std::vector<std::byte> page(kPageSize);
  for (uint64_t p = 0; p < 1100; ++p) {  // spans three 512-page chunks
    FillPage(page.data(), p, 1);
    ASSERT_TRUE(WriteOne(*store, p, page.data()).ok());
  }
  ASSERT_TRUE(store->discard_pages(10, 1000).ok());
  for (uint64_t p : {10, 500, 511, 512, 1009}) EXPECT_EQ(ReadOne(*store, p, page.data()).code(), Status::Code::kNotFound) << p;
  for (uint64_t p : {9, 1010, 1099}) {
    ASSERT_TRUE(ReadOne(*store, p, page.data()).ok()) << p;
    EXPECT_TRUE(PageMatches(page.data(), p, 1)) << p;
  }
  // A page written again after a discard is back, with the new contents.
  FillPage(page.data(), 500, 2);
  ASSERT_TRUE(WriteOne(*store, 500, page.data()).ok());
  std::vector<std::byte> back(kPageSize);
  ASSERT_TRUE(ReadOne(*store, 500, back.data()).ok());
  EXPECT_TRUE(PageMatches(back.data(), 500, 2));
  // Discarding everything, including ranges never used, is fine.
  EXPECT_TRUE(store->discard_pages(0, UINT64_MAX).ok());
  EXPECT_EQ(ReadOne(*store, 9, back.data()).code(), Status::Code::kNotFound);
}

TEST(InProcessStore, OverwriteReplacesContents) {
  auto store = MakeInProcessStore(LinkModel{0, 0, 0});
  std::vector<std::byte> page(kPageSize), back(kPageSize);
  FillPage(page.data(), 3, 1);
  ASSERT_TRUE(WriteOne(*store, 3, page.data()).ok());
  FillPage(page.data(), 3, 2);
  ASSERT_TRUE(WriteOne(*store, 3, page.data()).ok());
  ASSERT_TRUE(ReadOne(*store, 3, back.data()).ok());
  EXPECT_TRUE(PageMatches(back.data(), 3, 2));
}

TEST(InProcessStore, SparseHighPagesAndTheLimit) {
  auto store = MakeInProcessStore(LinkModel{0, 0, 0});
  std::vector<std::byte> page(kPageSize), back(kPageSize);
  const uint64_t high = (uint64_t{1} << 40) - 1;
  FillPage(page.data(), high, 0);
  ASSERT_TRUE(WriteOne(*store, high, page.data()).ok());
  ASSERT_TRUE(ReadOne(*store, high, back.data()).ok());
  EXPECT_TRUE(PageMatches(back.data(), high, 0));
  Status st = WriteOne(*store, uint64_t{1} << 40, page.data());
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("beyond"), std::string::npos) << st.message();
}

TEST(InProcessStore, EmptyBatchesAndTickets) {
  auto store = MakeInProcessStore(LinkModel{});
  Status st;
  IoTicket t = store->read_pages({}, &st);
  ASSERT_NE(t, 0u);
  EXPECT_TRUE(store->wait(t).ok());
  EXPECT_FALSE(store->wait(0).ok());
  EXPECT_EQ(store->describe(), "embedded store");
}

// The model's lower bound only: a request may take longer, never less.
TEST(InProcessStore, LinkModelMakesRequestsTakeAtLeastTheModelledTime) {
  LinkModel slow;
  slow.read_latency_us = 2000;
  slow.write_latency_us = 2000;
  slow.bandwidth_gbps = 0;  // unlimited: latency only
  auto store = MakeInProcessStore(slow);
  std::vector<std::byte> page(kPageSize);
  FillPage(page.data(), 1, 0);
  auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE(WriteOne(*store, 1, page.data()).ok());
  auto after_write = std::chrono::steady_clock::now();
  EXPECT_GE(after_write - start, std::chrono::microseconds(2000));
  ASSERT_TRUE(ReadOne(*store, 1, page.data()).ok());
  EXPECT_GE(std::chrono::steady_clock::now() - after_write, std::chrono::microseconds(2000));

  // Bandwidth: 1 Gb/s moves a 4 KiB page in 32.768 us, and transfers share
  // the link, so two 64-page batches need at least 2 * 64 * 32.768 us.
  LinkModel narrow;
  narrow.read_latency_us = 0;
  narrow.write_latency_us = 0;
  narrow.bandwidth_gbps = 1.0;
  auto store2 = MakeInProcessStore(narrow);
  std::vector<std::byte> data(128 * kPageSize);
  std::vector<PageIo> a, b;
  for (uint64_t p = 0; p < 64; ++p) a.push_back({p, &data[p * kPageSize]});
  for (uint64_t p = 64; p < 128; ++p) b.push_back({p, &data[p * kPageSize]});
  Status st;
  start = std::chrono::steady_clock::now();
  IoTicket ta = store2->write_pages(a, &st);
  IoTicket tb = store2->write_pages(b, &st);
  ASSERT_NE(ta, 0u);
  ASSERT_NE(tb, 0u);
  ASSERT_TRUE(store2->wait(ta).ok());
  ASSERT_TRUE(store2->wait(tb).ok());
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::microseconds(2 * 64 * 32));
}

}  // namespace
}  // namespace prescient
