#include "preload/fork_guard.h"

#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstring>

#include "preload/heap.h"
#include "preload/say.h"

namespace prescient::preload {

namespace {

PageAllocator* g_guarded = nullptr;
struct sigaction g_previous_segv;
// Copied at start: the handler below may only make async-signal-safe calls.
char g_lost_work_file[PATH_MAX] = "";

void RecordLostWork() {
  if (g_lost_work_file[0] == '\0') return;
  int fd = open(g_lost_work_file, O_WRONLY | O_APPEND | O_CLOEXEC);
  if (fd < 0) return;
  (void)!write(fd, "F", 1);
  close(fd);
}

void OnSegvInChild(int sig, siginfo_t* info, void* context) {
  if (InRegion(info->si_addr)) {
    SayRaw("prescient: a forked child touched far memory at ");
    SayHex(reinterpret_cast<uintptr_t>(info->si_addr));
    SayRaw("; fork without exec is not supported under prescient run\n");
    RecordLostWork();
    _exit(1);
  }
  // Not ours: put back whoever handled SIGSEGV before, and let the fault
  // happen again for them. A SIGSEGV sent by kill() does not repeat by
  // itself, so send it again; it is blocked until this handler returns.
  sigaction(SIGSEGV, &g_previous_segv, nullptr);
  if (info->si_code <= 0) raise(sig);
}

void BeforeFork() { g_guarded->lock(); }

void AfterForkInParent() { g_guarded->unlock(); }

void AfterForkInChild() {
  g_guarded->unlock();
  if (InForkedChild()) return;  // a grandchild: fenced already, handler installed
  EnterForkedChild();
  // The range is not inherited (MADV_DONTFORK); map it inaccessible so
  // nothing else is placed there, and region pointers the child still holds
  // fault instead of reaching unrelated memory.
  if (mmap(g_guarded->base(), g_guarded->size(), PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_NORESERVE, -1, 0) == MAP_FAILED) {
    SayRaw("prescient: cannot fence the far-memory region in a forked child\n");
    _exit(1);
  }
  struct sigaction action;
  std::memset(&action, 0, sizeof(action));
  action.sa_sigaction = OnSegvInChild;
  action.sa_flags = SA_SIGINFO;
  sigemptyset(&action.sa_mask);
  sigaction(SIGSEGV, &action, &g_previous_segv);
}

}  // namespace

void InstallForkGuard(PageAllocator* pages, const std::string& lost_work_file) {
  g_guarded = pages;
  if (lost_work_file.size() < sizeof(g_lost_work_file)) std::memcpy(g_lost_work_file, lost_work_file.c_str(), lost_work_file.size() + 1);
  // Best effort: without it the child still gets the fence above, but the
  // fork copies the region's page tables first.
  madvise(pages->base(), pages->size(), MADV_DONTFORK);
  pthread_atfork(BeforeFork, AfterForkInParent, AfterForkInChild);
}

}  // namespace prescient::preload
