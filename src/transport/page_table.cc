#include "transport/page_table.h"

#include <sys/mman.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <new>
#include <vector>

#include <fmt/format.h>

#include "common/clock.h"
#include "prescient/backend.h"

namespace prescient {

namespace {

// State word of one page slot: a seqlock. Writers and discards set kBusy while
// they change the slot and bump the version when done, so a reader that saw
// the same word before and after its copy knows the copy is whole.
constexpr uint32_t kBusy = 1;
constexpr uint32_t kPresent = 2;
constexpr uint32_t kVersionStep = 4;

constexpr size_t kChunkDataBytes = (size_t{1} << 9) * kPageSize;
constexpr size_t kChunkBytes = kChunkDataBytes + (size_t{1} << 9) * sizeof(uint32_t);
// Beyond its pages, a chunk in use holds its page of state words and one
// page-table page of the kernel's for its data.
constexpr uint64_t kChunkOverheadBytes = 2 * kPageSize;
// A directory (8192 chunk pointers), its page-table page, and the page of
// the root that points to it.
constexpr uint64_t kDirectoryOverheadBytes = (uint64_t{1} << 13) * sizeof(void*) + 2 * kPageSize;

void* MapZeroed(size_t bytes) {
  void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (p == MAP_FAILED) return nullptr;
  // A huge page would turn one scattered 4 KiB page into 2 MiB of memory
  // (and of a memory node's capacity, which counts what pages hold).
  madvise(p, bytes, MADV_NOHUGEPAGE);
  return p;
}

template <typename T>
T* LoadPtr(T* const& slot) {
  return std::atomic_ref<T*>(const_cast<T*&>(slot)).load(std::memory_order_acquire);
}

// Installs a freshly mapped object unless another thread won the race, in
// which case ours is unmapped and theirs returned.
template <typename T>
T* Install(T*& slot, T* fresh, size_t bytes) {
  T* expected = nullptr;
  if (std::atomic_ref<T*>(slot).compare_exchange_strong(expected, fresh, std::memory_order_acq_rel)) return fresh;
  munmap(fresh, bytes);
  return expected;
}

std::atomic_ref<uint32_t> StateOf(std::byte* chunk, uint64_t slot) {
  return std::atomic_ref<uint32_t>(reinterpret_cast<uint32_t*>(chunk + kChunkDataBytes)[slot]);
}

// Waits out a writer or discard in progress and takes the slot; returns the
// state word as it was (kBusy clear).
uint32_t Lock(std::atomic_ref<uint32_t> state) {
  uint32_t s = state.load(std::memory_order_relaxed);
  for (;;) {
    if (s & kBusy) {
      CpuRelax();
      s = state.load(std::memory_order_relaxed);
    } else if (state.compare_exchange_weak(s, s | kBusy, std::memory_order_acquire, std::memory_order_relaxed)) {
      return s;
    }
  }
}

void Unlock(std::atomic_ref<uint32_t> state, uint32_t old_state, bool present) {
  uint32_t version = (old_state & ~(kBusy | kPresent)) + kVersionStep;
  state.store(version | (present ? kPresent : 0), std::memory_order_release);
}

}  // namespace

struct PageTable::Directory {
  std::byte* chunks[size_t{1} << kDirectoryBits];
};

PageTable::PageTable() {
  root_ = static_cast<Directory**>(MapZeroed(sizeof(Directory*) << kRootBits));
  if (root_ == nullptr) throw std::bad_alloc();
}

PageTable::~PageTable() {
  uint64_t directories_end = directories_end_.load(std::memory_order_acquire);
  for (uint64_t d = 0; d < directories_end; ++d) {
    Directory* dir = root_[d];
    if (dir == nullptr) continue;
    for (std::byte* chunk : dir->chunks) {
      if (chunk != nullptr) munmap(chunk, kChunkBytes);
    }
    munmap(dir, sizeof(Directory));
  }
  munmap(root_, sizeof(Directory*) << kRootBits);
}

std::byte* PageTable::FindChunk(uint64_t page_no) const {
  if (page_no >= kMaxPages) return nullptr;
  uint64_t c = page_no >> kChunkBits;
  Directory* dir = LoadPtr(root_[c >> kDirectoryBits]);
  if (dir == nullptr) return nullptr;
  return LoadPtr(dir->chunks[c & ((uint64_t{1} << kDirectoryBits) - 1)]);
}

std::byte* PageTable::FindOrCreateChunk(uint64_t page_no, Status* status, uint64_t* created_bytes) {
  static_assert(sizeof(Directory) + 2 * kPageSize == kDirectoryOverheadBytes);
  if (std::byte* chunk = FindChunk(page_no)) return chunk;
  if (page_no >= kMaxPages) {
    *status = Status::InvalidArgument(fmt::format("page {} is beyond the largest supported page number {}", page_no, kMaxPages - 1));
    return nullptr;
  }
  uint64_t c = page_no >> kChunkBits;
  Directory*& dir_slot = root_[c >> kDirectoryBits];
  Directory* dir = LoadPtr(dir_slot);
  if (dir == nullptr) {
    auto* fresh = static_cast<Directory*>(MapZeroed(sizeof(Directory)));
    if (fresh == nullptr) {
      *status = Status::FromErrno("cannot map page-table directory", errno);
      return nullptr;
    }
    dir = Install(dir_slot, fresh, sizeof(Directory));
    if (dir == fresh) {
      directories_.fetch_add(1, std::memory_order_relaxed);
      *created_bytes += kDirectoryOverheadBytes;
    }
    uint64_t end = directories_end_.load(std::memory_order_relaxed);
    uint64_t mine = (c >> kDirectoryBits) + 1;
    while (end < mine && !directories_end_.compare_exchange_weak(end, mine, std::memory_order_release, std::memory_order_relaxed)) {
    }
  }
  std::byte*& chunk_slot = dir->chunks[c & ((uint64_t{1} << kDirectoryBits) - 1)];
  std::byte* chunk = LoadPtr(chunk_slot);
  if (chunk == nullptr) {
    auto* fresh = static_cast<std::byte*>(MapZeroed(kChunkBytes));
    if (fresh == nullptr) {
      *status = Status::FromErrno(fmt::format("cannot map {} bytes of page storage", kChunkBytes), errno);
      return nullptr;
    }
    chunk = Install(chunk_slot, fresh, kChunkBytes);
    if (chunk == fresh) {
      chunks_.fetch_add(1, std::memory_order_relaxed);
      *created_bytes += kChunkOverheadBytes;
    }
  }
  return chunk;
}

uint64_t PageTable::held_bytes() const {
  return pages() * kPageSize + chunks_.load(std::memory_order_relaxed) * kChunkOverheadBytes +
         directories_.load(std::memory_order_relaxed) * kDirectoryOverheadBytes;
}

uint64_t PageTable::BytesToHold(std::span<const uint64_t> page_nos) const {
  uint64_t bytes = 0;
  // The chunks and directories the pages would create, each counted once.
  std::vector<uint64_t> new_chunks, new_directories;
  for (uint64_t page_no : page_nos) {
    if (Contains(page_no)) continue;
    bytes += kPageSize;
    if (page_no >= kMaxPages || FindChunk(page_no) != nullptr) continue;
    const uint64_t c = page_no >> kChunkBits;
    new_chunks.push_back(c);
    if (LoadPtr(root_[c >> kDirectoryBits]) == nullptr) new_directories.push_back(c >> kDirectoryBits);
  }
  for (std::vector<uint64_t>* ids : {&new_chunks, &new_directories}) {
    std::sort(ids->begin(), ids->end());
    ids->erase(std::unique(ids->begin(), ids->end()), ids->end());
  }
  return bytes + new_chunks.size() * kChunkOverheadBytes + new_directories.size() * kDirectoryOverheadBytes;
}

Status PageTable::Write(uint64_t page_no, const std::byte* src, bool* inserted, uint64_t* held_added) {
  Status status;
  uint64_t created_bytes = 0;
  std::byte* chunk = FindOrCreateChunk(page_no, &status, &created_bytes);
  if (held_added != nullptr) *held_added = created_bytes;  // a directory may stay though its chunk failed
  if (chunk == nullptr) return status;
  uint64_t slot = page_no & (kChunkPages - 1);
  auto state = StateOf(chunk, slot);
  uint32_t old = Lock(state);
  std::memcpy(chunk + slot * kPageSize, src, kPageSize);
  Unlock(state, old, true);
  *inserted = (old & kPresent) == 0;
  if (*inserted) pages_.fetch_add(1, std::memory_order_relaxed);
  if (held_added != nullptr && *inserted) *held_added += kPageSize;
  return Status::Ok();
}

bool PageTable::Read(uint64_t page_no, std::byte* dst) const {
  std::byte* chunk = FindChunk(page_no);
  if (chunk == nullptr) return false;
  uint64_t slot = page_no & (kChunkPages - 1);
  auto state = StateOf(chunk, slot);
  for (;;) {
    uint32_t before = state.load(std::memory_order_acquire);
    if (before & kBusy) {
      CpuRelax();
      continue;
    }
    if ((before & kPresent) == 0) return false;
    std::memcpy(dst, chunk + slot * kPageSize, kPageSize);
#if defined(__SANITIZE_THREAD__)
    // TSan does not model fences; an acquire load keeps it precise enough.
    if (state.load(std::memory_order_acquire) == before) return true;
#else
    std::atomic_thread_fence(std::memory_order_acquire);
    if (state.load(std::memory_order_relaxed) == before) return true;
#endif
  }
}

bool PageTable::Contains(uint64_t page_no) const {
  std::byte* chunk = FindChunk(page_no);
  return chunk != nullptr && (StateOf(chunk, page_no & (kChunkPages - 1)).load(std::memory_order_acquire) & kPresent) != 0;
}

uint64_t PageTable::DiscardInChunk(std::byte* chunk, uint64_t first_slot, uint64_t count) {
  bool any = false;
  for (uint64_t s = first_slot; s < first_slot + count && !any; ++s) any = (StateOf(chunk, s).load(std::memory_order_relaxed) & kPresent) != 0;
  if (!any) return 0;
  // Hold every slot while the memory goes back to the kernel, so no reader
  // copies a page after it has been zeroed but before it is marked absent.
  uint32_t old_states[kChunkPages];
  uint64_t dropped = 0;
  for (uint64_t s = first_slot; s < first_slot + count; ++s) {
    old_states[s] = Lock(StateOf(chunk, s));
    if (old_states[s] & kPresent) ++dropped;
  }
  madvise(chunk + first_slot * kPageSize, count * kPageSize, MADV_DONTNEED);
  for (uint64_t s = first_slot; s < first_slot + count; ++s) Unlock(StateOf(chunk, s), old_states[s], false);
  pages_.fetch_sub(dropped, std::memory_order_relaxed);
  return dropped;
}

uint64_t PageTable::Discard(uint64_t first, uint64_t count) {
  if (first >= kMaxPages) return 0;
  uint64_t end = count > kMaxPages - first ? kMaxPages : first + count;
  end = std::min(end, directories_end_.load(std::memory_order_acquire) << (kDirectoryBits + kChunkBits));
  uint64_t dropped = 0;
  uint64_t page = first;
  while (page < end) {
    uint64_t c = page >> kChunkBits;
    Directory* dir = LoadPtr(root_[c >> kDirectoryBits]);
    if (dir == nullptr) {
      // Skip everything this directory would have covered.
      page = ((c >> kDirectoryBits) + 1) << (kDirectoryBits + kChunkBits);
      continue;
    }
    uint64_t chunk_end = std::min(end, (c + 1) << kChunkBits);
    if (std::byte* chunk = LoadPtr(dir->chunks[c & ((uint64_t{1} << kDirectoryBits) - 1)]))
      dropped += DiscardInChunk(chunk, page & (kChunkPages - 1), chunk_end - page);
    page = chunk_end;
  }
  return dropped;
}

}  // namespace prescient
