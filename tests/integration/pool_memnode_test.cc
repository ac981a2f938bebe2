// The embedding pool served by a real `prescient memnode --pool`, driven by
// RemoteEmbeddingStore: bit-identity with the DRAM reference over the wire,
// the traffic (no rows cross for lookups and updates), validation of hostile
// payloads, and the memory node SIGKILLed mid-batch, many times: the client
// must fail promptly, and a node restarted on the same file must recover to
// a replay of the committed batches.
//
// PRESCIENT_CRASH_ITERATIONS sets the number of node kills (default 12).
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <numeric>
#include <random>
#include <stdexcept>
#include <thread>

#include <gtest/gtest.h>

#include "common/clock.h"
#include "memnode/pmem_embedding_store.h"
#include "memnode/table_spec.h"
#include "testutil/pool_batches.h"
#include "testutil/testutil.h"
#include "transport/pool_protocol.h"
#include "transport/protocol.h"
#include "transport/remote_embedding_store.h"
#include "transport/socket_util.h"

namespace prescient {
namespace {

using Clock = std::chrono::steady_clock;
using testing::Memnode;
constexpr uint64_t kSeed = 11;
constexpr uint32_t kSamples = 128;

std::vector<std::string> PoolArgs(const std::string& path) {
  return {"--pool", path, "--pool-create", FormatTableSpecs(testing::PoolTestTables()), "--pool-seed", std::to_string(kSeed)};
}

std::unique_ptr<RemoteEmbeddingStore> Connect(const std::string& endpoint, double timeout_s = 10) {
  Status st;
  RemotePoolOptions options;
  options.request_timeout_s = timeout_s;
  auto store = RemoteEmbeddingStore::Connect(endpoint, options, &st);
  EXPECT_NE(store, nullptr) << st.ToString();
  return store;
}

// Every row of the remote pool against the reference ("" when equal).
std::string RemoteDiff(RemoteEmbeddingStore& remote, const DramEmbeddingStore& ref) {
  for (uint32_t t = 0; t < remote.tables().size(); ++t) {
    const TableSpec& spec = remote.tables()[t];
    std::vector<uint32_t> all(spec.rows);
    std::iota(all.begin(), all.end(), 0u);
    std::vector<float> rows(all.size() * spec.dim);
    Status st = remote.GatherRows(t, all, rows.data());
    if (!st.ok()) return st.ToString();
    for (uint64_t r = 0; r < spec.rows; ++r)
      if (std::memcmp(rows.data() + r * spec.dim, ref.row(t, r), spec.dim * 4) != 0) return "table " + std::to_string(t) + " row " + std::to_string(r);
  }
  return "";
}

std::string LocalDiff(const std::string& path, const DramEmbeddingStore& ref) {
  Status st;
  auto pool = PmemEmbeddingStore::Open(path, {}, &st);
  if (pool == nullptr) return st.ToString();
  if (pool->next_batch() != ref.next_batch()) return "next_batch " + std::to_string(pool->next_batch());
  return testing::FirstDifference(
      pool->tables(), ref, [&](uint32_t t, uint64_t r) { return pool->row(t, r); }, [&](uint32_t t, uint64_t r) { return pool->adagrad_state(t, r); });
}

TEST(PoolMemnodeTest, RemoteTrainingMatchesTheReferenceAndMovesNoRows) {
  testing::TempDir dir;
  const std::string path = dir.file("pool");
  DramEmbeddingStore ref(testing::PoolTestTables(), kSeed);
  {
    Memnode node(PoolArgs(path));
    auto remote = Connect(node.endpoint());
    ASSERT_NE(remote, nullptr);
    EXPECT_NE(remote->describe().find("pmem pool " + path), std::string::npos) << remote->describe();
    EXPECT_EQ(remote->tables().size(), 4u);
    EXPECT_EQ(remote->seed(), kSeed);
    for (uint64_t b = 0; b < 10; ++b) {
      ASSERT_TRUE(testing::RunPoolBatch(ref, kSeed, b, kSamples).ok());
      const uint64_t sent = remote->bytes_sent(), received = remote->bytes_received();
      ASSERT_TRUE(testing::RunPoolBatch(*remote, kSeed, b, kSamples).ok());
      // What must cross: the indices once (PREPARE), the pooled vectors
      // back, the pooled gradients out, and small headers.
      testing::PoolBatch batch = testing::MakePoolBatch(kSeed, b, remote->tables(), kSamples);
      uint64_t indices = 0, pooled = 0;
      for (uint32_t t = 0; t < 4; ++t) {
        indices += (batch.indices[t].size() + batch.offsets[t].size()) * 4;
        pooled += batch.grads[t].size() * 4;
      }
      EXPECT_LE(remote->bytes_sent() - sent, indices + pooled + 1024) << "lookups and updates reuse the prepared indices";
      EXPECT_LE(remote->bytes_received() - received, pooled + 1024) << "only pooled vectors come back";
    }
    EXPECT_EQ(remote->next_batch(), 10u);
    EXPECT_EQ(RemoteDiff(*remote, ref), "");
    // The Adagrad state, as a checkpoint would read and restore it.
    std::vector<uint32_t> all(remote->tables()[0].rows);
    std::iota(all.begin(), all.end(), 0u);
    std::vector<float> remote_state(all.size()), ref_state(all.size());
    ASSERT_TRUE(remote->GatherAdagradState(0, all, remote_state.data()).ok());
    ASSERT_TRUE(ref.GatherAdagradState(0, all, ref_state.data()).ok());
    EXPECT_EQ(0, std::memcmp(remote_state.data(), ref_state.data(), all.size() * 4));
    ASSERT_TRUE(remote->ScatterAdagradState(0, all, remote_state.data()).ok());
    // Bags other than the prepared ones are sent in full and still work.
    std::vector<uint32_t> idx = {3, 3, 9}, off = {0, 1, 3};
    std::vector<float> got(2 * 16), want(2 * 16);
    ASSERT_TRUE(remote->Lookup(0, {idx, off}, Pooling::kMean, got.data()).ok());
    ASSERT_TRUE(ref.Lookup(0, {idx, off}, Pooling::kMean, want.data()).ok());
    EXPECT_EQ(0, std::memcmp(got.data(), want.data(), got.size() * 4));
    // Errors from the pool are answers, and the connection lives on.
    Status st = remote->Lookup(7, {idx, off}, Pooling::kSum, got.data());
    EXPECT_NE(st.message().find("no table 7"), std::string::npos) << st.ToString();
    std::vector<uint32_t> bad = {1, 5000};
    st = remote->GatherRows(1, bad, got.data());
    EXPECT_NE(st.message().find("out of range"), std::string::npos) << st.ToString();
    EXPECT_FALSE(remote->Commit(10).ok());
    uint64_t n = 0;
    ASSERT_TRUE(remote->FetchNextBatch(&n).ok());
    EXPECT_EQ(n, 10u);
    node.process().Kill(SIGTERM);
    EXPECT_EQ(node.process().Wait(std::chrono::seconds(10)), 0);
  }
  EXPECT_EQ(LocalDiff(path, ref), "") << "the Adagrad state too";
}

// A hand-made frame on a fresh connection after HELLO.
class RawPoolClient {
 public:
  explicit RawPoolClient(const std::string& endpoint) {
    Endpoint e;
    EXPECT_TRUE(ParseEndpoint(endpoint, &e).ok());
    EXPECT_TRUE(ConnectTcp(e, 5000, &fd_).ok());
    auto hello = wire::EncodeHello(1, {wire::kVersion, 1, ""});
    EXPECT_TRUE(WriteFull(fd_.get(), hello).ok());
    EXPECT_TRUE(Receive(nullptr).ok());
  }
  // Sends op with `payload`; returns the answer's status (message in *text).
  Status Send(wire::PoolOp op, const std::vector<std::byte>& payload, std::string* text = nullptr) {
    std::vector<std::byte> frame;
    wire::AppendFrame({static_cast<uint16_t>(op), 0, 0, 2}, payload, &frame);
    Status st = WriteFull(fd_.get(), frame);
    if (!st.ok()) return st;
    return Receive(text);
  }
  Status Receive(std::string* text) {
    std::byte h[wire::kHeaderSize];
    PRESCIENT_RETURN_IF_ERROR(ReadFull(fd_.get(), h, NowNanos() + 5'000'000'000));
    wire::FrameHeader header;
    PRESCIENT_RETURN_IF_ERROR(wire::ParseHeader(h, &header));
    std::vector<std::byte> payload(header.payload_len);
    PRESCIENT_RETURN_IF_ERROR(ReadFull(fd_.get(), payload, NowNanos() + 5'000'000'000));
    std::string msg(reinterpret_cast<const char*>(payload.data()), payload.size());
    if (text != nullptr) *text = msg;
    return header.status == 0 ? Status::Ok() : wire::FromWireStatus(header.status, msg);
  }
  bool Closed() {
    std::byte b;
    return !ReadFull(fd_.get(), std::span(&b, 1), NowNanos() + 5'000'000'000).ok();
  }

 private:
  UniqueFd fd_;
};

TEST(PoolMemnodeTest, HostilePayloadsAreRefused) {
  testing::TempDir dir;
  Memnode node(PoolArgs(dir.file("pool")));
  {
    // A lookup whose bag block claims more indices than it carries.
    RawPoolClient c(node.endpoint());
    std::vector<std::byte> p;
    wire::PutU32(&p, 0);
    wire::PutU32(&p, 0);
    wire::PutU32(&p, 1);
    wire::PutU32(&p, 1000000);
    wire::PutU32(&p, 0);
    wire::PutU32(&p, 1000000);
    std::string text;
    Status st = c.Send(wire::PoolOp::kLookup, p, &text);
    EXPECT_EQ(st.code(), Status::Code::kCorruption) << st.ToString();
    EXPECT_NE(text.find("indices"), std::string::npos) << text;
    EXPECT_TRUE(c.Closed()) << "a malformed request closes the connection";
  }
  {
    // An update whose gradient does not match its bags: refused, answered.
    RawPoolClient c(node.endpoint());
    std::vector<std::byte> prep;
    wire::PutU64(&prep, 0);
    wire::PutU32(&prep, 4);
    wire::PutU32(&prep, 0);
    std::vector<uint32_t> idx = {1}, off = {0, 1}, none, zero = {0};
    wire::PutBags(&prep, {idx, off});
    for (int t = 0; t < 3; ++t) wire::PutBags(&prep, {none, zero});
    ASSERT_TRUE(c.Send(wire::PoolOp::kPrepare, prep).ok());
    std::vector<std::byte> p;
    wire::PutU64(&p, 0);
    wire::PutU32(&p, 0);
    const uint8_t fields[4] = {0, 0, wire::kUsePreparedBags, 0};
    wire::PutBytes(&p, fields, 4);
    wire::PutF32(&p, 0.1f);
    wire::PutF32(&p, 1e-8f);
    wire::PutU32(&p, 3);  // 3 floats for one bag of dim 16
    wire::PutU32(&p, 0);
    for (int i = 0; i < 3; ++i) wire::PutF32(&p, 1.0f);
    std::string text;
    Status st = c.Send(wire::PoolOp::kUpdate, p, &text);
    EXPECT_EQ(st.code(), Status::Code::kInvalidArgument) << st.ToString();
    EXPECT_NE(text.find("3 gradient floats for 1 bags of dim 16"), std::string::npos) << text;
    // An index beyond the table.
    std::vector<std::byte> g;
    wire::PutU32(&g, 3);
    wire::PutU32(&g, 1);
    wire::PutU32(&g, 100);
    st = c.Send(wire::PoolOp::kGather, g, &text);
    EXPECT_NE(text.find("row 100 is out of range"), std::string::npos) << text;
    // A gather response that would exceed the limit.
    std::vector<std::byte> big;
    wire::PutU32(&big, 7);
    wire::PutU32(&big, 0);
    st = c.Send(wire::PoolOp::kGather, big, &text);
    EXPECT_NE(text.find("no table 7"), std::string::npos) << text;
  }
  {
    // A huge payload before HELLO is refused without being read.
    Endpoint e;
    ASSERT_TRUE(ParseEndpoint(node.endpoint(), &e).ok());
    UniqueFd fd;
    ASSERT_TRUE(ConnectTcp(e, 5000, &fd).ok());
    std::byte h[wire::kHeaderSize];
    wire::EncodeHeader({static_cast<uint16_t>(wire::PoolOp::kPrepare), 0, 32u << 20, 1}, h);
    ASSERT_TRUE(WriteFull(fd.get(), h).ok());
    std::byte r[wire::kHeaderSize];
    ASSERT_TRUE(ReadFull(fd.get(), r, NowNanos() + 5'000'000'000).ok());
    wire::FrameHeader header;
    ASSERT_TRUE(wire::ParseHeader(r, &header).ok());
    EXPECT_NE(header.status, 0);
  }
}

// Issue 18, item 1: with two real clients on one node, every request of the
// second that would change the first's batch in flight is refused, saying
// why, and changes nothing: the first trains on to the reference's tables.
TEST(PoolMemnodeTest, AnotherClientCannotTouchTheBatchInFlight) {
  testing::TempDir dir;
  DramEmbeddingStore ref(testing::PoolTestTables(), kSeed);
  Memnode node(PoolArgs(dir.file("pool")));
  auto trainer = Connect(node.endpoint());
  ASSERT_NE(trainer, nullptr);
  RawPoolClient intruder(node.endpoint());
  auto refused = [&](wire::PoolOp op, const std::vector<std::byte>& payload) {
    std::string text;
    Status st = intruder.Send(op, payload, &text);
    EXPECT_FALSE(st.ok()) << wire::PoolOpName(static_cast<uint16_t>(op)) << " from another connection was accepted";
    EXPECT_NE(text.find("prepared by another connection"), std::string::npos) << text;
  };
  auto batch_payload = [](uint64_t batch) {
    std::vector<std::byte> p;
    wire::PutU64(&p, batch);
    return p;
  };
  for (uint64_t b = 0; b < 4; ++b) {
    ASSERT_TRUE(testing::RunPoolBatch(ref, kSeed, b, kSamples).ok());
    Status st = testing::RunPoolBatch(*trainer, kSeed, b, kSamples, [&] {
      refused(wire::PoolOp::kReset, batch_payload(uint64_t{1} << 48));
      refused(wire::PoolOp::kCommit, batch_payload(b));
      for (uint64_t wrong : {b, b + 7}) {
        std::vector<std::byte> prep = batch_payload(wrong);
        wire::PutU32(&prep, 4);
        wire::PutU32(&prep, 0);
        std::vector<uint32_t> idx = {1}, off = {0, 1}, none, zero = {0};
        wire::PutBags(&prep, {idx, off});
        for (int t = 0; t < 3; ++t) wire::PutBags(&prep, {none, zero});
        refused(wire::PoolOp::kPrepare, prep);
      }
      std::vector<std::byte> update = batch_payload(b);
      wire::PutU32(&update, 0);
      const uint8_t fields[4] = {0, 0, wire::kUsePreparedBags, 0};
      wire::PutBytes(&update, fields, 4);
      wire::PutF32(&update, 0.1f);
      wire::PutF32(&update, 1e-8f);
      wire::PutU32(&update, 0);
      wire::PutU32(&update, 0);
      refused(wire::PoolOp::kUpdate, update);
      std::vector<std::byte> lookup;
      wire::PutU32(&lookup, 0);
      const uint8_t lookup_fields[4] = {0, wire::kUsePreparedBags, 0, 0};
      wire::PutBytes(&lookup, lookup_fields, 4);
      refused(wire::PoolOp::kLookup, lookup);
      std::vector<std::byte> scatter;
      wire::PutU32(&scatter, 0);
      wire::PutU32(&scatter, 1);
      wire::PutU32(&scatter, 5);
      for (int i = 0; i < 16; ++i) wire::PutF32(&scatter, 9.0f);
      refused(wire::PoolOp::kScatter, scatter);
    });
    ASSERT_TRUE(st.ok()) << "batch " << b << ": " << st.ToString();
  }
  EXPECT_EQ(trainer->next_batch(), 4u);
  EXPECT_EQ(RemoteDiff(*trainer, ref), "");
}

// The trainer, not the node, dies mid-batch: the node rolls back the batch
// its connection left in flight, and the next trainer starts from there.
TEST(PoolMemnodeTest, SigkillOfTheTrainerMidBatchIsRolledBackByTheNode) {
  testing::TempDir dir;
  const std::string path = dir.file("pool");
  Memnode node(PoolArgs(path));
  DramEmbeddingStore ref(testing::PoolTestTables(), kSeed);
  std::mt19937_64 rng(std::random_device{}());
  int rolled_back = 0;
  for (int i = 0; i < 8; ++i) {
    testing::Child trainer({testing::BuildPath("tests/pool_crash_child"), "tcp:" + node.endpoint(), std::to_string(kSeed),
                            std::to_string(ref.next_batch() + 1000), std::to_string(kSamples)});
    std::this_thread::sleep_for(std::chrono::milliseconds(50 + rng() % 100));
    trainer.Kill(SIGKILL);
    ASSERT_EQ(trainer.Wait(std::chrono::seconds(10)), 128 + SIGKILL) << trainer.Stderr();
    // The node sees the connection end within moments; until it has rolled
    // back, the rows differ from every replay.
    std::string diff = "not checked";
    const auto deadline = Clock::now() + std::chrono::seconds(3);
    while (Clock::now() < deadline) {
      auto remote = Connect(node.endpoint());
      ASSERT_NE(remote, nullptr);
      ASSERT_GE(remote->next_batch(), ref.next_batch());
      while (ref.next_batch() < remote->next_batch()) ASSERT_TRUE(testing::RunPoolBatch(ref, kSeed, ref.next_batch(), kSamples).ok());
      diff = RemoteDiff(*remote, ref);
      if (diff.empty()) {
        // And training continues from there.
        ASSERT_TRUE(testing::RunPoolBatch(*remote, kSeed, ref.next_batch(), kSamples).ok());
        ASSERT_TRUE(testing::RunPoolBatch(ref, kSeed, ref.next_batch(), kSamples).ok());
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    ASSERT_EQ(diff, "") << "iteration " << i << ": the node did not roll back the dead trainer's batch";
  }
  const std::string log = node.process().Stderr();
  for (size_t at = log.find("left before committing it"); at != std::string::npos; at = log.find("left before committing it", at + 1)) ++rolled_back;
  std::printf("8 trainer kills, %d left a batch in flight that the node rolled back\n", rolled_back);
  EXPECT_GT(rolled_back, 0) << log;
  node.process().Kill(SIGTERM);
  ASSERT_EQ(node.process().Wait(std::chrono::seconds(10)), 0);
  EXPECT_EQ(LocalDiff(path, ref), "");
}

TEST(PoolMemnodeTest, AHungMemnodeTimesOutInsteadOfHanging) {
  testing::TempDir dir;
  Memnode node(PoolArgs(dir.file("pool")));
  auto remote = Connect(node.endpoint(), /*timeout_s=*/2.0);
  ASSERT_NE(remote, nullptr);
  std::vector<uint32_t> rows = {0, 1, 2};
  std::vector<float> got(3 * 16);
  ASSERT_TRUE(remote->GatherRows(0, rows, got.data()).ok());
  node.process().Kill(SIGSTOP);
  // A stop is delivered asynchronously: wait until the kernel reports it.
  for (int i = 0; i < 400; ++i) {
    std::string stat = testing::ReadFile("/proc/" + std::to_string(node.process().pid()) + "/stat");
    size_t paren = stat.rfind(')');
    if (paren != std::string::npos && paren + 2 < stat.size() && stat[paren + 2] == 'T') break;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  const auto start = Clock::now();
  std::vector<uint32_t> idx = {1}, off = {0, 1};
  std::vector<float> out(16, 42.0f);
  Status st = remote->Lookup(0, {idx, off}, Pooling::kSum, out.data());
  const double waited = std::chrono::duration<double>(Clock::now() - start).count();
  node.process().Kill(SIGCONT);
  EXPECT_EQ(st.code(), Status::Code::kUnavailable) << st.ToString();
  EXPECT_NE(st.message().find("no answer to POOL_LOOKUP within 2.0 s"), std::string::npos) << st.ToString();
  EXPECT_GE(waited, 1.9);
  EXPECT_LT(waited, 6.0);
  EXPECT_EQ(out[0], 42.0f) << "a failed lookup writes nothing";
  EXPECT_FALSE(remote->Commit(1).ok()) << "and the store stays failed";
}

TEST(PoolMemnodeTest, MemnodeWithoutPoolSaysSo) {
  Memnode node;
  Status st;
  EXPECT_EQ(RemoteEmbeddingStore::Connect(node.endpoint(), {}, &st), nullptr);
  EXPECT_NE(st.message().find("serves no embedding pool"), std::string::npos) << st.ToString();
}

TEST(PoolMemnodeTest, RefusesAForeignPoolFileAtStartup) {
  testing::TempDir dir;
  const std::string path = dir.file("pool");
  { std::ofstream(path) << "not a pool at all, but someone's data\n"; }
  const std::string before = testing::ReadFile(path);
  EXPECT_THROW(Memnode node(PoolArgs(path)), std::runtime_error);
  EXPECT_EQ(testing::ReadFile(path), before);
}

TEST(PoolMemnodeTest, SigkillOfTheMemnodeMidBatchRecoversToAReplay) {
  testing::TempDir dir;
  const std::string path = dir.file("pool");
  const char* env_iterations = std::getenv("PRESCIENT_CRASH_ITERATIONS");
  const int iterations = env_iterations != nullptr && std::atoi(env_iterations) > 0 ? std::atoi(env_iterations) : 12;
  std::mt19937_64 rng(std::random_device{}());
  const uint64_t run_seed = rng();
  SCOPED_TRACE("random seed " + std::to_string(run_seed));
  rng.seed(run_seed);
  DramEmbeddingStore ref(testing::PoolTestTables(), kSeed);
  int in_recovery = 0, from_inside = 0;
  double worst_error_s = 0;
  for (int i = 0; i < iterations; ++i) {
    std::vector<std::string> env;
    const bool inside = i % 2 == 1;
    if (inside) env.push_back("PRESCIENT_POOL_CRASH_AT=" + std::to_string(1 + rng() % 120));
    std::unique_ptr<Memnode> node;
    try {
      node = std::make_unique<Memnode>(PoolArgs(path), env);
    } catch (const std::runtime_error& e) {
      // Killed at a persistence point of its own recovery: the next start recovers.
      ASSERT_NE(std::string(e.what()).find("killed at"), std::string::npos) << e.what();
      ++in_recovery;
      continue;
    }
    auto remote = Connect(node->endpoint());
    ASSERT_NE(remote, nullptr);
    const uint64_t n = remote->next_batch();
    ASSERT_GE(n, ref.next_batch()) << "iteration " << i << ": a committed batch was lost";
    while (ref.next_batch() < n) ASSERT_TRUE(testing::RunPoolBatch(ref, kSeed, ref.next_batch(), kSamples).ok());
    ASSERT_EQ(RemoteDiff(*remote, ref), "") << "iteration " << i << ": recovered at batch " << n;
    std::thread killer;
    if (!inside) {
      const auto delay = std::chrono::microseconds(rng() % 40000);
      killer = std::thread([&node, delay] {
        std::this_thread::sleep_for(delay);
        node->process().Kill(SIGKILL);
      });
    } else {
      ++from_inside;
    }
    Status st;
    auto call_start = Clock::now();
    for (uint64_t b = n; b < n + 10000 && st.ok(); ++b) {
      call_start = Clock::now();
      st = testing::RunPoolBatch(*remote, kSeed, b, kSamples);
    }
    const double error_s = std::chrono::duration<double>(Clock::now() - call_start).count();
    if (killer.joinable()) killer.join();
    ASSERT_FALSE(st.ok()) << "iteration " << i << ": the node was killed, so some call must fail";
    EXPECT_EQ(st.code(), Status::Code::kUnavailable) << st.ToString();
    EXPECT_LT(error_s, 5.0) << "the failing batch took " << error_s << " s: " << st.ToString();
    worst_error_s = std::max(worst_error_s, error_s);
    // The store stays failed, at once.
    std::vector<float> out(kSamples * 16);
    std::vector<uint32_t> idx = {1}, off = {0, 1};
    EXPECT_FALSE(remote->Lookup(0, {idx, off}, Pooling::kSum, out.data()).ok());
    ASSERT_EQ(node->process().Wait(std::chrono::seconds(10)), 128 + SIGKILL) << node->process().Stderr();
  }
  // Finally the node's successor recovers, and the file holds the replay,
  // Adagrad state included.
  {
    Memnode node(PoolArgs(path));
    auto remote = Connect(node.endpoint());
    ASSERT_NE(remote, nullptr);
    while (ref.next_batch() < remote->next_batch()) ASSERT_TRUE(testing::RunPoolBatch(ref, kSeed, ref.next_batch(), kSamples).ok());
    ASSERT_EQ(remote->next_batch(), ref.next_batch());
    node.process().Kill(SIGTERM);
    ASSERT_EQ(node.process().Wait(std::chrono::seconds(10)), 0);
  }
  EXPECT_EQ(LocalDiff(path, ref), "");
  std::printf("%d node kills (%d at persistence points, %d of them during recovery), %llu batches committed, slowest failing batch %.3f s\n",
              iterations, from_inside + in_recovery, in_recovery, static_cast<unsigned long long>(ref.next_batch()), worst_error_s);
  EXPECT_GT(ref.next_batch(), 0u);
}

}  // namespace
}  // namespace prescient
