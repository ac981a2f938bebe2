// An ordinary program whose threads block every signal, as servers do so
// that one thread alone handles them: four threads each block all signals
// with pthread_sigmask and then update their own quarter of a large malloc'd
// array at random, checking every word they read; then the main thread
// blocks everything with sigprocmask and verifies the whole array. Each
// thread also checks that the mask it reads back still shows SIGBUS blocked:
// what a program blocked stays blocked in its own eyes. About 130 MiB;
// prints checksum= last.
#include <pthread.h>
#include <signal.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <thread>
#include <vector>

#include "common/checksum.h"
#include "common/random.h"
#include "program_checks.h"

namespace {

using program::Fail;

constexpr size_t kWords = size_t{16} << 20;  // 128 MiB
constexpr int kThreads = 4;
constexpr int kBumpsPerThread = 25000;

// Fails unless the calling thread's mask, read back, holds every signal the
// program can block (SIGKILL and SIGSTOP never are).
void ExpectAllBlocked(const char* who) {
  sigset_t now;
  if (pthread_sigmask(SIG_SETMASK, nullptr, &now) != 0) Fail("%s: pthread_sigmask failed", who);
  for (int signo : {SIGBUS, SIGSEGV, SIGINT, SIGTERM, SIGUSR1, SIGRTMIN})
    if (sigismember(&now, signo) != 1) Fail("%s blocked all signals, but its mask does not show signal %d", who, signo);
}

void Worker(int id, program::TaggedWords* words, std::vector<uint64_t>* bumps) {
  sigset_t all;
  sigfillset(&all);
  if (pthread_sigmask(SIG_BLOCK, &all, nullptr) != 0) Fail("thread %d: pthread_sigmask failed", id);
  ExpectAllBlocked("a worker thread");
  const size_t begin = kWords / kThreads * id, size = kWords / kThreads;
  words->Tag(begin, begin + size);
  workload::Rng rng = workload::StreamRng(5, id);
  bumps->reserve(kBumpsPerThread);
  for (int i = 0; i < kBumpsPerThread; ++i) {
    bumps->push_back(begin + rng.Uniform(size));
    words->Bump(bumps->back());
  }
  ExpectAllBlocked("a worker thread, after its updates");
}

}  // namespace

int main() {
  program::TaggedWords words(kWords);
  std::vector<std::vector<uint64_t>> bumps(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) threads.emplace_back(Worker, t, &words, &bumps[t]);
  for (std::thread& t : threads) t.join();

  sigset_t all;
  sigfillset(&all);
  if (sigprocmask(SIG_BLOCK, &all, nullptr) != 0) Fail("sigprocmask failed");
  ExpectAllBlocked("the main thread");
  workload::Checksum sum;
  for (int t = 0; t < kThreads; ++t) {
    const size_t begin = kWords / kThreads * t;
    std::sort(bumps[t].begin(), bumps[t].end());
    words.Verify(begin, begin + kWords / kThreads, bumps[t]);
    words.AddTo(&sum, begin, begin + kWords / kThreads);
  }
  std::printf("%d threads, %d updates each, all signals blocked\n", kThreads, kBumpsPerThread);
  sum.Print();
  return 0;
}
