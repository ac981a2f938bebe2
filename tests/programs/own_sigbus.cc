// An ordinary program with a SIGBUS handler of its own (sigaction,
// SA_SIGINFO), as databases and language runtimes that map files have. While
// it updates a large malloc'd array at random, checking every word it reads,
// it provokes real SIGBUSes (touching a mapped file page past the end of the
// truncated file, recovering with siglongjmp) and raises SIGBUS itself, and
// checks that its handler saw each one with the right si_addr and si_code,
// that sigaction reports its handler, that the handler runs with SIGBUS and
// its sa_mask (SIGUSR1) blocked, as the kernel blocks them for a handler,
// and that the handler can use heap memory. About 70 MiB; prints checksum=
// last.
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "common/checksum.h"
#include "common/random.h"
#include "program_checks.h"

namespace {

using program::Fail;

constexpr size_t kWords = size_t{8} << 20;  // 64 MiB
constexpr int kRounds = 64;
constexpr int kBumpsPerRound = 1000;
constexpr size_t kLogWords = size_t{1} << 17;  // 1 MiB: on the heap, and large

// What the handler saw. It writes each signal's address into a heap array
// too, at a spot far from the last, as a handler that logs would.
sigjmp_buf g_recover;
volatile sig_atomic_t g_recover_armed = 0;
volatile sig_atomic_t g_calls = 0;
volatile sig_atomic_t g_last_code = 0;
volatile sig_atomic_t g_last_pid = 0;
volatile sig_atomic_t g_bus_blocked_inside = 1;
volatile sig_atomic_t g_usr1_blocked_inside = 1;
void* volatile g_last_addr = nullptr;
uint64_t* g_log = nullptr;

void OnSigbus(int signo, siginfo_t* info, void*) {
  sigset_t now;
  pthread_sigmask(SIG_SETMASK, nullptr, &now);
  if (sigismember(&now, SIGBUS) != 1) g_bus_blocked_inside = 0;
  if (sigismember(&now, SIGUSR1) != 1) g_usr1_blocked_inside = 0;
  g_last_code = info->si_code;
  g_last_addr = info->si_addr;
  g_last_pid = info->si_pid;
  g_log[(g_calls * 4099) % kLogWords] += reinterpret_cast<uintptr_t>(info->si_addr) + 1;
  g_calls = g_calls + 1;
  if (g_recover_armed) {
    g_recover_armed = 0;
    siglongjmp(g_recover, 1);
  }
}

void ExpectOwnHandler(const char* when) {
  struct sigaction now {};
  if (sigaction(SIGBUS, nullptr, &now) != 0) Fail("sigaction(SIGBUS, NULL, &old): %s", std::strerror(errno));
  if (!(now.sa_flags & SA_SIGINFO) || now.sa_sigaction != OnSigbus)
    Fail("%s, sigaction(SIGBUS, NULL, &old) does not report the program's handler (flags %#x)", when, now.sa_flags);
}

// One page of a file, mapped shared; the file is truncated to nothing
// before each touch, so the touch is a real SIGBUS (BUS_ADRERR) far from
// the heap.
class VanishingPage {
 public:
  VanishingPage() {
    const char* dir = std::getenv("TMPDIR");
    std::string path = std::string(dir != nullptr && *dir != '\0' ? dir : "/tmp") + "/own_sigbus.XXXXXX";
    fd_ = mkstemp(path.data());
    if (fd_ < 0) Fail("mkstemp %s: %s", path.c_str(), std::strerror(errno));
    unlink(path.c_str());
    page_ = static_cast<volatile char*>(mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd_, 0));
    if (page_ == MAP_FAILED) Fail("mmap: %s", std::strerror(errno));
  }
  ~VanishingPage() {
    munmap(const_cast<char*>(page_), 4096);
    close(fd_);
  }

  // Touches byte `offset` of the page after the file lost it; fails unless
  // the program's handler saw exactly that.
  void Touch(size_t offset) {
    if (ftruncate(fd_, 4096) != 0) Fail("ftruncate: %s", std::strerror(errno));
    page_[offset] = 1;  // the page exists again: no signal
    if (ftruncate(fd_, 0) != 0) Fail("ftruncate: %s", std::strerror(errno));
    const int calls = g_calls;
    if (sigsetjmp(g_recover, 1) == 0) {
      g_recover_armed = 1;
      (void)page_[offset];
      g_recover_armed = 0;
      Fail("reading a page past the end of its file raised no SIGBUS");
    }
    if (g_calls != calls + 1) Fail("the handler ran %d times for one SIGBUS", g_calls - calls);
    if (g_last_code != BUS_ADRERR)
      Fail("the SIGBUS of a truncated file has si_code %d, expected BUS_ADRERR", int{g_last_code});
    void* const touched = const_cast<char*>(page_) + offset;
    if (g_last_addr != touched)
      Fail("the SIGBUS of a truncated file has si_addr %p, expected %p", g_last_addr, touched);
  }

 private:
  int fd_ = -1;
  volatile char* page_ = nullptr;
};

void Raise() {
  const int calls = g_calls;
  if (raise(SIGBUS) != 0) Fail("raise(SIGBUS): %s", std::strerror(errno));
  if (g_calls != calls + 1) Fail("raise(SIGBUS) ran the handler %d times", g_calls - calls);
  if (g_last_code != SI_TKILL || g_last_pid != getpid())
    Fail("raise(SIGBUS) reached the handler with si_code %d, si_pid %d, expected SI_TKILL from %d", int{g_last_code},
         int{g_last_pid}, getpid());
}

}  // namespace

int main() {
  struct sigaction old {};
  if (sigaction(SIGBUS, nullptr, &old) != 0) Fail("sigaction: %s", std::strerror(errno));
  if (old.sa_handler != SIG_DFL) Fail("SIGBUS has a handler before the program installed one");

  g_log = static_cast<uint64_t*>(std::calloc(kLogWords, sizeof(uint64_t)));
  if (g_log == nullptr) Fail("cannot allocate the log");
  struct sigaction action {};
  action.sa_sigaction = OnSigbus;
  action.sa_flags = SA_SIGINFO;
  sigemptyset(&action.sa_mask);
  sigaddset(&action.sa_mask, SIGUSR1);
  if (sigaction(SIGBUS, &action, nullptr) != 0) Fail("sigaction: %s", std::strerror(errno));
  ExpectOwnHandler("after installing it");

  program::TaggedWords words(kWords);
  words.Tag(0, kWords);
  std::vector<uint64_t> bumps;
  bumps.reserve(size_t{kRounds} * kBumpsPerRound);
  workload::Rng rng(7);
  VanishingPage vanishing;
  for (int round = 0; round < kRounds; ++round) {
    for (int i = 0; i < kBumpsPerRound; ++i) {
      bumps.push_back(rng.Uniform(kWords));
      words.Bump(bumps.back());
    }
    if (round % 2 == 0) vanishing.Touch(rng.Uniform(4096));
    else Raise();
    if (round % 16 == 0) ExpectOwnHandler("between the signals");
  }
  ExpectOwnHandler("at the end");
  if (!g_bus_blocked_inside) Fail("inside its SIGBUS handler the program's mask does not show SIGBUS blocked");
  if (!g_usr1_blocked_inside) Fail("inside its SIGBUS handler SIGUSR1 is not blocked, though the handler's sa_mask has it");
  std::printf("%d signals handled\n", int{g_calls});

  std::sort(bumps.begin(), bumps.end());
  words.Verify(0, kWords, bumps);
  workload::Checksum sum;
  words.AddTo(&sum, 0, kWords);
  for (size_t i = 0; i < kLogWords; ++i) sum.Add(g_log[i] != 0);  // where, not the addresses, which vary
  std::free(g_log);
  sum.Print();
  return 0;
}
