#include "counters.h"

namespace probe {

std::vector<CounterValue> LostReasons(const v1::KindCounters& c) {
  return {{"lost_ring_full", "ring full", c.lost_ring_full()},
          {"lost_decode", "decode", c.lost_decode()},
          {"lost_write", "write", c.lost_write()},
          {"lost_table_full", "no in-flight slot", c.lost_table_full()},
          {"lost_buffer_full", "shim buffer full", c.lost_buffer_full()},
          {"lost_no_buffer", "no shim buffer", c.lost_no_buffer()}};
}

std::vector<CounterValue> ApartFromLost(const v1::KindCounters& c) {
  return {{"lost_histogram_full", "missing from histograms", c.lost_histogram_full()},
          {"rejected", "rejected", c.rejected()}};
}

std::vector<CounterValue> SampledReasons(const v1::KindCounters& c) {
  return {{"sampled_min_latency", "below min latency", c.sampled_min_latency()},
          {"sampled_one_in_n", "1-in-N", c.sampled_one_in_n()},
          {"sampled_first_k", "past first K/s", c.sampled_first_k()},
          {"sampled_rate", "over rate cap", c.sampled_rate()}};
}

uint64_t Lost(const v1::KindCounters& c) {
  uint64_t sum = 0;
  for (const CounterValue& v : LostReasons(c)) sum += v.value;
  return sum;
}

std::vector<CounterValue> CsvCounterColumns(const v1::KindCounters& c) {
  return {{"produced", "produced", c.produced()},
          {"written", "written", c.written()},
          {"sampled_out", "sampled out", c.sampled_out()},
          {"lost_ring_full", "", c.lost_ring_full()},
          {"lost_decode", "", c.lost_decode()},
          {"lost_write", "", c.lost_write()},
          {"lost_table_full", "", c.lost_table_full()},
          {"lost_histogram_full", "", c.lost_histogram_full()},
          {"lost_buffer_full", "", c.lost_buffer_full()},
          {"lost_no_buffer", "", c.lost_no_buffer()},
          {"rejected", "", c.rejected()},
          {"sampled_one_in_n", "", c.sampled_one_in_n()},
          {"sampled_first_k", "", c.sampled_first_k()},
          {"sampled_rate", "", c.sampled_rate()},
          {"sampled_min_latency", "", c.sampled_min_latency()}};
}

std::string CounterKindName(v1::EventKind k) {
  std::string kind = v1::EventKind_Name(k);
  return kind.rfind("EVENT_KIND_", 0) == 0 ? kind.substr(11) : kind;
}

}  // namespace probe
