#include "sim/cost_model.h"

#include <fstream>

#include <fmt/format.h>

namespace prescient {

nlohmann::json CostModel::ToJson() const {
  return {{"far_read_us", far_read_us}, {"link_gbps", link_gbps}, {"fault_overhead_us", fault_overhead_us},
          {"local_access_ns", local_access_ns}, {"inference_step_ns", inference_step_ns}, {"sync_inference", sync_inference}};
}

Status LoadCostModel(const std::string& path, CostModel* model) {
  std::ifstream in(path);
  if (!in) return Status::NotFound(fmt::format("cannot open cost model {}", path));
  nlohmann::json j = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return Status::InvalidArgument(fmt::format("cost model {} is not a JSON object", path));
  CostModel m = *model;
  for (const auto& [key, value] : j.items()) {
    double* field = key == "far_read_us"         ? &m.far_read_us
                    : key == "link_gbps"         ? &m.link_gbps
                    : key == "fault_overhead_us" ? &m.fault_overhead_us
                    : key == "local_access_ns"   ? &m.local_access_ns
                    : key == "inference_step_ns" ? &m.inference_step_ns
                                                 : nullptr;
    if (key == "sync_inference") {
      if (!value.is_boolean()) return Status::InvalidArgument(fmt::format("cost model {}: \"sync_inference\" must be true or false", path));
      m.sync_inference = value.get<bool>();
      continue;
    }
    if (field == nullptr)
      return Status::InvalidArgument(fmt::format("cost model {}: unknown key \"{}\"; known: {}", path, key, m.ToJson().dump()));
    if (!value.is_number() || value.get<double>() < 0)
      return Status::InvalidArgument(fmt::format("cost model {}: \"{}\" must be a non-negative number", path, key));
    *field = value.get<double>();
  }
  *model = m;
  return Status::Ok();
}

}  // namespace prescient
