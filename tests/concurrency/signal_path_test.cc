// The signal fault path's own promises (D105): a system call needs its
// buffer pinned, a pinned page is never evicted under it, and SIGBUSes that
// are not the region's reach the program's disposition. Under TSan too: the
// faults are served on the threads that take them.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <thread>
#include <vector>

#include "prescient/region.h"
#include "runtime/signal_faults.h"

namespace prescient {
namespace {

constexpr uint64_t kPages = 4096;

std::unique_ptr<Region> MakeSignalRegion(uint64_t local_pages) {
  RegionOptions options;
  options.reserve_bytes = size_t{1} << 30;
  options.local_bytes = local_pages * kPageSize;
  options.fault_path = FaultPath::kSignal;
  Status st;
  auto region = Region::Create(options, MakeInProcessStore(LinkModel{0, 0, 0}), &st);
  EXPECT_TRUE(st.ok()) << st.ToString();
  return region;
}

bool Resident(const std::byte* addr, size_t len) {
  std::vector<unsigned char> vec((len + kPageSize - 1) / kPageSize);
  if (mincore(const_cast<std::byte*>(addr), len, vec.data()) != 0) return false;
  for (unsigned char v : vec)
    if ((v & 1) == 0) return false;
  return true;
}

TEST(SignalPath, AKernelWriteToAnUnpinnedPageFailsAndAPinnedOneSucceeds) {
  if (!KernelOffersSignalFaults()) GTEST_SKIP() << "this kernel's userfaultfd has no SIGBUS mode";
  auto region = MakeSignalRegion(kPages);
  ASSERT_TRUE(region);
  ASSERT_EQ(region->fault_path(), FaultPath::kSignal);
  std::byte* buf = region->base();
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  const char text[] = "far memory";
  ASSERT_EQ(write(fds[1], text, sizeof(text)), static_cast<ssize_t>(sizeof(text)));
  // Never touched: the kernel may not fault it in for itself on this path.
  errno = 0;
  EXPECT_EQ(read(fds[0], buf, sizeof(text)), -1);
  EXPECT_EQ(errno, EFAULT);
  // The data is still in the pipe; a pinned buffer takes it.
  size_t pinned = region->pin(buf, sizeof(text), /*for_write=*/true);
  ASSERT_EQ(pinned, sizeof(text));
  EXPECT_EQ(read(fds[0], buf, sizeof(text)), static_cast<ssize_t>(sizeof(text)));
  region->unpin(buf, pinned);
  EXPECT_EQ(std::memcmp(buf, text, sizeof(text)), 0);
  close(fds[0]);
  close(fds[1]);
}

TEST(SignalPath, PinnedPagesStayResidentWhileOtherThreadsEvict) {
  if (!KernelOffersSignalFaults()) GTEST_SKIP() << "this kernel's userfaultfd has no SIGBUS mode";
  auto region = MakeSignalRegion(512);
  ASSERT_TRUE(region);
  std::byte* base = region->base();
  constexpr size_t kPinned = 32;
  for (size_t i = 0; i < kPinned * kPageSize; ++i) base[i] = static_cast<std::byte>(i * 7);
  ASSERT_EQ(region->pin(base, kPinned * kPageSize, /*for_write=*/true), kPinned * kPageSize);
  std::atomic<bool> evicted_under_pin{false};
  std::vector<std::thread> threads;
  for (int t = 0; t < 2; ++t) {
    threads.emplace_back([&, t] {
      // Each thread streams through its own pages, eight budgets' worth.
      for (uint64_t round = 0; round < 2; ++round) {
        for (uint64_t p = kPinned + t; p < kPages; p += 2) base[p * kPageSize] = static_cast<std::byte>(p);
        if (!Resident(base, kPinned * kPageSize)) evicted_under_pin = true;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_FALSE(evicted_under_pin.load());
  EXPECT_GT(region->stats().pinned_waits, 0u) << "the pinned pages reached the front of the queue and were passed over";
  region->unpin(base, kPinned * kPageSize);
  for (size_t i = 0; i < kPinned * kPageSize; ++i) ASSERT_EQ(base[i], static_cast<std::byte>(i * 7)) << "byte " << i;
  ASSERT_TRUE(region->evict_all().ok());
  for (size_t i = 0; i < kPinned * kPageSize; ++i) ASSERT_EQ(base[i], static_cast<std::byte>(i * 7)) << "byte " << i << " after eviction";
}

std::atomic<int> g_program_sigbus{0};
void ProgramHandler(int, siginfo_t* info, void*) {
  if (info->si_code <= 0) g_program_sigbus.fetch_add(1);
}

TEST(SignalPath, ASigbusThatIsNotTheRegionsReachesTheProgramsHandler) {
  if (!KernelOffersSignalFaults()) GTEST_SKIP() << "this kernel's userfaultfd has no SIGBUS mode";
  auto region = MakeSignalRegion(kPages);
  ASSERT_TRUE(region);
  ASSERT_TRUE(SignalFaultsInstalled());
  struct sigaction mine, before;
  std::memset(&mine, 0, sizeof(mine));
  mine.sa_sigaction = ProgramHandler;
  mine.sa_flags = SA_SIGINFO;
  ProgramSigbusAction(&mine, &before);
  g_program_sigbus = 0;
  ASSERT_EQ(raise(SIGBUS), 0);
  EXPECT_EQ(g_program_sigbus.load(), 1);
  // Region faults still go to the region, not to the program.
  region->base()[0] = std::byte{1};
  EXPECT_EQ(region->base()[0], std::byte{1});
  EXPECT_EQ(g_program_sigbus.load(), 1);
  ProgramSigbusAction(&before, nullptr);
}

}  // namespace
}  // namespace prescient
