#include "repeat_runs.h"

#include <algorithm>
#include <set>

namespace probe {

void RepeatRuns::OnHeader(const v1::Header& h) {
  repeat_count_ = h.repeat_count();
  // -- CMD: the agent's arguments hold "--" and the launched pid is the only
  // target (--pid and --all cannot go with a command).
  bool launched = false;
  for (const auto& a : h.command_line()) launched |= a == "--";
  if (repeat_count_ == 0 && launched && !h.system_wide() && h.target_pids_size() == 1)
    launched_pid_ = h.target_pids(0);
}

void RepeatRuns::OnRepeatRun(const v1::RepeatRun& r) {
  if (r.index() == 0) return;  // not a run: an index is 1-based
  RunTiming& t = runs_[r.index()];
  t.index = r.index();
  t.pid = r.pid();
  t.start_time_ns = r.start_time_ns();
  t.exec_time_ns = r.exec_time_ns();
  t.end_time_ns = r.end_time_ns();
  t.duration_ns = r.duration_ns();
  t.succeeded = r.succeeded();
  t.exit_code = r.exit_code();
  t.exit_signal = r.exit_signal();
  t.processes = r.processes();
}

void RepeatRuns::OnProcess(const v1::ProcessLifetime& p) {
  uint32_t run = p.run_index();
  if (run == 0 && launched_pid_ != 0) {
    run = 1;
    single_.processes++;
    single_.end_time_ns = std::max(single_.end_time_ns, p.exit_time_ns());
    if (p.pid() == launched_pid_) {
      launched_seen_ = p.finished();
      single_.pid = p.pid();
      single_.start_time_ns = p.fork_time_ns();
      single_.exec_time_ns = p.first_exec_time_ns() ? p.first_exec_time_ns() : p.exec_time_ns();
      single_.exit_code = p.exit_code();
      single_.exit_signal = p.exit_signal();
      single_.succeeded = p.finished() && p.exit_code() == 0 && p.exit_signal() == 0;
    }
  }
  if (run == 0) return;
  NameStats& n = names_[p.comm()];
  n.per_run[run]++;
  if (p.finished() && p.exec_time_ns() != 0) {
    n.exec_to_exit_ns.push_back(double(p.exec_to_exit_ns()));
    n.exec_to_exit_run.push_back(run);
  }
}

std::vector<RunTiming> RepeatRuns::Runs() const {
  std::vector<RunTiming> out;
  for (const auto& [index, t] : runs_) out.push_back(t);
  // A single launch's run: ended when its command's record says it
  // finished (a command the agent stopped is no run).
  if (runs_.empty() && launched_seen_ && single_.exec_time_ns) {
    RunTiming t = single_;
    t.index = 1;
    t.single_launch = true;
    t.duration_ns = t.end_time_ns > t.exec_time_ns ? t.end_time_ns - t.exec_time_ns : 0;
    out.push_back(t);
  }
  return out;
}

Spread RepeatRuns::CommandTime() const {
  std::vector<double> v;
  for (const RunTiming& t : Runs()) v.push_back(double(t.duration_ns));
  return SpreadOf(std::move(v));
}

size_t RepeatRuns::failed() const {
  size_t n = 0;
  for (const RunTiming& t : Runs()) n += !t.succeeded;
  return n;
}

std::vector<ProcessAcrossRuns> RepeatRuns::Processes() const {
  std::vector<ProcessAcrossRuns> out;
  const std::vector<RunTiming> runs = Runs();
  for (const auto& [name, n] : names_) {
    std::vector<double> per_run, e2e;
    // A run without a process of this name counts as 0 of them; a process
    // of a run that did not end (the agent stopped it) is left out.
    std::set<uint32_t> ended;
    for (const RunTiming& t : runs) {
      ended.insert(t.index);
      auto it = n.per_run.find(t.index);
      per_run.push_back(it == n.per_run.end() ? 0 : it->second);
    }
    for (size_t i = 0; i < n.exec_to_exit_ns.size(); ++i)
      if (ended.count(n.exec_to_exit_run[i])) e2e.push_back(n.exec_to_exit_ns[i]);
    if (per_run.empty() ||
        std::all_of(per_run.begin(), per_run.end(), [](double c) { return c == 0; }))
      continue;
    out.push_back({name, SpreadOf(per_run), SpreadOf(e2e), std::move(per_run), std::move(e2e)});
  }
  return out;
}

std::vector<RunTiming> RunsOf(const std::vector<v1::Record>& records) {
  RepeatRuns runs;
  for (const auto& r : records) Visit(r, runs);
  return runs.Runs();
}

}  // namespace probe
