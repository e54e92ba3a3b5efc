// Command-line options of probe-agent: a pure parser, errors as values.
#pragma once
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "duration.h"

namespace probe {

struct Options {
  std::vector<int> pids;
  bool all = false;
  bool follow_children = true;
  bool force = false;
  bool keep_privileges = false;         // --keep-privileges: no drop after attach
  std::string output = "probe.ptrace";  // "-": stdout
  double duration_s = 0;                // 0 = until stopped
  uint64_t ring_buffer_bytes = 1u << 20;
  uint32_t ring_buffers = 0;    // --ring-buffers: at most this many, by CPU; 0 = auto, 64 = per CPU
  uint64_t min_latency_ns = 0;  // per-call syscall records only at or above
  // Sampling of per-event records (--sample, --first, --max-rate): histograms
  // and counters stay exact. Process records are never sampled.
  uint32_t syscalls_one_in = 1, wakeups_one_in = 1, shim_one_in = 1;
  uint32_t syscalls_first_per_s = 0, wakeups_first_per_s = 0, shim_first_per_s = 0;
  uint64_t shim_min_latency_ns = 0;
  uint64_t max_records_per_s = 0;
  uint64_t sample_seed = 1;
  uint64_t drain_delay_ns = 0;  // --drain-delay: sleep after each drain (tests a slow consumer)
  uint64_t histogram_interval_ns = 5000000000ull;
  bool trace_process = true;         // --events process
  bool trace_syscalls = true;        // --events syscalls
  bool trace_wakeups = true;         // --events wakeups
  bool waker_context = true;         // off: --no-waker-context (benchmarks its cost)
  bool preload = false;              // --preload: CMD gets the shim in LD_PRELOAD
  std::string preload_library;       // --preload-library; empty: beside the agent
  std::vector<std::string> command;  // after "--"
  std::vector<std::pair<std::string, std::string>> tags;  // --tag KEY=VALUE, in order
  uint32_t repeat = 0;           // --repeat N: run CMD N times into one file; 0 = once, as before
  uint64_t repeat_delay_ns = 0;  // --repeat-delay: pause between two runs
  // --rotate: close the file and go on in the next every rotate_ns, or once
  // it holds rotate_bytes (one of the two); 0 = one file. --keep: at most
  // keep_files closed files stay (0 = all).
  uint64_t rotate_ns = 0, rotate_bytes = 0;
  uint32_t keep_files = 0;
  bool help = false;
  bool version = false;  // --version
};

struct ParseResult {
  std::optional<Options> options;
  std::string error;  // one line, set when options is empty
};

// The --events names, in the order the header lists them.
std::vector<std::string> EventNames(const Options& o);

ParseResult ParseOptions(const std::vector<std::string>& args);
const char* UsageText();

}  // namespace probe
