// The fault path, measured against its floor in the same run:
//   RawFault/<loop>      a bare userfaultfd handler: read the message, UFFDIO_COPY
//   RawFault/signal      a bare SIGBUS handler on the faulting thread: UFFDIO_COPY
//   RuntimeFault/<loop>  prescient's demand fetch from the embedded store at
//                        zero modelled latency (no eviction inside the loop),
//                        served by a fault thread waiting by <loop>
//   RuntimeFault/signal  the same, served on the faulting thread (D105)
//   Scan/<order>/<policy> pages/s through a region at 25 % local memory, with
//                        the default link model (3 us, 100 Gb/s)
// After the runs it prints each runtime/raw ratio (goal: <= 1.3).
// PRESCIENT_BENCH_SCAN_BYTES sets the scan size (default 4 GiB).
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <map>
#include <numeric>
#include <random>
#include <set>
#include <thread>

#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include "prescient/region.h"

namespace {

constexpr size_t kPage = 4096;
constexpr size_t kFaultPages = 16384;

// Reads one byte. (DoNotOptimize on the volatile lvalue itself would write the
// byte back, turning every read fault into a read and a write-protect fault.)
inline void Touch(const char* p) {
  char c = *static_cast<const volatile char*>(p);
  benchmark::DoNotOptimize(c);
}

// A bare registered range and the page every fault is answered with.
class RawRegion {
 public:
  explicit RawRegion(uint64_t features) {
    bytes_ = kFaultPages * kPage;
    base_ = static_cast<char*>(mmap(nullptr, bytes_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0));
    madvise(base_, bytes_, MADV_NOHUGEPAGE);
    fd_ = static_cast<int>(syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK));
    uffdio_api api{UFFD_API, features, 0};
    if (ioctl(fd_, UFFDIO_API, &api) != 0) std::abort();
    uffdio_register reg{};
    reg.range = {reinterpret_cast<uint64_t>(base_), bytes_};
    reg.mode = UFFDIO_REGISTER_MODE_MISSING;
    if (ioctl(fd_, UFFDIO_REGISTER, &reg) != 0) std::abort();
    src_ = static_cast<char*>(aligned_alloc(kPage, kPage));
    std::fill(src_, src_ + kPage, 7);
  }
  ~RawRegion() {
    close(fd_);
    munmap(base_, bytes_);
    free(src_);
  }
  char* base() const { return base_; }
  void Reset() { madvise(base_, bytes_, MADV_DONTNEED); }

 protected:
  // Answers the fault at `address` with a copy of the source page.
  void Serve(uint64_t address) const {
    uffdio_copy copy{};
    copy.dst = address & ~(kPage - 1);
    copy.src = reinterpret_cast<uint64_t>(src_);
    copy.len = kPage;
    ioctl(fd_, UFFDIO_COPY, &copy);
  }
  int fd_;

 private:
  size_t bytes_;
  char* base_;
  char* src_;
};

// A minimal userfaultfd pager: the floor any runtime pays per fault.
class RawPager : public RawRegion {
 public:
  explicit RawPager(bool spin) : RawRegion(0), spin_(spin), thread_([this] { Loop(); }) {}
  ~RawPager() {
    stop_ = true;
    thread_.join();
  }

 private:
  void Loop() {
    uffd_msg msg;
    while (!stop_) {
      if (read(fd_, &msg, sizeof(msg)) != sizeof(msg)) {
        if (!spin_) {
          pollfd p{fd_, POLLIN, 0};
          poll(&p, 1, 10);
        }
        continue;
      }
      Serve(msg.arg.pagefault.address);
    }
  }
  bool spin_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

// The signal path's floor: the faulting thread copies its own page in.
class RawSignalPager : public RawRegion {
 public:
  RawSignalPager() : RawRegion(UFFD_FEATURE_SIGBUS) {
    active_ = this;
    struct sigaction sa {};
    sa.sa_sigaction = OnSigbus;
    sa.sa_flags = SA_SIGINFO | SA_NODEFER;
    sigaction(SIGBUS, &sa, &previous_);
  }
  ~RawSignalPager() { sigaction(SIGBUS, &previous_, nullptr); }

 private:
  static void OnSigbus(int, siginfo_t* info, void*) { active_->Serve(reinterpret_cast<uint64_t>(info->si_addr)); }
  static inline RawSignalPager* active_ = nullptr;
  struct sigaction previous_ {};
};

template <typename Pager>
void TouchEveryPage(benchmark::State& state, Pager& pager) {
  size_t i = 0;
  for (auto _ : state) {
    if (i == kFaultPages) {
      state.PauseTiming();
      pager.Reset();
      i = 0;
      state.ResumeTiming();
    }
    Touch(pager.base() + i++ * kPage);
  }
}

void RawSignalFault(benchmark::State& state) {
  RawSignalPager pager;
  TouchEveryPage(state, pager);
}

void RawFault(benchmark::State& state, bool spin) {
  RawPager pager(spin);
  TouchEveryPage(state, pager);
}

std::unique_ptr<prescient::Region> MakeRegion(prescient::RegionOptions options, prescient::LinkModel link) {
  prescient::Status st;
  auto region = prescient::Region::Create(options, prescient::MakeInProcessStore(link), &st);
  if (!region) {
    fmt::print(stderr, "cannot create region: {}\n", st.ToString());
    std::exit(1);
  }
  return region;
}

void RuntimeFault(benchmark::State& state, prescient::FaultPath path, prescient::FaultLoopMode mode, prescient::DirtyTracking tracking) {
  prescient::RegionOptions options;
  options.fault_path = path;
  options.dirty_tracking = tracking;
  options.reserve_bytes = size_t{1} << 30;
  options.local_bytes = size_t{1} << 30;  // no eviction inside the timed loop
  options.loop = mode;
  auto region = MakeRegion(options, prescient::LinkModel{0, 0, 0});
  char* base = reinterpret_cast<char*>(region->base());
  auto make_remote = [&] {
    for (size_t p = 0; p < kFaultPages; ++p) base[p * kPage] = 1;
    (void)region->evict_all();
  };
  make_remote();
  size_t i = 0;
  for (auto _ : state) {
    if (i == kFaultPages) {
      state.PauseTiming();
      (void)region->evict_all();
      i = 0;
      state.ResumeTiming();
    }
    Touch(base + i++ * kPage);
  }
  auto s = region->stats();
  state.counters["fetched"] = static_cast<double>(s.pages_fetched);
  state.counters["service_p50_us"] = s.fault_latency.p50_us;
  state.counters["service_mean_us"] = s.fault_latency.mean_us;
}

size_t ScanBytes() {
  const char* env = std::getenv("PRESCIENT_BENCH_SCAN_BYTES");
  return env ? std::strtoull(env, nullptr, 10) : size_t{4} << 30;
}

void Scan(benchmark::State& state, bool random, const char* prefetch) {
  const size_t pages = ScanBytes() / kPage;
  prescient::RegionOptions options;
  options.reserve_bytes = pages * kPage + (size_t{1} << 30);
  options.local_fraction = 0.25;
  options.prefetch = prefetch;
  auto region = MakeRegion(options, prescient::LinkModel{});
  char* base = reinterpret_cast<char*>(region->base());
  for (size_t p = 0; p < pages; ++p) base[p * kPage] = static_cast<char>(p);
  std::vector<uint32_t> order(pages);
  std::iota(order.begin(), order.end(), 0);
  if (random) std::shuffle(order.begin(), order.end(), std::mt19937_64(42));
  uint64_t faults_before = region->stats().demand_faults;
  for (auto _ : state) {
    uint64_t sum = 0;
    for (uint32_t p : order) sum += static_cast<unsigned char>(base[static_cast<size_t>(p) * kPage]);
    benchmark::DoNotOptimize(sum);
  }
  auto s = region->stats();
  state.counters["pages_per_s"] = benchmark::Counter(static_cast<double>(pages) * state.iterations(), benchmark::Counter::kIsRate);
  state.counters["demand_faults"] = static_cast<double>(s.demand_faults - faults_before);
  state.counters["budget_MiB"] = static_cast<double>(s.budget_pages * kPage >> 20);
  state.counters["prefetch_used"] = static_cast<double>(s.prefetch_used);
}

// Keeps each run's time per iteration so the ratios can be printed at the end.
class RatioReporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    // With --benchmark_repetitions the median stands for the benchmark.
    for (const auto& r : runs) {
      const std::string& name = r.run_name.function_name;
      if (r.run_type == Run::RT_Aggregate && r.aggregate_name == "median") {
        ns_[name] = r.GetAdjustedRealTime();
        medians_.insert(name);
      } else if (r.run_type == Run::RT_Iteration && r.iterations > 0 && !medians_.count(name)) {
        ns_[name] = r.GetAdjustedRealTime();
      }
    }
    ConsoleReporter::ReportRuns(runs);
  }
  void PrintRatios() const {
    fmt::print("\nruntime demand fault / raw userfaultfd floor, same run (goal <= 1.3):\n");
    // Hybrid spins while faults keep coming, so its floor is the spinning one.
    for (auto [runtime, raw] : {std::pair{"poll", "poll"}, std::pair{"spin", "spin"}, std::pair{"hybrid", "spin"}, std::pair{"signal", "signal"}}) {
      Ratio(fmt::format("RuntimeFault/{}", runtime), fmt::format("RawFault/{}", raw));
    }
    fmt::print("\nthe signal path / the thread path's default loop (hybrid), same run (goal <= 0.5):\n");
    Ratio("RuntimeFault/signal", "RuntimeFault/hybrid");
  }
  void Ratio(const std::string& a, const std::string& b) const {
    auto x = ns_.find(a), y = ns_.find(b);
    if (x == ns_.end() || y == ns_.end()) return;
    fmt::print("  {:20} / {:20}: {:8.2f} us / {:8.2f} us = {:.2f}x\n", a, b, x->second / 1000, y->second / 1000, x->second / y->second);
  }

 private:
  std::map<std::string, double> ns_;
  std::set<std::string> medians_;
};

}  // namespace

int main(int argc, char** argv) {
  benchmark::RegisterBenchmark("RawFault/poll", RawFault, false)->Iterations(50000)->UseRealTime();
  benchmark::RegisterBenchmark("RawFault/spin", RawFault, true)->Iterations(50000)->UseRealTime();
  benchmark::RegisterBenchmark("RawFault/signal", RawSignalFault)->Iterations(50000)->UseRealTime();
  using prescient::FaultLoopMode;
  using prescient::FaultPath;
  using prescient::DirtyTracking;
  constexpr auto kDigest = DirtyTracking::kDigest;
  benchmark::RegisterBenchmark("RuntimeFault/poll", RuntimeFault, FaultPath::kThread, FaultLoopMode::kPoll, kDigest)->Iterations(50000)->UseRealTime();
  benchmark::RegisterBenchmark("RuntimeFault/spin", RuntimeFault, FaultPath::kThread, FaultLoopMode::kSpin, kDigest)->Iterations(50000)->UseRealTime();
  benchmark::RegisterBenchmark("RuntimeFault/hybrid", RuntimeFault, FaultPath::kThread, FaultLoopMode::kHybrid, kDigest)->Iterations(50000)->UseRealTime();
  benchmark::RegisterBenchmark("RuntimeFault/signal", RuntimeFault, FaultPath::kSignal, FaultLoopMode::kHybrid, kDigest)->Iterations(50000)->UseRealTime();
  benchmark::RegisterBenchmark("RuntimeFault/signal+fault", RuntimeFault, FaultPath::kSignal, FaultLoopMode::kHybrid, DirtyTracking::kFault)->Iterations(50000)->UseRealTime();
  for (const char* prefetch : {"none", "readahead"}) {
    for (bool random : {false, true}) {
      std::string name = fmt::format("Scan/{}/{}", random ? "random" : "sequential", prefetch);
      benchmark::RegisterBenchmark(name.c_str(), Scan, random, prefetch)->Iterations(1)->UseRealTime()->Unit(benchmark::kSecond);
    }
  }
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  RatioReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  reporter.PrintRatios();
  benchmark::Shutdown();
  return 0;
}
