// How big a Future Map should be and how it should rank (issue 4, item 1;
// D30). For each trace and local size, replays the demand-fault stream a
// `none` run takes (the events farsight sees, as `prescient train` derives
// them) through fresh maps of each size K and ranking rule, and reports what
// the ordinal vocabulary can express:
//   in_map  share of faults that were an entry of the previous fault's map
//   top1    share that were its first entry (what one model step names best)
//   top2    share that were one of its first two
//   bytes   the maps' size as a share of the memory they describe
//
//   future_map_study [--local 30,50] [--json OUT] TRACE...
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "prefetch/future_maps.h"
#include "sim/access_stream.h"
#include "sim/simulator.h"

namespace {

struct Tally {
  uint64_t faults = 0, in_map = 0, top1 = 0, top2 = 0;
};

Tally Replay(const std::vector<uint64_t>& faults, int k, prescient::FutureMapRanking ranking, uint64_t* map_bytes) {
  prescient::FutureMaps maps(prescient::FutureMapOptions{.ordinals = k, .max_bytes = 0, .ranking = ranking});
  Tally t;
  for (size_t i = 1; i < faults.size(); ++i) {
    int ordinal = maps.Observe(faults[i - 1], faults[i]);
    ++t.faults;
    if (ordinal == maps.not_in_map()) continue;
    ++t.in_map;
    t.top1 += ordinal == 0;
    t.top2 += ordinal <= 1;
  }
  *map_bytes = maps.footprint_bytes();
  return t;
}

std::vector<double> ParseLocals(const std::string& text) {
  std::vector<double> out;
  size_t start = 0;
  while (start < text.size()) {
    size_t comma = text.find(',', start);
    if (comma == std::string::npos) comma = text.size();
    out.push_back(std::atof(text.substr(start, comma - start).c_str()));
    start = comma + 1;
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  std::string locals_text = "30,50", json_path;
  std::vector<std::string> traces;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--local" && i + 1 < argc) {
      locals_text = argv[++i];
    } else if (a == "--json" && i + 1 < argc) {
      json_path = argv[++i];
    } else if (!a.empty() && a[0] == '-') {
      fmt::print(stderr, "usage: future_map_study [--local 30,50] [--json OUT] TRACE...\n");
      return 2;
    } else {
      traces.push_back(a);
    }
  }
  if (traces.empty()) {
    fmt::print(stderr, "usage: future_map_study [--local 30,50] [--json OUT] TRACE...\n");
    return 2;
  }
  nlohmann::json rows = nlohmann::json::array();
  fmt::print("{:36} {:>5} {:>3} {:8} {:>8} {:>7} {:>7} {:>7} {:>7}\n", "trace", "local", "K", "ranking", "faults", "in_map", "top1", "top2",
             "bytes");
  for (const std::string& path : traces) {
    prescient::AccessStream stream;
    prescient::Status st = prescient::LoadAccessStream(path, &stream);
    if (!st.ok()) {
      fmt::print(stderr, "future_map_study: {}\n", st.message());
      return 1;
    }
    for (double pct : ParseLocals(locals_text)) {
      std::vector<uint64_t> faults;
      prescient::SimConfig config;
      config.policy = "none";
      config.local_fraction = pct / 100.0;
      config.fault_log = &faults;
      prescient::SimResult result;
      st = prescient::Simulate(stream, config, &result);
      if (!st.ok()) {
        fmt::print(stderr, "future_map_study: {}: {}\n", path, st.message());
        return 1;
      }
      for (int k : {2, 4, 8, 16}) {
        for (auto [ranking, name] : {std::pair{prescient::FutureMapRanking::kCount, "count"}, std::pair{prescient::FutureMapRanking::kRecency, "recency"}}) {
          uint64_t bytes = 0;
          Tally t = Replay(faults, k, ranking, &bytes);
          auto share = [&](uint64_t n) { return t.faults ? static_cast<double>(n) / static_cast<double>(t.faults) : 0.0; };
          double bytes_share = static_cast<double>(bytes) / static_cast<double>(result.peak_footprint_pages * 4096);
          std::string trace_name = path.substr(path.rfind('/') == std::string::npos ? 0 : path.rfind('/') + 1);
          fmt::print("{:36} {:5g} {:3} {:8} {:8} {:7.3f} {:7.3f} {:7.3f} {:7.4f}\n", trace_name, pct, k, name, t.faults, share(t.in_map),
                     share(t.top1), share(t.top2), bytes_share);
          rows.push_back({{"trace", trace_name}, {"local_pct", pct}, {"k", k}, {"ranking", name}, {"faults", t.faults},
                          {"in_map", share(t.in_map)}, {"top1", share(t.top1)}, {"top2", share(t.top2)}, {"map_bytes_share", bytes_share}});
        }
      }
    }
  }
  if (!json_path.empty()) {
    FILE* f = std::fopen(json_path.c_str(), "w");
    if (!f) {
      fmt::print(stderr, "future_map_study: cannot write {}\n", json_path);
      return 1;
    }
    std::fputs(rows.dump(1).c_str(), f);
    std::fclose(f);
  }
  return 0;
}
