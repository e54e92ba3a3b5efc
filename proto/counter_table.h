// Every count of a KindCounters entry, declared once: its field, how it
// enters the identity produced = written + sampled_out + lost, the words the
// reports use for it, and what it means. The agent fills, and the reports
// sum, print and export, by looping over this table (in the spirit of
// Perfetto's trace_processor/storage/stats.h). A new count is one row here
// and one field in probe.proto.
#pragma once
#include <array>
#include <cstdint>

#include "probe.pb.h"

namespace probe::counters {

// How a count enters produced = written + sampled_out + lost.
enum class Class : uint8_t {
  kProduced,    // events made (by the kernel, the shim or the agent)
  kWritten,     // records in the file
  kSampledOut,  // the total dropped on purpose: the sum of the kSampled rows
  kSampled,     // one reason for sampling out
  kLost,        // lost with its reason: part of "lost"
  kApart,       // outside the identity (may also have been written, or never produced)
  kDetail,      // records written with some property (a subset of written): no loss,
                // no column of the loss tables
};

// The counts of a KindCounters entry, in the reports' order:
// X(reason, field name, field number, class, label, column, meaning).
#define PROBE_KIND_COUNTERS(X)                                                                  \
  X(kProduced, produced, 2, Class::kProduced, "", "", "events produced")                        \
  X(kWritten, written, 3, Class::kWritten, "", "", "records written to the file")               \
  X(kSampledOut, sampled_out, 4, Class::kSampledOut, "", "",                                    \
    "dropped on purpose by sampling: the sum of the reasons below")                             \
  X(kSampledMinLatency, sampled_min_latency, 16, Class::kSampled, "below min latency", "",      \
    "shorter than the kind's minimum latency")                                                  \
  X(kSampledOneInN, sampled_one_in_n, 13, Class::kSampled, "1-in-N", "",                        \
    "not chosen by the 1-in-N sampling")                                                        \
  X(kSampledFirstK, sampled_first_k, 14, Class::kSampled, "past first K/s", "",                 \
    "past the first K per (process, syscall) this second")                                      \
  X(kSampledRate, sampled_rate, 15, Class::kSampled, "over rate cap", "",                       \
    "over the global records-per-second cap")                                                   \
  X(kLostRingFull, lost_ring_full, 5, Class::kLost, "ring full", "lost: ring full",             \
    "BPF ring buffer reservation failed (the agent did not keep up)")                           \
  X(kLostDecode, lost_decode, 6, Class::kLost, "decode", "decode",                              \
    "malformed event from the kernel")                                                          \
  X(kLostWrite, lost_write, 7, Class::kLost, "write", "write",                                  \
    "the agent could not write the record")                                                     \
  X(kLostTableFull, lost_table_full, 8, Class::kLost, "no in-flight slot", "no in-flight slot", \
    "no in-flight slot for the thread: the call was never timed")                               \
  X(kLostHistogramFull, lost_histogram_full, 9, Class::kApart, "missing from histograms",       \
    "missing from histograms",                                                                  \
    "histogram map full: the call is missing from the histograms (its record "                  \
    "may still be written)")                                                                    \
  X(kLostBufferFull, lost_buffer_full, 10, Class::kLost, "buffer full", "shim buffer full",     \
    "shim: the thread's buffer was full (consumer too slow)")                                   \
  X(kLostNoBuffer, lost_no_buffer, 11, Class::kLost, "no buffer", "no shim buffer",             \
    "shim: every per-thread buffer of the process was in use")                                  \
  X(kRejected, rejected, 12, Class::kApart, "rejected", "rejected",                             \
    "shim: entries failing validation in the shared region; not in produced")                   \
  X(kWakeUnseen, wake_unseen, 40, Class::kDetail, "no wakeup seen", "",                         \
    "wakeup records with no wakeup seen since the switch-out: waker context UNKNOWN, the "      \
    "off-CPU time in unknown_ns, in neither scheduler histogram")                               \
  X(kWakeRaced, wake_raced, 41, Class::kDetail, "woken while switching out", "",                \
    "wakeup records of threads woken while still switching out: woken at the switch-out")       \
  X(kSwitchNotSeen, switch_not_seen, 42, Class::kDetail, "an end not seen", "",                 \
    "wakeup records of an off-CPU period one end of which the sched_switch program did not "    \
    "see: waker context UNKNOWN says which, and that time is 0 in the record")

enum Reason : uint8_t {
#define PROBE_REASON(reason, ...) reason,
  PROBE_KIND_COUNTERS(PROBE_REASON)
#undef PROBE_REASON
      kReasons,
};

struct Counter {
  Reason reason;
  const char* name;  // the KindCounters field, also the CSV column
  int field;         // its number in probe.proto
  Class cls;
  const char* label;   // what the text and HTML reports call it ("" where they do not)
  const char* column;  // the HTML counters table's column title (kLost and kApart rows)
  const char* meaning;
};

// Indexed by Reason.
inline constexpr Counter kCounters[kReasons] = {
#define PROBE_COUNTER(reason, name, field, cls, label, column, meaning) \
  {reason, #name, field, cls, label, column, meaning},
    PROBE_KIND_COUNTERS(PROBE_COUNTER)
#undef PROBE_COUNTER
};

// The count of a reason, read and set through the field's own accessor (a
// switch, not member pointers: GCC 12 with -fsanitize=address,undefined -O2
// made every member-pointer setter set the first field).
uint64_t Get(const v1::KindCounters& c, Reason r);
void Set(v1::KindCounters* c, Reason r, uint64_t v);

// The counts in probe.proto's field order (the CSV's columns).
const std::array<Reason, kReasons>& InFieldOrder();

// Sum of the kLost rows: events lost with a reason. lost_table_full calls
// were never timed, so they are lost; lost_histogram_full calls may still
// have been written, and the shim's rejected entries are not in produced:
// both are shown apart.
uint64_t Lost(const v1::KindCounters& c);
// Sum of the kSampled rows (equals sampled_out as the agent writes it).
uint64_t SampledReasons(const v1::KindCounters& c);

}  // namespace probe::counters
