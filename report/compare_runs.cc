#include "compare_runs.h"

#include <algorithm>
#include <set>

#include "names.h"
#include "process_cpu.h"
#include "record_reader.h"
#include "record_visitor.h"

namespace probe {

namespace {

constexpr size_t kShapeArgs = 6;     // argv words kept in a shape
constexpr size_t kShapeOption = 24;  // bytes kept of an option word

std::string Basename(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

std::string ProcessName(const v1::ProcessLifetime& p) {
  std::string name = Basename(p.exe());
  return name.empty() ? (p.comm().empty() ? "?" : p.comm()) : name;
}

// Options stay ("-c", "--fast"); every other word is "_": the same program
// run on other files or values has the same shape.
std::string Shape(const v1::ProcessLifetime& p) {
  std::string shape = ProcessName(p);
  for (int i = 1; i < p.argv_size(); ++i) {
    if (size_t(i) > kShapeArgs) {
      shape += " ...";
      break;
    }
    const std::string& a = p.argv(i);
    shape += ' ';
    shape += a.size() > 1 && a[0] == '-' ? a.substr(0, kShapeOption) : "_";
  }
  if (p.argv_truncated() && p.argv_size() <= int(kShapeArgs)) shape += " ...";
  return shape;
}

// One file's processes by pid and the run each belongs to.
struct RunMap {
  bool repeated = false;
  std::map<int32_t, const v1::ProcessLifetime*> by_pid;
  std::map<int32_t, uint32_t> run_of;  // pid -> run index (0 when not repeated)
  std::set<uint32_t> indexes;

  explicit RunMap(const TraceSummary& s) {
    for (const RunTiming& t : s.repeats.Runs())
      if (!t.single_launch) indexes.insert(t.index);
    for (const auto& p : s.processes) {
      by_pid[p.pid()] = &p;
      if (p.run_index() > 0) indexes.insert(p.run_index());
    }
    repeated = !indexes.empty();
    for (const auto& p : s.processes)
      if (!repeated || p.run_index() > 0) run_of[p.pid()] = repeated ? p.run_index() : 0;
    if (!repeated) indexes.insert(0);
  }
  // The run of pid, or false when it belongs to none (a repeated file's
  // process outside every run).
  bool RunOf(int32_t pid, uint32_t* run) const {
    auto it = run_of.find(pid);
    if (it != run_of.end()) {
      *run = it->second;
      return true;
    }
    *run = 0;
    return !repeated;
  }
  std::string NameOf(int32_t pid, const NameTable& names) const {
    auto it = by_pid.find(pid);
    if (it != by_pid.end()) return ProcessName(*it->second);
    const std::string* n = names.Process(pid);
    return n && !n->empty() ? *n : "?";
  }
};

// p's exec->exit less the union of its children's fork->exit inside it.
uint64_t OwnTime(const v1::ProcessLifetime& p,
                 const std::multimap<int32_t, const v1::ProcessLifetime*>& children) {
  const uint64_t start = p.exec_time_ns() ? p.exec_time_ns() : p.fork_time_ns();
  const uint64_t end = p.exit_time_ns();
  if (!p.finished() || end <= start) return p.exec_to_exit_ns();
  std::vector<std::pair<uint64_t, uint64_t>> spans;
  auto [lo, hi] = children.equal_range(p.pid());
  for (auto it = lo; it != hi; ++it) {
    const v1::ProcessLifetime& c = *it->second;
    const uint64_t from = std::max(start, c.fork_time_ns());
    const uint64_t to = std::min(end, c.finished() ? c.exit_time_ns() : end);
    if (to > from) spans.emplace_back(from, to);
  }
  std::sort(spans.begin(), spans.end());
  uint64_t covered = 0, reach = start;
  for (const auto& [from, to] : spans) {
    if (to <= reach) continue;
    covered += to - std::max(from, reach);
    reach = to;
  }
  return end - start - std::min(covered, end - start);
}

void AddProcesses(const std::vector<const v1::ProcessLifetime*>& procs, RunFigures* run) {
  std::map<int32_t, const v1::ProcessLifetime*> by_pid;
  std::multimap<int32_t, const v1::ProcessLifetime*> children;
  for (auto* p : procs) by_pid[p->pid()] = p;
  for (auto* p : procs)
    if (by_pid.count(p->ppid()) && p->ppid() != p->pid()) children.emplace(p->ppid(), p);
  for (auto* p : procs) {
    // Place in the tree: the names of its ancestors inside the run.
    std::vector<std::string> chain = {Shape(*p)};
    int32_t ppid = p->ppid();
    for (size_t hops = 0; hops < procs.size(); ++hops) {
      auto it = by_pid.find(ppid);
      if (it == by_pid.end() || it->second == p) break;
      chain.insert(chain.begin(), ProcessName(*it->second));
      ppid = it->second->ppid();
    }
    std::string key;
    for (const std::string& c : chain) key += (key.empty() ? "" : " > ") + c;
    ProcessFigures& f = run->processes[key];
    f.name = ProcessName(*p);
    f.shape = chain.back();
    f.chain = std::move(chain);
    f.count++;
    f.exec_to_exit_ns += p->exec_to_exit_ns();
    f.own_ns += OwnTime(*p, children);
    const ProcessCpu cpu = CpuShown(*p);
    f.cpu_ns += cpu.user_ns + cpu.system_ns;
  }
}

}  // namespace

bool SyscallsSampled(const v1::Header& h) {
  if (h.min_latency_ns() > 0) return true;
  for (const auto& k : h.sampling().kinds()) {
    if (k.kind() != v1::EVENT_KIND_SYSCALL) continue;
    if (k.keep_one_in() > 1 || k.min_latency_ns() > 0 || k.first_per_second() > 0) return true;
  }
  return h.sampling().max_records_per_s() > 0;
}

std::vector<RunFigures> SplitRuns(const TraceSummary& s, const std::string& label) {
  const RunMap map(s);
  std::map<uint32_t, RunFigures> out;
  for (uint32_t i : map.indexes)
    out[i].label = map.repeated ? label + " run " + std::to_string(i) : label;

  std::map<uint32_t, std::vector<const v1::ProcessLifetime*>> procs;
  for (const auto& p : s.processes) {
    uint32_t run;
    if (map.RunOf(p.pid(), &run)) procs[run].push_back(&p);
  }
  for (auto& [i, run] : out) AddProcesses(procs[i], &run);
  // The command's time is the one run model's (report/repeat_runs.h): a
  // RepeatRun record's, or a single launch's first exec -> last exit.
  for (const RunTiming& t : s.repeats.Runs()) {
    auto it = out.find(t.single_launch ? 0 : t.index);
    if (it == out.end()) continue;
    it->second.timed = true;
    it->second.command_ns = t.duration_ns;
    it->second.succeeded = t.succeeded;
  }

  auto run_of = [&](int32_t pid) -> RunFigures* {
    uint32_t i;
    if (!map.RunOf(pid, &i)) return nullptr;
    auto it = out.find(i);
    return it == out.end() ? nullptr : &it->second;
  };
  for (const SyscallRow& row : s.syscalls.Rows()) {
    RunFigures* run = run_of(row.key.pid);
    if (!run) continue;
    CallFigures& c =
        run->syscalls[{map.NameOf(row.key.pid, s.names), SyscallName(row.key.syscall)}];
    MergeHistogram(row.histogram, &c.histogram);
    const bool exact = row.histogram.count() == 0 || !row.exact_durations.empty();
    c.all_exact = c.all_exact && exact;
    if (c.all_exact)
      c.exact.insert(c.exact.end(), row.exact_durations.begin(), row.exact_durations.end());
    else
      std::vector<uint64_t>().swap(c.exact);
  }
  for (const auto& [key, sums] : s.waits.keys()) {
    RunFigures* run = run_of(key.pid);
    if (!run) continue;
    WaitFigures& w = run->waits[{map.NameOf(key.pid, s.names), SyscallName(key.syscall)}];
    w.calls += sums.calls;
    w.to_block_ns += sums.to_block_ns;
    w.blocked_ns += sums.blocked_ns;
    w.run_queue_ns += sums.run_queue_ns;
    w.return_ns += sums.return_ns;
  }
  for (const auto& [key, h] : s.sched.histograms()) {
    RunFigures* run = run_of(key.first);
    if (!run) continue;
    auto& into = key.second == v1::SCHED_HISTOGRAM_RUN_QUEUE ? run->run_queue : run->off_cpu;
    MergeHistogram(AsSyscallHistogram(h), &into[map.NameOf(key.first, s.names)]);
  }
  for (const auto& [key, sample] : s.sched.delay_by_waker()) {
    RunFigures* run = run_of(key.first);
    if (run) run->wakeups[{map.NameOf(key.first, s.names), key.second}] += sample.count();
  }
  for (const auto& [key, calls] : s.shim.calls()) {
    RunFigures* run = run_of(key.pid);
    if (!run || calls.overhead.count() == 0) continue;
    CountSum& c =
        run->shim_overhead[{map.NameOf(key.pid, s.names), ShimFunctionName(key.function)}];
    c.count += calls.overhead.count();
    c.sum_ns += calls.overhead.sum();
  }
  for (const auto& [key, sample] : s.shim.spans().by_thread()) {
    RunFigures* run = run_of(key.first.pid);
    if (!run) continue;
    CountSum& c = run->spans[{map.NameOf(key.first.pid, s.names), key.second}];
    c.count += sample.count();
    c.sum_ns += sample.sum();
  }
  std::vector<RunFigures> result;
  for (auto& [i, run] : out) result.push_back(std::move(run));
  return result;
}

bool LoadSide(const std::string& files, Side* side, std::string* error) {
  size_t start = 0;
  while (start <= files.size()) {
    size_t comma = files.find(',', start);
    const std::string path =
        files.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    start = comma == std::string::npos ? files.size() + 1 : comma + 1;
    if (path.empty()) {
      *error = "empty file name in '" + files + "'";
      return false;
    }
    auto reader = RecordReader::Open(path, error);
    if (!reader) return false;
    TraceSummary summary;
    v1::Record r;
    ReadStatus status;
    while ((status = reader->Next(&r)) == ReadStatus::kRecord) AddRecord(r, &summary);
    if (status != ReadStatus::kEnd && status != ReadStatus::kTruncated) {
      *error = path + " is not a probe record file: " + reader->reason();
      return false;
    }
    if (!summary.has_header) {
      *error = path + " is not a probe record file (no header record)";
      return false;
    }
    if (summary.processes.empty()) {
      *error = path + " holds no process record: nothing to compare";
      return false;
    }
    side->sampled = side->sampled || SyscallsSampled(summary.header);
    for (auto& run : SplitRuns(summary, path)) side->runs.push_back(std::move(run));
  }
  return true;
}

}  // namespace probe
