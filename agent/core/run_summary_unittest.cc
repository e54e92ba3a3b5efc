// The agent's closing lines, from the counters alone.
#include "run_summary.h"

#include <gtest/gtest.h>

namespace probe {
namespace {

TEST(RunSummary, HumanBytes) {
  EXPECT_EQ(HumanBytes(17), "17 B");
  EXPECT_EQ(HumanBytes(2048), "2.0 KiB");
  EXPECT_EQ(HumanBytes(3 << 20), "3.0 MiB");
}

TEST(RunSummary, RecordsLine) {
  KernelCounters k;
  k.value[v1::EVENT_KIND_SYSCALL][counters::kProduced] = 900;
  AgentCounters a;
  a.kind[v1::EVENT_KIND_PROCESS].written = 2;
  a.kind[v1::EVENT_KIND_SYSCALL].written = 800;
  a.kind[v1::EVENT_KIND_WAKEUP].written = 30;
  a.histograms_written = 4;
  EXPECT_EQ(RecordsLine({"x.ptrace", 4096, "targets exited", 1 << 20, false}, k, a),
            "probe-agent: x.ptrace: 2 process records, 800 syscall records (900 calls), 30 "
            "wakeup records, 4 histogram records, 4.0 KiB, stopped: targets exited\n");
}

TEST(RunSummary, NothingLostNothingSaid) {
  EXPECT_EQ(LossWarnings({"x", 0, "signal", 1 << 20, false}, KernelCounters(), AgentCounters()),
            "");
}

TEST(RunSummary, LossesWithTheirReasonsAndAdvice) {
  KernelCounters k;
  k.value[v1::EVENT_KIND_PROCESS][counters::kLostRingFull] = 1;
  k.value[v1::EVENT_KIND_SYSCALL][counters::kLostRingFull] = 2;
  k.value[v1::EVENT_KIND_WAKEUP][counters::kLostRingFull] = 3;
  k.value[v1::EVENT_KIND_SYSCALL][counters::kLostTableFull] = 4;
  k.value[v1::EVENT_KIND_WAKEUP][counters::kLostTableFull] = 5;
  k.value[v1::EVENT_KIND_SYSCALL][counters::kLostHistogramFull] = 6;
  k.value[v1::EVENT_KIND_WAKEUP][counters::kLostHistogramFull] = 7;
  AgentCounters a;
  a.kind[v1::EVENT_KIND_SYSCALL].lost_decode = 8;
  a.kind[v1::EVENT_KIND_WAKEUP].lost_write = 9;
  EXPECT_EQ(LossWarnings({"x", 0, "signal", 1 << 20, false}, k, a),
            "probe-agent: warning: 27 events lost: ring buffer full 6 (process 1, syscalls 2, "
            "wakeups 3), no in-flight slot 4, malformed 8, write failed 9\n"
            "probe-agent: the agent could not keep up: give a larger --ring-buffer (now 1.0 "
            "MiB), or keep fewer records: --sample syscalls=1/N, --min-latency, --max-rate\n"
            "probe-agent: warning: 5 thread switches untracked: no per-thread slot\n"
            "probe-agent: warning: 13 calls missing from histograms: the histogram map was "
            "full\n");
  // A failed write says it in its own line.
  EXPECT_EQ(LossWarnings({"x", 0, "write failed", 1 << 20, true}, k, a).find("events lost"),
            std::string::npos);
  EXPECT_EQ(WriteFailedLine("write to x failed: No space left on device", 300, 9),
            "probe-agent: write to x failed: No space left on device: the file is whole up to "
            "its last record (300 B); 9 event records could not be written\n");
}

}  // namespace
}  // namespace probe
