// probe-report's view of the agent's counters (KindCounters): the rows of
// proto/counter_table.h, the one table of counters, taken by class. The text,
// HTML, CSV and Chrome outputs loop over these instead of naming fields, so a
// new count is one row of that table and one field in probe.proto.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "counter_table.h"  // proto/
#include "probe.pb.h"

namespace probe {

// One count of a KindCounters: its row of the table (name = the CSV column,
// label, column title, meaning) and its value.
struct CounterValue {
  const counters::Counter* counter;
  uint64_t value;
};

// The counts of class cls, in the table's order: kLost (the reasons inside
// counters::Lost), kApart (missing from histograms, rejected: shown apart
// from lost), kSampled (why events were sampled out: they add up to
// sampled_out).
std::vector<CounterValue> CountsOf(const v1::KindCounters& c, counters::Class cls);
// The numeric columns of counters.csv after kind, in probe.proto's field
// order: every count but the kDetail ones (written records with some property).
std::vector<CounterValue> CsvCounterColumns(const v1::KindCounters& c);
// counters.csv's header line.
std::string CsvCountersHeader();
// "SYSCALL": the kind without its EVENT_KIND_ prefix ("" when unknown).
std::string CounterKindName(v1::EventKind k);

}  // namespace probe
