#include "memnode/page_store.h"

#include <vector>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "common/units.h"

namespace prescient {

PageStore::PageStore(uint64_t capacity_bytes) : capacity_bytes_(capacity_bytes) {}

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
  const uint64_t pages = ns->pages.pages(), held = ns->pages.held_bytes();
  Unreserve(held);
  stored_pages_.fetch_sub(pages, std::memory_order_relaxed);
  spdlog::info("namespace {:016x} closed; freeing {} in {} pages", ns->id, FormatBytes(held), pages);
  // The pages themselves go when the last reference (the caller's) drops.
}

uint64_t PageStore::namespaces() const {
  std::lock_guard lock(mu_);
  return namespaces_.size();
}

bool PageStore::Reserve(uint64_t bytes) {
  uint64_t held = held_bytes_.load(std::memory_order_relaxed);
  do {
    if (bytes > capacity_bytes_ || held > capacity_bytes_ - bytes) return false;
  } while (!held_bytes_.compare_exchange_weak(held, held + bytes, std::memory_order_relaxed));
  return true;
}

Status PageStore::Write(Namespace& ns, const wire::WriteRequest& request) {
  // Reserve room for what is new before storing anything, so a full node
  // rejects the whole request instead of storing part of it.
  const uint32_t count = request.count();
  thread_local std::vector<uint64_t> page_nos;
  page_nos.resize(count);
  for (uint32_t i = 0; i < count; ++i) page_nos[i] = request.page(i);
  const uint64_t reserved = ns.pages.BytesToHold(page_nos);
  if (!Reserve(reserved)) return Status::ResourceExhausted(fmt::format("memory node full (capacity {})", FormatBytes(capacity_bytes_)));
  uint64_t added = 0, inserted_total = 0;
  Status result;
  for (uint32_t i = 0; i < count && result.ok(); ++i) {
    bool inserted = false;
    uint64_t held_added = 0;
    result = ns.pages.Write(page_nos[i], request.page_data(i), &inserted, &held_added);
    inserted_total += inserted ? 1 : 0;
    added += held_added;
  }
  // Settle the reservation against what was really added (a page listed
  // twice, or written concurrently, was counted as new more than once).
  if (added < reserved) Unreserve(reserved - added);
  else held_bytes_.fetch_add(added - reserved, std::memory_order_relaxed);
  stored_pages_.fetch_add(inserted_total, std::memory_order_relaxed);
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
  // The chunks stay (and stay counted) until the namespace closes.
  const uint64_t dropped = ns.pages.Discard(first_page, page_count);
  Unreserve(dropped * kPageSize);
  stored_pages_.fetch_sub(dropped, std::memory_order_relaxed);
}

}  // namespace prescient
