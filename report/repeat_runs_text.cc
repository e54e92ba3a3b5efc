#include "repeat_runs_text.h"

#include <cmath>
#include <cstdio>

#include "histogram.h"

namespace probe {

namespace {

std::string Ns(double ns) { return FormatDuration(uint64_t(std::llround(std::max(ns, 0.0)))); }

std::string ExitText(const RunTiming& t) {
  if (t.exit_signal) return "signal " + std::to_string(t.exit_signal);
  return "exit " + std::to_string(t.exit_code);
}

// Runs listed one by one up to this many; past it the statistics say enough.
constexpr size_t kListedRuns = 20;

}  // namespace

std::string FormatRepeatSection(const RepeatRuns& runs) {
  if (!runs.repeated()) return "";
  const std::vector<RunTiming> all = runs.Runs();
  const Spread t = runs.CommandTime();
  std::string o = "\nrepeated runs: " + std::to_string(all.size()) + " ended of " +
                  std::to_string(runs.repeat_count()) + " asked (--repeat), " +
                  std::to_string(runs.failed()) + " failed";
  std::string failed;
  for (const RunTiming& r : all)
    if (!r.succeeded && failed.size() < 200)
      failed += (failed.empty() ? ": run " : ", run ") + std::to_string(r.index) + " (" +
                ExitText(r) + ")";
  o += failed + "\n";
  if (all.empty()) return o;
  char line[512];
  o += "  command time per run (its first exec -> the exit of its last process):\n";
  snprintf(line, sizeof(line), "    mean +- sd   %s +- %s   (n %zu)\n", Ns(t.mean).c_str(),
           Ns(t.sd).c_str(), t.n);
  o += line;
  snprintf(line, sizeof(line), "    median       %s\n    min ... max  %s ... %s\n",
           Ns(t.median).c_str(), Ns(t.min).c_str(), Ns(t.max).c_str());
  o += line;
  if (all.size() <= kListedRuns) {
    o += "    runs:";
    for (const RunTiming& r : all)
      o += " " + std::to_string(r.index) + ": " + Ns(double(r.duration_ns)) +
           (r.succeeded ? "" : " (" + ExitText(r) + ")") + ",";
    o.back() = '\n';
  }
  const std::vector<ProcessAcrossRuns> procs = runs.Processes();
  if (procs.empty()) return o;
  o += "  processes per run, by name (exec -> exit over every run's processes):\n";
  snprintf(line, sizeof(line), "    %-16s %16s %24s %12s %12s %12s\n", "COMM", "PER RUN",
           "EXEC->EXIT MEAN +- SD", "MEDIAN", "MIN", "MAX");
  o += line;
  for (const ProcessAcrossRuns& p : procs) {
    char per_run[48];
    snprintf(per_run, sizeof(per_run), "%.2f +- %.2f", p.per_run.mean, p.per_run.sd);
    const Spread& e = p.exec_to_exit_ns;
    const std::string mean_sd = e.n ? Ns(e.mean) + " +- " + Ns(e.sd) : "-";
    snprintf(line, sizeof(line), "    %-16s %16s %24s %12s %12s %12s\n", p.name.c_str(), per_run,
             mean_sd.c_str(), e.n ? Ns(e.median).c_str() : "-", e.n ? Ns(e.min).c_str() : "-",
             e.n ? Ns(e.max).c_str() : "-");
    o += line;
  }
  return o;
}

}  // namespace probe
