// PageStore: the memory node's pages, kept apart per client namespace, under
// one node-wide capacity. The capacity counts the memory the pages really
// hold, with the page tables that index them (PageTable::held_bytes), so
// scattered writes fill it sooner than dense ones instead of passing it.
//
// A namespace is a client's page space, named by the id its connections send
// in HELLO. It lives while any connection is attached to it, and its pages
// are freed when the last one leaves: a node never holds memory for a client
// that is gone.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <unordered_map>

#include "prescient/status.h"
#include "transport/page_table.h"
#include "transport/protocol.h"

namespace prescient {

class PageStore {
 public:
  struct Namespace {
    explicit Namespace(uint64_t id) : id(id) {}
    const uint64_t id;
    int connections = 0;  // guarded by PageStore::mu_
    PageTable pages;
  };

  explicit PageStore(uint64_t capacity_bytes);

  // Joins namespace `id`, creating it if needed. One call per connection.
  std::shared_ptr<Namespace> Attach(uint64_t id);
  // Leaves it; the last connection out frees its pages.
  void Detach(const std::shared_ptr<Namespace>& ns);

  // Stores every page of the request, or none: a request that would pass
  // the capacity fails whole with "memory node full (capacity X)".
  Status Write(Namespace& ns, const wire::WriteRequest& request);
  // Copies the requested pages to `out` (count * kPageSize bytes). A page
  // that is not stored fails the request, naming the page.
  Status Read(Namespace& ns, const wire::ReadRequest& request, std::byte* out);
  void Discard(Namespace& ns, uint64_t first_page, uint64_t page_count);

  uint64_t capacity_bytes() const { return capacity_bytes_; }
  uint64_t stored_pages() const { return stored_pages_.load(std::memory_order_relaxed); }
  uint64_t held_bytes() const { return held_bytes_.load(std::memory_order_relaxed); }
  uint64_t namespaces() const;

 private:
  bool Reserve(uint64_t bytes);
  void Unreserve(uint64_t bytes) { held_bytes_.fetch_sub(bytes, std::memory_order_relaxed); }

  const uint64_t capacity_bytes_;
  std::atomic<uint64_t> held_bytes_{0};  // held by the namespaces' tables, or reserved by writes in progress
  std::atomic<uint64_t> stored_pages_{0};
  mutable std::mutex mu_;
  std::unordered_map<uint64_t, std::shared_ptr<Namespace>> namespaces_;  // guarded by mu_
};

}  // namespace prescient
