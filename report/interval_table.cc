#include "interval_table.h"

#include <sstream>

#include "histogram.h"

namespace probe {

IntervalTable::IntervalTable(std::vector<std::pair<std::string, std::string>> names)
    : names_(std::move(names)),
      all_(names_.size()),
      by_thread_(names_.size()),
      open_(names_.size()) {}

void IntervalTable::Add(const v1::Marker& m) {
  const ThreadKey key{m.pid(), m.tid()};
  for (size_t i = 0; i < names_.size(); ++i) {
    // B first: with A == B the interval is from one marker to the next.
    if (m.name() == names_[i].second) {
      auto it = open_[i].find(key);
      if (it != open_[i].end()) {
        if (m.time_ns() >= it->second) {
          const uint64_t d = m.time_ns() - it->second;
          all_[i].Add(d);
          if (by_thread_[i].size() < kMaxThreads || by_thread_[i].count(key))
            by_thread_[i][key].Add(d);
        }
        open_[i].erase(it);
      }
    }
    if (m.name() == names_[i].first && open_[i].size() < kMaxThreads) open_[i][key] = m.time_ns();
  }
}

std::string IntervalTable::Format() const {
  std::ostringstream o;
  auto row = [&](const std::string& who, const DurationSample& s) {
    DurationStats st = s.Stats();
    const char* mark = st.exact ? "" : "~";
    char line[256];
    snprintf(line, sizeof(line), "  %-24s %8llu %s%10s %s%10s %s%10s %10s\n", who.c_str(),
             (unsigned long long)st.count, mark, FormatDuration(st.p50_ns).c_str(), mark,
             FormatDuration(st.p90_ns).c_str(), mark, FormatDuration(st.p99_ns).c_str(),
             FormatDuration(st.max_ns).c_str());
    o << line;
  };
  for (size_t i = 0; i < names_.size(); ++i) {
    o << "\ninterval " << names_[i].first << ".." << names_[i].second << " (from each "
      << names_[i].first << " to the next " << names_[i].second << " on the same thread):\n";
    char head[256];
    snprintf(head, sizeof(head), "  %-24s %8s %11s %11s %11s %10s\n", "THREAD", "COUNT", "P50",
             "P90", "P99", "MAX");
    o << head;
    if (all_[i].count() == 0) {
      o << "  (no " << names_[i].first << " followed by " << names_[i].second << ")\n";
      continue;
    }
    row("all", all_[i]);
    for (const auto& [key, s] : by_thread_[i])
      row(std::to_string(key.pid) + "/" + std::to_string(key.tid), s);
  }
  return o.str();
}

}  // namespace probe
