#include "memnode/page_store.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "common/units.h"

namespace prescient {

PageStore::PageStore(uint64_t capacity_bytes) : capacity_bytes_(capacity_bytes), capacity_pages_(capacity_bytes / kPageSize) {}

std::shared_ptr<PageStore::Namespace> PageStore::Attach(uint64_t id) {
  std::lock_guard lock(mu_);
  auto& ns = namespaces_[id];
  if (ns == nullptr) ns = std::make_shared<Namespace>(id);
  ++ns->connections;
  return ns;
}

void PageStore::Detach(const std::shared_ptr<Namespace>& ns) {
  std::lock_guard lock(mu_);
  if (--ns->connections > 0) return;
  namespaces_.erase(ns->id);
  uint64_t pages = ns->pages.pages();
  Unreserve(pages);
  spdlog::info("namespace {:016x} closed; freeing {}", ns->id, FormatBytes(pages * kPageSize));
  // The pages themselves go when the last reference (the caller's) drops.
}

uint64_t PageStore::namespaces() const {
  std::lock_guard lock(mu_);
  return namespaces_.size();
}

bool PageStore::Reserve(uint64_t pages) {
  uint64_t stored = stored_pages_.load(std::memory_order_relaxed);
  do {
    if (pages > capacity_pages_ || stored > capacity_pages_ - pages) return false;
  } while (!stored_pages_.compare_exchange_weak(stored, stored + pages, std::memory_order_relaxed));
  return true;
}

Status PageStore::Write(Namespace& ns, const wire::WriteRequest& request) {
  // Reserve room for the pages that are new before storing anything, so a
  // full node rejects the whole request instead of storing part of it.
  uint32_t count = request.count();
  uint64_t fresh = 0;
  for (uint32_t i = 0; i < count; ++i) fresh += ns.pages.Contains(request.page(i)) ? 0 : 1;
  if (!Reserve(fresh)) return Status::ResourceExhausted(fmt::format("memory node full (capacity {})", FormatBytes(capacity_bytes_)));
  uint64_t inserted_total = 0;
  Status result;
  for (uint32_t i = 0; i < count && result.ok(); ++i) {
    bool inserted = false;
    result = ns.pages.Write(request.page(i), request.page_data(i), &inserted);
    inserted_total += inserted ? 1 : 0;
  }
  // Settle the reservation against what was really added (a page listed
  // twice, or written concurrently, was counted as new more than once).
  if (inserted_total < fresh) Unreserve(fresh - inserted_total);
  else stored_pages_.fetch_add(inserted_total - fresh, std::memory_order_relaxed);
  if (!result.ok()) return Status::ResourceExhausted(fmt::format("memory node cannot store more pages: {}", result.message()));
  return Status::Ok();
}

Status PageStore::Read(Namespace& ns, const wire::ReadRequest& request, std::byte* out) {
  uint32_t count = request.count();
  for (uint32_t i = 0; i < count; ++i) {
    uint64_t page = request.page(i);
    if (!ns.pages.Read(page, out + size_t{i} * kPageSize))
      return Status::NotFound(fmt::format("page {} is not stored on this memory node (never written, or discarded)", page));
  }
  return Status::Ok();
}

void PageStore::Discard(Namespace& ns, uint64_t first_page, uint64_t page_count) {
  Unreserve(ns.pages.Discard(first_page, page_count));
}

}  // namespace prescient
