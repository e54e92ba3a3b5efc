#include "repeat_runs.h"

#include <algorithm>
#include <cmath>

namespace probe {

Spread SpreadOf(std::vector<double> values) {
  Spread s;
  s.n = values.size();
  if (values.empty()) return s;
  std::sort(values.begin(), values.end());
  s.min = values.front();
  s.max = values.back();
  double sum = 0;
  for (double v : values) sum += v;
  s.mean = sum / double(s.n);
  const size_t mid = s.n / 2;
  s.median = s.n % 2 ? values[mid] : (values[mid - 1] + values[mid]) / 2;
  if (s.n > 1) {
    double squares = 0;
    for (double v : values) squares += (v - s.mean) * (v - s.mean);
    s.sd = std::sqrt(squares / double(s.n - 1));
  }
  return s;
}

void RepeatRuns::OnRepeatRun(const v1::RepeatRun& r) {
  if (r.index() == 0) return;  // not a run: an index is 1-based
  RunTiming& t = runs_[r.index()];
  t.index = r.index();
  t.pid = r.pid();
  t.exec_time_ns = r.exec_time_ns();
  t.end_time_ns = r.end_time_ns();
  t.duration_ns = r.duration_ns();
  t.succeeded = r.succeeded();
  t.exit_code = r.exit_code();
  t.exit_signal = r.exit_signal();
  t.processes = r.processes();
}

void RepeatRuns::OnProcess(const v1::ProcessLifetime& p) {
  if (p.run_index() == 0) return;
  NameStats& n = names_[p.comm()];
  n.per_run[p.run_index()]++;
  if (p.finished() && p.exec_time_ns() != 0) {
    n.exec_to_exit_ns.push_back(double(p.exec_to_exit_ns()));
    n.exec_to_exit_run.push_back(p.run_index());
  }
}

std::vector<RunTiming> RepeatRuns::Runs() const {
  std::vector<RunTiming> out;
  for (const auto& [index, t] : runs_) out.push_back(t);
  return out;
}

Spread RepeatRuns::CommandTime() const {
  std::vector<double> v;
  for (const auto& [index, t] : runs_) v.push_back(double(t.duration_ns));
  return SpreadOf(std::move(v));
}

size_t RepeatRuns::failed() const {
  size_t n = 0;
  for (const auto& [index, t] : runs_) n += !t.succeeded;
  return n;
}

std::vector<ProcessAcrossRuns> RepeatRuns::Processes() const {
  std::vector<ProcessAcrossRuns> out;
  for (const auto& [name, n] : names_) {
    std::vector<double> per_run, e2e;
    // A run without a process of this name counts as 0 of them; a process
    // of a run that did not end (the agent stopped it) is left out.
    for (const auto& [index, t] : runs_) {
      auto it = n.per_run.find(index);
      per_run.push_back(it == n.per_run.end() ? 0 : it->second);
    }
    for (size_t i = 0; i < n.exec_to_exit_ns.size(); ++i)
      if (runs_.count(n.exec_to_exit_run[i])) e2e.push_back(n.exec_to_exit_ns[i]);
    if (per_run.empty() ||
        std::all_of(per_run.begin(), per_run.end(), [](double c) { return c == 0; }))
      continue;
    out.push_back({name, SpreadOf(std::move(per_run)), SpreadOf(std::move(e2e))});
  }
  return out;
}

std::vector<RunTiming> RunsOf(const std::vector<v1::Record>& records) {
  RepeatRuns runs;
  for (const auto& r : records) Visit(r, runs);
  return runs.Runs();
}

}  // namespace probe
