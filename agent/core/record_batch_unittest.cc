#include "record_batch.h"

#include <gtest/gtest.h>
#include <linux/types.h>

#include <cstring>
#include <utility>
#include <vector>

extern "C" {
#include "probe_events.h"
}

namespace probe {
namespace {

// A batch as the kernel writes it: its header, then each record whole.
std::vector<uint8_t> Batch(const std::vector<std::pair<uint16_t, uint16_t>>& records) {
  std::vector<uint8_t> out(sizeof(probe_event_header));
  for (const auto& [type, size] : records) {
    std::vector<uint8_t> r(size, uint8_t(type));
    probe_event_header h{type, size, 1, 7};
    memcpy(r.data(), &h, sizeof(h));
    out.insert(out.end(), r.begin(), r.end());
  }
  probe_event_header h{PROBE_EV_BATCH, uint16_t(out.size()), 1, 0};
  memcpy(out.data(), &h, sizeof(h));
  return out;
}

std::vector<std::pair<uint16_t, size_t>> Walk(RecordBatchCursor cursor) {
  std::vector<std::pair<uint16_t, size_t>> seen;
  const void* rec;
  size_t size;
  while (cursor.Next(&rec, &size)) {
    probe_event_header h{};
    memcpy(&h, rec, std::min(size, sizeof(h)));
    seen.emplace_back(size >= sizeof(h) ? h.type : 0, size);
  }
  return seen;
}

TEST(RecordBatchTest, GivesEachRecordInOrderWithItsOwnSize) {
  auto b = Batch({{PROBE_EV_SYSCALL, 56}, {PROBE_EV_SYSCALL_WAIT, 144}, {PROBE_EV_WAKEUP, 96}});
  ASSERT_TRUE(IsRecordBatch(b.data(), b.size()));
  auto seen = Walk(RecordBatchCursor(b.data(), b.size()));
  ASSERT_EQ(seen.size(), 3u);
  EXPECT_EQ(seen[0], (std::pair<uint16_t, size_t>(PROBE_EV_SYSCALL, 56)));
  EXPECT_EQ(seen[1], (std::pair<uint16_t, size_t>(PROBE_EV_SYSCALL_WAIT, 144)));
  EXPECT_EQ(seen[2], (std::pair<uint16_t, size_t>(PROBE_EV_WAKEUP, 96)));
}

TEST(RecordBatchTest, OnlyABatchHeaderIsABatch) {
  auto b = Batch({{PROBE_EV_SYSCALL, 56}});
  EXPECT_FALSE(IsRecordBatch(b.data() + 16, 56));
  EXPECT_FALSE(IsRecordBatch(b.data(), 15));
}

TEST(RecordBatchTest, ARecordClaimingMoreThanIsLeftIsGivenAsTheRestAndEndsTheWalk) {
  auto b = Batch({{PROBE_EV_SYSCALL, 56}, {PROBE_EV_SYSCALL, 56}});
  probe_event_header bad{PROBE_EV_SYSCALL, 4000, 1, 7};
  memcpy(b.data() + 16 + 56, &bad, sizeof(bad));
  auto seen = Walk(RecordBatchCursor(b.data(), b.size()));
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[1].second, 56u);  // the rest, for the decoder to reject by its type's size
}

TEST(RecordBatchTest, ARecordSizeBelowItsHeaderCannotStallTheWalk) {
  auto b = Batch({{PROBE_EV_SYSCALL, 56}});
  probe_event_header zero{PROBE_EV_SYSCALL, 0, 1, 7};
  memcpy(b.data() + 16, &zero, sizeof(zero));
  auto seen = Walk(RecordBatchCursor(b.data(), b.size()));
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].second, 56u);
}

TEST(RecordBatchTest, ACutShortTailIsOneRecord) {
  auto b = Batch({{PROBE_EV_SYSCALL, 56}});
  b.resize(b.size() + 5, 0xAB);
  auto seen = Walk(RecordBatchCursor(b.data(), b.size()));
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[1].second, 5u);
}

TEST(RecordBatchTest, WhatACursorLeftWalksOnWithoutAHeader) {
  auto b = Batch({{PROBE_EV_SYSCALL, 56}, {PROBE_EV_WAKEUP, 96}, {PROBE_EV_SYSCALL, 56}});
  RecordBatchCursor first(b.data(), b.size());
  const void* rec;
  size_t size;
  ASSERT_TRUE(first.Next(&rec, &size));
  std::vector<uint8_t> rest(first.rest(), first.rest() + first.rest_size());
  auto seen = Walk(RecordBatchCursor(rest.data(), rest.size(), RecordBatchCursor::kNoHeader));
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0].first, PROBE_EV_WAKEUP);
  EXPECT_EQ(seen[1].first, PROBE_EV_SYSCALL);
}

TEST(RecordBatchTest, AnEmptyOrHeaderOnlyBatchGivesNothing) {
  auto b = Batch({});
  EXPECT_TRUE(Walk(RecordBatchCursor(b.data(), b.size())).empty());
  EXPECT_TRUE(Walk(RecordBatchCursor(b.data(), 3)).empty());
}

}  // namespace
}  // namespace probe
