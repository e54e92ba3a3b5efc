// ShimConsumer over regions built in memory: what the shim publishes comes
// out as records, and what a broken or hostile writer leaves is counted and
// skipped.
#include "shim_consumer.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <vector>

namespace probe {
namespace {

constexpr uint32_t kSlots = 4, kEvents = 8, kNames = 4;
constexpr int32_t kPid = 4242;

class Region {
 public:
  Region() : bytes_(probe_shm_total_bytes(kNames, kSlots, kEvents)) {
    auto* h = header();
    h->magic = PROBE_SHM_MAGIC;
    h->version = PROBE_SHM_VERSION;
    h->pid = kPid;
    h->total_bytes = bytes_.size();
    h->nslots = kSlots;
    h->slot_events = kEvents;
    h->nnames = kNames;
    h->clock = PROBE_CLOCK_MONOTONIC;
    h->sample_every = 1;
    h->functions = ((1u << PROBE_FN_COUNT) - 1) & ~1u;  // all, as the shim's default
  }
  probe_shm_header* header() { return reinterpret_cast<probe_shm_header*>(bytes_.data()); }
  probe_shm_slot* slot(uint32_t i) {
    return reinterpret_cast<probe_shm_slot*>(bytes_.data() +
                                             probe_shm_slot_offset(kNames, kEvents, i));
  }
  // Publishes e on slot i as the shim would.
  void Publish(uint32_t i, int32_t tid, const probe_shm_event& e) {
    probe_shm_slot* s = slot(i);
    s->tid = tid;
    s->state = PROBE_SLOT_ACTIVE;
    if (header()->slots_high < i + 1) header()->slots_high = i + 1;
    auto* events =
        reinterpret_cast<probe_shm_event*>(reinterpret_cast<uint8_t*>(s) + PROBE_SHM_SLOT_BYTES);
    events[s->head % kEvents] = e;
    s->head++;
    s->seen++;
  }
  void Name(uint32_t id, const char* text, size_t len) {
    auto* n = reinterpret_cast<probe_shm_name*>(bytes_.data() + probe_shm_names_offset()) + id - 1;
    memcpy(n->text, text, len);
    n->len = uint32_t(len);
    n->ready = 1;
  }
  void SetNameLength(uint32_t id, uint32_t len) {
    (reinterpret_cast<probe_shm_name*>(bytes_.data() + probe_shm_names_offset()) + id - 1)->len =
        len;
  }
  uint8_t* data() { return bytes_.data(); }
  size_t size() const { return bytes_.size(); }

 private:
  std::vector<uint8_t> bytes_;
};

probe_shm_event Call(uint16_t fn, uint64_t start, uint64_t end, int64_t result, int32_t fd,
                     uint16_t err = 0) {
  return probe_shm_event{start, end, result, fd, fn, err};
}

// Drained at a fixed now, 1 s (the events here are at a few us).
constexpr uint64_t kNow = 1000000000;

std::vector<v1::Record> DrainAll(ShimConsumer& c, const TscClock& clock = TscClock(),
                                 uint64_t now = kNow) {
  std::vector<v1::Record> out;
  c.Drain(
      clock, [now] { return now; },
      [&](const v1::Record& r) {
        out.push_back(r);
        return true;
      });
  return out;
}

TEST(ShimConsumer, PublishedCallsAndMarkersBecomeRecords) {
  Region region;
  region.Name(1, "BEFORE_SEND", 11);
  region.Publish(0, 7, Call(PROBE_FN_SELECT, 1000, 6000, 1, 5));
  region.Publish(1, 8, Call(PROBE_FN_EVENTFD_READ, 2000, 2100, -1, 3, EAGAIN));
  region.Publish(0, 7, probe_shm_event{7000, uint64_t(-2), 42, 0, PROBE_EV_MARKER + 1, 1});
  std::string error;
  auto c = ShimConsumer::Attach(region.data(), region.size(), kPid, &error);
  ASSERT_TRUE(c) << error;
  auto records = DrainAll(*c);
  ASSERT_EQ(records.size(), 3u);
  const auto& select = records[0].shim_call();
  EXPECT_EQ(select.pid(), kPid);
  EXPECT_EQ(select.tid(), 7);
  EXPECT_EQ(select.function(), v1::SHIM_SELECT);
  EXPECT_EQ(select.entry_ns(), 1000u);
  EXPECT_EQ(select.duration_ns(), 5000u);
  EXPECT_EQ(select.fd(), 5);
  const auto& marker = records[1].marker();
  EXPECT_EQ(marker.type(), v1::MARKER_BEGIN);
  EXPECT_EQ(marker.name(), "BEFORE_SEND");
  EXPECT_EQ(marker.arg0(), 42);
  EXPECT_EQ(marker.arg1(), -2);
  EXPECT_EQ(records[2].shim_call().error(), uint32_t(EAGAIN));
  EXPECT_EQ(region.slot(0)->tail, 2u) << "the consumer hands the space back";
  EXPECT_TRUE(DrainAll(*c).empty()) << "each event is read once";
  ShimTally t = c->Tally();
  EXPECT_EQ(t.produced, 3u);
  EXPECT_EQ(t.written, 3u);
  EXPECT_EQ(t.rejected, 0u);
}

TEST(ShimConsumer, WrapsAroundTheRing) {
  Region region;
  std::string error;
  auto c = ShimConsumer::Attach(region.data(), region.size(), kPid, &error);
  ASSERT_TRUE(c);
  size_t total = 0;
  for (int round = 0; round < 5; ++round) {
    for (uint32_t i = 0; i < kEvents; ++i)
      region.Publish(0, 1, Call(PROBE_FN_POLL, 10 * i + 1, 10 * i + 5, 0, 1));
    total += DrainAll(*c).size();
  }
  EXPECT_EQ(total, 5 * kEvents);
}

TEST(ShimConsumer, RefusesRegionsThatAreNotWhatTheyClaim) {
  std::string error;
  {
    Region r;
    r.header()->magic = 1;
    EXPECT_FALSE(ShimConsumer::Attach(r.data(), r.size(), kPid, &error));
  }
  {
    Region r;  // a parent's region seen in its child after fork
    EXPECT_FALSE(ShimConsumer::Attach(r.data(), r.size(), kPid + 1, &error));
    EXPECT_NE(error.find("belongs to pid"), std::string::npos);
  }
  {
    Region r;  // geometry larger than the mapping
    r.header()->nslots = kSlots * 2;
    EXPECT_FALSE(ShimConsumer::Attach(r.data(), r.size(), kPid, &error));
  }
  {
    Region r;
    r.header()->slot_events = 6;  // not a power of two
    EXPECT_FALSE(ShimConsumer::Attach(r.data(), r.size(), kPid, &error));
  }
  {
    Region r;
    EXPECT_FALSE(ShimConsumer::Attach(r.data(), 100, kPid, &error)) << "smaller than a header";
  }
}

// In a pid namespace the shim writes its namespace pid: the region is the
// process's if the header names the pid it has there, and records carry ours.
TEST(ShimConsumer, PidInItsOwnNamespaceIsAccepted) {
  std::string error;
  Region r;
  r.Publish(0, 1, Call(PROBE_FN_POLL, 10, 15, 0, 1));
  EXPECT_FALSE(ShimConsumer::Attach(r.data(), r.size(), kPid + 100, &error, kPid + 1));
  // A sender gone before it could be mapped is taken on the kernel's word.
  EXPECT_TRUE(ShimConsumer::Attach(r.data(), r.size(), kPid + 100, &error, ShimConsumer::kAnyPid));
  auto c = ShimConsumer::Attach(r.data(), r.size(), kPid + 100, &error, kPid);
  ASSERT_TRUE(c) << error;
  auto records = DrainAll(*c);
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].shim_call().pid(), kPid + 100);
}

TEST(ShimConsumer, HeadJumpsAreCountedAndSkipped) {
  Region region;
  std::string error;
  auto c = ShimConsumer::Attach(region.data(), region.size(), kPid, &error);
  ASSERT_TRUE(c);
  region.header()->slots_high = 1;
  region.slot(0)->head = 1ull << 40;  // far past what the ring can hold
  EXPECT_TRUE(DrainAll(*c).empty());
  EXPECT_EQ(c->Tally().rejected, 1u);
  // The producer can go on from there.
  region.Publish(0, 1, Call(PROBE_FN_POLL, 1, 2, 0, 1));
  EXPECT_EQ(DrainAll(*c).size(), 1u);
}

TEST(ShimConsumer, GarbageEventsAreRejected) {
  Region region;
  region.Publish(0, 1, Call(99, 1, 2, 0, 0));                             // unknown function
  region.Publish(0, 1, Call(PROBE_FN_READ, 10, 5, 0, 0));                 // ends before it starts
  region.Publish(0, 1, probe_shm_event{1, 0, 0, 0, PROBE_EV_MARKER, 3});  // unnamed marker
  region.Publish(0, 1, probe_shm_event{1, 0, 0, 0, PROBE_EV_MARKER + 7, 1});  // no such type
  std::string error;
  auto c = ShimConsumer::Attach(region.data(), region.size(), kPid, &error);
  ASSERT_TRUE(c);
  EXPECT_TRUE(DrainAll(*c).empty());
  EXPECT_EQ(c->Tally().rejected, 4u);
}

// The 32 bytes that got through in PreloadTest.PidPickupAndHostileRegion
// (2 of its 3 failures in 45 runs at load 5): shim_hostile's random writes
// had left, at slot 1 event 51 of its region, kind 11 (read) and end >= start,
// which was all that was checked. As a record: tid 2070533378, entry_ns
// 1432785573729445239 (45 years after boot), duration 16674106101269554358,
// result -3869033519549325471, fd -1842569130, errno 63294.
TEST(ShimConsumer, TheHostileEventThatGotThroughIsRejected) {
  const uint8_t bytes[32] = {0x77, 0xa5, 0x72, 0x59, 0xe3, 0x46, 0xe2, 0x13, 0x2d, 0x0a, 0xcb,
                             0x42, 0x0b, 0x9a, 0x48, 0xfb, 0x61, 0xdf, 0x2e, 0x53, 0x83, 0x6e,
                             0x4e, 0xca, 0x56, 0xa0, 0x2c, 0x92, 0x0b, 0x00, 0x3e, 0xf7};
  probe_shm_event e;
  memcpy(&e, bytes, sizeof(e));
  ASSERT_EQ(e.kind, PROBE_FN_READ);
  Region region;
  region.Publish(1, 2070533378, e);
  std::string error;
  auto c = ShimConsumer::Attach(region.data(), region.size(), kPid, &error);
  ASSERT_TRUE(c) << error;
  auto records = DrainAll(*c);
  EXPECT_TRUE(records.empty()) << records[0].ShortDebugString();
  EXPECT_EQ(c->Tally().rejected, 1u);
}

// How many of the events published on slot 0 by thread tid become records.
size_t Accepted(const std::vector<probe_shm_event>& events, int32_t tid = 7,
                uint64_t not_before = 0, uint64_t now = kNow, uint32_t functions = 0) {
  Region region;
  if (functions) region.header()->functions = functions;
  region.Name(1, "phase", 5);
  for (const auto& e : events) region.Publish(0, tid, e);
  std::string error;
  auto c = ShimConsumer::Attach(region.data(), region.size(), kPid, &error);
  if (!c) return 0;
  if (not_before) c->SetNotBefore(not_before);
  const size_t n = DrainAll(*c, TscClock(), now).size();
  EXPECT_EQ(n + c->Tally().rejected, events.size()) << "each event is written or rejected";
  return n;
}

// Each thing the shim always does is checked on its own: a genuine event
// passes, and the same event with one field the shim cannot write does not.
TEST(ShimConsumer, OnlyWhatTheShimCanWriteBecomesARecord) {
  const auto read = Call(PROBE_FN_READ, 1000, 2000, 8, 5);
  EXPECT_EQ(Accepted({read}), 1u);
  EXPECT_EQ(Accepted({Call(PROBE_FN_READ, 1000, 2000, -1, 5, EAGAIN)}), 1u);
  // The thread: gettid's, so above 0 and below PID_MAX_LIMIT.
  EXPECT_EQ(Accepted({read}, 0), 0u);
  EXPECT_EQ(Accepted({read}, -7), 0u);
  EXPECT_EQ(Accepted({read}, 4194303), 1u);
  EXPECT_EQ(Accepted({read}, 4194304), 0u);
  // The function: one the header says is wrapped.
  EXPECT_EQ(Accepted({read}, 7, 0, kNow, 1u << PROBE_FN_READ), 1u);
  EXPECT_EQ(Accepted({read}, 7, 0, kNow, 1u << PROBE_FN_SELECT), 0u);
  // errno only with a failed result.
  EXPECT_EQ(Accepted({Call(PROBE_FN_READ, 1000, 2000, 8, 5, EAGAIN)}), 0u);
  // Times: never 0, never after now (1 ms of leeway), never before the
  // process's start (1 s of leeway), so no duration exceeds now - entry.
  EXPECT_EQ(Accepted({Call(PROBE_FN_READ, 0, 2000, 8, 5)}), 0u);
  EXPECT_EQ(Accepted({Call(PROBE_FN_READ, 1000, kNow, 8, 5)}), 1u);
  EXPECT_EQ(Accepted({Call(PROBE_FN_READ, 1000, kNow + 900000, 8, 5)}), 1u);
  EXPECT_EQ(Accepted({Call(PROBE_FN_READ, 1000, kNow + 1100000, 8, 5)}), 0u);
  EXPECT_EQ(Accepted({Call(PROBE_FN_READ, 1000, ~0ull, 8, 5)}), 0u);
  const uint64_t start = 5000000000, now = 8000000000;
  EXPECT_EQ(Accepted({Call(PROBE_FN_READ, start - 900000000, start, 8, 5)}, 7, start, now), 1u);
  EXPECT_EQ(Accepted({Call(PROBE_FN_READ, start - 1100000000, start, 8, 5)}, 7, start, now), 0u);
  // Markers: fd 0, a published name, a time in the same window.
  EXPECT_EQ(Accepted({probe_shm_event{1000, 3, 4, 0, PROBE_EV_MARKER, 1}}), 1u);
  EXPECT_EQ(Accepted({probe_shm_event{1000, 3, 4, 9, PROBE_EV_MARKER, 1}}), 0u);
  EXPECT_EQ(Accepted({probe_shm_event{1000, 3, 4, 0, PROBE_EV_MARKER, 2}}), 0u);
  EXPECT_EQ(Accepted({probe_shm_event{kNow + 1100000, 3, 4, 0, PROBE_EV_MARKER, 1}}), 0u);
  EXPECT_EQ(Accepted({probe_shm_event{0, 3, 4, 0, PROBE_EV_MARKER, 1}}), 0u);
}

// A TSC region's times are checked after conversion: the future by 1 ms,
// the past by 1 s plus 1/1000 of the process's age (the line the TSC is
// converted on drifts from CLOCK_MONOTONIC by NTP's slewing).
TEST(ShimConsumer, TscTimesAreCheckedInNanoseconds) {
  Region region;
  region.header()->clock = PROBE_CLOCK_TSC;
  TscClock clock;
  clock.Add({1000000000000, 500000000000});  // 2 ticks per ns, at 500 s
  clock.Add({1002000000000, 501000000000});
  const uint64_t now = 501000000000, start = 300000000000;  // the process is 201 s old
  auto tsc = [](uint64_t ns) { return uint64_t(1000000000000 + (int64_t(ns) - 500000000000) * 2); };
  region.Publish(0, 7, Call(PROBE_FN_POLL, tsc(500500000000), tsc(500600000000), 1, 3));
  region.Publish(0, 7, Call(PROBE_FN_POLL, tsc(500500000000), tsc(now + 2000000), 1, 3));
  region.Publish(0, 7, Call(PROBE_FN_POLL, tsc(start - 1100000000), tsc(start), 1, 3));
  region.Publish(0, 7, Call(PROBE_FN_POLL, tsc(start - 1300000000), tsc(start), 1, 3));
  std::string error;
  auto c = ShimConsumer::Attach(region.data(), region.size(), kPid, &error);
  ASSERT_TRUE(c) << error;
  c->SetNotBefore(start);
  auto records = DrainAll(*c, clock, now);
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[0].shim_call().entry_ns(), 500500000000u);
  EXPECT_EQ(records[0].shim_call().duration_ns(), 100000000u);
  EXPECT_EQ(records[1].shim_call().entry_ns(), start - 1100000000) << "within 1 s + 201 ms";
  EXPECT_EQ(c->Tally().rejected, 2u) << "2 ms ahead of now; 1.3 s before the start";
}

TEST(ShimConsumer, NamesAreKeptExact) {
  Region region;
  const char bad[] = {'o', 'k', '\xff', '\n', '\xc3', '\xa9'};  // invalid, control, then "é"
  region.Name(1, bad, sizeof(bad));
  region.Name(2, "x", 1);
  region.SetNameLength(2, 200);  // a length past the entry is cut to the entry
  region.Publish(0, 1, probe_shm_event{1, 0, 0, 0, PROBE_EV_MARKER, 1});
  region.Publish(0, 1, probe_shm_event{2, 0, 0, 0, PROBE_EV_MARKER, 2});
  std::string error;
  auto c = ShimConsumer::Attach(region.data(), region.size(), kPid, &error);
  ASSERT_TRUE(c);
  auto records = DrainAll(*c);
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[0].marker().name(), std::string(bad, sizeof(bad)));
  EXPECT_EQ(records[1].marker().name().size(), size_t(PROBE_SHM_NAME_TEXT));
  std::string wire;
  EXPECT_TRUE(records[0].SerializeToString(&wire));
  v1::Record back;
  EXPECT_TRUE(back.ParseFromString(wire)) << "a bytes field takes any bytes";
  EXPECT_EQ(back.marker().name(), std::string(bad, sizeof(bad)));
}

TEST(ShimConsumer, ImpossibleCountersAreRefusedNotSummed) {
  Region region;
  region.Publish(0, 1, Call(PROBE_FN_POLL, 1, 2, 0, 1));
  region.Publish(1, 2, Call(PROBE_FN_POLL, 1, 2, 0, 1));
  region.slot(1)->lost_full = 0xc6287f5e3b1c2a73ull;  // what a scribbler leaves
  region.header()->lost_no_buffer = ~0ull;
  std::string error;
  auto c = ShimConsumer::Attach(region.data(), region.size(), kPid, &error);
  ASSERT_TRUE(c);
  EXPECT_EQ(DrainAll(*c).size(), 2u) << "the events themselves are still checked one by one";
  ShimTally t = c->Tally();
  EXPECT_EQ(t.rejected, 2u) << "the slot and the header";
  EXPECT_EQ(t.produced, 1u) << "slot 0 only";
  EXPECT_EQ(t.lost_buffer_full, 0u);
  EXPECT_EQ(t.lost_no_buffer, 0u);
}

TEST(ShimConsumer, WriteFailuresAreCountedNotWritten) {
  Region region;
  region.Publish(0, 1, Call(PROBE_FN_POLL, 1, 2, 0, 1));
  std::string error;
  auto c = ShimConsumer::Attach(region.data(), region.size(), kPid, &error);
  ASSERT_TRUE(c);
  c->Drain(
      TscClock(), [] { return kNow; }, [](const v1::Record&) { return false; });
  EXPECT_EQ(c->Tally().written, 0u);
  EXPECT_EQ(c->Tally().lost_write, 1u);
}

TEST(TscClock, ConvertsOnTheSegmentAroundTheTimestamp) {
  TscClock clock;
  EXPECT_EQ(clock.ToNs(5), 0u) << "no line from one point";
  clock.Add({1000, 500});
  clock.Add({3000, 1500});  // 2 ticks per ns
  clock.Add({5000, 2000});  // then 4 ticks per ns
  EXPECT_EQ(clock.ToNs(2000), 1000u);
  EXPECT_EQ(clock.ToNs(4000), 1750u);
  EXPECT_EQ(clock.ToNs(7000), 2500u) << "extended from the last segment";
  EXPECT_EQ(clock.ToNs(0), 0u) << "extended back from the first, clamped at 0";
  clock.Add({4000, 2500});  // does not advance: ignored
  EXPECT_EQ(clock.points(), 3u);
}

// The conversion agrees with clock_gettime read between two TSC reads, at
// any time between the calibration points the agent takes every 10 ms.
TEST(TscClock, AgreesWithClockGettime) {
  if (!probe_tsc_is_clocksource()) GTEST_SKIP() << "the kernel's clocksource is not the TSC";
  TscClock clock;
  std::vector<probe_clock_point> checks;
  clock.Sample();
  for (int i = 0; i < 20; ++i) {
    uint64_t until = probe_monotonic_ns() + 10000000;
    for (uint64_t next = 0, now; (now = probe_monotonic_ns()) < until;) {
      if (now < next) continue;
      checks.push_back(probe_clock_sample());
      next = now + 20000;  // every 20 us, across the whole segment
    }
    clock.Sample();
  }
  std::vector<int64_t> errors;
  for (const auto& p : checks) errors.push_back(int64_t(clock.ToNs(p.tsc)) - int64_t(p.ns));
  std::sort(errors.begin(), errors.end(), [](int64_t a, int64_t b) { return llabs(a) < llabs(b); });
  const int64_t median = llabs(errors[errors.size() / 2]);
  const int64_t p99 = llabs(errors[errors.size() * 99 / 100]);
  EXPECT_LE(median, 20) << "ns";
  EXPECT_LE(p99, 100) << "ns";
  printf("TSC -> CLOCK_MONOTONIC over %zu checks: |error| median %lld ns, p99 %lld ns, max %lld\n",
         errors.size(), (long long)median, (long long)p99, (long long)llabs(errors.back()));
}

}  // namespace
}  // namespace probe
