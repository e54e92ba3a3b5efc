// The one place probe-report knows the agent's counters (KindCounters):
// what counts as lost, why events were sampled out, and the columns the
// exports show. Every output loops over these instead of naming fields.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "probe.pb.h"

namespace probe {

// One counter of a KindCounters: its CSV column, its label in the text and
// HTML, and its value.
struct CounterValue {
  const char* column;
  const char* label;
  uint64_t value;
};

// lost_table_full calls were never timed, so they are part of "lost" (the
// produced = written + sampled_out + lost identity); lost_histogram_full
// calls may still have been written, so they are shown apart, and so are the
// shim's rejected entries, which are not in produced.
uint64_t Lost(const v1::KindCounters& c);
// The reasons inside Lost(), in column order.
std::vector<CounterValue> LostReasons(const v1::KindCounters& c);
// Counted apart from Lost(): missing from histograms, rejected.
std::vector<CounterValue> ApartFromLost(const v1::KindCounters& c);
// Why events were sampled out (they add up to sampled_out), in the order the
// text and HTML list them.
std::vector<CounterValue> SampledReasons(const v1::KindCounters& c);
// Every numeric column of counters.csv after kind, in its order.
std::vector<CounterValue> CsvCounterColumns(const v1::KindCounters& c);
// "SYSCALL": the kind without its EVENT_KIND_ prefix ("" when unknown).
std::string CounterKindName(v1::EventKind k);

}  // namespace probe
