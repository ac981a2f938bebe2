#include "runtime/report.h"

#include <gtest/gtest.h>

namespace prescient {
namespace {

RunReport Sample() {
  RunReport r;
  r.region.demand_faults = 100;
  r.region.zero_fills = 40;
  r.region.pages_fetched = 60;
  r.region.pages_written_back = 30;
  r.region.pages_evicted = 50;
  r.region.budget_pages = 256;
  r.region.peak_resident_pages = 250;
  r.region.fault_latency = {.p50_us = 10, .p90_us = 20, .p99_us = 40, .max_us = 90, .mean_us = 12, .count = 100};
  r.heap.peak_managed_bytes = 900;
  r.heap.peak_unmanaged_bytes = 100;
  r.heap.peak_total_bytes = 950;
  r.backend_description = "embedded store";
  r.prefetch = "none";
  r.local_fraction = 0.25;
  r.wall_s = 1.5;
  return r;
}

TEST(ReportTest, ManagedFractionIsPeakManagedOverBothPeaks) {
  HeapUsage h;
  EXPECT_EQ(h.ManagedFraction(), 0.0);
  h.peak_managed_bytes = 3;
  h.peak_unmanaged_bytes = 1;
  EXPECT_DOUBLE_EQ(h.ManagedFraction(), 0.75);
}

TEST(ReportTest, JsonHasTheFixedKeys) {
  nlohmann::json j = ReportToJson(Sample());
  EXPECT_EQ(j["managed_bytes"], 900);
  EXPECT_EQ(j["peak_footprint_bytes"], 950);
  EXPECT_DOUBLE_EQ(j["managed_fraction"].get<double>(), 0.9);
  EXPECT_EQ(j["demand_faults"], 100);
  EXPECT_EQ(j["pages_fetched"], 60);
  EXPECT_EQ(j["pages_written_back"], 30);
  EXPECT_EQ(j["fault_latency_us"]["p50"], 10.0);
  EXPECT_EQ(j["fault_latency_us"]["p99"], 40.0);
  EXPECT_EQ(j["fault_latency_us"]["count"], 100);
  EXPECT_EQ(j["wall_s"], 1.5);
  EXPECT_EQ(j["pages_evicted"], 50);
  EXPECT_EQ(j["budget_bytes"], 256 * 4096);
  EXPECT_EQ(j["local_fraction"], 0.25);
  EXPECT_FALSE(j.contains("local_bytes"));
  EXPECT_EQ(j["backend"], "embedded store");
}

TEST(ReportTest, SummaryLinesArePrefixed) {
  RunReport r = Sample();
  r.interposed = false;
  std::string text = FormatReportSummary(r);
  EXPECT_EQ(text.rfind("prescient: ", 0), 0u);
  EXPECT_NE(text.find("90.0% managed"), std::string::npos) << text;
  EXPECT_NE(text.find("not managed"), std::string::npos) << text;
  EXPECT_EQ(text.back(), '\n');
}

}  // namespace
}  // namespace prescient
