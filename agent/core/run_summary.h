// What the agent says on stderr about a run: the progress line on a
// terminal, and the summary at the stop (records, losses and what to do
// about them). Pure text from the counters.
#pragma once
#include <cstdint>
#include <string>

#include "accounting.h"

namespace probe {

// "1.5 MiB", "2.0 KiB", "17 B".
std::string HumanBytes(uint64_t bytes);

// "\r[probe] 3s  1200 records/s  1.5 MiB  lost 0   " (no newline).
std::string ProgressLine(double seconds, uint64_t records_per_s, uint64_t bytes_written,
                         uint64_t lost);

struct RunTotals {
  std::string output;
  uint64_t bytes_written = 0;
  std::string stop_reason;
  uint64_t ring_buffer_bytes = 0;  // each ring, for the advice on losses
  bool write_failed = false;
};

// The first line after the stop: records of each kind, bytes, why it stopped.
std::string RecordsLine(const RunTotals& run, const KernelCounters& kernel,
                        const AgentCounters& agent);
// Warnings on losses (with advice), untracked threads and full histogram
// maps; "" when there is nothing to say. Each line ends in '\n'.
std::string LossWarnings(const RunTotals& run, const KernelCounters& kernel,
                         const AgentCounters& agent);
// A failed write: how much of the file is whole, and what could not be written.
std::string WriteFailedLine(const std::string& error, uint64_t bytes_written, uint64_t lost_write);

}  // namespace probe
