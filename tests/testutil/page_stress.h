// PageStress: many threads reading and writing random pages of a Region while
// a per-page checksum, kept outside the region, says what every page must
// hold. Pages are locked in stripes so the expected value is well defined;
// the runtime underneath is free to fault, prefetch and evict concurrently.
#pragma once

#include <cstdint>
#include <string>

#include "prescient/region.h"

namespace prescient::testing {

struct StressOptions {
  uint64_t pages = 16384;       // working set, from the start of the region
  int threads = 4;
  uint64_t ops_per_thread = 6000;
  double write_fraction = 0.5;  // the rest are full-page verifying reads
  uint64_t seed = 1;
};

struct StressResult {
  uint64_t mismatches = 0;      // pages whose contents differed from their checksum
  uint64_t first_bad_page = ~uint64_t{0};
  uint64_t reads = 0, writes = 0;
  std::string ToString() const;
};

// Runs the workload, then verifies every page once more.
StressResult RunPageStress(Region& region, const StressOptions& options);

}  // namespace prescient::testing
