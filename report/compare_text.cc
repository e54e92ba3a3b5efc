// The text of probe-report --compare: the verdict on the command time and
// where it went, then every figure worth showing, regressions first.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <set>

#include "compare_output.h"
#include "histogram.h"

namespace probe {

namespace {

constexpr size_t kTableRows = 40;  // the rest is in --json
constexpr size_t kWhereLines = 4;  // figures named under the verdict
constexpr size_t kWhatWidth = 52;

std::string Clip(const std::string& s, size_t n) {
  return s.size() <= n ? s : s.substr(0, n - 3) + "...";
}

std::string SignedDuration(double ns) {
  return (ns < 0 ? "-" : "+") + FormatDuration(uint64_t(std::llround(std::fabs(ns))));
}

// "1.47x slower" / "1.10x faster" / "the same".
std::string Speed(const Figure& f) {
  if (f.base == 0 || f.neu == 0) return f.neu > f.base ? "new in NEW" : "gone in NEW";
  const double r = f.ratio();
  if (r >= 1) return fmt::format("{:.2f}x slower", r);
  return fmt::format("{:.2f}x faster", 1 / r);
}

std::string Verdict(const Figure& f) {
  return f.significant() ? FormatP(f.p) : FormatP(f.p) + ", not significant";
}

// Figures worth naming under the verdict: significant times that are not
// the command itself, percentiles, nor the processes already summed up.
// What a wait lost explains a syscall's time, which explains more than a
// process or a scheduler total (a parent's off-CPU time is its child's run):
// in that order, by impact inside each.
std::vector<const Figure*> Where(const Comparison& c) {
  std::vector<const Figure*> out;
  for (const Figure& f : c.figures) {
    if (!f.is_time || !f.significant() || f.group == FigureGroup::kCommand) continue;
    if (f.group == FigureGroup::kProcess && f.measure != "outside children per run") continue;
    if (f.measure.rfind("p", 0) == 0 && f.measure.size() == 3) continue;  // percentiles
    out.push_back(&f);
  }
  // A wait part of a syscall listed is said on the syscall's line.
  std::set<std::string> syscalls;
  for (const Figure* f : out)
    if (f->group == FigureGroup::kSyscall && f->measure == "time per run") syscalls.insert(f->what);
  std::erase_if(out, [&](const Figure* f) {
    return f->group == FigureGroup::kWait && syscalls.count(f->what);
  });
  auto order = [](const Figure* f) {
    switch (f->group) {
      case FigureGroup::kWait:
      case FigureGroup::kSyscall:
        return 1;
      case FigureGroup::kShim:
      case FigureGroup::kSpan:
        return 2;
      case FigureGroup::kProcess:
        return 3;
      default:
        return 4;
    }
  };
  std::stable_sort(out.begin(), out.end(), [&](const Figure* a, const Figure* b) {
    if (order(a) != order(b)) return order(a) < order(b);
    return a->impact_ns > b->impact_ns;
  });
  if (out.size() > kWhereLines) out.resize(kWhereLines);
  return out;
}

// "  pselect6 in x: blocked per run +20.00 ms (80.00 ms -> 100.00 ms, p < 0.001)";
// a syscall's time gets the wait parts that moved with it.
std::string WhereLine(const Comparison& c, const Figure& f) {
  std::string line =
      fmt::format("  {}: {} {} ({} -> {}, {})", Clip(f.what, 60), f.measure, FormatDelta(f),
                  FormatValue(f, f.base), FormatValue(f, f.neu), FormatP(f.p));
  if (f.group != FigureGroup::kSyscall) return line + "\n";
  std::string parts;
  const double total = std::fabs(f.neu - f.base);
  for (const Figure& w : c.figures) {
    if (w.group != FigureGroup::kWait || w.what != f.what) continue;
    if (std::fabs(w.neu - w.base) < 0.1 * total) continue;
    std::string part = w.measure.substr(0, w.measure.find(" per run"));
    parts += (parts.empty() ? ", of which " : ", ") + part + " " + FormatDelta(w);
  }
  return line + parts + "\n";
}

}  // namespace

std::string FormatP(double p) {
  if (p < 0.001) return "p < 0.001";
  return fmt::format("p = {:.3f}", p);
}

std::string FormatValue(const Figure& f, double v, bool exact) {
  if (!f.is_time) return fmt::format("{:.1f}", v);
  return (exact ? "" : "~") + FormatDuration(uint64_t(std::llround(std::max(0.0, v))));
}

std::string FormatDelta(const Figure& f) {
  const double d = f.neu - f.base;
  if (f.is_time) return SignedDuration(d);
  return fmt::format("{:+.1f}", d);
}

std::string FormatRatio(const Figure& f) {
  if (f.base == 0 && f.neu == 0) return "1.00x";
  if (f.base == 0) return "new";
  if (f.neu == 0) return "gone";
  return fmt::format("{:.2f}x", f.ratio());
}

std::string FormatCompareText(const Comparison& c, std::optional<double> pct) {
  std::string out;
  out +=
      fmt::format("BASE: {} run{}{}; NEW: {} run{}{}\n", c.base_runs, c.base_runs == 1 ? "" : "s",
                  c.base_sampled ? " (sampled: syscalls compared through their histograms)" : "",
                  c.new_runs, c.new_runs == 1 ? "" : "s",
                  c.new_sampled ? " (sampled: syscalls compared through their histograms)" : "");
  if (c.base_failed || c.new_failed)
    out += fmt::format("warning: the command failed in {} BASE and {} NEW runs\n", c.base_failed,
                       c.new_failed);
  if (c.base_runs < 5 || c.new_runs < 5)
    out +=
        "note: fewer than 5 runs on a side: per-run figures cannot reach p < 0.01 (10 or more "
        "runs a side are advised)\n";
  if (const Figure* cmd = CommandFigure(c)) {
    out += fmt::format("{} per run ({}, {})", SignedDuration(cmd->neu - cmd->base), Speed(*cmd),
                       Verdict(*cmd));
    if (std::fabs(c.process_delta) >= 0.5) {
      std::string names;
      for (const std::string& n : c.process_names) names += (names.empty() ? "" : ", ") + n;
      const long n = std::lround(std::fabs(c.process_delta));
      out += fmt::format(": {} {} process{} per run ({}) {} {} exec->exit", n,
                         c.process_delta > 0 ? "more" : "fewer", n == 1 ? "" : "es", names,
                         c.process_delta > 0 ? "take" : "took",
                         FormatDuration(uint64_t(std::llround(std::fabs(c.process_time_ns)))));
      out += " outside their children";
    }
    out += "\n";
    out += fmt::format("  command time per run: {} +- {} -> {} +- {} (mean +- sd)\n",
                       FormatValue(*cmd, cmd->base), FormatValue(*cmd, cmd->base_sd),
                       FormatValue(*cmd, cmd->neu), FormatValue(*cmd, cmd->new_sd));
  }
  for (const Figure* f : Where(c)) out += WhereLine(c, *f);

  out += fmt::format("\n{:<10} {:<{}} {:<24} {:>11}    {:<11} {:>7} {:>10}  {}\n", "group",
                     "figure", kWhatWidth, "measure", "BASE", "NEW", "ratio", "p", "");
  size_t shown = 0, hidden = 0;
  for (const Figure& f : c.figures) {
    // Figures equal on both sides (e.g. a count of 1 in every run) say nothing.
    if (f.base == f.neu && !f.significant()) continue;
    if (shown == kTableRows) {
      ++hidden;
      continue;
    }
    ++shown;
    std::string mark = f.significant() ? "significant" : "";
    if (pct && f.SlowerBy(*pct)) mark = fmt::format("SLOWER > {:g}%", *pct);
    out += fmt::format("{:<10} {:<{}} {:<24} {:>11} -> {:<11} {:>7} {:>10}  {}\n",
                       GroupName(f.group), Clip(f.what, kWhatWidth), kWhatWidth, f.measure,
                       FormatValue(f, f.base, f.base_exact), FormatValue(f, f.neu, f.new_exact),
                       FormatRatio(f), f.p < 0.001 ? "<0.001" : fmt::format("{:.3f}", f.p), mark);
  }
  if (hidden)
    out += fmt::format("({} more figures not shown: --json lists every figure)\n", hidden);
  out += fmt::format(
      "(mean per run over the runs, or the percentile of every call of each side merged; p: "
      "two-sided Mann-Whitney U, Holm-adjusted over the {} figures tested, significant below "
      "0.01; ~ interpolated in log2 buckets)\n",
      c.tested);
  return out;
}

}  // namespace probe
