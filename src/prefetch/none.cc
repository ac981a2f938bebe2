// `none`: demand paging only.
#include "prefetch/policies.h"

namespace prescient {

namespace {
class NonePrefetcher final : public Prefetcher {
 public:
  std::string_view name() const override { return "none"; }
  void on_fault(const FaultEvent&, std::vector<uint64_t>*) override {}
};
}  // namespace

std::unique_ptr<Prefetcher> MakeNonePrefetcher(const PrefetchOptions&) { return std::make_unique<NonePrefetcher>(); }

}  // namespace prescient
