#include "runtime/signal_faults.h"

#include <ucontext.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <mutex>

#include "runtime/thread_role.h"
#include "runtime/uffd.h"

// glibc's own entry point: the preload library replaces sigaction(), and
// restoring the default action must reach the kernel, not the program's view.
extern "C" int __sigaction(int sig, const struct sigaction* act, struct sigaction* old);

namespace prescient {

namespace {

struct Slot {
  std::atomic<uintptr_t> begin{0}, end{0};
  std::atomic<SignalFaultServer*> server{nullptr};
};
Slot g_slots[kMaxSignalRegions];
std::mutex g_attach_mu;  // attach, detach and the program's disposition
std::atomic<bool> g_installed{false};
// What the program asked SIGBUS to do (initially what was there before us).
struct sigaction g_program_action;

#if defined(__x86_64__)
// The page-fault error code the kernel leaves in the signal frame: bit 1 is set for a write.
bool WasWrite(const void* context) { return (static_cast<const ucontext_t*>(context)->uc_mcontext.gregs[REG_ERR] & 2) != 0; }
#else
// Unknown: serve it as a write, which installs the page writable and dirty.
bool WasWrite(const void*) { return true; }
#endif

SignalFaultServer* ServerFor(uintptr_t address) {
  for (Slot& s : g_slots) {
    if (address >= s.begin.load(std::memory_order_acquire) && address < s.end.load(std::memory_order_acquire))
      return s.server.load(std::memory_order_acquire);
  }
  return nullptr;
}

// Does with a SIGBUS that is not ours what the program's disposition says.
void ChainToProgram(int sig, siginfo_t* info, void* context) {
  struct sigaction action = g_program_action;
  const bool from_kernel = info->si_code > 0;
  if (action.sa_flags & SA_RESETHAND) g_program_action.sa_handler = SIG_DFL;
  const bool handler = (action.sa_flags & SA_SIGINFO) || (action.sa_handler != SIG_DFL && action.sa_handler != SIG_IGN);
  if (handler) {
    // As the kernel would run it: its sa_mask blocked, and SIGBUS too unless
    // SA_NODEFER, though only in the program's view (see t_program_blocks_sigbus).
    sigset_t mask = action.sa_mask, before;
    sigdelset(&mask, SIGBUS);
    pthread_sigmask(SIG_BLOCK, &mask, &before);
    const bool blocked_before = t_program_blocks_sigbus;
    if (!(action.sa_flags & SA_NODEFER)) t_program_blocks_sigbus = true;
    if (action.sa_flags & SA_SIGINFO) {
      action.sa_sigaction(sig, info, context);
    } else {
      action.sa_handler(sig);
    }
    t_program_blocks_sigbus = blocked_before;
    pthread_sigmask(SIG_SETMASK, &before, nullptr);
    return;
  }
  if (action.sa_handler == SIG_IGN && !from_kernel) return;
  // The default action, as natively: a fault reruns and kills; a sent signal is sent again.
  struct sigaction dfl;
  std::memset(&dfl, 0, sizeof(dfl));
  dfl.sa_handler = SIG_DFL;
  __sigaction(SIGBUS, &dfl, nullptr);
  if (!from_kernel) raise(SIGBUS);
}

void OnSigbus(int sig, siginfo_t* info, void* context) {
  const int saved_errno = errno;
  const auto address = reinterpret_cast<uintptr_t>(info->si_addr);
  SignalFaultServer* server = info->si_code == BUS_ADRERR ? ServerFor(address) : nullptr;
  if (server != nullptr) {
    // Whatever the runtime allocates while serving is its own, not the
    // program's heap (and must never land in the region it is serving).
    const bool was_runtime = t_is_runtime_thread;
    t_is_runtime_thread = true;
    server->ServeSignalFault(address, WasWrite(context));
    t_is_runtime_thread = was_runtime;
  } else {
    ChainToProgram(sig, info, context);
  }
  errno = saved_errno;
}

Status InstallHandler() {
  struct sigaction ours;
  std::memset(&ours, 0, sizeof(ours));
  ours.sa_sigaction = OnSigbus;
  ours.sa_flags = SA_SIGINFO | SA_NODEFER | SA_RESTART;
  sigemptyset(&ours.sa_mask);
  if (sigaction(SIGBUS, &ours, &g_program_action) != 0) return Status::FromErrno("sigaction(SIGBUS) for the signal fault path", errno);
  // A thread that blocks SIGBUS would be killed by its first fault.
  sigset_t bus;
  sigemptyset(&bus);
  sigaddset(&bus, SIGBUS);
  pthread_sigmask(SIG_UNBLOCK, &bus, nullptr);
  g_installed.store(true, std::memory_order_release);
  return Status::Ok();
}

}  // namespace

Status AttachSignalFaults(const std::byte* begin, size_t len, SignalFaultServer* server) {
  std::lock_guard<std::mutex> lock(g_attach_mu);
  if (!g_installed.load(std::memory_order_acquire)) PRESCIENT_RETURN_IF_ERROR(InstallHandler());
  for (Slot& s : g_slots) {
    if (s.server.load(std::memory_order_relaxed) != nullptr) continue;
    s.server.store(server, std::memory_order_release);
    s.end.store(reinterpret_cast<uintptr_t>(begin) + len, std::memory_order_release);
    s.begin.store(reinterpret_cast<uintptr_t>(begin), std::memory_order_release);
    return Status::Ok();
  }
  return Status::ResourceExhausted("more than 16 regions use the signal fault path at once");
}

void DetachSignalFaults(SignalFaultServer* server) {
  std::lock_guard<std::mutex> lock(g_attach_mu);
  for (Slot& s : g_slots) {
    if (s.server.load(std::memory_order_relaxed) != server) continue;
    s.begin.store(0, std::memory_order_release);
    s.end.store(0, std::memory_order_release);
    s.server.store(nullptr, std::memory_order_release);
  }
}

bool SignalFaultsInstalled() { return g_installed.load(std::memory_order_acquire); }

void ProgramSigbusAction(const struct sigaction* act, struct sigaction* old) {
  std::lock_guard<std::mutex> lock(g_attach_mu);
  if (old != nullptr) *old = g_program_action;
  if (act != nullptr) g_program_action = *act;
}

bool KernelOffersSignalFaults() {
  static const bool offered = [] { return (Userfaultfd::AvailableFeatures() & UFFD_FEATURE_SIGBUS) != 0; }();
  return offered;
}

}  // namespace prescient
