// The program's signal calls, kept from undoing the signal fault path
// (runtime/signal_faults.h). Once the runtime's SIGBUS handler is installed:
//
//   - sigaction(SIGBUS) and signal(SIGBUS) set and report the program's own
//     disposition, which gets every SIGBUS that is not a region fault; the
//     runtime's handler stays installed underneath;
//   - sigprocmask and pthread_sigmask never block SIGBUS, since a fault
//     raised while SIGBUS is blocked kills the process; each thread's old
//     mask still reports SIGBUS as blocked if the program asked for it, so
//     the program sees the mask it set.
//
// What the program cannot be kept from: blocking SIGBUS with a raw
// rt_sigprocmask system call, or through the masks it passes to
// sigsuspend, pselect, ppoll or epoll_pwait (all of which only block while
// the thread sleeps in the kernel, where it cannot fault on the region).
#include <dlfcn.h>
#include <signal.h>

#include <cerrno>
#include <cstring>

#include "runtime/signal_faults.h"

extern "C" int __sigaction(int sig, const struct sigaction* act, struct sigaction* old);

namespace {

using prescient::t_program_blocks_sigbus;
using SigmaskFn = int (*)(int, const sigset_t*, sigset_t*);

SigmaskFn Real(const char* name) {
  // Looked up once per entry point; dlsym may allocate, which is safe here.
  return reinterpret_cast<SigmaskFn>(dlsym(RTLD_NEXT, name));
}

// Calls `real` with SIGBUS taken out of `set`, keeping the program's view;
// returns what `real` returns.
int SetMask(SigmaskFn real, int how, const sigset_t* set, sigset_t* old) {
  if (!prescient::SignalFaultsInstalled()) return real(how, set, old);
  sigset_t without;
  bool wanted = t_program_blocks_sigbus;
  if (set != nullptr) {
    without = *set;
    const bool names_bus = sigismember(&without, SIGBUS) == 1;
    sigdelset(&without, SIGBUS);
    if (how == SIG_SETMASK) wanted = names_bus;
    else if (how == SIG_BLOCK && names_bus) wanted = true;
    else if (how == SIG_UNBLOCK && names_bus) wanted = false;
  }
  int rc = real(how, set != nullptr ? &without : nullptr, old);
  if (rc != 0) return rc;
  if (old != nullptr && t_program_blocks_sigbus) sigaddset(old, SIGBUS);
  t_program_blocks_sigbus = wanted;
  return 0;
}

}  // namespace

extern "C" {

__attribute__((visibility("default"))) int sigaction(int sig, const struct sigaction* act, struct sigaction* old) {
  if (sig == SIGBUS && prescient::SignalFaultsInstalled()) {
    prescient::ProgramSigbusAction(act, old);
    return 0;
  }
  return __sigaction(sig, act, old);
}

// As glibc's signal(): BSD semantics, the signal blocked in its own handler.
__attribute__((visibility("default"))) sighandler_t signal(int sig, sighandler_t handler) {
  struct sigaction act, old;
  std::memset(&act, 0, sizeof(act));
  act.sa_handler = handler;
  sigemptyset(&act.sa_mask);
  if (sigaddset(&act.sa_mask, sig) != 0) {
    errno = EINVAL;
    return SIG_ERR;
  }
  act.sa_flags = SA_RESTART;
  if (sigaction(sig, &act, &old) != 0) return SIG_ERR;
  return old.sa_handler;
}

__attribute__((visibility("default"))) sighandler_t bsd_signal(int sig, sighandler_t handler) { return signal(sig, handler); }

__attribute__((visibility("default"))) int pthread_sigmask(int how, const sigset_t* set, sigset_t* old) {
  static const SigmaskFn real = Real("pthread_sigmask");
  return real != nullptr ? SetMask(real, how, set, old) : ENOSYS;
}

__attribute__((visibility("default"))) int sigprocmask(int how, const sigset_t* set, sigset_t* old) {
  static const SigmaskFn real = Real("sigprocmask");
  if (real == nullptr) {
    errno = ENOSYS;
    return -1;
  }
  return SetMask(real, how, set, old);
}

}  // extern "C"
