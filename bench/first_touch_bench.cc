// What it costs to see a prefetched page's first touch (issue 4, item 7;
// D67). FarSight's kernel sees it as a cheap minor fault; user space has
// these options, each measured here on bare userfaultfd with a busy-polling
// handler (the runtime's hybrid loop spins while faults keep coming):
//
//   FirstTouch/mapped    the page was installed with UFFDIO_COPY: the touch
//                        costs nothing and nobody learns of it
//   FirstTouch/staged    the page waits in a local buffer, unmapped: the touch
//                        raises a MISSING fault, answered by UFFDIO_COPY from
//                        the buffer (no read from far memory)
//   FirstTouch/minor     the region is shmem (memfd) registered in MINOR mode;
//                        the page waits in the page cache: the touch raises a
//                        MINOR fault, answered by UFFDIO_CONTINUE
//   FirstTouch/wp-write  the page was installed write-protected: only a
//                        *write* faults (reads stay invisible); the handler
//                        lifts the protection
//   DemandFault/3us      the miss a prefetch avoids: MISSING fault, a 3 us
//                        far read (the embedded store's default), UFFDIO_COPY
//
// Each also reports prepare_us, the cost per page of getting it ready off the
// critical path (the prefetch worker's share). After the runs it prints each
// option's touch cost as a fraction of the demand fault.
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>
#include <thread>

#include <benchmark/benchmark.h>
#include <fmt/format.h>

namespace {

constexpr size_t kPage = 4096;
constexpr size_t kPages = 4096;  // 16 MiB per round

enum class Option { kMapped, kStaged, kMinor, kWpWrite, kDemand };

uint64_t NowNs() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch()).count());
}

[[noreturn]] void Die(const char* what) {
  fmt::print(stderr, "first_touch_bench: {}: {}\n", what, std::strerror(errno));
  std::exit(1);
}

// A bare pager over one region, set up for one option.
class Pager {
 public:
  explicit Pager(Option option) : option_(option) {
    bytes_ = kPages * kPage;
    fd_ = static_cast<int>(syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK));
    if (fd_ < 0) Die("userfaultfd");
    uffdio_api api{UFFD_API, 0, 0};
    api.features = option == Option::kMinor ? UFFD_FEATURE_MINOR_SHMEM : UFFD_FEATURE_PAGEFAULT_FLAG_WP;
    if (ioctl(fd_, UFFDIO_API, &api) != 0) Die("UFFDIO_API");
    if (option == Option::kMinor) {
      memfd_ = memfd_create("first_touch_bench", MFD_CLOEXEC);
      if (memfd_ < 0 || ftruncate(memfd_, static_cast<off_t>(bytes_)) != 0) Die("memfd");
      base_ = static_cast<char*>(mmap(nullptr, bytes_, PROT_READ | PROT_WRITE, MAP_SHARED, memfd_, 0));
      alias_ = static_cast<char*>(mmap(nullptr, bytes_, PROT_READ | PROT_WRITE, MAP_SHARED, memfd_, 0));
      if (base_ == MAP_FAILED || alias_ == MAP_FAILED) Die("mmap of the memfd");
    } else {
      base_ = static_cast<char*>(mmap(nullptr, bytes_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0));
      if (base_ == MAP_FAILED) Die("mmap");
      madvise(base_, bytes_, MADV_NOHUGEPAGE);
    }
    uffdio_register reg{};
    reg.range = {reinterpret_cast<uint64_t>(base_), bytes_};
    reg.mode = option == Option::kMinor ? UFFDIO_REGISTER_MODE_MINOR
               : option == Option::kWpWrite ? (UFFDIO_REGISTER_MODE_MISSING | UFFDIO_REGISTER_MODE_WP)
                                            : UFFDIO_REGISTER_MODE_MISSING;
    if (ioctl(fd_, UFFDIO_REGISTER, &reg) != 0) Die("UFFDIO_REGISTER");
    stage_ = static_cast<char*>(mmap(nullptr, bytes_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
    if (stage_ == MAP_FAILED) Die("mmap of the stage");
    std::memset(stage_, 7, bytes_);
    thread_ = std::thread([this] { Serve(); });
  }
  ~Pager() {
    stop_ = true;
    thread_.join();
    close(fd_);
    munmap(base_, bytes_);
    munmap(stage_, bytes_);
    if (alias_) munmap(alias_, bytes_);
    if (memfd_ >= 0) close(memfd_);
  }
  char* base() const { return base_; }

  // Makes every page ready for its first touch, as a prefetch would, and
  // returns the cost per page in microseconds.
  double Prepare() {
    // Unmaps every page; a memfd's page cache keeps its data.
    madvise(base_, bytes_, MADV_DONTNEED);
    uint64_t start = NowNs();
    for (size_t p = 0; p < kPages; ++p) {
      char* stage = stage_ + p * kPage;
      switch (option_) {
        case Option::kMapped:
        case Option::kWpWrite: {
          uffdio_copy copy{};
          copy.dst = reinterpret_cast<uint64_t>(base_ + p * kPage);
          copy.src = reinterpret_cast<uint64_t>(stage);
          copy.len = kPage;
          copy.mode = option_ == Option::kWpWrite ? UFFDIO_COPY_MODE_WP : 0;
          if (ioctl(fd_, UFFDIO_COPY, &copy) != 0) Die("UFFDIO_COPY (prepare)");
          break;
        }
        case Option::kMinor:
          std::memcpy(alias_ + p * kPage, stage, kPage);  // into the page cache
          break;
        case Option::kStaged:  // the far read lands in the buffer: nothing more to do
        case Option::kDemand:
          break;
      }
    }
    return static_cast<double>(NowNs() - start) / 1000.0 / kPages;
  }

 private:
  void Serve() {
    uffd_msg msg;
    while (!stop_.load(std::memory_order_relaxed)) {
      if (read(fd_, &msg, sizeof(msg)) != sizeof(msg)) continue;
      if (msg.event != UFFD_EVENT_PAGEFAULT) continue;
      uint64_t addr = msg.arg.pagefault.address & ~(kPage - 1);
      char* stage = stage_ + (addr - reinterpret_cast<uint64_t>(base_));
      if (msg.arg.pagefault.flags & UFFD_PAGEFAULT_FLAG_WP) {
        uffdio_writeprotect wp{};
        wp.range = {addr, kPage};
        if (ioctl(fd_, UFFDIO_WRITEPROTECT, &wp) != 0) Die("UFFDIO_WRITEPROTECT");
      } else if (msg.arg.pagefault.flags & UFFD_PAGEFAULT_FLAG_MINOR) {
        uffdio_continue cont{};
        cont.range = {addr, kPage};
        if (ioctl(fd_, UFFDIO_CONTINUE, &cont) != 0) Die("UFFDIO_CONTINUE");
      } else {
        if (option_ == Option::kDemand) {
          uint64_t until = NowNs() + 3000;  // the far read
          while (NowNs() < until) {
          }
        }
        uffdio_copy copy{};
        copy.dst = addr;
        copy.src = reinterpret_cast<uint64_t>(stage);
        copy.len = kPage;
        if (ioctl(fd_, UFFDIO_COPY, &copy) != 0) Die("UFFDIO_COPY");
      }
    }
  }

  Option option_;
  size_t bytes_;
  char* base_ = nullptr;
  char* alias_ = nullptr;
  char* stage_ = nullptr;
  int fd_ = -1;
  int memfd_ = -1;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

void FirstTouch(benchmark::State& state, Option option) {
  Pager pager(option);
  double prepare_us = pager.Prepare();
  int rounds = 1;
  size_t i = 0;
  for (auto _ : state) {
    if (i == kPages) {
      state.PauseTiming();
      prepare_us += pager.Prepare();
      ++rounds;
      i = 0;
      state.ResumeTiming();
    }
    volatile char* p = pager.base() + i++ * kPage;
    if (option == Option::kWpWrite) {
      *p = 1;
    } else {
      char c = *p;
      benchmark::DoNotOptimize(c);
    }
  }
  state.counters["prepare_us"] = prepare_us / rounds;
}

// Keeps each run's time so the fractions can be printed at the end.
class FractionReporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    for (const auto& r : runs)
      if (r.run_type == Run::RT_Iteration && r.iterations > 0) ns_[r.run_name.function_name] = r.GetAdjustedRealTime();
    ConsoleReporter::ReportRuns(runs);
  }
  void PrintFractions() const {
    auto demand = ns_.find("DemandFault/3us");
    if (demand == ns_.end()) return;
    fmt::print("\nfirst touch of a prefetched page / the demand fault it replaces (same run):\n");
    for (const auto& [name, ns] : ns_)
      if (name != demand->first) fmt::print("  {:20} {:8.2f} us / {:8.2f} us = {:.3f}\n", name, ns / 1000, demand->second / 1000, ns / demand->second);
  }

 private:
  std::map<std::string, double> ns_;
};

}  // namespace

int main(int argc, char** argv) {
  const std::pair<const char*, Option> options[] = {{"FirstTouch/mapped", Option::kMapped},
                                                    {"FirstTouch/staged", Option::kStaged},
                                                    {"FirstTouch/minor", Option::kMinor},
                                                    {"FirstTouch/wp-write", Option::kWpWrite},
                                                    {"DemandFault/3us", Option::kDemand}};
  for (const auto& [name, option] : options)
    benchmark::RegisterBenchmark(name, FirstTouch, option)->Iterations(20000)->UseRealTime();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  FractionReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  reporter.PrintFractions();
  benchmark::Shutdown();
  return 0;
}
