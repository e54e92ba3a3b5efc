#include "counters.h"

namespace probe {

using counters::Class;
using counters::kCounters;

std::vector<CounterValue> CountsOf(const v1::KindCounters& c, Class cls) {
  std::vector<CounterValue> out;
  for (const counters::Counter& k : kCounters)
    if (k.cls == cls) out.push_back({&k, counters::Get(c, k.reason)});
  return out;
}

std::vector<CounterValue> CsvCounterColumns(const v1::KindCounters& c) {
  std::vector<CounterValue> out;
  for (counters::Reason r : counters::InFieldOrder())
    if (kCounters[r].cls != Class::kDetail) out.push_back({&kCounters[r], counters::Get(c, r)});
  return out;
}

std::string CsvCountersHeader() {
  std::string h = "time_ns,final,kind";
  for (const CounterValue& v : CsvCounterColumns(v1::KindCounters()))
    h += std::string(",") + v.counter->name;
  return h + ",cpu_losses,bytes_written";
}

std::string CounterKindName(v1::EventKind k) {
  std::string kind = v1::EventKind_Name(k);
  return kind.rfind("EVENT_KIND_", 0) == 0 ? kind.substr(11) : kind;
}

}  // namespace probe
