#include "html_processes.h"

#include <algorithm>
#include <unordered_map>
#include <utility>
#include <vector>

#include "histogram.h"
#include "html_plots.h"
#include "html_writer.h"
#include "process_cpu.h"

namespace probe::html {

namespace {

std::string JoinArgv(const google::protobuf::RepeatedPtrField<std::string>& argv, bool truncated,
                     const std::string& fallback) {
  std::string out;
  for (const auto& a : argv) {
    if (!out.empty()) out += ' ';
    out += a;
    if (out.size() > kMaxText) break;
  }
  if (out.empty()) out = fallback;
  if (truncated) out += " ...";
  return Clip(out);
}

}  // namespace

void ProcessTree::OnSnapshot(const v1::ProcessSnapshot& s) {
  if (proc_by_pid_.count(s.pid())) return;  // listed twice: keep the first
  if (procs_.size() >= kMaxProcesses) {
    ++procs_dropped_;
    return;
  }
  Proc p;
  p.pid = s.pid();
  p.ppid = s.ppid();
  p.comm = Clip(s.comm(), 64);
  p.command = JoinArgv(s.argv(), false, s.exe().empty() ? s.comm() : s.exe());
  p.start_ns = s.start_time_ns();
  p.snapshot = true;
  p.status = "running";
  proc_by_pid_[p.pid] = procs_.size();
  procs_.push_back(std::move(p));
}

void ProcessTree::OnProcess(const v1::ProcessLifetime& l) {
  Proc* p = nullptr;
  auto it = proc_by_pid_.find(l.pid());
  // A snapshot's process ends with its lifetime record; a second lifetime
  // for a pid is a new process (the pid was reused).
  if (it != proc_by_pid_.end() && !procs_[it->second].has_lifetime) {
    p = &procs_[it->second];
  } else {
    if (procs_.size() >= kMaxProcesses) {
      ++procs_dropped_;
      return;
    }
    proc_by_pid_[l.pid()] = procs_.size();
    procs_.emplace_back();
    p = &procs_.back();
    p->pid = l.pid();
    p->start_ns = l.fork_time_ns() ? l.fork_time_ns() : l.exec_time_ns();
  }
  p->has_lifetime = true;
  p->ppid = l.ppid();
  p->comm = Clip(l.comm(), 64);
  p->command = JoinArgv(l.argv(), l.argv_truncated(), l.exe().empty() ? l.comm() : l.exe());
  if (!p->start_ns) p->start_ns = l.fork_time_ns() ? l.fork_time_ns() : l.exec_time_ns();
  p->exec_ns = l.exec_time_ns();
  p->exit_ns = l.finished() ? l.exit_time_ns() : 0;
  p->finished = l.finished();
  const ProcessCpu cpu = CpuShown(l);  // the recording's share when it existed before
  p->user_ns = cpu.user_ns;
  p->sys_ns = cpu.system_ns;
  p->rss = l.peak_rss_bytes();
  p->exec_count = l.exec_count();
  if (!l.finished())
    p->status = "running";
  else if (l.exit_signal())
    p->status = "signal " + std::to_string(l.exit_signal()) + (l.core_dumped() ? " (core)" : "");
  else
    p->status = "exit " + std::to_string(l.exit_code());
}

std::string ProcessTree::Section(uint64_t origin, uint64_t last_time, size_t* plots) const {
  std::string o =
      "<section id=\"process-tree\"><h2>Processes</h2>"
      "<p class=\"note\">Each traced process under its parent, from fork through exec to exit, "
      "on a time axis from the agent's start. Hover a bar for its command and status.</p>";
  if (procs_.empty()) return o + "<p class=\"note\">No process records in this file.</p></section>";
  // Parent of each node: the latest node of the parent's pid that started no
  // later than the child (pids are reused in long system-wide runs).
  const size_t n = procs_.size();
  std::unordered_map<int32_t, std::vector<size_t>> by_pid;
  for (size_t i = 0; i < n; ++i) by_pid[procs_[i].pid].push_back(i);
  std::vector<std::vector<size_t>> children(n);
  std::vector<size_t> roots;
  for (size_t i = 0; i < n; ++i) {
    const Proc& p = procs_[i];
    size_t parent = SIZE_MAX;
    auto it = by_pid.find(p.ppid);
    if (it != by_pid.end() && p.ppid != p.pid) {
      for (size_t j : it->second) {
        if (j == i) continue;
        if (parent == SIZE_MAX ||
            (procs_[j].start_ns <= p.start_ns && procs_[j].start_ns >= procs_[parent].start_ns))
          parent = j;
      }
    }
    (parent == SIZE_MAX ? roots : children[parent]).push_back(i);
  }
  auto by_start = [&](size_t a, size_t b) {
    if (procs_[a].start_ns != procs_[b].start_ns) return procs_[a].start_ns < procs_[b].start_ns;
    return procs_[a].pid < procs_[b].pid;
  };
  std::sort(roots.begin(), roots.end(), by_start);
  for (auto& c : children) std::sort(c.begin(), c.end(), by_start);
  // Depth-first, without recursion; a node is drawn once even if the
  // parent links (through reused pids) made a cycle.
  std::vector<std::pair<size_t, int>> order;
  std::vector<bool> seen(n, false);
  auto walk = [&](size_t root) {
    std::vector<std::pair<size_t, int>> stack = {{root, 0}};
    while (!stack.empty()) {
      auto [i, d] = stack.back();
      stack.pop_back();
      if (seen[i]) continue;
      seen[i] = true;
      order.emplace_back(i, d);
      for (auto it = children[i].rbegin(); it != children[i].rend(); ++it)
        stack.emplace_back(*it, d + 1);
    }
  };
  for (size_t r : roots) walk(r);
  for (size_t i = 0; i < n; ++i)
    if (!seen[i]) walk(i);  // only in a cycle: shown at the top level

  uint64_t t0 = origin, t1 = last_time;
  if (!t0) {
    t0 = UINT64_MAX;
    for (const auto& p : procs_)
      if (p.start_ns) t0 = std::min(t0, p.start_ns);
    if (t0 == UINT64_MAX) t0 = 0;
  }
  for (const auto& p : procs_) t1 = std::max(t1, p.exit_ns);
  if (t1 <= t0) t1 = t0 + 1;
  const double span = static_cast<double>(t1 - t0);
  const double label_w = 320, chart_w = 700, status_w = 110, row_h = 16, top = 8;
  const double chart_x = label_w, W = label_w + chart_w + 8 + status_w;
  const double H = top + order.size() * row_h + 26;
  auto X = [&](uint64_t t) {
    const double v = t <= t0 ? 0.0 : static_cast<double>(t - t0) / span;
    return chart_x + std::min(v, 1.0) * chart_w;
  };

  o += Legend({{"p-fork", "fork &rarr; exec"},
               {"p-exec", "exec &rarr; exit"},
               {"p-noexec", "no exec seen (fork &rarr; exit)"},
               {"p-before", "existed when recording started"}},
              "<span>&#9656; still running at the end</span>");

  o += SvgOpen("process-gantt", W, H, "process tree with lifetimes");
  o += TimeAxis(chart_x, chart_w, top, top + order.size() * row_h, t0, t1, t0);
  for (size_t k = 0; k < order.size(); ++k) {
    const auto [i, depth] = order[k];
    const Proc& p = procs_[i];
    const double y = top + k * row_h;
    const uint64_t end = p.finished && p.exit_ns ? p.exit_ns : t1;
    std::string tip =
        "pid " + Num(p.pid) + " (" + p.comm + "), parent " + Num(p.ppid) + ": " + p.command;
    auto rel = [&](uint64_t t) { return Rel(t, t0); };
    if (p.snapshot) tip += "; existed when recording started";
    if (p.start_ns && !p.snapshot) tip += "; fork " + rel(p.start_ns);
    if (p.exec_ns)
      tip += ", exec " + rel(p.exec_ns) +
             (p.exec_count > 1 ? " (last of " + Num(p.exec_count) + ")" : "");
    if (p.finished) tip += ", exit " + rel(p.exit_ns);
    if (p.exec_ns && p.finished && p.exit_ns >= p.exec_ns)
      tip += "; exec to exit " + FormatDuration(p.exit_ns - p.exec_ns);
    tip += "; " + p.status;
    if (p.has_lifetime)
      tip += Printf("; user %s, sys %s, peak RSS %.1f MiB", FormatDuration(p.user_ns).c_str(),
                    FormatDuration(p.sys_ns).c_str(), p.rss / 1048576.0);
    o += "<g class=\"proc\" data-pid=\"" + Num(p.pid) + "\" data-depth=\"" + Num(depth) +
         "\"><title>" + Esc(tip) + "</title>";
    if (k % 2) o += Rect(0, y, W, row_h, "stripe");
    const int shown_depth = std::min(depth, 24);
    const double indent = 4 + shown_depth * 12;
    std::string label = (depth > shown_depth ? "(" + Num(depth) + ") " : "") + Num(p.pid) + " " +
                        p.comm + "  " + p.command;
    const size_t chars = static_cast<size_t>(std::max(6.0, (label_w - indent - 8) / 7.0));
    if (depth) o += Line(indent - 8, y + row_h / 2, indent - 3, y + row_h / 2, "tree");
    o += Text(indent, y + 12, Esc(Clip(label, chars)), "label");
    const double xs = X(p.start_ns ? p.start_ns : t0), xe = std::max(X(end), xs + 1.5);
    if (p.snapshot || (p.start_ns && p.start_ns < t0)) {
      o += Rect(xs, y + 3, xe - xs, row_h - 6, "p-before");
    } else if (p.exec_ns && p.exec_ns >= p.start_ns) {
      const double xx = X(p.exec_ns);
      o += Rect(xs, y + 3, xx - xs, row_h - 6, "p-fork");
      o += Rect(xx, y + 3, std::max(xe - xx, 1.5), row_h - 6, "p-exec");
    } else {
      o += Rect(xs, y + 3, xe - xs, row_h - 6, "p-noexec");
    }
    if (!p.finished) o += Text(xe + 2, y + 12, "&#9656;", "label");
    const bool bad = p.status != "exit 0" && p.status != "running";
    o += Text(chart_x + chart_w + 12, y + 12, Esc(p.status), bad ? "label bad" : "label");
    o += "</g>";
  }
  o += "</svg>";
  ++*plots;
  if (procs_dropped_)
    o += "<p class=\"warn\" id=\"process-note\">Only the first " + Num(kMaxProcesses) +
         " processes are drawn; " + Num(procs_dropped_) +
         " more process records were left out.</p>";
  return o + "</section>";
}

}  // namespace probe::html
