#include "run_summary.h"

#include <cinttypes>
#include <cstdarg>
#include <cstdio>

namespace probe {

namespace {

std::string Format(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
std::string Format(const char* fmt, ...) {
  va_list args, again;
  va_start(args, fmt);
  va_copy(again, args);
  int n = vsnprintf(nullptr, 0, fmt, args);
  va_end(args);
  std::string out(n > 0 ? size_t(n) : 0, '\0');
  if (n > 0) vsnprintf(out.data(), out.size() + 1, fmt, again);
  va_end(again);
  return out;
}

}  // namespace

std::string HumanBytes(uint64_t b) {
  if (b >= (1u << 20)) return Format("%.1f MiB", b / 1048576.0);
  if (b >= 1024) return Format("%.1f KiB", b / 1024.0);
  return Format("%" PRIu64 " B", b);
}

std::string ProgressLine(double seconds, uint64_t records_per_s, uint64_t bytes_written,
                         uint64_t lost) {
  return Format("\r[probe] %.0fs  %" PRIu64 " records/s  %s  lost %" PRIu64 "   ", seconds,
                records_per_s, HumanBytes(bytes_written).c_str(), lost);
}

using namespace counters;

std::string RecordsLine(const RunTotals& run, const KernelCounters& k, const AgentCounters& a) {
  const KindTally& procs = a.kind[v1::EVENT_KIND_PROCESS];
  const KindTally& calls = a.kind[v1::EVENT_KIND_SYSCALL];
  return Format(
      "probe-agent: %s: %" PRIu64 " process records, %" PRIu64 " syscall records (%" PRIu64
      " calls), %" PRIu64 " wakeup records, %" PRIu64 " histogram records, %s, stopped: %s\n",
      run.output.c_str(), procs.written, calls.written, k.at(v1::EVENT_KIND_SYSCALL, kProduced),
      a.kind[v1::EVENT_KIND_WAKEUP].written, a.histograms_written,
      HumanBytes(run.bytes_written).c_str(), run.stop_reason.c_str());
}

std::string LossWarnings(const RunTotals& run, const KernelCounters& k, const AgentCounters& a) {
  std::string out;
  const uint64_t lost = k.Lost() + a.Lost();
  if (lost > 0 && !run.write_failed) {  // a failed write has its own message
    const uint64_t ring = k.Total(kLostRingFull);
    out += Format(
        "probe-agent: warning: %" PRIu64 " events lost: ring buffer full %" PRIu64
        " (process %" PRIu64 ", syscalls %" PRIu64 ", wakeups %" PRIu64
        "), no in-flight slot %" PRIu64 ", malformed %" PRIu64 ", write failed %" PRIu64 "\n",
        lost, ring, k.at(v1::EVENT_KIND_PROCESS, kLostRingFull),
        k.at(v1::EVENT_KIND_SYSCALL, kLostRingFull), k.at(v1::EVENT_KIND_WAKEUP, kLostRingFull),
        k.at(v1::EVENT_KIND_SYSCALL, kLostTableFull), a.LostDecode(), a.LostWrite());
    if (ring > 0)
      out += "probe-agent: the agent could not keep up: give a larger --ring-buffer (now " +
             HumanBytes(run.ring_buffer_bytes) +
             "), or keep fewer records: --sample syscalls=1/N, --min-latency, --max-rate\n";
  }
  if (uint64_t unknown_end = k.at(v1::EVENT_KIND_WAKEUP, kSwitchNotSeen))
    out += Format("probe-agent: warning: %" PRIu64
                  " wakeup records have an unknown end: the kernel skipped the sched_switch "
                  "program at a switch-out or a switch-in\n",
                  unknown_end);
  if (uint64_t untracked = k.at(v1::EVENT_KIND_WAKEUP, kLostTableFull))
    out +=
        Format("probe-agent: warning: %" PRIu64 " thread switches untracked: no per-thread slot\n",
               untracked);
  if (uint64_t unhistogrammed = k.Total(kLostHistogramFull))
    out += Format("probe-agent: warning: %" PRIu64
                  " calls missing from histograms: the histogram map was full\n",
                  unhistogrammed);
  return out;
}

std::string WriteFailedLine(const std::string& error, uint64_t bytes_written, uint64_t lost_write) {
  return Format("probe-agent: %s: the file is whole up to its last record (%s); %" PRIu64
                " event records could not be written\n",
                error.c_str(), HumanBytes(bytes_written).c_str(), lost_write);
}

}  // namespace probe
