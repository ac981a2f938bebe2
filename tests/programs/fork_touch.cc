// An ordinary program that forks, for testing transparent mode's fork rules.
//
//   fork_touch touch     the child reads a large (managed) buffer without exec:
//                        under prescient it must die with a clear message
//   fork_touch no-touch  the child only uses small allocations and exits
//   fork_touch exec      fork + exec, system() and posix_spawn all work
//
// Exits with the child's status when it fails, else 0; the parent checks its
// own large buffer after every fork.
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

extern char** environ;

namespace {

constexpr size_t kBufferBytes = 8 << 20;

int WaitFor(pid_t pid) {
  int status = 0;
  if (waitpid(pid, &status, 0) != pid) return 100;
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  return 128 + WTERMSIG(status);
}

bool Intact(const unsigned char* buf) {
  for (size_t i = 0; i < kBufferBytes; i += 4096)
    if (buf[i] != static_cast<unsigned char>(i / 4096)) return false;
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  std::string mode = argc > 1 ? argv[1] : "";
  auto* buf = static_cast<unsigned char*>(std::malloc(kBufferBytes));
  for (size_t i = 0; i < kBufferBytes; i += 4096) buf[i] = static_cast<unsigned char>(i / 4096);

  int rc = 0;
  if (mode == "touch") {
    pid_t pid = fork();
    if (pid == 0) {
      unsigned sum = 0;
      for (size_t i = 0; i < kBufferBytes; i += 4096) sum += buf[i];
      std::printf("child read %u\n", sum);
      _exit(0);
    }
    rc = WaitFor(pid);
  } else if (mode == "no-touch") {
    pid_t pid = fork();
    if (pid == 0) {
      char* small = static_cast<char*>(std::malloc(100));
      std::strcpy(small, "child ok");
      std::puts(small);
      std::free(small);
      std::free(std::malloc(1 << 20));  // a large block in the child is fine too
      std::fflush(stdout);
      _exit(0);
    }
    rc = WaitFor(pid);
  } else if (mode == "exec") {
    pid_t pid = fork();
    if (pid == 0) {
      execl("/bin/sh", "sh", "-c", "exit 0", static_cast<char*>(nullptr));
      _exit(127);
    }
    rc = WaitFor(pid);
    if (rc == 0) rc = std::system("true") == 0 ? 0 : 101;
    if (rc == 0) {
      pid_t spawned = 0;
      char* args[] = {const_cast<char*>("true"), nullptr};
      rc = posix_spawnp(&spawned, "true", nullptr, nullptr, args, environ) == 0 ? WaitFor(spawned) : 102;
    }
  } else {
    std::fprintf(stderr, "usage: fork_touch touch|no-touch|exec\n");
    return 2;
  }
  if (!Intact(buf)) {
    std::fprintf(stderr, "fork_touch: the parent's buffer changed\n");
    return 103;
  }
  std::free(buf);
  std::printf("parent done rc=%d\n", rc);
  return rc;
}
