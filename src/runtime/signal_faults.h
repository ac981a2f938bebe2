// SignalFaults: the process-wide SIGBUS handler through which threads serve
// their own userfaultfd faults (FaultPath::kSignal, docs/decisions.md D105).
//
// A region whose userfaultfd has UFFD_FEATURE_SIGBUS gets no messages: the
// kernel raises SIGBUS (BUS_ADRERR) in the thread that touched a page it may
// not map, missing or write-protected alike. The handler finds the region
// whose range holds the address and lets its SignalFaultServer serve the
// fault there and then; when the handler returns, the access is retried.
// Every other SIGBUS (a real bus error, one sent by kill) goes on to the
// disposition the program chose, as if the runtime were not there.
//
// The handler is installed with SA_NODEFER: a program handler that leaves by
// longjmp without restoring the mask must not leave SIGBUS blocked, because a
// blocked SIGBUS raised by a fault kills the process.
#pragma once

#include <signal.h>

#include <cstddef>
#include <cstdint>

#include "prescient/status.h"

namespace prescient {

class SignalFaultServer {
 public:
  virtual ~SignalFaultServer() = default;
  // Serves the fault at `address` on the calling thread, inside the signal
  // handler; `write` when the faulting access was a write. Returns once the
  // access can be retried.
  virtual void ServeSignalFault(uintptr_t address, bool write) = 0;
};

// Routes SIGBUSes in [begin, begin + len) to `server`, installing the handler
// on first use. At most kMaxSignalRegions regions at once.
inline constexpr int kMaxSignalRegions = 16;
Status AttachSignalFaults(const std::byte* begin, size_t len, SignalFaultServer* server);
void DetachSignalFaults(SignalFaultServer* server);

// Whether the handler is installed; from then on the program's own
// sigaction(SIGBUS) calls must come here instead (preload/signals.cc).
bool SignalFaultsInstalled();
// The program's view of SIGBUS: sets its disposition from `act` (if not null)
// and reports the previous one in `old` (if not null). That disposition gets
// every SIGBUS that is not a region's fault.
void ProgramSigbusAction(const struct sigaction* act, struct sigaction* old);

// Whether this thread's program believes SIGBUS is blocked: the signal path
// never lets it be (a fault raised while it is would kill the process), so
// the program's own calls to block it only change this view
// (preload/signals.cc), and its SIGBUS handler runs with it set.
inline thread_local bool t_program_blocks_sigbus __attribute__((tls_model("initial-exec"))) = false;

// Whether this kernel's userfaultfd offers UFFD_FEATURE_SIGBUS.
bool KernelOffersSignalFaults();

}  // namespace prescient
