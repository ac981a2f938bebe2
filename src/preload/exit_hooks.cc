// _exit() and _Exit() end a process without running atexit handlers, and
// some programs always leave that way (dash, the usual /bin/sh, does). They
// are replaced so the process `prescient run` started still reports; in every
// other process (forked children, which call _exit most) they only exit.
//
// glibc's own exit() reaches the kernel through an internal alias, not
// through these, so the report is never written twice (and ReportIfRoot()
// checks anyway).
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdlib>

#include "preload/startup.h"

namespace {

[[noreturn]] void ExitGroup(int status) {
  for (;;) syscall(SYS_exit_group, status);
}

}  // namespace

extern "C" {

__attribute__((visibility("default"))) void _exit(int status) {
  prescient::preload::ReportIfRoot();
  ExitGroup(status);
}

__attribute__((visibility("default"))) void _Exit(int status) noexcept {
  prescient::preload::ReportIfRoot();
  ExitGroup(status);
}

}  // extern "C"
