// The counter table is the one declaration of KindCounters' counts: it must
// name every count field of the message exactly once, by its name and
// number, and the sums the reports print come from its classes.
#include "counter_table.h"

#include <gtest/gtest.h>

#include <set>

namespace probe::counters {
namespace {

TEST(CounterTable, NamesEveryCountFieldOfKindCountersOnce) {
  const auto* d = v1::KindCounters::descriptor();
  std::set<std::string> in_table;
  for (int r = 0; r < kReasons; ++r) {
    const Counter& c = kCounters[r];
    EXPECT_EQ(c.reason, r) << c.name << " is not at its Reason's index";
    const auto* f = d->FindFieldByName(c.name);
    ASSERT_NE(f, nullptr) << c.name;
    EXPECT_EQ(f->number(), c.field) << c.name;
    EXPECT_EQ(f->cpp_type(), google::protobuf::FieldDescriptor::CPPTYPE_UINT64) << c.name;
    EXPECT_TRUE(in_table.insert(c.name).second) << c.name << " twice";
    EXPECT_NE(std::string(c.meaning), "") << c.name;
  }
  for (int i = 0; i < d->field_count(); ++i) {
    const auto* f = d->field(i);
    if (f->cpp_type() != google::protobuf::FieldDescriptor::CPPTYPE_UINT64 || f->is_repeated())
      continue;
    EXPECT_EQ(in_table.count(f->name()), 1u) << f->name() << " is missing from the table";
  }
}

// The reports loop over the table: a sampling reason needs its words in the
// breakdown, a loss or count kept apart its column in the HTML table.
TEST(CounterTable, EveryReasonTheReportsListHasItsWords) {
  for (const Counter& c : kCounters) {
    if (c.cls == Class::kSampled) EXPECT_NE(std::string(c.label), "") << c.name;
    if (c.cls == Class::kLost || c.cls == Class::kApart)
      EXPECT_NE(std::string(c.column), "") << c.name;
  }
}

TEST(CounterTable, GetAndSetReachTheirOwnField) {
  for (int r = 0; r < kReasons; ++r) {
    v1::KindCounters c;
    Set(&c, Reason(r), 1000 + r);
    EXPECT_EQ(Get(c, Reason(r)), uint64_t(1000 + r));
    const auto* f = v1::KindCounters::descriptor()->FindFieldByName(kCounters[r].name);
    EXPECT_EQ(c.GetReflection()->GetUInt64(c, f), uint64_t(1000 + r)) << kCounters[r].name;
  }
}

TEST(CounterTable, FieldOrderIsTheProtoOrder) {
  int last = 0;
  for (Reason r : InFieldOrder()) {
    EXPECT_GT(kCounters[r].field, last) << kCounters[r].name;
    last = kCounters[r].field;
  }
  EXPECT_EQ(kCounters[InFieldOrder().front()].name, std::string("produced"));
  EXPECT_EQ(kCounters[InFieldOrder().back()].name, std::string("switch_not_seen"));
}

// Lost is what the identity produced = written + sampled_out + lost needs:
// the never-timed calls (table full) are in it, calls missing from the
// histograms and the shim's rejected entries are not.
TEST(CounterTable, LostAndSampledSums) {
  v1::KindCounters c;
  c.set_lost_ring_full(1);
  c.set_lost_decode(2);
  c.set_lost_write(4);
  c.set_lost_table_full(8);
  c.set_lost_buffer_full(16);
  c.set_lost_no_buffer(32);
  c.set_lost_histogram_full(64);
  c.set_rejected(128);
  c.set_sampled_one_in_n(1000);
  c.set_sampled_first_k(2000);
  c.set_sampled_rate(4000);
  c.set_sampled_min_latency(8000);
  c.set_sampled_out(99999);  // the total is not a reason
  EXPECT_EQ(Lost(c), 63u);
  EXPECT_EQ(SampledReasons(c), 15000u);
}

}  // namespace
}  // namespace probe::counters
