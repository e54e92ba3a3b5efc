// The HTML page's slowest calls: a timeline of the calls, each split into
// to block, blocked, run queue and return, and the same split as shares.
#include <algorithm>
#include <string_view>
#include <vector>

#include "histogram.h"
#include "html_plots.h"
#include "html_sections.h"
#include "html_writer.h"
#include "names.h"

namespace probe::html {

namespace {

std::string WakerText(const v1::WaitBreakdown& b) {
  if (!b.woken()) return "not woken by a task (timeout or signal)";
  return "woken by " + probe::WakerText(b.waker(), b.waker().comm(), WakerStyle::kPidTid);
}

struct Segment {
  const char* cls;
  const char* name;
  uint64_t ns;
};

// The call's time in order: to block, blocked, run queue, return; the part
// the breakdown does not cover (earlier blocking episodes in "to block" are
// already inside it, so this is only rounding or an odd record) as "other".
std::vector<Segment> Segments(const v1::SyscallCall& c) {
  if (!c.has_breakdown())
    return {{"seg-none", "did not block (or wakeups not traced)", c.duration_ns()}};
  const auto& b = c.breakdown();
  std::vector<Segment> s = {{"seg-toblock", "to block", b.to_block_ns()},
                            {"seg-blocked", "blocked", b.blocked_ns()},
                            {"seg-runqueue", "run queue", b.run_queue_ns()},
                            {"seg-return", "return", b.return_ns()}};
  uint64_t sum = 0;
  for (const auto& x : s) sum += x.ns;
  if (sum < c.duration_ns()) s.push_back({"seg-other", "other", c.duration_ns() - sum});
  return s;
}

// One timeline of calls (slowest first as kept), in start order.
std::string Timeline(const TraceSummary& s, std::vector<v1::SyscallCall> calls, const char* label,
                     size_t* plots) {
  std::string o;
  std::sort(calls.begin(), calls.end(), [](const auto& a, const auto& b) {
    if (a.start_time_ns() != b.start_time_ns()) return a.start_time_ns() < b.start_time_ns();
    return a.tid() < b.tid();
  });
  uint64_t t0 = UINT64_MAX, t1 = 0;
  for (const auto& c : calls) {
    t0 = std::min(t0, c.start_time_ns());
    t1 = std::max(t1, c.start_time_ns() + c.duration_ns());
  }
  if (t1 <= t0) t1 = t0 + 1;
  const uint64_t start = s.header.start_time_ns();
  const uint64_t origin = start && start <= t0 ? start : t0;
  const double label_w = 330, chart_w = 600, gap = 16, share_w = 150, dur_w = 80;
  const double row_h = 18, top = 8;
  const double chart_x = label_w, share_x = chart_x + chart_w + gap, dur_x = share_x + share_w + 8;
  const double W = dur_x + dur_w, H = top + calls.size() * row_h + 26;
  const double span = static_cast<double>(t1 - t0);

  o += SvgOpen("waits-timeline", W, H, label);
  o += TimeAxis(chart_x, chart_w, top, top + calls.size() * row_h, t0, t1, origin);
  o += Text(share_x + share_w / 2, top + calls.size() * row_h + 14, "share of the call", "tick",
            "middle");
  for (size_t i = 0; i < calls.size(); ++i) {
    const auto& c = calls[i];
    const double y = top + i * row_h;
    const std::string who = "pid " + Num(c.pid()) + " tid " + Num(c.tid()) + " (" +
                            CommOf(s, c.pid()) + ") " + SyscallName(c.syscall());
    std::string summary = who + ": " + FormatDuration(c.duration_ns()) + " at " +
                          Rel(c.start_time_ns(), origin) + " from the start; " +
                          FormatCallContext(c);
    if (c.has_breakdown()) summary += "; " + WakerText(c.breakdown());
    o += "<g class=\"wait\" data-pid=\"" + Num(c.pid()) + "\" data-tid=\"" + Num(c.tid()) +
         "\"><title>" + Esc(summary) + "</title>";
    if (i % 2) o += Rect(0, y, W, row_h, "stripe");
    std::string label =
        Printf("%d/%d ", c.pid(), c.tid()) + CommOf(s, c.pid()) + " " + SyscallName(c.syscall());
    o += Text(4, y + 13, Esc(Clip(label, 44)), "label");
    // On the time axis, at least 2 px wide so a short call still shows.
    const double x = chart_x + static_cast<double>(c.start_time_ns() - t0) / span * chart_w;
    const double w = static_cast<double>(c.duration_ns()) / span * chart_w;
    const double scale = w >= 2 ? 1.0 : (c.duration_ns() ? 2.0 / w : 0);
    const auto segs = Segments(c);
    uint64_t total = 0;
    for (const auto& g : segs) total += g.ns;
    double sx = x, px = share_x;
    for (const auto& g : segs) {
      if (!g.ns) continue;
      std::string t = std::string(g.name) + ": " + FormatDuration(g.ns);
      if (std::string_view(g.cls) == "seg-blocked" || std::string_view(g.cls) == "seg-runqueue")
        t += " — " + WakerText(c.breakdown());
      if (std::string_view(g.cls) == "seg-blocked" &&
          c.breakdown().total_blocked_ns() > c.breakdown().blocked_ns())
        t += "; blocked " + FormatDuration(c.breakdown().total_blocked_ns()) + " in all episodes";
      const double sw = static_cast<double>(g.ns) / span * chart_w * scale;
      o += Rect(sx, y + 3, sw, row_h - 6, std::string("seg ") + g.cls, Esc(t));
      sx += sw;
      const double pw = static_cast<double>(g.ns) / static_cast<double>(total) * share_w;
      o += Rect(px, y + 3, pw, row_h - 6, std::string("share ") + g.cls, Esc(t));
      px += pw;
    }
    o += Text(dur_x, y + 13, Esc(FormatDuration(c.duration_ns())), "label");
    o += "</g>";
  }
  o += "</svg>";
  ++*plots;
  return o;
}

}  // namespace

std::string WaitsSection(const TraceSummary& s, size_t* plots) {
  const std::vector<v1::SyscallCall> slowest = s.syscalls.slowest().Sorted();
  const std::vector<v1::SyscallCall> timeouts = s.syscalls.slowest_timeouts().Sorted();
  std::string o =
      "<section id=\"slowest-waits\"><h2>Slowest calls</h2>"
      "<p class=\"note\">The " +
      Num(slowest.size()) + " slowest of " + Num(s.syscalls.recorded()) +
      " recorded syscalls that did not time out (at most " + Num(SyscallTable::kKeptSlowest) +
      " are kept) on a time axis from the agent's start, each split into where its time "
      "went; the right column shows the same split as shares of the call. Hover a bar for the "
      "waker. Waits that ended by their own timeout (usually idle) are shown apart, below.</p>";
  if (slowest.empty() && timeouts.empty())
    return o + "<p class=\"note\">No per-call syscall records.</p></section>";
  o += Legend({{"seg-toblock", "to block (entry &rarr; switched out)"},
               {"seg-blocked", "blocked (switched out &rarr; woken)"},
               {"seg-runqueue", "run queue (woken &rarr; on a CPU)"},
               {"seg-return", "return (on a CPU &rarr; returned)"},
               {"seg-other", "other"},
               {"seg-none", "did not block / no breakdown"}});

  if (!slowest.empty()) o += Timeline(s, slowest, "timeline of the slowest calls", plots);
  if (!timeouts.empty()) {
    o += "<h3 id=\"slowest-timeouts\">Slowest timeouts</h3><p class=\"note\">The " +
         Num(timeouts.size()) + " slowest waits that ended by their own timeout.</p>";
    o += Timeline(s, timeouts, "timeline of the slowest timeouts", plots);
  }
  return o + "</section>";
}

}  // namespace probe::html
