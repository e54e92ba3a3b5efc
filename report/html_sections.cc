#include "html_sections.h"

#include <algorithm>
#include <vector>

#include "counters.h"
#include "histogram.h"
#include "html_plots.h"
#include "html_writer.h"
#include "names.h"

namespace probe::html {

namespace {

constexpr size_t kDrawnSyscallHistograms = 48;
constexpr size_t kDrawnSchedHistograms = 32;
constexpr size_t kTableRows = 500;

}  // namespace

namespace {

// The text report's "run-queue delay by waker", the same numbers.
std::string DelayByWakerTable(const TraceSummary& s) {
  const auto& delays = s.sched.delay_by_waker();
  if (delays.empty()) return "";
  std::string o =
      "<h3>Run-queue delay by waker</h3><p class=\"note\">From the wakeup records: the delay "
      "from the wakeup to running, per process and kind of waker (threads and fds grouped).</p>"
      "<table class=\"data\" id=\"delay-by-waker\"><thead><tr><th>pid</th><th>comm</th>"
      "<th>waker</th><th>wakeups</th><th>p50</th><th>p90</th><th>p99</th><th>max</th></tr>"
      "</thead><tbody>";
  size_t shown = 0;
  for (const auto& [key, sample] : delays) {
    if (++shown > kTableRows) break;
    const DurationStats st = sample.Stats();
    auto pct = [&](uint64_t ns) { return "<td>" + Esc(FormatQuantile(ns, st.exact)) + "</td>"; };
    o += "<tr><td>" + Num(key.first) + "</td><td>" + Esc(CommOf(s, key.first)) + "</td><td>" +
         Esc(Clip(key.second, 64)) + "</td><td>" + Num(st.count) + "</td>" + pct(st.p50_ns) +
         pct(st.p90_ns) + pct(st.p99_ns) + "<td>" + Esc(FormatDuration(st.max_ns)) + "</td></tr>";
  }
  o += "</tbody></table>";
  if (const std::string note = s.sched.ContextUntrackedNote(); !note.empty())
    o += "<p class=\"note\">" + Esc(note) + ".</p>";
  return o;
}

}  // namespace

std::string CommOf(const TraceSummary& s, int32_t pid) {
  const std::string* name = s.names.Process(pid);
  if (!name) name = s.names.Thread(pid);  // the main thread's name
  return name ? Clip(*name, 64) : "?";
}

std::string HeaderSection(const TraceSummary& s) {
  std::string o = "<section id=\"header\"><h2>Recording</h2>";
  if (!s.has_header)
    return o + "<p class=\"warn\">No header record: not a whole probe file.</p></section>";
  const auto& h = s.header;
  std::string cmd;
  for (const auto& a : h.command_line()) {
    if (!cmd.empty()) cmd += ' ';
    cmd += a;
    if (cmd.size() > 4 * kMaxText) break;
  }
  auto row = [&](const char* k, const std::string& escaped) {
    o += std::string("<tr><th>") + k + "</th><td>" + escaped + "</td></tr>";
  };
  o += "<table class=\"kv\">";
  row("command line", "<code id=\"command-line\">" + Esc(Clip(cmd, 4 * kMaxText)) + "</code>");
  row("host", "<span id=\"host\">" + Esc(Clip(h.hostname(), 255)) + "</span>");
  row("kernel", "<span id=\"kernel\">" + Esc(Clip(h.kernel_release(), 255)) + "</span>");
  row("agent", Esc(Clip(h.agent_version(), 100)) + ", file format " + Num(h.format_version()) +
                   (h.shim_only() ? ", written by the shim alone" : ""));
  if (!h.privileges().empty()) row("agent after attach", Esc(Clip(h.privileges(), kMaxText)));
  std::string targets = h.system_wide() ? "every process" : "";
  for (int pid : h.target_pids())
    targets += (targets.empty() ? "pid " : ", ") + std::to_string(pid);
  if (!h.system_wide() && h.target_pids_size())
    targets += h.follow_children() ? " and descendants" : " only";
  if (!targets.empty()) row("targets", Esc(targets));
  std::string events;
  for (const auto& e : h.events()) events += (events.empty() ? "" : ", ") + Clip(e, 40);
  if (h.min_latency_ns())
    events += "; per-call syscall records only at or above " + FormatDuration(h.min_latency_ns());
  if (!events.empty()) row("events", Esc(events));
  std::string sampling;
  for (const auto& k : h.sampling().kinds()) {
    std::string part;
    if (k.keep_one_in() > 1) part += " 1 in " + Num(k.keep_one_in());
    if (k.min_latency_ns()) part += " at least " + FormatDuration(k.min_latency_ns());
    if (k.first_per_second()) part += " first " + Num(k.first_per_second()) + "/s";
    if (part.empty()) continue;
    const std::string kind = CounterKindName(k.kind());
    sampling += (sampling.empty() ? "" : "; ") + kind + ":" + part;
  }
  if (h.sampling().max_records_per_s())
    sampling += (sampling.empty() ? "" : "; ") + std::string("at most ") +
                Num(h.sampling().max_records_per_s()) + " records/s";
  if (!sampling.empty()) row("sampling", Esc(sampling));
  std::string when = WallTime(h.start_time_ns(), h.wall_clock_offset_ns());
  if (s.last_time_ns > h.start_time_ns() && h.start_time_ns())
    when += (when.empty() ? "" : ", ") + std::string("for ") +
            FormatDuration(s.last_time_ns - h.start_time_ns());
  if (!when.empty()) row("recorded", Esc(when));
  row("stopped", s.has_trailer ? Esc(Clip(s.trailer.stop_reason(), 100))
                               : "<span class=\"warn\">no trailer: the agent did not stop "
                                 "cleanly, or the file was cut</span>");
  return o + "</table></section>";
}

// The counters table's columns after "lost": each reason of it, then the
// counts shown apart from it.
constexpr counters::Class kCounterColumns[] = {counters::Class::kLost, counters::Class::kApart};

std::string CountersSection(const TraceSummary& s) {
  std::string o = "<section id=\"counters\"><h2>Counters</h2>";
  const auto* kinds = s.counters();
  if (!kinds) return o + "<p class=\"note\">No stats or trailer record.</p></section>";
  const uint64_t bytes_written = s.bytes_written();
  o += std::string("<p class=\"note\">From the ") +
       (s.has_trailer ? "trailer" : "last stats record (no trailer)") +
       ": produced = written + sampled out + lost" +
       (bytes_written ? "; " + Num(bytes_written) + " bytes written" : "") + ".</p>";
  o += "<table class=\"data\" id=\"counters-table\"><thead><tr><th>kind</th><th>produced</th>"
       "<th>written</th><th>sampled out</th><th>lost</th>";
  for (counters::Class cls : kCounterColumns)
    for (const auto& v : CountsOf(v1::KindCounters(), cls))
      o += std::string("<th>") + v.counter->column + "</th>";
  o += "</tr></thead><tbody>";
  uint64_t lost = 0;
  for (const auto& c : *kinds) {
    std::string kind = CounterKindName(c.kind());
    if (kind.empty()) kind = "kind " + Num(c.kind());
    lost += counters::Lost(c);
    std::string sampled = Num(c.sampled_out());
    std::string why;
    for (const auto& v : CountsOf(c, counters::Class::kSampled))
      if (v.value)
        why += (why.empty() ? "" : ", ") + std::string(v.counter->label) + " " + Num(v.value);
    if (!why.empty()) sampled = "<span title=\"" + Esc(why) + "\">" + sampled + "</span>";
    o += "<tr><td>" + Esc(kind) + "</td><td>" + Num(c.produced()) + "</td><td>" + Num(c.written()) +
         "</td><td>" + sampled + "</td><td" + (counters::Lost(c) ? " class=\"bad\"" : "") + ">" +
         Num(counters::Lost(c)) + "</td>";
    for (counters::Class cls : kCounterColumns)
      for (const auto& v : CountsOf(c, cls)) o += "<td>" + Num(v.value) + "</td>";
    o += "</tr>";
  }
  o += "</tbody></table>";
  if (lost) o += "<p class=\"warn\">" + Num(lost) + " events were lost; see the counters.</p>";
  return o + "</section>";
}

std::string SyscallSection(const TraceSummary& s, size_t* plots) {
  std::string o =
      "<section id=\"syscall-histograms\"><h2>Syscall latency</h2>"
      "<p class=\"note\">Exact log2 histograms of every traced call per (process, syscall), "
      "from the last histogram record of each; percentiles are exact where every call was "
      "recorded, ~ marks those interpolated inside the histogram's bucket.</p>";
  if (s.cut_in_time) o += "<p class=\"warn\">" + Esc(TraceSummary::kNotCutInTime) + ".</p>";
  if (s.syscalls.empty()) return o + "<p class=\"note\">No syscalls in this file.</p></section>";
  // The same rows, percentiles included, as the text report's table.
  std::vector<SyscallRow> rows = s.syscalls.Rows();
  std::sort(rows.begin(), rows.end(), [](const SyscallRow& a, const SyscallRow& b) {
    if (a.histogram.sum_ns() != b.histogram.sum_ns())
      return a.histogram.sum_ns() > b.histogram.sum_ns();
    return a.key < b.key;
  });
  auto pct = [](const SyscallRow& r, uint64_t ns) {
    return Esc(FormatQuantile(ns, r.quantiles.exact));
  };
  // The table: the busiest keys by total time.
  o += "<table class=\"data\" id=\"syscall-table\"><thead><tr><th>pid</th><th>comm</th>"
       "<th>syscall</th><th>calls</th><th>timeouts</th><th>errors</th><th>p50</th><th>p90</th>"
       "<th>p99</th><th>max</th><th>total</th></tr></thead><tbody>";
  for (size_t i = 0; i < rows.size() && i < kTableRows; ++i) {
    const SyscallRow& r = rows[i];
    const auto& h = r.histogram;
    o += "<tr><td>" + Num(r.key.pid) + "</td><td>" + Esc(CommOf(s, r.key.pid)) + "</td><td>" +
         Esc(SyscallName(r.key.syscall)) + "</td><td>" + Num(h.count()) + "</td><td>" +
         Num(h.timeouts()) + "</td><td>" + Num(h.errors()) + "</td><td>" +
         pct(r, r.quantiles.p50_ns) + "</td><td>" + pct(r, r.quantiles.p90_ns) + "</td><td>" +
         pct(r, r.quantiles.p99_ns) + "</td><td>" + Esc(FormatDuration(h.max_ns())) + "</td><td>" +
         Esc(FormatDuration(h.sum_ns())) + "</td></tr>";
  }
  o += "</tbody></table>";
  if (rows.size() > kTableRows)
    o += "<p class=\"note\">" + Num(rows.size() - kTableRows) +
         " more (process, syscall) pairs with less total time are not listed.</p>";
  // The plots: the busiest keys, grouped by pid.
  std::vector<const SyscallRow*> drawn;
  for (size_t i = 0; i < rows.size() && i < kDrawnSyscallHistograms; ++i) drawn.push_back(&rows[i]);
  std::stable_sort(drawn.begin(), drawn.end(),
                   [](auto* a, auto* b) { return a->key.pid < b->key.pid; });
  o += "<div class=\"grid\">";
  for (const SyscallRow* r : drawn) {
    const auto& h = r->histogram;
    const std::string title = SyscallName(r->key.syscall) + " — pid " + Num(r->key.pid) + " (" +
                              CommOf(s, r->key.pid) + ")";
    size_t bars = 0;
    o += "<figure class=\"hist\" data-pid=\"" + Num(r->key.pid) + "\" data-syscall=\"" +
         Esc(SyscallName(r->key.syscall)) + "\"><figcaption><b>" + Esc(title) + "</b><br>" +
         Stat("calls", Num(h.count())) + Stat("p50", pct(*r, r->quantiles.p50_ns)) +
         Stat("p99", pct(*r, r->quantiles.p99_ns)) + Stat("max", Esc(FormatDuration(h.max_ns()))) +
         Stat("total", Esc(FormatDuration(h.sum_ns())));
    if (h.timeouts()) o += Stat("timeouts", Num(h.timeouts()));
    if (h.errors()) o += Stat("errors", Num(h.errors()));
    if (r->from_calls)
      o += " <span class=\"note\">(no histogram record: from the recorded calls)</span>";
    o += "</figcaption>";
    o += HistogramSvg(h, Esc("latency histogram of " + title), "syscall-histogram", "calls", &bars);
    o += "</figure>";
    ++*plots;
  }
  o += "</div>";
  if (rows.size() > drawn.size())
    o += "<p class=\"note\">" + Num(rows.size() - drawn.size()) +
         " histograms with less total time are not drawn.</p>";
  return o + "</section>";
}

std::string SchedSection(const TraceSummary& s, size_t* plots) {
  std::string o =
      "<section id=\"sched-histograms\"><h2>Scheduler</h2>"
      "<p class=\"note\">Per process: run-queue delay (woken or preempted &rarr; on a CPU) and "
      "off-CPU time (switched out sleeping &rarr; woken), exact log2 histograms.</p>";
  if (s.cut_in_time)
    o += "<p class=\"warn\">--from/--to cut the wakeup records, not these histograms: they are "
         "the whole recording's.</p>";
  const auto& hists = s.sched.histograms();
  if (hists.empty())
    return o +
           "<p class=\"note\">No scheduler histograms in this file (wakeups not "
           "traced?).</p>" +
           DelayByWakerTable(s) + "</section>";
  std::vector<const v1::SchedHistogram*> rows;
  for (const auto& [key, h] : hists) rows.push_back(&h);
  std::sort(rows.begin(), rows.end(), [](auto* a, auto* b) {
    if (a->sum_ns() != b->sum_ns()) return a->sum_ns() > b->sum_ns();
    return std::make_pair(a->pid(), int(a->kind())) < std::make_pair(b->pid(), int(b->kind()));
  });
  if (rows.size() > kDrawnSchedHistograms) rows.resize(kDrawnSchedHistograms);
  std::sort(rows.begin(), rows.end(), [](auto* a, auto* b) {
    return std::make_pair(a->pid(), int(a->kind())) < std::make_pair(b->pid(), int(b->kind()));
  });
  o += "<div class=\"grid\">";
  for (const auto* sh : rows) {
    const v1::SyscallHistogram h = AsSyscallHistogram(*sh);
    const Quantiles q = SchedQuantiles(*sh);
    const bool rq = sh->kind() == v1::SCHED_HISTOGRAM_RUN_QUEUE;
    const std::string title = std::string(rq ? "run-queue delay" : "off-CPU time") + " — pid " +
                              Num(sh->pid()) + " (" + CommOf(s, sh->pid()) + ")";
    size_t bars = 0;
    o += std::string("<figure class=\"hist\" data-pid=\"") + Num(sh->pid()) + "\" data-sched=\"" +
         (rq ? "run-queue" : "off-cpu") + "\"><figcaption><b>" + Esc(title) + "</b><br>" +
         Stat(rq ? "delays" : "periods", Num(h.count())) +
         Stat("p50", Esc(FormatQuantile(q.p50_ns, q.exact))) +
         Stat("p99", Esc(FormatQuantile(q.p99_ns, q.exact))) +
         Stat("max", Esc(FormatDuration(h.max_ns()))) +
         Stat("total", Esc(FormatDuration(h.sum_ns()))) + "</figcaption>";
    o += HistogramSvg(h, Esc(title), "sched-histogram", rq ? "delays" : "periods", &bars);
    o += "</figure>";
    ++*plots;
  }
  o += "</div>";
  if (hists.size() > rows.size())
    o += "<p class=\"note\">" + Num(hists.size() - rows.size()) +
         " histograms with less total time are not drawn.</p>";
  return o + DelayByWakerTable(s) + "</section>";
}

}  // namespace probe::html
