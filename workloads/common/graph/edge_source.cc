#include "common/graph/edge_source.h"

namespace workload::graph {

EdgeSource::EdgeSource(const GraphSpec& spec, uint64_t seed) : spec_(spec), seed_(Mix64(seed ^ 0x6a09e667f3bcc909ULL)) {
  if (spec.kind == GraphKind::kRmat) rmat_.emplace(spec.a, spec.b, spec.c, spec.scale);
  if (spec.permute_ids) permutation_.emplace(Mix64(seed ^ 0xbb67ae8584caa73bULL), spec.scale);
}

}  // namespace workload::graph
