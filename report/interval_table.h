// --interval A..B: the time from each marker named A to the next marker named
// B on the same thread (other markers in between do not matter), per thread
// and overall. Pure; memory bounded by DurationSample and the thread count.
#pragma once
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "probe.pb.h"
#include "record_visitor.h"
#include "shim_table.h"

namespace probe {

class IntervalTable : public RecordVisitor {
 public:
  explicit IntervalTable(std::vector<std::pair<std::string, std::string>> names);
  void Add(const v1::Marker& m);
  void OnMarker(const v1::Marker& m) override { Add(m); }
  // Text: one block per requested interval.
  std::string Format() const;
  const DurationSample& all(size_t i) const { return all_[i]; }

 private:
  static constexpr size_t kMaxThreads = 65536;
  std::vector<std::pair<std::string, std::string>> names_;
  std::vector<DurationSample> all_;
  std::vector<std::map<ThreadKey, DurationSample>> by_thread_;
  std::vector<std::map<ThreadKey, uint64_t>> open_;  // thread -> time of its last A
};

}  // namespace probe
