// Backends under the runtime's threading pattern: several threads submit,
// and tickets are waited on threads other than the ones that submitted them.
// Run under ThreadSanitizer (label "concurrency").
#include <signal.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <mutex>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "prescient/backend.h"
#include "testutil/testutil.h"

namespace prescient {
namespace {

// Tickets handed from submitting threads to waiting threads.
class TicketQueue {
 public:
  void Push(IoTicket t) {
    std::lock_guard lock(mu_);
    q_.push_back(t);
    cv_.notify_one();
  }
  // 0 once Close() was called and the queue is drained.
  IoTicket Pop() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return !q_.empty() || closed_; });
    if (q_.empty()) return 0;
    IoTicket t = q_.front();
    q_.pop_front();
    return t;
  }
  void Close() {
    std::lock_guard lock(mu_);
    closed_ = true;
    cv_.notify_all();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<IoTicket> q_;
  bool closed_ = false;
};

void Fill(std::byte* p, uint64_t page_no) {
  for (size_t i = 0; i < kPageSize; i += 8) {
    uint64_t v = page_no ^ (i << 40);
    std::memcpy(p + i, &v, 8);
  }
}

// Writers fill disjoint page ranges; their tickets are waited by two other
// threads; then readers do the same and check every byte.
void HammerWithCrossThreadWaits(Backend& backend) {
  constexpr int kSubmitters = 3;
  constexpr uint64_t kPages = 1200;
  constexpr uint64_t kBatch = 24;
  std::vector<std::vector<std::byte>> data(kSubmitters, std::vector<std::byte>(kPages * kPageSize));
  std::vector<std::vector<std::byte>> back(kSubmitters, std::vector<std::byte>(kPages * kPageSize));
  std::atomic<int> failures{0};
  for (bool write : {true, false}) {
    TicketQueue queue;
    std::vector<std::thread> waiters;
    for (int i = 0; i < 2; ++i) {
      waiters.emplace_back([&] {
        while (IoTicket t = queue.Pop()) failures += backend.wait(t).ok() ? 0 : 1;
      });
    }
    std::vector<std::thread> submitters;
    for (int s = 0; s < kSubmitters; ++s) {
      submitters.emplace_back([&, s] {
        for (uint64_t first = 0; first < kPages; first += kBatch) {
          std::vector<PageIo> batch;
          for (uint64_t i = first; i < first + kBatch; ++i) {
            uint64_t page = s * kPages + i;
            std::byte* p = write ? &data[s][i * kPageSize] : &back[s][i * kPageSize];
            if (write) Fill(p, page);
            batch.push_back({page, p});
          }
          Status st;
          IoTicket t = write ? backend.write_pages(batch, &st) : backend.read_pages(batch, &st);
          if (t == 0) ++failures;
          else queue.Push(t);
        }
      });
    }
    for (auto& t : submitters) t.join();
    queue.Close();
    for (auto& t : waiters) t.join();
  }
  EXPECT_EQ(failures.load(), 0);
  for (int s = 0; s < kSubmitters; ++s) EXPECT_EQ(std::memcmp(data[s].data(), back[s].data(), data[s].size()), 0) << s;
}

TEST(InProcessStoreConcurrency, TicketsWaitedOnOtherThreads) {
  auto backend = MakeInProcessStore(LinkModel{});
  HammerWithCrossThreadWaits(*backend);
}

TEST(ShardedConcurrency, TicketsWaitedOnOtherThreads) {
  std::vector<std::unique_ptr<Backend>> shards;
  for (int i = 0; i < 3; ++i) shards.push_back(MakeInProcessStore(LinkModel{0, 0, 0}));
  auto backend = MakeSharded(std::move(shards), 8);
  HammerWithCrossThreadWaits(*backend);
}

TEST(MemnodeClientConcurrency, TicketsWaitedOnOtherThreads) {
  testing::Memnode node;
  TcpOptions options;
  options.connections = 2;
  Status st;
  auto backend = ConnectMemnode(node.endpoint(), options, &st);
  ASSERT_NE(backend, nullptr) << st.ToString();
  HammerWithCrossThreadWaits(*backend);
}

// The node dies while threads are submitting and waiting: every thread must
// come back with errors, none may hang, and destruction must be clean.
TEST(MemnodeClientConcurrency, NodeDeathWhileThreadsAreBusy) {
  testing::Memnode node;
  Status st;
  auto backend = ConnectMemnode(node.endpoint(), TcpOptions{}, &st);
  ASSERT_NE(backend, nullptr) << st.ToString();
  std::atomic<bool> saw_failure[3] = {false, false, false};
  std::vector<std::thread> threads;
  for (int id = 0; id < 3; ++id) {
    threads.emplace_back([&, id] {
      std::vector<std::byte> buf(8 * kPageSize);
      auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
      while (std::chrono::steady_clock::now() < deadline) {
        std::vector<PageIo> batch;
        for (uint64_t i = 0; i < 8; ++i) batch.push_back({id * 1000 + i, &buf[i * kPageSize]});
        Status s;
        IoTicket t = backend->write_pages(batch, &s);
        Status result = t == 0 ? s : backend->wait(t);
        if (!result.ok()) {
          EXPECT_NE(result.message().find(node.endpoint()), std::string::npos) << result.message();
          saw_failure[id] = true;
          return;
        }
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  node.process().Kill(SIGKILL);
  for (auto& t : threads) t.join();
  for (auto& f : saw_failure) EXPECT_TRUE(f.load());
  backend.reset();
}

}  // namespace
}  // namespace prescient
