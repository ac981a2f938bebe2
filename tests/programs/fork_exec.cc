// An ordinary program that starts copies of itself, as build tools and
// pipelines do: it fills a large malloc'd array, then fork()s and execv()s
// itself as a child that makes large allocations of its own (stdout a pipe
// back to the parent), and runs another child through system() (stdout a
// temporary file). The parent updates its array while the first child runs
// and checks all of it after each child exits. Prints each child's checksum
// and, last, one combining them with the parent's array.
//
//   fork_exec            the parent: 64 MiB, and 48 MiB in each child
//   fork_exec --child N  one child: prints checksum= last
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "common/checksum.h"
#include "program_checks.h"

namespace {

using program::Fail;

constexpr size_t kParentWords = size_t{8} << 20;  // 64 MiB
constexpr size_t kChildWords = size_t{6} << 20;   // 48 MiB

// A child's work: fill, update in two passes of different strides, sum.
int Child(uint64_t seed) {
  auto* a = static_cast<uint64_t*>(std::malloc(kChildWords * sizeof(uint64_t)));
  if (a == nullptr) Fail("child: cannot allocate");
  program::FillPattern(a, kChildWords * sizeof(uint64_t), seed);
  for (size_t stride : {size_t{3}, size_t{512}})
    for (size_t i = 0; i < kChildWords; i += stride) a[i] = workload::Mix64(a[i] ^ stride);
  workload::Checksum sum;
  for (size_t i = 0; i < kChildWords; ++i) sum.Add(a[i]);
  std::free(a);
  sum.Print();
  return 0;
}

// The parent's array: stream 1, with every eighth word raised by the number
// of updates made so far.
uint64_t* g_array = nullptr;
uint64_t g_updates = 0;

void Update() {
  for (size_t i = 0; i < kParentWords; i += 8) ++g_array[i];
  ++g_updates;
}

void ExpectArray(const char* when) {
  for (size_t i = 0; i < kParentWords; ++i) {
    const uint64_t want = program::PatternWord(1, i) + (i % 8 == 0 ? g_updates : 0);
    if (g_array[i] != want)
      Fail("%s, word %zu of the parent's array is %016llx, expected %016llx", when, i,
           static_cast<unsigned long long>(g_array[i]), static_cast<unsigned long long>(want));
  }
}

std::string Self() {
  char path[4096];
  const ssize_t n = readlink("/proc/self/exe", path, sizeof(path) - 1);
  if (n <= 0) Fail("readlink /proc/self/exe: %s", std::strerror(errno));
  return std::string(path, static_cast<size_t>(n));
}

std::string ReadAll(int fd) {
  std::string text;
  char chunk[4096];
  for (ssize_t n; (n = read(fd, chunk, sizeof(chunk))) != 0;) {
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) Fail("reading a child's output: %s", std::strerror(errno));
    text.append(chunk, static_cast<size_t>(n));
  }
  return text;
}

// The 64-bit value of the `checksum=<hex>` line that ends a child's output.
uint64_t ChildChecksum(const std::string& out, const char* which) {
  const size_t at = out.rfind("checksum=");
  if (at == std::string::npos || out.size() != at + 9 + 16 + 1)
    Fail("%s printed no checksum: '%s'", which, out.c_str());
  return std::strtoull(out.c_str() + at + 9, nullptr, 16);
}

void ExpectExitedZero(int status, const char* which) {
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    Fail("%s failed: %s %d", which, WIFEXITED(status) ? "exit status" : "signal",
         WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
}

uint64_t ForkExec(const std::string& self) {
  // Everything the child needs exists before fork: between fork and exec it
  // may not allocate.
  char* argv[] = {const_cast<char*>(self.c_str()), const_cast<char*>("--child"), const_cast<char*>("1"), nullptr};
  int out[2];
  if (pipe(out) != 0) Fail("pipe: %s", std::strerror(errno));
  std::fflush(stdout);
  const pid_t pid = fork();
  if (pid < 0) Fail("fork: %s", std::strerror(errno));
  if (pid == 0) {
    dup2(out[1], STDOUT_FILENO);
    close(out[0]);
    close(out[1]);
    execv(argv[0], argv);
    _exit(127);
  }
  close(out[1]);
  Update();  // while the child runs
  const std::string text = ReadAll(out[0]);
  close(out[0]);
  int status = 0;
  if (waitpid(pid, &status, 0) != pid) Fail("waitpid: %s", std::strerror(errno));
  ExpectExitedZero(status, "the fork+exec child");
  return ChildChecksum(text, "the fork+exec child");
}

uint64_t System(const std::string& self) {
  const char* dir = std::getenv("TMPDIR");
  std::string path = std::string(dir != nullptr && *dir != '\0' ? dir : "/tmp") + "/fork_exec.XXXXXX";
  const int fd = mkstemp(path.data());
  if (fd < 0) Fail("mkstemp %s: %s", path.c_str(), std::strerror(errno));
  const std::string command = "'" + self + "' --child 2 > '" + path + "'";
  std::fflush(stdout);
  const int status = std::system(command.c_str());
  const std::string text = ReadAll(fd);
  close(fd);
  unlink(path.c_str());
  if (status == -1) Fail("system: %s", std::strerror(errno));
  ExpectExitedZero(status, "the system() child");
  return ChildChecksum(text, "the system() child");
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 3 && std::strcmp(argv[1], "--child") == 0) return Child(std::strtoull(argv[2], nullptr, 10));
  if (argc != 1) {
    std::fprintf(stderr, "usage: fork_exec [--child N]\n");
    return 2;
  }
  g_array = static_cast<uint64_t*>(std::malloc(kParentWords * sizeof(uint64_t)));
  if (g_array == nullptr) Fail("cannot allocate");
  program::FillPattern(g_array, kParentWords * sizeof(uint64_t), 1);
  const std::string self = Self();

  const uint64_t first = ForkExec(self);
  ExpectArray("after the fork+exec child");
  std::printf("child 1: %016llx\n", static_cast<unsigned long long>(first));
  const uint64_t second = System(self);
  Update();
  ExpectArray("after the system() child");
  std::printf("child 2: %016llx\n", static_cast<unsigned long long>(second));

  workload::Checksum sum;
  for (size_t i = 0; i < kParentWords; ++i) sum.Add(g_array[i]);
  sum.Add(first);
  sum.Add(second);
  std::free(g_array);
  sum.Print();
  return 0;
}
