#include "prefetch/future_maps.h"

#include <gtest/gtest.h>

#include <random>

namespace prescient {
namespace {

TEST(FutureMaps, OrdinalsNameASuccessorsRankBeforeTheUpdate) {
  FutureMaps maps({.ordinals = 4});
  EXPECT_EQ(maps.Observe(10, 11), maps.not_in_map()) << "first sighting";
  EXPECT_EQ(maps.Observe(10, 11), 0);
  EXPECT_EQ(maps.Observe(10, 50), maps.not_in_map());
  EXPECT_EQ(maps.Observe(10, 50), 1);
  EXPECT_EQ(maps.Observe(10, 50), 1) << "tied counts do not reorder";
  EXPECT_EQ(maps.Observe(10, 50), 0) << "50 was seen more often than 11 and moved up";
  EXPECT_EQ(maps.Successor(10, 0), 50u);
  EXPECT_EQ(maps.Successor(10, 1), 11u);
  EXPECT_FALSE(maps.Successor(10, 2));
  EXPECT_FALSE(maps.Successor(11, 0)) << "11 was never a predecessor";
  EXPECT_EQ(maps.Known(10), 2);
  EXPECT_EQ(maps.Known(999999), 0);
}

TEST(FutureMaps, ANewcomerDisplacesTheLowestRankWhenTheMapIsFull) {
  FutureMaps maps({.ordinals = 2});
  maps.Observe(1, 100);
  maps.Observe(1, 100);
  maps.Observe(1, 200);
  maps.Observe(1, 300);  // displaces 200
  EXPECT_EQ(maps.Successor(1, 0), 100u);
  EXPECT_EQ(maps.Successor(1, 1), 300u);
  EXPECT_EQ(maps.Observe(1, 200), maps.not_in_map());
}

TEST(FutureMaps, RecencyRankingPutsTheLatestSuccessorFirst) {
  FutureMaps maps({.ordinals = 3, .ranking = FutureMapRanking::kRecency});
  EXPECT_EQ(maps.Observe(1, 100), maps.not_in_map());
  EXPECT_EQ(maps.Observe(1, 200), maps.not_in_map());
  EXPECT_EQ(maps.Successor(1, 0), 200u) << "a newcomer enters at the top";
  EXPECT_EQ(maps.Observe(1, 100), 1) << "the ordinal is the rank before the update";
  EXPECT_EQ(maps.Successor(1, 0), 100u);
  EXPECT_EQ(maps.Successor(1, 1), 200u);
  maps.Observe(1, 300);
  maps.Observe(1, 400);  // the least recent, 200, falls off
  EXPECT_EQ(maps.Known(1), 3);
  EXPECT_EQ(maps.Successor(1, 0), 400u);
  EXPECT_EQ(maps.Successor(1, 2), 100u);
  EXPECT_EQ(maps.Observe(1, 200), maps.not_in_map());
}

TEST(FutureMaps, CountsAgeInsteadOfSaturatingForever) {
  FutureMaps maps({.ordinals = 2});
  for (int i = 0; i < 300; ++i) maps.Observe(1, 100);
  // 100 was halved at 255; a new habit can still overtake it.
  for (int i = 0; i < 400; ++i) maps.Observe(1, 200);
  EXPECT_EQ(maps.Successor(1, 0), 200u);
}

TEST(FutureMaps, AStrideTeachesOrdinalZero) {
  FutureMaps maps({.ordinals = 8});
  int zeros = 0;
  for (int pass = 0; pass < 3; ++pass) {
    for (uint64_t p = 0; p < 1000; ++p) zeros += maps.Observe(p * 3, (p + 1) * 3) == 0;
  }
  EXPECT_EQ(zeros, 2000) << "every transition after the first pass is the known successor";
}

TEST(FutureMaps, TheBoundHoldsAndSpilledMapsComeBackIntact) {
  FutureMapOptions options{.ordinals = 8};
  FutureMaps probe(options);
  options.max_bytes = 4 * (probe.chunk_bytes() + 64);
  FutureMaps maps(options);
  std::mt19937_64 rng(7);
  const uint64_t pages = 64 * FutureMaps::kChunkPages;
  for (uint64_t p = 0; p < pages; ++p) maps.Observe(p, (p * 7919 + 1) % pages);
  EXPECT_LE(maps.footprint_bytes(), options.max_bytes);
  EXPECT_GT(maps.chunks_spilled(), 50u);
  for (uint64_t p = 0; p < pages; p += 97) EXPECT_EQ(maps.Successor(p, 0), (p * 7919 + 1) % pages) << p;
  EXPECT_GT(maps.chunks_refetched(), 0u);
  EXPECT_LE(maps.footprint_bytes(), options.max_bytes);
}

TEST(FutureMaps, FootprintIsAboutOnePercentOfTheFaultedPages) {
  FutureMaps maps({.ordinals = 8});
  const uint64_t pages = 100000;
  for (uint64_t p = 0; p + 1 < pages; ++p) maps.Observe(p, p + 1);
  double fraction = static_cast<double>(maps.footprint_bytes()) / static_cast<double>(pages * 4096);
  EXPECT_LT(fraction, 0.02);
  EXPECT_GT(fraction, 0.005);
}

}  // namespace
}  // namespace prescient
