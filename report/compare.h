// probe-report --compare BASE NEW: every figure of the two sides' runs set
// side by side (compare_runs.h builds the runs), with its test, sorted so
// the regressions come first. Pure; the text, JSON and HTML outputs format
// a Comparison and compute nothing of their own.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "compare_runs.h"
#include "probe.pb.h"

namespace probe {

// Significance level of every verdict (and of --fail-if-slower).
inline constexpr double kAlpha = 0.01;

enum class FigureGroup { kCommand, kProcess, kSyscall, kWait, kSched, kWakeup, kShim, kSpan };
const char* GroupName(FigureGroup g);

struct Figure {
  FigureGroup group = FigureGroup::kCommand;
  std::string what;                // "command", "sh > bash -c _", "pselect6 in eventfd_pingpong"
  std::string measure;             // "time per run", "exec->exit per run", "p99", "blocked per run"
  bool is_time = true;             // ns; false: a count per run
  double base = 0, neu = 0;        // mean per run, or the distribution's percentile
  double base_sd = 0, new_sd = 0;  // across runs; 0 for percentiles
  bool base_exact = true, new_exact = true;  // percentiles: false = interpolated in buckets
  double p = 1;                              // Holm-adjusted over the comparison's tested figures
  double raw_p = 1;                          // the test's own
  std::string test;                          // how raw_p was computed, e.g. "MWU per run, exact"
  double impact_ns = 0;                      // |new - base| per run for times per run; sorting key
  // base and new histograms (percentile figures only), for the HTML overlay.
  v1::SyscallHistogram base_hist, new_hist;

  double ratio() const;  // new / base; infinity when only NEW has it
  bool significant() const { return p < kAlpha; }
  // A time that grew by more than pct percent with p < kAlpha: what
  // --fail-if-slower gates on (counts never do).
  bool SlowerBy(double pct) const;
};

struct Comparison {
  size_t base_runs = 0, new_runs = 0;
  bool base_sampled = false, new_sampled = false;
  size_t base_failed = 0, new_failed = 0;  // runs whose command did not succeed
  std::vector<Figure> figures;             // regressions first, then by impact
  size_t tested = 0;                       // figures with something to test: the Holm family
  // The processes that explain a change of the command time: keys whose
  // count per run changed, e.g. "bash x4"; their exec->exit delta per run.
  double process_delta = 0;                // processes per run, NEW - BASE
  std::vector<std::string> process_names;  // "bash x4", "head"
  double process_time_ns = 0;              // their exec->exit outside their children, NEW - BASE
};

Comparison Compare(const Side& base, const Side& neu);

// The command-time figure (always figures[i] for some i), or null.
const Figure* CommandFigure(const Comparison& c);

}  // namespace probe
