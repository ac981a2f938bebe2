#include "runtime/prefetch_worker.h"

#include <algorithm>

#include <fmt/format.h>

namespace prescient {

namespace {
constexpr size_t kBatchPages = 32;
}

PrefetchWorker::PrefetchWorker(RegionCore* core, Evictor* evictor)
    : core_(core), evictor_(evictor), worker_([this] { Drain(); }) {}

PrefetchWorker::~PrefetchWorker() { Stop(); }

void PrefetchWorker::Enqueue(std::span<const uint64_t> pages) {
  if (pages.empty()) return;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (uint64_t p : pages) {
      if (p >= core_->pages()) continue;
      if (queue_.size() >= core_->options().prefetch_queue_pages) queue_.pop_front();
      queue_.push_back(p);
    }
  }
  worker_.Notify();
}

void PrefetchWorker::Drain() {
  while (!worker_.stopping()) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (queue_.empty()) return;
      while (!queue_.empty() && batch_.size() < kBatchPages) {
        batch_.push_back(queue_.front());
        queue_.pop_front();
      }
    }
    if (!core_->failed()) FetchBatch(batch_);
    batch_.clear();
  }
}

void PrefetchWorker::FetchBatch(std::deque<uint64_t>& candidates) {
  thread_local std::vector<std::byte> buffer(kBatchPages * kPageSize);
  std::vector<PageIo> ios;
  std::vector<bool> staged;
  StageArea& stage = core_->stage();
  for (uint64_t page : candidates) {
    bool was_empty = false;
    // Only pages the backend holds are worth fetching; anything resident or
    // in transit is skipped.
    if (!core_->BeginFetch(page, /*for_prefetch=*/true, &was_empty)) continue;
    // Staged pages are read straight into their buffer; with no buffer free
    // the page is mapped as usual. At most an eighth of the budget waits
    // staged, which bounds the buffers' memory beyond the budget (D67).
    std::byte* slot = stage.enabled() ? stage.Acquire(page, std::max<uint64_t>(64, core_->BudgetPages() / 8)) : nullptr;
    staged.push_back(slot != nullptr);
    ios.push_back({page, slot != nullptr ? slot : buffer.data() + ios.size() * kPageSize});
  }
  if (ios.empty()) return;
  evictor_->MakeRoom(0);
  core_->counters().prefetch_issued.fetch_add(ios.size(), std::memory_order_relaxed);
  Status st;
  IoTicket t = core_->backend().read_pages(ios, &st);
  if (t != 0) st = core_->backend().wait(t);
  if (!st.ok()) {
    for (size_t i = 0; i < ios.size(); ++i) {
      if (staged[i]) stage.Release(ios[i].page_no);
      core_->AbandonFetch(ios[i].page_no, false);
    }
    core_->Fatal(Status::Unavailable(fmt::format("prefetch of {} pages from {} failed: {}", ios.size(), core_->backend().describe(), st.message())));
    return;
  }
  core_->counters().pages_fetched.fetch_add(ios.size(), std::memory_order_relaxed);
  uint64_t writable = 0;
  std::vector<bool> dirty(ios.size());
  for (size_t i = 0; i < ios.size(); ++i) {
    if (staged[i]) continue;
    // A page that left dirty will likely be written again: mapped writable,
    // that write costs nothing now instead of a write-protect fault (D101).
    // Under kDigest InstallRun maps it writable yet clean, to be written
    // back only if its digest shows a write.
    if (core_->MapsCleanWritable(ios[i].page_no)) {
      ++writable;
    } else if (!core_->tracks_by_digest() && core_->options().prefetch_writable_if_left_dirty && core_->LeftDirty(ios[i].page_no)) {
      dirty[i] = true;
      ++writable;
    }
  }
  for (size_t i = 0; i < ios.size();) {
    if (staged[i]) {
      st = core_->Stage(ios[i].page_no);
      ++i;
    } else {
      // Consecutive pages read into consecutive buffers map in one call.
      size_t j = i + 1;
      while (j < ios.size() && !staged[j] && dirty[j] == dirty[i] && ios[j].page_no == ios[j - 1].page_no + 1 &&
             ios[j].data == ios[j - 1].data + kPageSize) {
        ++j;
      }
      st = core_->InstallRun(ios[i].page_no, j - i, ios[i].data, dirty[i], /*backed=*/true, /*prefetched=*/true, /*wake_now=*/false);
      i = j;
    }
    if (!st.ok()) {
      core_->Fatal(st);
      return;
    }
  }
  core_->counters().prefetch_installed.fetch_add(ios.size(), std::memory_order_relaxed);
  core_->counters().prefetch_writable.fetch_add(writable, std::memory_order_relaxed);
}

}  // namespace prescient
