// Runs the page-stress workload on a Region backed by the embedded store or by
// memory nodes. Tests start it as a child process to kill its memory node
// mid-run; it must then die with a message naming the node, never hang and
// never read zeros in place of lost pages.
#include <cstdio>

#include <CLI/CLI.hpp>

#include "prescient/region.h"
#include "testutil/page_stress.h"

int main(int argc, char** argv) {
  CLI::App app{"page-stress a far-memory region"};
  std::string memnodes, token;
  uint64_t local_bytes = 4 << 20;
  prescient::testing::StressOptions stress;
  app.add_option("--memnode", memnodes, "host:port[,host:port...]; empty for the embedded store");
  app.add_option("--token", token);
  app.add_option("--local-bytes", local_bytes);
  app.add_option("--pages", stress.pages);
  app.add_option("--threads", stress.threads);
  app.add_option("--ops", stress.ops_per_thread);
  CLI11_PARSE(app, argc, argv);

  prescient::Status st;
  prescient::TcpOptions tcp;
  tcp.token = token;
  auto backend = prescient::MakeBackend(memnodes, tcp, prescient::LinkModel{}, &st);
  if (!backend) {
    std::fprintf(stderr, "rt_region_stress: %s\n", st.ToString().c_str());
    return 1;
  }
  prescient::RegionOptions options;
  options.local_bytes = local_bytes;
  options.reserve_bytes = size_t{1} << 32;
  auto region = prescient::Region::Create(options, std::move(backend), &st);
  if (!region) {
    std::fprintf(stderr, "rt_region_stress: %s\n", st.ToString().c_str());
    return 1;
  }
  auto result = prescient::testing::RunPageStress(*region, stress);
  auto s = region->stats();
  std::printf("%s; evicted %lu, written back %lu\n", result.ToString().c_str(), (unsigned long)s.pages_evicted,
              (unsigned long)s.pages_written_back);
  return result.mismatches == 0 ? 0 : 3;
}
