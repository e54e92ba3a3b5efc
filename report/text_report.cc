// The text report: the summary as the terminal shows it.
#include "text_report.h"

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <set>
#include <sstream>

#include "counters.h"
#include "process_cpu.h"
#include "repeat_runs_text.h"
#include "run_identity_format.h"
#include "text_escape.h"

namespace probe {

namespace {

std::string ExitText(const v1::ProcessLifetime& p) {
  if (!p.finished()) return "running";
  if (p.exit_signal() != 0)
    return "signal " + std::to_string(p.exit_signal()) + (p.core_dumped() ? " (core)" : "");
  return "exit " + std::to_string(p.exit_code());
}

std::string Command(const v1::ProcessLifetime& p) {
  std::string out;
  for (const auto& a : p.argv()) out += (out.empty() ? "" : " ") + a;
  if (out.empty()) out = p.exe().empty() ? p.comm() : p.exe();
  if (p.argv_truncated()) out += " ...";
  if (out.size() > 60) {
    size_t cut = 57;  // not inside a UTF-8 sequence
    while (cut > 0 && (static_cast<unsigned char>(out[cut]) & 0xc0) == 0x80) --cut;
    out = out.substr(0, cut) + "...";
  }
  return out;
}

}  // namespace

namespace {

void AppendHeader(const TraceSummary& s, std::ostringstream& o) {
  if (!s.has_header) {
    o << "warning: no header record\n";
    return;
  }
  const auto& h = s.header;
  o << "probe trace: format " << h.format_version() << ", host " << h.hostname() << ", kernel "
    << h.kernel_release() << ", agent " << h.agent_version() << "\n";
  o << "command:";
  for (const auto& a : h.command_line()) o << " " << a;
  o << "\n";
  if (!h.privileges().empty()) o << "agent after attach: " << h.privileges() << "\n";
  o << FormatRunIdentity(h);
  if (h.events().empty()) return;
  o << "events:";
  for (int i = 0; i < h.events_size(); ++i) o << (i ? ", " : " ") << h.events(i);
  if (h.min_latency_ns())
    o << "; per-call syscall records only >= " << FormatDuration(h.min_latency_ns());
  o << "\n";
}

void AppendProcesses(const TraceSummary& s, std::ostringstream& o) {
  char line[512];
  std::vector<v1::ProcessLifetime> procs = s.processes;
  std::sort(procs.begin(), procs.end(),
            [](const auto& a, const auto& b) { return a.exec_to_exit_ns() > b.exec_to_exit_ns(); });
  o << "\nprocesses (" << procs.size() << "), by exec-to-exit:\n";
  snprintf(line, sizeof(line), "%8s %8s %-16s %12s %12s %10s %10s %10s %-10s %s\n", "PID", "PPID",
           "COMM", "EXEC->EXIT", "FORK->EXEC", "USER", "SYS", "PEAK RSS", "STATUS", "COMMAND");
  o << line;
  for (const auto& p : procs) {
    // Not finished when the recording stopped: no exit, so no exec-to-exit.
    std::string e2e = p.exec_time_ns() && p.finished() ? FormatDuration(p.exec_to_exit_ns()) : "-";
    std::string f2e = p.exec_time_ns() ? FormatDuration(p.fork_to_exec_ns()) : "-";
    char rss[32];
    snprintf(rss, sizeof(rss), "%.1f MiB", p.peak_rss_bytes() / 1048576.0);
    const ProcessCpu cpu = CpuShown(p);
    snprintf(line, sizeof(line), "%8d %8d %-16s %12s %12s %10s %10s %10s %-10s %s\n", p.pid(),
             p.ppid(), p.comm().c_str(), e2e.c_str(), f2e.c_str(),
             FormatDuration(cpu.user_ns).c_str(), FormatDuration(cpu.system_ns).c_str(), rss,
             ExitText(p).c_str(), Command(p).c_str());
    o << line;
  }
  // Processes in the table that existed at the start (a snapshot of the
  // same pid in this file): the recording's share where their lifetime says
  // their CPU time then (agents from this field on), else since their own
  // start.
  std::set<int32_t> existed;
  for (const auto& snap : s.snapshots) existed.insert(snap.pid());
  size_t since_recording = 0, since_start = 0;
  for (const auto& p : procs) {
    if (CpuShown(p).in_recording)
      since_recording++;
    else if (existed.count(p.pid()))
      since_start++;
  }
  if (since_recording)
    o << "\n"
      << since_recording
      << " processes existed when recording started: their USER and SYS are the recording's "
         "share (their CPU time then, from /proc at 10 ms resolution, taken off)\n";
  if (since_start)
    o << "\n"
      << since_start
      << " processes existed when recording started: their USER and SYS count from their own "
         "start, not the recording's\n";
}

// 1-in-N of kind in force, from the header (1 when none).
uint32_t KeepOneIn(const v1::Header& h, v1::EventKind kind) {
  for (const auto& k : h.sampling().kinds())
    if (k.kind() == kind && k.keep_one_in() > 1) return k.keep_one_in();
  return 1;
}

// "label N, label N" for the nonzero counters of class k; "" when none.
std::string NonzeroCounts(const v1::KindCounters& c, counters::Class k) {
  std::string out;
  for (const CounterValue& v : CountsOf(c, k))
    if (v.value)
      out +=
          (out.empty() ? "" : ", ") + std::string(v.counter->label) + " " + std::to_string(v.value);
  return out;
}

// Why events were sampled out, when any were.
std::string SampledBreakdown(const v1::KindCounters& c) {
  const std::string counts = NonzeroCounts(c, counters::Class::kSampled);
  return counts.empty() ? counts : " (" + counts + ")";
}

std::string CounterLine(const v1::KindCounters& c, const v1::Header& h) {
  char line[256];
  snprintf(line, sizeof(line),
           "  %-8s produced %" PRIu64 "  written %" PRIu64 "  sampled out %" PRIu64,
           CounterKindName(c.kind()).c_str(), c.produced(), c.written(), c.sampled_out());
  std::string out = line + SampledBreakdown(c) + "  lost " + std::to_string(counters::Lost(c));
  // A record kept 1 in N stands for N: the estimate from the records next to
  // the exact count the kernel kept.
  if (uint32_t n = KeepOneIn(h, c.kind()); n > 1) {
    out += "  [records x " + std::to_string(n) + " = ~" + std::to_string(c.written() * n) +
           " events at or above the min latency]";
  }
  // The reasons worth a word, each in the table's words.
  auto count = [&c](counters::Reason r) {
    return std::string(counters::kCounters[r].label) + " " + std::to_string(counters::Get(c, r));
  };
  if (c.lost_table_full()) out += " (" + count(counters::kLostTableFull) + ")";
  if (c.lost_histogram_full()) out += "  " + count(counters::kLostHistogramFull);
  if (c.lost_buffer_full() || c.lost_no_buffer())
    out += " (" + count(counters::kLostBufferFull) + ", " + count(counters::kLostNoBuffer) + ")";
  if (c.rejected()) out += "  " + count(counters::kRejected);
  for (const auto& l : c.cpu_losses())
    out += "  [cpu " + std::to_string(l.cpu()) + " ring full " +
           std::to_string(l.lost_ring_full()) + "]";
  // Written records with a part unknown or adjusted, as the agent warned at
  // its stop: no loss, but a reader of the records should know.
  const std::string detail = NonzeroCounts(c, counters::Class::kDetail);
  if (!detail.empty()) out += "  [written: " + detail + "]";
  return out + "\n";
}

void AppendCounters(const TraceSummary& s, std::ostringstream& o) {
  const auto* kinds = s.counters();
  uint64_t lost = 0;
  uint64_t unhistogrammed = 0;
  if (kinds) {
    o << "\ncounters" << (s.has_trailer ? "" : " (last stats record)") << ":\n";
    for (const auto& c : *kinds) {
      lost += counters::Lost(c);
      unhistogrammed += c.lost_histogram_full();
      o << CounterLine(c, s.header);
    }
  }
  if (s.has_trailer) o << "stopped: " << s.trailer.stop_reason() << "\n";
  if (lost > 0) o << "warning: " << lost << " events were lost; see counters\n";
  if (unhistogrammed > 0)
    o << "warning: " << unhistogrammed
      << " calls are missing from the histograms (histogram map full)\n";
  if (s.unknown_records)
    o << "note: " << s.unknown_records << " records of kinds this report does not know\n";
}

}  // namespace

std::string FormatSummary(const TraceSummary& s) {
  std::ostringstream o;
  AppendHeader(s, o);
  AppendProcesses(s, o);
  o << FormatRepeatSection(s.repeats);
  const SyscallReportContext ctx = s.Context();
  o << FormatSyscallSection(s.syscalls, ctx);
  o << s.waits.Format(ctx);
  o << s.threads.Format(ctx);
  o << FormatSchedSection(s.sched, ctx);
  o << FormatShimSection(s.shim, ctx);
  AppendCounters(s, o);
  if (s.cut_in_time) o << "\nnote: " << TraceSummary::kNotCutInTime << "\n";
  return o.str();
}

}  // namespace probe
