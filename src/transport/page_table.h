// PageTable: a sparse, thread-safe store of 4 KiB pages indexed by page
// number, shared by the embedded store and the memory node.
//
// Page numbers up to kMaxPages (2^40) map through a lazily built radix tree:
// a root of directory pointers, directories of chunk pointers, and chunks of
// 512 page slots (2 MiB) obtained from mmap. Nothing is allocated per page,
// and only the chunks that hold pages cost memory. Lookups are lock-free: a
// slot's state word is a tiny seqlock, so a reader never sees a torn page or
// a page that a concurrent discard has already zeroed.
//
// What the table holds (held_bytes) is more than its pages when they are
// sparse: each chunk in use also holds its page of state words and the
// kernel's page-table page for its data, and each directory its own memory.
// One page per chunk costs three pages of memory; a memory node counts that
// against its capacity (D113).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <span>

#include "prescient/status.h"

namespace prescient {

class PageTable {
 public:
  static constexpr uint64_t kMaxPages = uint64_t{1} << 40;

  PageTable();
  ~PageTable();
  PageTable(const PageTable&) = delete;
  PageTable& operator=(const PageTable&) = delete;

  // Stores a copy of the page at `src`. *inserted tells whether the page was
  // absent before; *held_added, when given, how many bytes the table holds
  // now that it did not (the page, and any chunk or directory made for it).
  // Fails only when page_no >= kMaxPages or memory runs out.
  Status Write(uint64_t page_no, const std::byte* src, bool* inserted, uint64_t* held_added = nullptr);
  // Copies the page to `dst`; false when it is not stored.
  bool Read(uint64_t page_no, std::byte* dst) const;
  bool Contains(uint64_t page_no) const;
  // Drops the pages in [first, first + count) and returns their memory to the
  // system. Returns how many pages were stored there.
  uint64_t Discard(uint64_t first, uint64_t count);

  uint64_t pages() const { return pages_.load(std::memory_order_relaxed); }
  // The memory the table holds: its pages, and the chunks and directories
  // that hold them (which a discard leaves in place).
  uint64_t held_bytes() const;
  // At most how many bytes storing `page_nos` would add to held_bytes().
  uint64_t BytesToHold(std::span<const uint64_t> page_nos) const;

 private:
  struct Directory;
  static constexpr int kChunkBits = 9;
  static constexpr int kDirectoryBits = 13;
  static constexpr int kRootBits = 40 - kChunkBits - kDirectoryBits;
  static constexpr uint64_t kChunkPages = uint64_t{1} << kChunkBits;

  // A chunk is one mapping: kChunkPages pages of data, then a state word per page.
  std::byte* FindChunk(uint64_t page_no) const;
  // Adds to *created_bytes what a chunk or directory made here holds.
  std::byte* FindOrCreateChunk(uint64_t page_no, Status* status, uint64_t* created_bytes);
  uint64_t DiscardInChunk(std::byte* chunk, uint64_t first_slot, uint64_t count);

  // 2^kRootBits directory pointers, mmap'ed so untouched parts cost nothing.
  // Entries are plain pointers accessed through std::atomic_ref.
  Directory** root_;
  // One past the highest directory ever installed: scans stop there instead
  // of reading (and faulting in) the whole root.
  std::atomic<uint64_t> directories_end_{0};
  std::atomic<uint64_t> pages_{0};
  std::atomic<uint64_t> chunks_{0}, directories_{0};
};

}  // namespace prescient
