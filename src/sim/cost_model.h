// CostModel: what the simulator charges for each thing that takes time.
// Defaults follow the issue: 3 us per 4 KiB far read, a 100 Gb/s link,
// 1 us of fault handling, 100 ns per local access. A JSON file given with
// --cost-model overrides any subset of the fields by name.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "prescient/status.h"

namespace prescient {

struct CostModel {
  double far_read_us = 3.0;        // latency of one 4 KiB read from far memory
  double link_gbps = 100.0;        // link bandwidth; transfers are serialized on it
  double fault_overhead_us = 1.0;  // handling of one fault (demand or first-write)
  double local_access_ns = 100.0;  // one traced access to a local page
  // One step of a learned policy's model (Prefetcher::model_steps()); a
  // decision costs every step it runs, its lookahead included, and classic
  // policies cost nothing here. Overlapped with the demand read it only
  // delays the prefetches; with sync_inference it stalls the faulting thread
  // first. The kernel measures 0.40 us per step (bench/inference_bench).
  double inference_step_ns = 500.0;
  bool sync_inference = false;

  double transfer_ns() const { return link_gbps > 0 ? 4096.0 * 8.0 / link_gbps : 0.0; }
  nlohmann::json ToJson() const;
};

// Reads `path`; unknown keys and wrong types are errors that name the key.
Status LoadCostModel(const std::string& path, CostModel* model);

}  // namespace prescient
