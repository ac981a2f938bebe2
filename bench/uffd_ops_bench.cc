// What each userfaultfd operation the runtime could use costs per 4 KiB page,
// on a bare registered anonymous region (no prescient runtime), measured in
// one run so that the runtime's choices are made by numbers:
//
//   Install/copy/{1,16}        UFFDIO_COPY of one page, or of a 16-page run in
//                              one call, from a small hot receive buffer
//   Install/copy+fill/{1,16}   the same, counting the write of the data into
//                              that buffer (what the far read does)
//   Install/zeropage/{1,16}    UFFDIO_ZEROPAGE
//   Install/move/{1,16}        UFFDIO_MOVE from a private buffer whose pages
//                              are already faulted in and filled
//   Install/move+fill/{1,16}   the same, counting the buffer's first-touch
//                              fault and fill: MOVE takes the buffer's page
//                              away, so every far read lands in a fresh page
//   Drop/dontneed/{1,32}       MADV_DONTNEED of present pages
//   Drop/move-out/{1,32}       UFFDIO_MOVE of the pages out into a scratch
//                              buffer (registered with the same uffd, as MOVE
//                              requires of its destination), the scratch
//                              freed off the clock
//   Drop/move-out+free/{1,32}  the same, with the scratch's MADV_DONTNEED
//   Cycle/dontneed+copy/{1,16} evicting run pages and installing run others
//                              with fresh data: MADV_DONTNEED, then fill the
//                              hot buffer and UFFDIO_COPY
//   Cycle/move-out+move-in/{1,16}  the same by recycling the physical pages:
//                              UFFDIO_MOVE out to the scratch, fill the pages
//                              there (after their write-back), UFFDIO_MOVE in
//   Fault/native               first-touch write on an unregistered region:
//                              the kernel's floor
//   Fault/zeropage-cow         write to a page installed by UFFDIO_ZEROPAGE
//   Fault/sigbus-missing       write to a missing page (UFFD_FEATURE_SIGBUS):
//                              the faulting thread answers with UFFDIO_COPY
//   Fault/sigbus-wp            write to a page installed with
//                              UFFDIO_COPY_MODE_WP: the thread lifts the
//                              protection with UFFDIO_WRITEPROTECT
//   Fault/wp-async             write to a write-protected page with
//                              UFFD_FEATURE_WP_ASYNC: the kernel lifts it and
//                              tells nobody
//   Dirty/scan/<n>/<pct>       PAGEMAP_SCAN for PAGE_IS_WRITTEN with
//                              PM_SCAN_WP_MATCHING|PM_SCAN_CHECK_WPASYNC over n
//                              pages of which pct % were written: which pages,
//                              and re-protected in the same walk
//   Dirty/writeprotect/...     UFFDIO_WRITEPROTECT of the same range: re-arms,
//                              learns nothing (the sync-WP tracker's cost)
//   Dirty/pagemap+wp/...       read the pagemap's uffd-wp bits, then
//                              UFFDIO_WRITEPROTECT: the same answer in two
//                              steps, with a window between them
//
// Every benchmark checks what it did (content after COPY/MOVE, pages gone
// after a drop, one signal per fault, PAGEMAP_SCAN reporting exactly the
// written pages and a re-protected page reported again once rewritten) and
// aborts with a message if it is wrong. Before the runs, probes print the
// semantics the runtime depends on: which VMAs UFFDIO_MOVE wants registered,
// whether it keeps a pte's uffd-wp bit, whether UFFDIO_ZEROPAGE pages are
// write-protected, whether WP_ASYNC and SIGBUS combine, what PAGEMAP_SCAN
// makes of a dropped page. After the runs: a table of ns per page (median of
// the repetitions: 5 unless --benchmark_repetitions says otherwise) and the
// key ratios, also written as JSON to $PRESCIENT_BENCH_JSON if set. Each
// feature is detected at run time; a benchmark needing one the kernel lacks
// is skipped with a message.
//
// One thread: TLB flushes stay on this CPU. In a multi-threaded program every
// operation that unmaps or write-protects a present page (DONTNEED, MOVE's
// source, WRITEPROTECT, PAGEMAP_SCAN's re-protection) also waits for an IPI to
// each other CPU running the program.
#include <fcntl.h>
#include <linux/fs.h>
#include <linux/userfaultfd.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <functional>
#include <map>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

// The system headers are Linux 6.1's; the kernel may be newer. What 6.1 lacks
// is defined here as the kernel's uapi defines it (include/uapi/linux/
// userfaultfd.h and fs.h), and every feature is detected at run time.
#ifndef UFFD_FEATURE_WP_UNPOPULATED
#define UFFD_FEATURE_WP_UNPOPULATED (1 << 13)
#endif
#ifndef UFFD_FEATURE_WP_ASYNC
#define UFFD_FEATURE_WP_ASYNC (1 << 15)
#endif
#ifndef UFFD_FEATURE_MOVE
#define UFFD_FEATURE_MOVE (1 << 16)
#endif
#ifndef UFFDIO_MOVE
#define _UFFDIO_MOVE (0x05)
struct uffdio_move {
  __u64 dst;
  __u64 src;
  __u64 len;
  __u64 mode;
  __s64 move;  // written by the kernel: bytes moved or -errno
};
#define UFFDIO_MOVE _IOWR(UFFDIO, _UFFDIO_MOVE, struct uffdio_move)
#endif
#ifndef UFFDIO_MOVE_MODE_DONTWAKE
#define UFFDIO_MOVE_MODE_DONTWAKE ((__u64)1 << 0)
#endif
#ifndef UFFDIO_MOVE_MODE_ALLOW_SRC_HOLES
#define UFFDIO_MOVE_MODE_ALLOW_SRC_HOLES ((__u64)1 << 1)
#endif
#ifndef PAGEMAP_SCAN
struct page_region {
  __u64 start;
  __u64 end;  // exclusive
  __u64 categories;
};
struct pm_scan_arg {
  __u64 size;
  __u64 flags;
  __u64 start;
  __u64 end;
  __u64 walk_end;
  __u64 vec;
  __u64 vec_len;
  __u64 max_pages;
  __u64 category_inverted;
  __u64 category_mask;
  __u64 category_anyof_mask;
  __u64 return_mask;
};
#define PAGEMAP_SCAN _IOWR('f', 16, struct pm_scan_arg)
#endif
#ifndef PM_SCAN_WP_MATCHING
#define PM_SCAN_WP_MATCHING (1 << 0)
#endif
#ifndef PM_SCAN_CHECK_WPASYNC
#define PM_SCAN_CHECK_WPASYNC (1 << 1)
#endif
#ifndef PAGE_IS_WPALLOWED
#define PAGE_IS_WPALLOWED (1 << 0)
#endif
#ifndef PAGE_IS_WRITTEN
#define PAGE_IS_WRITTEN (1 << 1)
#endif
#ifndef PAGE_IS_FILE
#define PAGE_IS_FILE (1 << 2)
#endif
#ifndef PAGE_IS_PRESENT
#define PAGE_IS_PRESENT (1 << 3)
#endif
#ifndef PAGE_IS_SWAPPED
#define PAGE_IS_SWAPPED (1 << 4)
#endif
#ifndef PAGE_IS_PFNZERO
#define PAGE_IS_PFNZERO (1 << 5)
#endif
#ifndef PAGE_IS_HUGE
#define PAGE_IS_HUGE (1 << 6)
#endif
#ifndef PAGE_IS_SOFT_DIRTY
#define PAGE_IS_SOFT_DIRTY (1 << 7)
#endif

static_assert(sizeof(uffdio_move) == 40, "struct uffdio_move as in the kernel's uapi");
static_assert(sizeof(pm_scan_arg) == 96, "struct pm_scan_arg as in the kernel's uapi");
static_assert(sizeof(page_region) == 24, "struct page_region as in the kernel's uapi");

namespace {

using nlohmann::json;

constexpr size_t kPage = 4096;
constexpr size_t kPassPages = 4096;  // 16 MiB: one pass through a region
constexpr size_t kPasses = 8;        // per repetition
constexpr size_t kHotPages = 16;     // the receive buffer COPY reads from
constexpr size_t kTouch = kPage / 2; // the byte a fault benchmark writes
constexpr int kDefaultRepetitions = 5;

// /proc/self/pagemap entry bits (Documentation/admin-guide/mm/pagemap.rst).
constexpr uint64_t kPmPresent = uint64_t{1} << 63;
constexpr uint64_t kPmUffdWp = uint64_t{1} << 57;

// Not a uffd feature bit: stands for the PAGEMAP_SCAN ioctl in `needs` masks.
constexpr uint64_t kNeedsPagemapScan = uint64_t{1} << 63;

const char* g_bench = "setup";  // named in every failure message

[[noreturn]] void Die(const char* what) {
  const int err = errno;
  fmt::print(stderr, "uffd_ops_bench: {}: {}: {}\n", g_bench, what, std::strerror(err));
  std::abort();
}

template <typename... Args>
[[noreturn]] void Fail(fmt::format_string<Args...> format, Args&&... args) {
  fmt::print(stderr, "uffd_ops_bench: {}: verification failed: {}\n", g_bench, fmt::format(format, std::forward<Args>(args)...));
  std::abort();
}

std::string ErrnoName(int err) {
  if (err == 0) return "ok";
  const char* name = strerrorname_np(err);
  return name ? name : fmt::format("errno {}", err);
}

// The benchmarks' ioctls go through here: 0, or the errno.
int Ioctl(int fd, unsigned long request, void* arg) { return ioctl(fd, request, arg) == 0 ? 0 : errno; }

void Check(int err, const char* what) {
  if (err != 0) {
    errno = err;
    Die(what);
  }
}

int OpenUserfaultfd() {
  int fd = static_cast<int>(syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK));
  // Without CAP_SYS_PTRACE and with vm.unprivileged_userfaultfd=0 the kernel
  // only lets us handle faults taken in user mode, which is all we take.
  if (fd < 0 && errno == EPERM) fd = static_cast<int>(syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK | UFFD_USER_MODE_ONLY));
  if (fd < 0) Die("userfaultfd");
  return fd;
}

// UFFDIO_API with `features` on a fresh fd: 0 or the errno, and what the
// kernel answered it offers.
int TryApi(uint64_t features, uint64_t* offered) {
  const int fd = OpenUserfaultfd();
  uffdio_api api{UFFD_API, features, 0};
  const int err = Ioctl(fd, UFFDIO_API, &api);
  if (offered) *offered = api.features;
  close(fd);
  return err;
}

// Private anonymous memory of 4 KiB pages. A transparent huge page would turn
// a first touch into a 2 MiB clear and make UFFDIO_MOVE split it first.
class Anon {
 public:
  explicit Anon(size_t pages) : bytes_(pages * kPage) {
    void* p = mmap(nullptr, bytes_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED) Die("mmap");
    base_ = static_cast<char*>(p);
    if (madvise(base_, bytes_, MADV_NOHUGEPAGE) != 0) Die("madvise(MADV_NOHUGEPAGE)");
  }
  ~Anon() { munmap(base_, bytes_); }
  Anon(const Anon&) = delete;
  Anon& operator=(const Anon&) = delete;

  char* page(size_t i) const { return base_ + i * kPage; }
  size_t bytes() const { return bytes_; }
  size_t pages() const { return bytes_ / kPage; }
  void Drop() const {
    if (madvise(base_, bytes_, MADV_DONTNEED) != 0) Die("madvise(MADV_DONTNEED)");
  }

 private:
  size_t bytes_;
  char* base_;
};

class Uffd {
 public:
  explicit Uffd(uint64_t features) : fd_(OpenUserfaultfd()) {
    uffdio_api api{UFFD_API, features, 0};
    if (ioctl(fd_, UFFDIO_API, &api) != 0) Die("UFFDIO_API");
  }
  ~Uffd() { close(fd_); }
  Uffd(const Uffd&) = delete;
  Uffd& operator=(const Uffd&) = delete;

  int fd() const { return fd_; }
  // Returns the ioctls the kernel allows on the range.
  uint64_t Register(const Anon& a, uint64_t mode) const {
    uffdio_register reg{};
    reg.range = {reinterpret_cast<uint64_t>(a.page(0)), a.bytes()};
    reg.mode = mode;
    if (ioctl(fd_, UFFDIO_REGISTER, &reg) != 0) Die("UFFDIO_REGISTER");
    return reg.ioctls;
  }
  int Copy(char* dst, const char* src, size_t len, uint64_t mode) const {
    uffdio_copy c{};
    c.dst = reinterpret_cast<uint64_t>(dst);
    c.src = reinterpret_cast<uint64_t>(src);
    c.len = len;
    c.mode = mode;
    return Ioctl(fd_, UFFDIO_COPY, &c);
  }
  int Zeropage(char* dst, size_t len) const {
    uffdio_zeropage z{};
    z.range = {reinterpret_cast<uint64_t>(dst), len};
    return Ioctl(fd_, UFFDIO_ZEROPAGE, &z);
  }
  int Move(char* dst, char* src, size_t len, uint64_t mode) const {
    uffdio_move m{};
    m.dst = reinterpret_cast<uint64_t>(dst);
    m.src = reinterpret_cast<uint64_t>(src);
    m.len = len;
    m.mode = mode;
    return Ioctl(fd_, UFFDIO_MOVE, &m);
  }
  int WriteProtect(char* addr, size_t len, bool protect) const {
    uffdio_writeprotect wp{};
    wp.range = {reinterpret_cast<uint64_t>(addr), len};
    wp.mode = protect ? UFFDIO_WRITEPROTECT_MODE_WP : 0;
    return Ioctl(fd_, UFFDIO_WRITEPROTECT, &wp);
  }

 private:
  int fd_;
};

class Pagemap {
 public:
  Pagemap() : fd_(open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC)) {
    if (fd_ < 0) Die("open /proc/self/pagemap");
  }
  int fd() const { return fd_; }
  void Read(const char* addr, size_t pages, uint64_t* out) const {
    const off_t offset = static_cast<off_t>(reinterpret_cast<uintptr_t>(addr) / kPage * sizeof(uint64_t));
    const ssize_t want = static_cast<ssize_t>(pages * sizeof(uint64_t));
    if (pread(fd_, out, static_cast<size_t>(want), offset) != want) Die("pread /proc/self/pagemap");
  }
  uint64_t Entry(const char* addr) const {
    uint64_t e;
    Read(addr, 1, &e);
    return e;
  }

 private:
  int fd_;
};

const Pagemap& pagemap() {
  static const Pagemap p;
  return p;
}

bool Present(const char* p) { return pagemap().Entry(p) & kPmPresent; }
bool UffdWp(const char* p) { return pagemap().Entry(p) & kPmUffdWp; }

// Fails unless every page of the range has `bit` set in the pagemap (or, with
// !set, clear).
void ExpectPagemapBit(const char* addr, size_t pages, uint64_t bit, bool set, const char* what) {
  std::vector<uint64_t> e(std::min<size_t>(pages, 512));
  for (size_t done = 0; done < pages; done += e.size()) {
    const size_t n = std::min(e.size(), pages - done);
    pagemap().Read(addr + done * kPage, n, e.data());
    for (size_t i = 0; i < n; ++i)
      if (((e[i] & bit) != 0) != set) Fail("page {} of {}: {}", done + i, pages, what);
  }
}

// A page's content that can be told apart from every other page's: the tag in
// the first word, its complement in the last, a tag-derived byte in between.
uint64_t Tag(uint64_t pass, size_t page) { return 0x5eed000000000000ull ^ (pass << 32) ^ page; }
char FillByte(uint64_t tag) { return static_cast<char>(((tag * 0x9E3779B97F4A7C15ull) >> 56) | 1); }

void StampPage(char* p, uint64_t tag) {
  std::memset(p + 8, FillByte(tag), kPage - 16);
  const uint64_t inverse = ~tag;
  std::memcpy(p, &tag, 8);
  std::memcpy(p + kPage - 8, &inverse, 8);
}

uint64_t Word(const char* p) {
  uint64_t w;
  std::memcpy(&w, p, 8);
  return w;
}

// Checks the tag words and a few fill bytes; with `full`, every byte.
void ExpectStamp(const char* p, uint64_t tag, bool full, const char* what, size_t page) {
  const char fill = FillByte(tag);
  bool ok = Word(p) == tag && Word(p + kPage - 8) == ~tag && p[8] == fill && p[kTouch] == fill && p[kPage - 9] == fill;
  for (size_t i = 8; full && ok && i < kPage - 8; ++i) ok = p[i] == fill;
  if (!ok) Fail("{}: page {} does not hold the data it was given (first word {:#x}, expected {:#x})", what, page, Word(p), tag);
}

inline void WriteTouch(char* page, char value) { static_cast<volatile char*>(page)[kTouch] = value; }

// The SIGBUS handler: with UFFD_FEATURE_SIGBUS the faulting thread gets the
// fault and resolves it itself, as the runtime's signal path does.
enum SignalAction : int { kAbortOnSignal, kCopyOnSignal, kUnprotectOnSignal, kProbeOnSignal };

struct SignalPager {
  std::atomic<int> action{kAbortOnSignal};
  int fd = -1;
  const char* src = nullptr;  // the page kCopyOnSignal installs
  std::atomic<long> signals{0};
  std::atomic<int> last_kind{0};  // kProbeOnSignal: 1 missing (answered by COPY), 2 write-protect
};
SignalPager g_signal;

[[noreturn]] void SignalFail(const char* message) {
  // Only async-signal-safe calls here.
  ssize_t ignored = write(STDERR_FILENO, "uffd_ops_bench: ", 16);
  ignored = write(STDERR_FILENO, message, std::strlen(message));
  ignored = write(STDERR_FILENO, "\n", 1);
  (void)ignored;
  std::abort();
}

void OnSigbus(int, siginfo_t* info, void*) {
  const int saved_errno = errno;
  const uint64_t page = reinterpret_cast<uintptr_t>(info->si_addr) & ~(kPage - 1);
  g_signal.signals.fetch_add(1, std::memory_order_relaxed);
  switch (g_signal.action.load(std::memory_order_relaxed)) {
    case kCopyOnSignal: {
      uffdio_copy c{};
      c.dst = page;
      c.src = reinterpret_cast<uint64_t>(g_signal.src);
      c.len = kPage;
      if (ioctl(g_signal.fd, UFFDIO_COPY, &c) != 0) SignalFail("UFFDIO_COPY failed in the SIGBUS handler");
      break;
    }
    case kUnprotectOnSignal: {
      uffdio_writeprotect wp{};
      wp.range = {page, kPage};
      if (ioctl(g_signal.fd, UFFDIO_WRITEPROTECT, &wp) != 0) SignalFail("UFFDIO_WRITEPROTECT failed in the SIGBUS handler");
      break;
    }
    case kProbeOnSignal: {
      // A missing page takes the copy; a present one refuses it (EEXIST), so
      // the fault was a write-protect fault.
      uffdio_copy c{};
      c.dst = page;
      c.src = reinterpret_cast<uint64_t>(g_signal.src);
      c.len = kPage;
      if (ioctl(g_signal.fd, UFFDIO_COPY, &c) == 0) {
        g_signal.last_kind.store(1, std::memory_order_relaxed);
        break;
      }
      if (errno != EEXIST) SignalFail("UFFDIO_COPY failed in the probe's SIGBUS handler");
      uffdio_writeprotect wp{};
      wp.range = {page, kPage};
      if (ioctl(g_signal.fd, UFFDIO_WRITEPROTECT, &wp) != 0) SignalFail("UFFDIO_WRITEPROTECT failed in the probe's SIGBUS handler");
      g_signal.last_kind.store(2, std::memory_order_relaxed);
      break;
    }
    default:
      SignalFail("unexpected SIGBUS: a missing or protected page was touched outside a fault benchmark");
  }
  errno = saved_errno;
}

void InstallSigbusHandler() {
  struct sigaction sa {};
  sa.sa_sigaction = OnSigbus;
  sa.sa_flags = SA_SIGINFO | SA_NODEFER;
  sigemptyset(&sa.sa_mask);
  if (sigaction(SIGBUS, &sa, nullptr) != 0) Die("sigaction(SIGBUS)");
}

// Arms the handler for one benchmark or probe; back to aborting afterwards.
class OnSignal {
 public:
  OnSignal(SignalAction action, int fd, const char* src) {
    g_signal.fd = fd;
    g_signal.src = src;
    g_signal.signals.store(0);
    g_signal.last_kind.store(0);
    g_signal.action.store(action);
  }
  ~OnSignal() { g_signal.action.store(kAbortOnSignal); }
  OnSignal(const OnSignal&) = delete;
  OnSignal& operator=(const OnSignal&) = delete;
  long signals() const { return g_signal.signals.load(); }
  int last_kind() const { return g_signal.last_kind.load(); }
};

// Drives a benchmark over passes through a kPassPages region, `run` pages an
// iteration: prepare(pass) readies the region and verify(pass, pages) checks
// what the pass did, both off the clock; op(pass, first) is what is timed.
template <typename Prepare, typename Op, typename Verify>
void RunPasses(benchmark::State& state, size_t run, Prepare prepare, Op op, Verify verify) {
  uint64_t pass = 0;
  size_t next = 0;
  prepare(pass);
  for (auto _ : state) {
    if (next == kPassPages) {
      state.PauseTiming();
      verify(pass, next);
      prepare(++pass);
      next = 0;
      state.ResumeTiming();
    }
    op(pass, next);
    next += run;
  }
  verify(pass, next);
  state.counters["pages"] = static_cast<double>(run);
}

// ---- Installing pages -------------------------------------------------------

void InstallCopy(benchmark::State& state, size_t run, bool fill) {
  Uffd uffd(UFFD_FEATURE_SIGBUS);  // SIGBUS: a stray touch of a missing page aborts instead of hanging
  Anon region(kPassPages);
  uffd.Register(region, UFFDIO_REGISTER_MODE_MISSING);
  // Where a far read lands before the copy: small, reused, hot in the cache.
  Anon buffer(kHotPages);
  for (size_t i = 0; i < kHotPages; ++i) StampPage(buffer.page(i), Tag(0, i));
  auto tag = [&](uint64_t pass, size_t page) { return fill ? Tag(pass + 1, page) : Tag(0, page % kHotPages); };
  RunPasses(
      state, run, [&](uint64_t) { region.Drop(); },
      [&](uint64_t pass, size_t first) {
        if (fill)
          for (size_t j = 0; j < run; ++j) StampPage(buffer.page(j), tag(pass, first + j));
        Check(uffd.Copy(region.page(first), buffer.page(fill ? 0 : first % kHotPages), run * kPage, 0), "UFFDIO_COPY");
      },
      [&](uint64_t pass, size_t pages) {
        for (size_t p = 0; p < pages; ++p) ExpectStamp(region.page(p), tag(pass, p), p == 0, "UFFDIO_COPY", p);
      });
}

void InstallZeropage(benchmark::State& state, size_t run) {
  Uffd uffd(UFFD_FEATURE_SIGBUS);
  Anon region(kPassPages);
  uffd.Register(region, UFFDIO_REGISTER_MODE_MISSING);
  RunPasses(
      state, run, [&](uint64_t) { region.Drop(); },
      [&](uint64_t, size_t first) { Check(uffd.Zeropage(region.page(first), run * kPage), "UFFDIO_ZEROPAGE"); },
      [&](uint64_t, size_t pages) {
        ExpectPagemapBit(region.page(0), pages, kPmPresent, true, "not mapped after UFFDIO_ZEROPAGE");
        for (size_t p = 0; p < pages; ++p)
          if (Word(region.page(p)) != 0 || region.page(p)[kTouch] != 0 || Word(region.page(p) + kPage - 8) != 0)
            Fail("page {} is not zero after UFFDIO_ZEROPAGE", p);
      });
}

void InstallMove(benchmark::State& state, size_t run, bool fill) {
  Uffd uffd(UFFD_FEATURE_SIGBUS | UFFD_FEATURE_MOVE);
  Anon region(kPassPages);
  uffd.Register(region, UFFDIO_REGISTER_MODE_MISSING);
  // The source need not be registered (validate_move_areas() checks only the
  // destination's uffd); it must be private anonymous memory like the region.
  Anon buffer(kPassPages);
  RunPasses(
      state, run,
      [&](uint64_t pass) {
        region.Drop();
        if (!fill)  // the far reads have landed, each in its own faulted-in page
          for (size_t p = 0; p < kPassPages; ++p) StampPage(buffer.page(p), Tag(pass + 1, p));
      },
      [&](uint64_t pass, size_t first) {
        if (fill)  // MOVE took the previous pass's pages: these writes fault them in
          for (size_t j = 0; j < run; ++j) StampPage(buffer.page(first + j), Tag(pass + 1, first + j));
        Check(uffd.Move(region.page(first), buffer.page(first), run * kPage, 0), "UFFDIO_MOVE");
      },
      [&](uint64_t pass, size_t pages) {
        for (size_t p = 0; p < pages; ++p) ExpectStamp(region.page(p), Tag(pass + 1, p), p == 0, "UFFDIO_MOVE", p);
        ExpectPagemapBit(buffer.page(0), pages, kPmPresent, false, "still mapped in the source after UFFDIO_MOVE");
      });
}

// ---- Dropping pages ---------------------------------------------------------

// A region registered MISSING (as the runtime's is), refilled before each pass
// with one UFFDIO_COPY from a stamped stage.
struct FilledRegion {
  Uffd uffd;
  Anon region{kPassPages};
  Anon stage{kPassPages};
  explicit FilledRegion(uint64_t features) : uffd(features) {
    uffd.Register(region, UFFDIO_REGISTER_MODE_MISSING);
    for (size_t p = 0; p < kPassPages; ++p) StampPage(stage.page(p), Tag(0, p));
  }
  void Fill() const {
    Check(uffd.Copy(region.page(0), stage.page(0), region.bytes(), 0), "UFFDIO_COPY (refill)");
    ExpectStamp(region.page(kPassPages - 1), Tag(0, kPassPages - 1), true, "refill", kPassPages - 1);
  }
};

void DropDontneed(benchmark::State& state, size_t run) {
  FilledRegion r(UFFD_FEATURE_SIGBUS);
  RunPasses(
      state, run, [&](uint64_t) { r.Fill(); },
      [&](uint64_t, size_t first) {
        if (madvise(r.region.page(first), run * kPage, MADV_DONTNEED) != 0) Die("madvise(MADV_DONTNEED)");
      },
      [&](uint64_t, size_t pages) { ExpectPagemapBit(r.region.page(0), pages, kPmPresent, false, "still mapped after MADV_DONTNEED"); });
}

void DropMoveOut(benchmark::State& state, size_t run, bool free_scratch) {
  FilledRegion r(UFFD_FEATURE_SIGBUS | UFFD_FEATURE_MOVE);
  // UFFDIO_MOVE's destination must be registered with the uffd doing the move.
  Anon scratch(kPassPages);
  r.uffd.Register(scratch, UFFDIO_REGISTER_MODE_MISSING);
  RunPasses(
      state, run, [&](uint64_t) { r.Fill(); },
      [&](uint64_t, size_t first) {
        Check(r.uffd.Move(scratch.page(first), r.region.page(first), run * kPage, 0), "UFFDIO_MOVE (out)");
        if (!free_scratch) return;
        if (first == 0) {  // the data must have arrived before it is thrown away
          state.PauseTiming();
          for (size_t j = 0; j < run; ++j) ExpectStamp(scratch.page(j), Tag(0, j), true, "UFFDIO_MOVE (out)", j);
          state.ResumeTiming();
        }
        if (madvise(scratch.page(first), run * kPage, MADV_DONTNEED) != 0) Die("madvise(MADV_DONTNEED) of the scratch");
      },
      [&](uint64_t, size_t pages) {
        ExpectPagemapBit(r.region.page(0), pages, kPmPresent, false, "still mapped after UFFDIO_MOVE out");
        if (free_scratch) {
          ExpectPagemapBit(scratch.page(0), pages, kPmPresent, false, "scratch still mapped after MADV_DONTNEED");
        } else {
          for (size_t p = 0; p < pages; ++p) ExpectStamp(scratch.page(p), Tag(0, p), p == 0, "UFFDIO_MOVE (out)", p);
          scratch.Drop();
        }
      });
}

// Evicts `run` pages and installs `run` others with fresh data, as a fault at
// a full budget does: the first half of the region is resident and evicted in
// order, the second half is installed in order.
void Cycle(benchmark::State& state, size_t run, bool recycle) {
  Uffd uffd(UFFD_FEATURE_SIGBUS | (recycle ? UFFD_FEATURE_MOVE : 0));
  Anon region(2 * kPassPages);
  uffd.Register(region, UFFDIO_REGISTER_MODE_MISSING);
  Anon scratch(kPassPages);  // recycle: where evicted pages wait for their write-back
  uffd.Register(scratch, UFFDIO_REGISTER_MODE_MISSING);
  Anon buffer(kHotPages);  // !recycle: where a far read lands before UFFDIO_COPY
  Anon stage(kPassPages);  // what the resident half holds
  for (size_t p = 0; p < kPassPages; ++p) StampPage(stage.page(p), Tag(0, p));
  char* installed = region.page(kPassPages);
  RunPasses(
      state, run,
      [&](uint64_t) {
        region.Drop();
        Check(uffd.Copy(region.page(0), stage.page(0), kPassPages * kPage, 0), "UFFDIO_COPY (refill)");
      },
      [&](uint64_t pass, size_t first) {
        if (recycle) {
          Check(uffd.Move(scratch.page(first), region.page(first), run * kPage, 0), "UFFDIO_MOVE (out)");
          for (size_t j = 0; j < run; ++j) StampPage(scratch.page(first + j), Tag(pass + 1, first + j));
          Check(uffd.Move(installed + first * kPage, scratch.page(first), run * kPage, 0), "UFFDIO_MOVE (in)");
        } else {
          if (madvise(region.page(first), run * kPage, MADV_DONTNEED) != 0) Die("madvise(MADV_DONTNEED)");
          for (size_t j = 0; j < run; ++j) StampPage(buffer.page(j), Tag(pass + 1, first + j));
          Check(uffd.Copy(installed + first * kPage, buffer.page(0), run * kPage, 0), "UFFDIO_COPY");
        }
      },
      [&](uint64_t pass, size_t pages) {
        ExpectPagemapBit(region.page(0), pages, kPmPresent, false, "evicted page still mapped");
        for (size_t p = 0; p < pages; ++p) ExpectStamp(installed + p * kPage, Tag(pass + 1, p), p == 0, "installed page", p);
        if (recycle) ExpectPagemapBit(scratch.page(0), pages, kPmPresent, false, "recycled page still mapped in the scratch");
      });
}

// ---- Faults -----------------------------------------------------------------

char TouchValue(uint64_t pass) { return static_cast<char>(1 + (pass % 100)); }

void ExpectTouched(const Anon& region, size_t pages, uint64_t pass, uint64_t word, const char* what) {
  for (size_t p = 0; p < pages; ++p) {
    const char* q = region.page(p);
    const uint64_t w = word == ~uint64_t{0} ? Tag(0, p) : word;
    if (q[kTouch] != TouchValue(pass) || Word(q) != w) Fail("{}: page {} lost the write or its data", what, p);
  }
}

void FaultNative(benchmark::State& state) {
  Anon region(kPassPages);
  RunPasses(
      state, 1, [&](uint64_t) { region.Drop(); }, [&](uint64_t pass, size_t p) { WriteTouch(region.page(p), TouchValue(pass)); },
      [&](uint64_t pass, size_t pages) { ExpectTouched(region, pages, pass, 0, "native first touch"); });
}

void FaultZeropageCow(benchmark::State& state) {
  Uffd uffd(UFFD_FEATURE_SIGBUS);  // a write that reached the uffd would abort here
  Anon region(kPassPages);
  uffd.Register(region, UFFDIO_REGISTER_MODE_MISSING);
  RunPasses(
      state, 1,
      [&](uint64_t) {
        region.Drop();
        Check(uffd.Zeropage(region.page(0), region.bytes()), "UFFDIO_ZEROPAGE");
      },
      [&](uint64_t pass, size_t p) { WriteTouch(region.page(p), TouchValue(pass)); },
      [&](uint64_t pass, size_t pages) { ExpectTouched(region, pages, pass, 0, "write to a UFFDIO_ZEROPAGE page"); });
}

void FaultSigbusMissing(benchmark::State& state) {
  Uffd uffd(UFFD_FEATURE_SIGBUS);
  Anon region(kPassPages);
  uffd.Register(region, UFFDIO_REGISTER_MODE_MISSING);
  Anon src(1);
  StampPage(src.page(0), Tag(0, 0));
  OnSignal armed(kCopyOnSignal, uffd.fd(), src.page(0));
  long before = 0;
  RunPasses(
      state, 1,
      [&](uint64_t) {
        region.Drop();
        before = armed.signals();
      },
      [&](uint64_t pass, size_t p) { WriteTouch(region.page(p), TouchValue(pass)); },
      [&](uint64_t pass, size_t pages) {
        if (armed.signals() - before != static_cast<long>(pages)) Fail("{} SIGBUS for {} missing pages", armed.signals() - before, pages);
        ExpectTouched(region, pages, pass, Tag(0, 0), "SIGBUS + UFFDIO_COPY");
      });
}

void FaultSigbusWp(benchmark::State& state) {
  Uffd uffd(UFFD_FEATURE_SIGBUS);
  Anon region(kPassPages);
  uffd.Register(region, UFFDIO_REGISTER_MODE_MISSING | UFFDIO_REGISTER_MODE_WP);
  Anon stage(kPassPages);
  for (size_t p = 0; p < kPassPages; ++p) StampPage(stage.page(p), Tag(0, p));
  OnSignal armed(kUnprotectOnSignal, uffd.fd(), nullptr);
  long before = 0;
  RunPasses(
      state, 1,
      [&](uint64_t) {
        region.Drop();
        Check(uffd.Copy(region.page(0), stage.page(0), region.bytes(), UFFDIO_COPY_MODE_WP), "UFFDIO_COPY_MODE_WP");
        ExpectPagemapBit(region.page(0), kPassPages, kPmUffdWp, true, "not write-protected after UFFDIO_COPY_MODE_WP");
        before = armed.signals();
      },
      [&](uint64_t pass, size_t p) { WriteTouch(region.page(p), TouchValue(pass)); },
      [&](uint64_t pass, size_t pages) {
        if (armed.signals() - before != static_cast<long>(pages)) Fail("{} SIGBUS for {} protected pages", armed.signals() - before, pages);
        ExpectPagemapBit(region.page(0), pages, kPmUffdWp, false, "still write-protected after the handler lifted it");
        ExpectTouched(region, pages, pass, ~uint64_t{0}, "SIGBUS + UFFDIO_WRITEPROTECT");
      });
}

void FaultWpAsync(benchmark::State& state) {
  Uffd uffd(UFFD_FEATURE_WP_ASYNC);
  Anon region(kPassPages);
  uffd.Register(region, UFFDIO_REGISTER_MODE_WP);
  for (size_t p = 0; p < kPassPages; ++p) StampPage(region.page(p), Tag(0, p));
  RunPasses(
      state, 1,
      [&](uint64_t) {
        Check(uffd.WriteProtect(region.page(0), region.bytes(), true), "UFFDIO_WRITEPROTECT");
        ExpectPagemapBit(region.page(0), kPassPages, kPmUffdWp, true, "not write-protected after UFFDIO_WRITEPROTECT");
      },
      [&](uint64_t pass, size_t p) { WriteTouch(region.page(p), TouchValue(pass)); },
      [&](uint64_t pass, size_t pages) {
        // No SIGBUS handler is armed: a message or signal would have hung or aborted.
        ExpectPagemapBit(region.page(0), pages, kPmUffdWp, false, "written but still write-protected (WP_ASYNC did not resolve)");
        ExpectTouched(region, pages, pass, ~uint64_t{0}, "WP_ASYNC write");
      });
}

// ---- Dirty tracking ---------------------------------------------------------

// PAGEMAP_SCAN for written pages of [addr, addr + pages): category and return
// masks exactly PAGE_IS_WRITTEN take the kernel's fast path
// (pagemap_scan_pmd_entry). With `reprotect`, the matched pages are
// write-protected again in the same walk. Returns the regions filled, or -errno.
long ScanWritten(const char* addr, size_t pages, page_region* vec, size_t vec_len, bool reprotect) {
  pm_scan_arg arg{};
  arg.size = sizeof(arg);
  arg.flags = reprotect ? (PM_SCAN_WP_MATCHING | PM_SCAN_CHECK_WPASYNC) : 0;
  arg.start = reinterpret_cast<uint64_t>(addr);
  arg.end = arg.start + pages * kPage;
  arg.vec = reinterpret_cast<uint64_t>(vec);
  arg.vec_len = vec_len;
  arg.category_mask = PAGE_IS_WRITTEN;
  arg.return_mask = PAGE_IS_WRITTEN;
  const long n = ioctl(pagemap().fd(), PAGEMAP_SCAN, &arg);
  return n < 0 ? -errno : n;
}

// Marks in `reported` the pages the scan's regions cover.
void Unpack(const page_region* vec, long n, const char* base, size_t pages, std::vector<uint8_t>* reported) {
  std::fill(reported->begin(), reported->end(), 0);
  const uint64_t start = reinterpret_cast<uint64_t>(base);
  for (long i = 0; i < n; ++i) {
    if (vec[i].start < start || vec[i].end > start + pages * kPage || vec[i].start >= vec[i].end || !(vec[i].categories & PAGE_IS_WRITTEN))
      Fail("PAGEMAP_SCAN returned a region outside the range or not written");
    for (uint64_t a = vec[i].start; a < vec[i].end; a += kPage) (*reported)[(a - start) / kPage] = 1;
  }
}

void ExpectSame(const std::vector<uint8_t>& reported, const std::vector<uint8_t>& written, const char* what) {
  for (size_t p = 0; p < written.size(); ++p)
    if (reported[p] != written[p]) Fail("{}: page {} {} but reported {}", what, p, written[p] ? "written" : "clean", reported[p] ? "written" : "clean");
}

enum class Tracker { kScan, kWriteProtect, kPagemapRead };

void Dirty(benchmark::State& state, Tracker tracker, size_t pages, int percent) {
  Uffd uffd(UFFD_FEATURE_WP_ASYNC);
  Anon region(pages);
  uffd.Register(region, UFFDIO_REGISTER_MODE_WP);
  for (size_t p = 0; p < pages; ++p) WriteTouch(region.page(p), 1);  // tracking starts on present pages
  Check(uffd.WriteProtect(region.page(0), region.bytes(), true), "UFFDIO_WRITEPROTECT");
  std::vector<page_region> vec(pages);
  std::vector<uint64_t> entries(pages);
  std::vector<uint8_t> written(pages), reported(pages);
  // What the tracker learns and re-arms; the call is what is timed.
  auto track = [&]() -> long {
    switch (tracker) {
      case Tracker::kScan:
        return ScanWritten(region.page(0), pages, vec.data(), vec.size(), true);
      case Tracker::kPagemapRead:
        pagemap().Read(region.page(0), pages, entries.data());
        [[fallthrough]];
      case Tracker::kWriteProtect:
        Check(uffd.WriteProtect(region.page(0), region.bytes(), true), "UFFDIO_WRITEPROTECT");
        return 0;
    }
    return 0;
  };
  // What the tracker saw, into `reported`.
  auto learned = [&](long n) {
    if (tracker == Tracker::kScan) {
      if (n < 0) {
        errno = static_cast<int>(-n);
        Die("PAGEMAP_SCAN");
      }
      Unpack(vec.data(), n, region.page(0), pages, &reported);
    } else {
      for (size_t p = 0; p < pages; ++p) reported[p] = !(entries[p] & kPmUffdWp);
    }
  };
  auto pagemap_written = [&] {  // the kernel's view, read off the clock
    pagemap().Read(region.page(0), pages, entries.data());
    for (size_t p = 0; p < pages; ++p) reported[p] = !(entries[p] & kPmUffdWp);
  };

  // Once, first: a re-protected page written again is reported again, and a
  // range nobody wrote is reported clean.
  for (int round = 0; round < 3; ++round) {
    std::fill(written.begin(), written.end(), 0);
    if (round < 2) {
      WriteTouch(region.page(0), 2);
      written[0] = 1;
    }
    if (tracker == Tracker::kWriteProtect) pagemap_written();
    learned(track());
    ExpectSame(reported, written, round == 1 ? "a page rewritten after re-protection" : "the first scans");
  }

  const size_t k = pages * static_cast<size_t>(percent) / 100;
  std::mt19937_64 rng(pages * 1000 + static_cast<size_t>(percent));
  std::vector<uint32_t> order(pages);
  std::iota(order.begin(), order.end(), 0);
  char value = 0;
  for (auto _ : state) {
    // Off the clock: the program writes k pages drawn at random.
    std::fill(written.begin(), written.end(), 0);
    value = static_cast<char>(value % 100 + 1);
    for (size_t i = 0; i < k; ++i) {
      std::swap(order[i], order[i + rng() % (pages - i)]);
      written[order[i]] = 1;
      WriteTouch(region.page(order[i]), value);
    }
    if (tracker == Tracker::kWriteProtect) {  // it learns nothing: check the kernel's view instead
      pagemap_written();
      ExpectSame(reported, written, "uffd-wp bits after WP_ASYNC writes");
    }
    const auto t0 = std::chrono::steady_clock::now();
    const long n = track();
    const auto t1 = std::chrono::steady_clock::now();
    state.SetIterationTime(std::chrono::duration<double>(t1 - t0).count());
    if (tracker != Tracker::kWriteProtect) {
      learned(n);
      ExpectSame(reported, written, tracker == Tracker::kScan ? "PAGEMAP_SCAN" : "pagemap uffd-wp bits");
    }
    ExpectPagemapBit(region.page(0), pages, kPmUffdWp, true, "not write-protected again after tracking");
  }
  state.counters["pages"] = static_cast<double>(pages);
}

// ---- Probes -----------------------------------------------------------------

// Gives a page of `a` the data `tag`: written directly, or, where `owner`
// registered it MISSING, with UFFDIO_COPY (a write would fault).
void Put(const Anon& a, const Uffd* owner, uint64_t tag) {
  if (!owner) {
    StampPage(a.page(0), tag);
    return;
  }
  Anon tmp(1);
  StampPage(tmp.page(0), tag);
  Check(owner->Copy(a.page(0), tmp.page(0), kPage, 0), "UFFDIO_COPY (probe)");
}

// (a) Which VMAs UFFDIO_MOVE wants registered, and with which uffd.
json ProbeMoveRegistration() {
  constexpr uint64_t kFeatures = UFFD_FEATURE_SIGBUS | UFFD_FEATURE_MOVE;
  Uffd a(kFeatures), b(kFeatures);
  struct Case {
    const char* key;
    const char* text;
    const Uffd* dst_owner;
    uint64_t dst_mode;
    const Uffd* src_owner;
  };
  const Case cases[] = {
      {"dst_this_src_unregistered", "dst registered with this uffd, src unregistered", &a, UFFDIO_REGISTER_MODE_MISSING, nullptr},
      {"dst_unregistered_src_this", "dst unregistered, src registered with this uffd", nullptr, 0, &a},
      {"dst_other_src_unregistered", "dst registered with another uffd, src unregistered", &b, UFFDIO_REGISTER_MODE_MISSING, nullptr},
      {"dst_this_src_other", "dst registered with this uffd, src with another", &a, UFFDIO_REGISTER_MODE_MISSING, &b},
      {"dst_this_src_this", "dst and src registered with this uffd", &a, UFFDIO_REGISTER_MODE_MISSING, &a},
      {"dst_this_wp_src_unregistered", "dst registered MISSING|WP with this uffd, src unregistered", &a,
       UFFDIO_REGISTER_MODE_MISSING | UFFDIO_REGISTER_MODE_WP, nullptr},
  };
  json out = json::object();
  fmt::print("  (a) UFFDIO_MOVE of one present page, issued on \"this\" uffd:\n");
  for (const Case& c : cases) {
    Anon dst(1), src(1);
    if (c.dst_owner) c.dst_owner->Register(dst, c.dst_mode);
    if (c.src_owner) c.src_owner->Register(src, UFFDIO_REGISTER_MODE_MISSING);
    Put(src, c.src_owner, Tag(7, 0));
    const int err = a.Move(dst.page(0), src.page(0), kPage, 0);
    if (err == 0) {
      ExpectStamp(dst.page(0), Tag(7, 0), true, "probe UFFDIO_MOVE", 0);
      if (Present(src.page(0))) Fail("probe: UFFDIO_MOVE left the source mapped");
    }
    fmt::print("      {:60} {}\n", c.text, ErrnoName(err));
    out[c.key] = ErrnoName(err);
  }
  return out;
}

// (b) Whether UFFDIO_MOVE keeps the moved pte's uffd-wp bit.
json ProbeMoveKeepsWp() {
  Uffd a(UFFD_FEATURE_SIGBUS | UFFD_FEATURE_MOVE);
  Anon src(1), dst(1), data(1);
  a.Register(src, UFFDIO_REGISTER_MODE_MISSING | UFFDIO_REGISTER_MODE_WP);
  a.Register(dst, UFFDIO_REGISTER_MODE_MISSING | UFFDIO_REGISTER_MODE_WP);
  StampPage(data.page(0), Tag(8, 0));
  Check(a.Copy(src.page(0), data.page(0), kPage, UFFDIO_COPY_MODE_WP), "UFFDIO_COPY_MODE_WP (probe)");
  const bool src_wp = UffdWp(src.page(0));
  const int err = a.Move(dst.page(0), src.page(0), kPage, 0);
  json out = {{"src_uffd_wp_before", src_wp}, {"move", ErrnoName(err)}};
  if (err == 0) {
    const bool dst_wp = UffdWp(dst.page(0));
    OnSignal armed(kProbeOnSignal, a.fd(), data.page(0));
    WriteTouch(dst.page(0), 9);
    const bool faulted = armed.signals() > 0;
    if (Word(dst.page(0)) != Tag(8, 0) || dst.page(0)[kTouch] != 9) Fail("probe (b): the moved page lost its data or the write");
    out["dst_uffd_wp_after"] = dst_wp;
    out["write_after_move_raised_wp_sigbus"] = faulted;
    fmt::print("  (b) UFFDIO_MOVE of a uffd-wp pte between MISSING|WP regions: src uffd-wp {}, dst uffd-wp after {}, a write then {}\n",
               src_wp ? "yes" : "no", dst_wp ? "yes" : "no", faulted ? "raised a WP SIGBUS" : "went through (pte writable)");
  } else {
    fmt::print("  (b) UFFDIO_MOVE of a uffd-wp pte: {}\n", ErrnoName(err));
  }
  return out;
}

// (c) Whether a UFFDIO_ZEROPAGE page in a MISSING|WP range is write-protected.
json ProbeZeropageWp(bool wp_async) {
  Uffd a(UFFD_FEATURE_SIGBUS);
  Anon r(2), data(1);
  a.Register(r, UFFDIO_REGISTER_MODE_MISSING | UFFDIO_REGISTER_MODE_WP);
  StampPage(data.page(0), Tag(9, 0));
  json out;
  {
    Check(a.Zeropage(r.page(0), kPage), "UFFDIO_ZEROPAGE (probe)");
    const bool wp = UffdWp(r.page(0));
    OnSignal armed(kProbeOnSignal, a.fd(), data.page(0));
    WriteTouch(r.page(0), 5);
    const long signals = armed.signals();
    if (r.page(0)[kTouch] != 5 || Word(r.page(0)) != 0) Fail("probe: the write to a zero page was lost");
    out["zeropage_uffd_wp"] = wp;
    out["zeropage_write_raised_wp_sigbus"] = signals > 0;
    fmt::print("  (c) UFFDIO_ZEROPAGE in a MISSING|WP range: pte uffd-wp {}, a write {}\n", wp ? "yes" : "no",
               signals > 0 ? "raised a WP SIGBUS" : "was a silent kernel copy-on-write");
  }
  {
    Check(a.Zeropage(r.page(1), kPage), "UFFDIO_ZEROPAGE (probe)");
    Check(a.WriteProtect(r.page(1), kPage, true), "UFFDIO_WRITEPROTECT of a zero page (probe)");
    const bool wp = UffdWp(r.page(1));
    OnSignal armed(kProbeOnSignal, a.fd(), data.page(0));
    WriteTouch(r.page(1), 6);
    const long signals = armed.signals();
    const int kind = armed.last_kind();
    if (r.page(1)[kTouch] != 6 || Word(r.page(1)) != 0) Fail("probe: the write to a protected zero page was lost");
    out["zeropage_then_writeprotect_uffd_wp"] = wp;
    out["zeropage_then_writeprotect_write_raised_wp_sigbus"] = signals > 0 && kind == 2;
    fmt::print("      then UFFDIO_WRITEPROTECT of that zero page: uffd-wp {}, a write {}\n", wp ? "yes" : "no",
               signals > 0 ? (kind == 2 ? "raised a WP SIGBUS" : "raised a missing SIGBUS") : "went through");
  }
  if (wp_async) {  // what a dirty scan makes of a zero page in a WP_ASYNC range
    Uffd w(UFFD_FEATURE_WP_ASYNC);
    Anon z(1);
    w.Register(z, UFFDIO_REGISTER_MODE_MISSING | UFFDIO_REGISTER_MODE_WP);
    Check(w.Zeropage(z.page(0), kPage), "UFFDIO_ZEROPAGE (probe)");
    page_region vec[1];
    const long n = ScanWritten(z.page(0), 1, vec, 1, false);
    out["zeropage_in_wp_async_range_reported_written"] = n == 1;
    fmt::print("      in a WP_ASYNC range, PAGEMAP_SCAN reports a UFFDIO_ZEROPAGE page as {}\n", n == 1 ? std::string("written") : n == 0 ? std::string("clean") : ErrnoName(static_cast<int>(-n)));
  }
  return out;
}

// (d) Whether UFFD_FEATURE_WP_ASYNC and UFFD_FEATURE_SIGBUS combine: missing
// faults still raise SIGBUS while write-protect faults are resolved.
json ProbeWpAsyncSigbus(bool move) {
  json out;
  const int api = TryApi(UFFD_FEATURE_SIGBUS | UFFD_FEATURE_WP_ASYNC, nullptr);
  out["api"] = ErrnoName(api);
  if (api != 0) {
    fmt::print("  (d) UFFDIO_API with SIGBUS|WP_ASYNC: {}\n", ErrnoName(api));
    return out;
  }
  Uffd a(UFFD_FEATURE_SIGBUS | UFFD_FEATURE_WP_ASYNC | (move ? UFFD_FEATURE_MOVE : 0));
  Anon r(5), data(1);
  a.Register(r, UFFDIO_REGISTER_MODE_MISSING | UFFDIO_REGISTER_MODE_WP);
  StampPage(data.page(0), Tag(10, 0));
  OnSignal armed(kProbeOnSignal, a.fd(), data.page(0));
  long before = armed.signals();
  auto signals_since = [&] {
    const long s = armed.signals() - before;
    before = armed.signals();
    return s;
  };
  // A missing page, written, then another read.
  WriteTouch(r.page(0), 3);
  const long missing_write = signals_since();
  const int missing_write_kind = armed.last_kind();
  const char c = *static_cast<volatile char*>(r.page(1));
  (void)c;
  const long missing_read = signals_since();
  // A present write-protected page, written.
  Check(a.Copy(r.page(2), data.page(0), kPage, UFFDIO_COPY_MODE_WP), "UFFDIO_COPY_MODE_WP (probe)");
  const bool wp_before = UffdWp(r.page(2));
  WriteTouch(r.page(2), 4);
  const long wp_write = signals_since();
  const bool wp_after = UffdWp(r.page(2));
  // An unpopulated pte write-protected (a marker, WP_UNPOPULATED being implied), written.
  const int marker_err = a.WriteProtect(r.page(3), kPage, true);
  const bool marker_wp = UffdWp(r.page(3)) && !Present(r.page(3));
  WriteTouch(r.page(3), 5);
  const long marker_write = signals_since();
  const int marker_kind = armed.last_kind();
  if (r.page(0)[kTouch] != 3 || r.page(2)[kTouch] != 4 || r.page(3)[kTouch] != 5 || Word(r.page(2)) != Tag(10, 0))
    Fail("probe (d): a write was lost");
  out["missing_write_raised_sigbus"] = missing_write == 1 && missing_write_kind == 1;
  out["missing_read_raised_sigbus"] = missing_read == 1;
  out["wp_write_raised_sigbus"] = wp_write > 0;
  out["wp_bit_before_write"] = wp_before;
  out["wp_bit_cleared_by_kernel"] = !wp_after;
  out["writeprotect_unpopulated"] = ErrnoName(marker_err);
  out["marker_write_raised_missing_sigbus"] = marker_write == 1 && marker_kind == 1;
  fmt::print("  (d) SIGBUS|WP_ASYNC accepted; missing write: {} SIGBUS ({}), missing read: {} SIGBUS; write to a uffd-wp page: {} SIGBUS, "
             "uffd-wp {} -> {} (resolved by the kernel); write to a write-protected unpopulated pte (marker {}): {} SIGBUS ({})\n",
             missing_write, missing_write_kind == 1 ? "missing" : "?", missing_read, wp_write, wp_before ? 1 : 0, wp_after ? 1 : 0,
             marker_wp ? "yes" : "no", marker_write, marker_kind == 1 ? "missing" : "?");
  if (move) {  // what a dirty scan makes of a page moved into a WP_ASYNC range
    Anon buf(1);
    StampPage(buf.page(0), Tag(11, 0));
    const int err = a.Move(r.page(4), buf.page(0), kPage, 0);
    page_region vec[1];
    const long n = err == 0 ? ScanWritten(r.page(4), 1, vec, 1, false) : -1;
    out["moved_page_in_wp_async_range_reported_written"] = n == 1;
    fmt::print("      a page UFFDIO_MOVEd into a WP_ASYNC range ({}) is reported by PAGEMAP_SCAN as {}\n", ErrnoName(err),
               n == 1 ? "written" : n == 0 ? "clean" : "?");
  }
  return out;
}

// (e) What PAGEMAP_SCAN makes of a tracked page dropped with MADV_DONTNEED: its
// fast path takes a pte_none for written (pagemap_scan_pmd_entry()), and with
// PM_SCAN_WP_MATCHING arms a marker there.
json ProbeScanAfterDontneed() {
  Uffd w(UFFD_FEATURE_WP_ASYNC);
  Anon z(1);
  w.Register(z, UFFDIO_REGISTER_MODE_WP);
  WriteTouch(z.page(0), 1);
  Check(w.WriteProtect(z.page(0), kPage, true), "UFFDIO_WRITEPROTECT (probe)");
  page_region vec[1];
  const long before = ScanWritten(z.page(0), 1, vec, 1, false);
  z.Drop();
  const long first = ScanWritten(z.page(0), 1, vec, 1, true);
  const bool marker = UffdWp(z.page(0)) && !Present(z.page(0));
  const long second = ScanWritten(z.page(0), 1, vec, 1, true);
  auto word = [](long n) { return n == 1 ? "written" : n == 0 ? "clean" : "error"; };
  fmt::print("  (e) WP_ASYNC range: a protected page reads {}; after MADV_DONTNEED the next PAGEMAP_SCAN(WP_MATCHING) reports it {}"
             " (marker armed: {}), the one after {}\n",
             word(before), word(first), marker ? "yes" : "no", word(second));
  return {{"protected_page", word(before)}, {"after_dontneed_first_scan", word(first)}, {"marker_armed", marker}, {"second_scan", word(second)}};
}

// ---- Reporting --------------------------------------------------------------

double Median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

struct Result {
  std::vector<double> ns_per_call;      // wall clock, one per repetition
  std::vector<double> cpu_ns_per_call;  // this thread's CPU time (kernel time included)
  double pages = 1;
  int64_t iterations = 0;
  bool manual_time = false;  // timed around the call only: the CPU time includes the setup
  double ns_per_page() const { return Median(ns_per_call) / pages; }
  double cpu_ns_per_page() const { return Median(cpu_ns_per_call) / pages; }
};

// Keeps every repetition's time; shows the median and cv lines only.
class Collector : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    std::vector<Run> shown;
    for (const auto& r : runs) {
      const std::string& name = r.run_name.function_name;
      if (r.error_occurred) {
        errors_[name] = r.error_message;
        shown.push_back(r);
      } else if (r.run_type == Run::RT_Iteration) {
        Result& res = results_[name];
        res.ns_per_call.push_back(r.GetAdjustedRealTime());
        res.cpu_ns_per_call.push_back(r.GetAdjustedCPUTime());
        res.manual_time = r.run_name.time_type == "manual_time";
        auto pages = r.counters.find("pages");
        if (pages != r.counters.end()) res.pages = pages->second.value;
        res.iterations = r.iterations;
        if (r.repetitions <= 1) shown.push_back(r);
      } else if (r.aggregate_name == "median" || r.aggregate_name == "cv") {
        shown.push_back(r);
      }
    }
    if (!shown.empty()) ConsoleReporter::ReportRuns(shown);
  }
  const Result* Find(const std::string& name) const {
    auto it = results_.find(name);
    return it == results_.end() || it->second.ns_per_call.empty() ? nullptr : &it->second;
  }

 private:
  std::map<std::string, Result> results_;
  std::map<std::string, std::string> errors_;
};

struct RatioSpec {
  std::string label, numerator, denominator;
};

std::vector<RatioSpec> Ratios() {
  std::vector<RatioSpec> r = {
      {"16-page COPY run / single COPY", "Install/copy/16", "Install/copy/1"},
      {"16-page ZEROPAGE run / single ZEROPAGE", "Install/zeropage/16", "Install/zeropage/1"},
      {"ZEROPAGE / COPY, single page", "Install/zeropage/1", "Install/copy/1"},
      {"MOVE / COPY, single page, data ready", "Install/move/1", "Install/copy/1"},
      {"MOVE / COPY, 16-page run, data ready", "Install/move/16", "Install/copy/16"},
      {"MOVE / COPY, single page, data write included", "Install/move+fill/1", "Install/copy+fill/1"},
      {"MOVE / COPY, 16-page run, data write included", "Install/move+fill/16", "Install/copy+fill/16"},
      {"16-page MOVE run / single MOVE", "Install/move/16", "Install/move/1"},
      {"32-page DONTNEED run / single DONTNEED", "Drop/dontneed/32", "Drop/dontneed/1"},
      {"MOVE out / DONTNEED, single page", "Drop/move-out/1", "Drop/dontneed/1"},
      {"MOVE out / DONTNEED, 32-page run", "Drop/move-out/32", "Drop/dontneed/32"},
      {"MOVE out + scratch DONTNEED / DONTNEED, single page", "Drop/move-out+free/1", "Drop/dontneed/1"},
      {"MOVE out + scratch DONTNEED / DONTNEED, 32-page run", "Drop/move-out+free/32", "Drop/dontneed/32"},
      {"evict+install, MOVE out/in / DONTNEED + COPY, single page", "Cycle/move-out+move-in/1", "Cycle/dontneed+copy/1"},
      {"evict+install, MOVE out/in / DONTNEED + COPY, 16-page runs", "Cycle/move-out+move-in/16", "Cycle/dontneed+copy/16"},
      {"WP_ASYNC write fault / native first touch", "Fault/wp-async", "Fault/native"},
      {"WP_ASYNC write fault / SIGBUS WP fault", "Fault/wp-async", "Fault/sigbus-wp"},
      {"SIGBUS WP fault / native first touch", "Fault/sigbus-wp", "Fault/native"},
      {"SIGBUS missing fault + COPY / native first touch", "Fault/sigbus-missing", "Fault/native"},
      {"ZEROPAGE copy-on-write fault / native first touch", "Fault/zeropage-cow", "Fault/native"},
  };
  for (int n : {32, 1024})
    for (int pct : {0, 25, 100}) {
      r.push_back({fmt::format("PAGEMAP_SCAN / UFFDIO_WRITEPROTECT, {} pages, {}% written", n, pct), fmt::format("Dirty/scan/{}/{}", n, pct),
                   fmt::format("Dirty/writeprotect/{}/{}", n, pct)});
      r.push_back({fmt::format("PAGEMAP_SCAN / pagemap read + WRITEPROTECT, {} pages, {}% written", n, pct), fmt::format("Dirty/scan/{}/{}", n, pct),
                   fmt::format("Dirty/pagemap+wp/{}/{}", n, pct)});
    }
  return r;
}

std::string UtcNow() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

struct Registered {
  std::string name;
  std::string skipped;  // why, when the kernel lacks what it needs
};

std::string Missing(uint64_t needs, uint64_t offered, bool pagemap_scan) {
  const std::pair<uint64_t, const char*> names[] = {{UFFD_FEATURE_SIGBUS, "UFFD_FEATURE_SIGBUS"},
                                                    {UFFD_FEATURE_PAGEFAULT_FLAG_WP, "UFFD_FEATURE_PAGEFAULT_FLAG_WP"},
                                                    {UFFD_FEATURE_WP_ASYNC, "UFFD_FEATURE_WP_ASYNC"},
                                                    {UFFD_FEATURE_MOVE, "UFFD_FEATURE_MOVE"}};
  std::string missing;
  for (const auto& [bit, name] : names)
    if ((needs & bit) && !(offered & bit)) missing += (missing.empty() ? "" : ", ") + std::string(name);
  if ((needs & kNeedsPagemapScan) && !pagemap_scan) missing += (missing.empty() ? "" : ", ") + std::string("PAGEMAP_SCAN");
  return missing;
}

// Whether PAGEMAP_SCAN works here (Linux 6.7+), on a one-page WP_ASYNC region.
bool HavePagemapScan(uint64_t offered) {
  if (!(offered & UFFD_FEATURE_WP_ASYNC)) return false;
  Uffd u(UFFD_FEATURE_WP_ASYNC);
  Anon a(1);
  u.Register(a, UFFDIO_REGISTER_MODE_WP);
  WriteTouch(a.page(0), 1);
  page_region vec[1];
  return ScanWritten(a.page(0), 1, vec, 1, true) == 1 && UffdWp(a.page(0));
}

}  // namespace

int main(int argc, char** argv) {
  InstallSigbusHandler();
  utsname uts{};
  uname(&uts);
  cpu_set_t cpus;
  CPU_ZERO(&cpus);
  sched_getaffinity(0, sizeof cpus, &cpus);
  const long online = sysconf(_SC_NPROCESSORS_ONLN);

  uint64_t offered = 0;
  Check(TryApi(0, &offered), "UFFDIO_API");
  const bool pagemap_scan = HavePagemapScan(offered);
  fmt::print("uffd_ops_bench on Linux {} ({} CPUs online, {} usable): UFFDIO_API offers features {:#x}; MOVE {}, WP_ASYNC {}, "
             "WP_UNPOPULATED {}, SIGBUS {}; PAGEMAP_SCAN {}\n",
             uts.release, online, CPU_COUNT(&cpus), offered, offered & UFFD_FEATURE_MOVE ? "yes" : "no", offered & UFFD_FEATURE_WP_ASYNC ? "yes" : "no",
             offered & UFFD_FEATURE_WP_UNPOPULATED ? "yes" : "no", offered & UFFD_FEATURE_SIGBUS ? "yes" : "no", pagemap_scan ? "yes" : "no");

  g_bench = "probes";
  json findings = json::object();
  fmt::print("probes:\n");
  const bool have_move = offered & UFFD_FEATURE_MOVE, have_sigbus = offered & UFFD_FEATURE_SIGBUS;
  const bool have_wp = offered & UFFD_FEATURE_PAGEFAULT_FLAG_WP, have_async = offered & UFFD_FEATURE_WP_ASYNC;
  if (have_move && have_sigbus) {
    findings["a_move_registration"] = ProbeMoveRegistration();
    if (have_wp) findings["b_move_uffd_wp"] = ProbeMoveKeepsWp();
  } else {
    fmt::print("  (a), (b) skipped: no UFFD_FEATURE_MOVE or SIGBUS\n");
  }
  if (have_sigbus && have_wp)
    findings["c_zeropage_wp"] = ProbeZeropageWp(have_async && pagemap_scan);
  else
    fmt::print("  (c) skipped: no UFFD_FEATURE_SIGBUS or PAGEFAULT_FLAG_WP\n");
  if (have_sigbus && have_async)
    findings["d_wp_async_with_sigbus"] = ProbeWpAsyncSigbus(have_move && pagemap_scan);
  else
    fmt::print("  (d) skipped: no UFFD_FEATURE_SIGBUS or WP_ASYNC\n");
  if (pagemap_scan)
    findings["e_scan_after_dontneed"] = ProbeScanAfterDontneed();
  else
    fmt::print("  (e) skipped: no PAGEMAP_SCAN\n");
  g_bench = "main";

  // Registration, in the order of the table.
  std::vector<Registered> order;
  auto add = [&](const std::string& name, uint64_t needs, int64_t iterations, bool manual_time, std::function<void(benchmark::State&)> fn) {
    const std::string missing = Missing(needs, offered, pagemap_scan);
    if (!missing.empty()) {
      fmt::print("skipping {}: the kernel does not offer {}\n", name, missing);
      order.push_back({name, "needs " + missing});
      return;
    }
    order.push_back({name, ""});
    auto* b = benchmark::RegisterBenchmark(name.c_str(), [name, fn](benchmark::State& s) {
      g_bench = name.c_str();
      fn(s);
      g_bench = "main";
    });
    b->Iterations(iterations)->Unit(benchmark::kNanosecond);
    if (manual_time)
      b->UseManualTime();
    else
      b->UseRealTime();
  };
  constexpr int64_t kPerPage = kPasses * kPassPages;
  constexpr uint64_t kSigbus = UFFD_FEATURE_SIGBUS, kMove = UFFD_FEATURE_MOVE, kAsync = UFFD_FEATURE_WP_ASYNC;
  for (size_t run : {size_t{1}, size_t{16}})
    add(fmt::format("Install/copy/{}", run), kSigbus, kPerPage / run, false, [run](benchmark::State& s) { InstallCopy(s, run, false); });
  for (size_t run : {size_t{1}, size_t{16}})
    add(fmt::format("Install/copy+fill/{}", run), kSigbus, kPerPage / run, false, [run](benchmark::State& s) { InstallCopy(s, run, true); });
  for (size_t run : {size_t{1}, size_t{16}})
    add(fmt::format("Install/zeropage/{}", run), kSigbus, kPerPage / run, false, [run](benchmark::State& s) { InstallZeropage(s, run); });
  for (size_t run : {size_t{1}, size_t{16}})
    add(fmt::format("Install/move/{}", run), kSigbus | kMove, kPerPage / run, false, [run](benchmark::State& s) { InstallMove(s, run, false); });
  for (size_t run : {size_t{1}, size_t{16}})
    add(fmt::format("Install/move+fill/{}", run), kSigbus | kMove, kPerPage / run, false, [run](benchmark::State& s) { InstallMove(s, run, true); });
  for (size_t run : {size_t{1}, size_t{32}})
    add(fmt::format("Drop/dontneed/{}", run), kSigbus, kPerPage / run, false, [run](benchmark::State& s) { DropDontneed(s, run); });
  for (size_t run : {size_t{1}, size_t{32}})
    add(fmt::format("Drop/move-out/{}", run), kSigbus | kMove, kPerPage / run, false, [run](benchmark::State& s) { DropMoveOut(s, run, false); });
  for (size_t run : {size_t{1}, size_t{32}})
    add(fmt::format("Drop/move-out+free/{}", run), kSigbus | kMove, kPerPage / run, false, [run](benchmark::State& s) { DropMoveOut(s, run, true); });
  for (size_t run : {size_t{1}, size_t{16}})
    add(fmt::format("Cycle/dontneed+copy/{}", run), kSigbus, kPerPage / run, false, [run](benchmark::State& s) { Cycle(s, run, false); });
  for (size_t run : {size_t{1}, size_t{16}})
    add(fmt::format("Cycle/move-out+move-in/{}", run), kSigbus | kMove, kPerPage / run, false, [run](benchmark::State& s) { Cycle(s, run, true); });
  add("Fault/native", 0, kPerPage, false, FaultNative);
  add("Fault/zeropage-cow", kSigbus, kPerPage, false, FaultZeropageCow);
  add("Fault/sigbus-missing", kSigbus, kPerPage, false, FaultSigbusMissing);
  add("Fault/sigbus-wp", kSigbus | UFFD_FEATURE_PAGEFAULT_FLAG_WP, kPerPage, false, FaultSigbusWp);
  add("Fault/wp-async", kAsync, kPerPage, false, FaultWpAsync);
  const std::pair<const char*, Tracker> trackers[] = {
      {"scan", Tracker::kScan}, {"writeprotect", Tracker::kWriteProtect}, {"pagemap+wp", Tracker::kPagemapRead}};
  for (size_t pages : {size_t{32}, size_t{1024}})
    for (int pct : {0, 25, 100})
      for (const auto& [label, tracker] : trackers) {
        const Tracker t = tracker;
        add(fmt::format("Dirty/{}/{}/{}", label, pages, pct), kAsync | (t == Tracker::kScan ? kNeedsPagemapScan : 0), pages == 32 ? 4000 : 400, true,
            [t, pages, pct](benchmark::State& s) { Dirty(s, t, pages, pct); });
      }

  // Several repetitions by default: the machine is shared, medians are reported.
  std::vector<char*> args(argv, argv + argc);
  std::string repetitions = fmt::format("--benchmark_repetitions={}", kDefaultRepetitions);
  if (std::none_of(args.begin(), args.end(), [](const char* a) { return std::strncmp(a, "--benchmark_repetitions", 23) == 0; }))
    args.push_back(repetitions.data());
  int nargs = static_cast<int>(args.size());
  args.push_back(nullptr);
  benchmark::Initialize(&nargs, args.data());
  if (benchmark::ReportUnrecognizedArguments(nargs, args.data())) return 1;
  Collector reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);

  // The table and the ratios, from the medians.
  json results = json::array(), skipped = json::array(), ratios = json::array();
  const bool ran = std::any_of(order.begin(), order.end(), [&](const Registered& r) { return reporter.Find(r.name) != nullptr; });
  // The CPU column is this thread's CPU time: well below the wall clock, the
  // thread was waiting for a CPU the machine's other work had.
  if (ran) fmt::print("\nns per 4 KiB page, median of the repetitions (spread: (max - min) / median; cpu: this thread's CPU time):\n");
  if (ran) fmt::print("  {:28} {:>6} {:>12} {:>10} {:>7} {:>10}\n", "benchmark", "pages", "ns/call", "ns/page", "spread", "cpu/page");
  for (const Registered& r : order) {
    if (!r.skipped.empty()) {
      if (ran) fmt::print("  {:28} skipped: {}\n", r.name, r.skipped);
      skipped.push_back({{"name", r.name}, {"reason", r.skipped}});
      continue;
    }
    const Result* res = reporter.Find(r.name);
    if (!res) continue;  // filtered out, or failed
    const auto [lo, hi] = std::minmax_element(res->ns_per_call.begin(), res->ns_per_call.end());
    const double median = Median(res->ns_per_call);
    const std::string cpu = res->manual_time ? "-" : fmt::format("{:.1f}", res->cpu_ns_per_page());
    fmt::print("  {:28} {:>6} {:>12.1f} {:>10.1f} {:>6.1f}% {:>10}\n", r.name, res->pages, median, res->ns_per_page(), 100 * (*hi - *lo) / median, cpu);
    std::vector<double> per_page;
    for (double ns : res->ns_per_call) per_page.push_back(ns / res->pages);
    json entry = {{"name", r.name},
                  {"pages_per_call", res->pages},
                  {"iterations", res->iterations},
                  {"ns_per_call_median", median},
                  {"ns_per_page_median", res->ns_per_page()},
                  {"ns_per_page_repetitions", per_page}};
    if (!res->manual_time) entry["cpu_ns_per_page_median"] = res->cpu_ns_per_page();
    results.push_back(entry);
  }
  if (ran) fmt::print("\nratios of ns per page (medians, same run):\n");
  for (const RatioSpec& s : Ratios()) {
    const Result *a = reporter.Find(s.numerator), *b = reporter.Find(s.denominator);
    if (!a || !b) continue;
    const double v = a->ns_per_page() / b->ns_per_page();
    json ratio = {{"label", s.label}, {"numerator", s.numerator}, {"denominator", s.denominator}, {"value", v}};
    std::string cpu;
    if (!a->manual_time && !b->manual_time) {
      const double c = a->cpu_ns_per_page() / b->cpu_ns_per_page();
      cpu = fmt::format("  (cpu {:.2f}x)", c);
      ratio["cpu_value"] = c;
    }
    fmt::print("  {:66} {:8.1f} / {:8.1f} = {:5.2f}x{}\n", s.label, a->ns_per_page(), b->ns_per_page(), v, cpu);
    ratios.push_back(ratio);
  }

  if (const char* path = std::getenv("PRESCIENT_BENCH_JSON"); path && *path) {
    std::string command_line;
    for (int i = 0; i < argc; ++i) command_line += (i ? " " : "") + std::string(argv[i]);
    json doc = {{"schema_version", 1},
                {"benchmark", "uffd_ops_bench"},
                {"provenance",
                 {{"kernel_release", uts.release},
                  {"kernel_version", uts.version},
                  {"machine", uts.machine},
                  {"date", UtcNow()},
                  {"cpu_count", online},
                  {"cpus_usable", CPU_COUNT(&cpus)},
                  {"command_line", command_line},
                  {"page_bytes", kPage},
                  {"uffd_features_offered", fmt::format("{:#x}", offered)},
                  {"pagemap_scan", pagemap_scan}}},
                {"results", results},
                {"skipped", skipped},
                {"ratios", ratios},
                {"findings", findings}};
    std::ofstream f(path);
    f << doc.dump(2) << "\n";
    if (!f) {
      fmt::print(stderr, "uffd_ops_bench: cannot write {}\n", path);
      return 1;
    }
    fmt::print("\nwrote {}\n", path);
  }
  benchmark::Shutdown();
  return 0;
}
