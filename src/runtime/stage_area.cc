#include "runtime/stage_area.h"

#include <sys/mman.h>

#include <algorithm>
#include <cerrno>

#include <fmt/format.h>

#include "prescient/backend.h"

namespace prescient {

StageArea::~StageArea() {
  if (buffers_) munmap(buffers_, size_t{slots_} * kPageSize);
  if (slot_of_) munmap(slot_of_, region_pages_ * sizeof(uint32_t));
}

Status StageArea::Init(uint64_t region_pages, uint32_t slots) {
  if (slots == 0) return Status::InvalidArgument("a stage area needs at least one slot");
  void* b = mmap(nullptr, size_t{slots} * kPageSize, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (b == MAP_FAILED) return Status::FromErrno(fmt::format("cannot reserve {} stage buffers", slots), errno);
  void* s = mmap(nullptr, region_pages * sizeof(uint32_t), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (s == MAP_FAILED) {
    int err = errno;
    munmap(b, size_t{slots} * kPageSize);
    return Status::FromErrno("cannot reserve the stage index", err);
  }
  buffers_ = static_cast<std::byte*>(b);
  slot_of_ = static_cast<uint32_t*>(s);
  region_pages_ = region_pages;
  slots_ = slots;
  free_.reserve(slots);
  // Lowest slots last, so they are handed out first and the touched part stays small.
  for (uint32_t i = slots; i > 0; --i) free_.push_back(i - 1);
  return Status::Ok();
}

std::byte* StageArea::Acquire(uint64_t page, uint64_t limit) {
  uint32_t slot;
  {
    std::lock_guard<std::mutex> lock(mu_);
    const uint32_t in_use = slots_ - static_cast<uint32_t>(free_.size());
    if (free_.empty() || in_use >= limit) return nullptr;
    slot = free_.back();
    free_.pop_back();
    peak_in_use_ = std::max(peak_in_use_, in_use + 1);
  }
  slot_of_[page] = slot;
  return Buffer(slot);
}

std::byte* StageArea::Buffer(uint32_t slot) const { return buffers_ + size_t{slot} * kPageSize; }

void StageArea::ReleaseSlot(uint32_t slot) {
  std::lock_guard<std::mutex> lock(mu_);
  free_.push_back(slot);
}

uint32_t StageArea::peak_in_use() const {
  std::lock_guard<std::mutex> lock(mu_);
  return peak_in_use_;
}

}  // namespace prescient
