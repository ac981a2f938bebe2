#include "transport/page_table.h"

#include <unistd.h>

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "prescient/backend.h"
#include "testutil/testutil.h"

namespace prescient {
namespace {

// Issue 18, item 4: scattered pages hold three times their size, and the
// memory node's capacity counted only the pages.
TEST(PageTable, HeldBytesCountWhatScatteredPagesReallyHold) {
  std::vector<std::byte> page(kPageSize, std::byte{7});
  for (uint64_t stride : {uint64_t{1}, uint64_t{7}, uint64_t{512}, uint64_t{1000003}}) {
    PageTable table;
    const uint64_t before = testing::ResidentAndPageTableBytes(getpid());
    std::vector<uint64_t> page_nos;
    for (uint64_t i = 0; i < 4000; ++i) page_nos.push_back(i * stride);
    const uint64_t predicted = table.BytesToHold(page_nos);
    uint64_t added = 0;
    for (uint64_t p : page_nos) {
      bool inserted = false;
      uint64_t held_added = 0;
      ASSERT_TRUE(table.Write(p, page.data(), &inserted, &held_added).ok());
      ASSERT_TRUE(inserted);
      added += held_added;
    }
    const uint64_t grown = testing::ResidentAndPageTableBytes(getpid()) - before;
    EXPECT_EQ(added, table.held_bytes()) << stride;
    EXPECT_EQ(predicted, table.held_bytes()) << stride;
#if !defined(__SANITIZE_ADDRESS__)  // its shadow memory grows too
    // Counted within 10 % of what the kernel says it costs, never much less.
    EXPECT_GE(table.held_bytes(), grown * 9 / 10) << "stride " << stride << ": held " << table.held_bytes() << ", grew " << grown;
    EXPECT_LE(table.held_bytes(), grown * 2) << "stride " << stride << ": held " << table.held_bytes() << ", grew " << grown;
#endif
    // Rewrites hold nothing new; a discard frees the pages, not the chunks.
    EXPECT_EQ(table.BytesToHold(page_nos), 0u);
    const uint64_t held = table.held_bytes();
    EXPECT_EQ(table.Discard(0, PageTable::kMaxPages), 4000u);
    EXPECT_EQ(table.held_bytes(), held - 4000 * kPageSize);
  }
}

}  // namespace
}  // namespace prescient
