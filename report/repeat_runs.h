// Repeated runs (probe-agent --repeat N): the command's time per run and, per
// process name, how many ran per run and how long each lived, with the
// statistics hyperfine gives (mean, standard deviation, median, min, max).
// Built from the records by a visitor; pure, no I/O. The per-run command
// times (RunTiming) are what a comparison of two recordings starts from.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "compare_stats.h"
#include "probe.pb.h"
#include "record_visitor.h"

namespace probe {

// One run of the launched command, as its RepeatRun record says.
struct RunTiming {
  uint32_t index = 0;  // 1-based
  int32_t pid = 0;
  uint64_t start_time_ns = 0;  // the command's fork
  uint64_t exec_time_ns = 0;   // the command's first exec (monotonic)
  uint64_t end_time_ns = 0;    // its last descendant's exit
  uint64_t duration_ns = 0;    // first exec -> last exit: the command's time
  bool succeeded = false;
  int32_t exit_code = 0, exit_signal = 0;
  uint32_t processes = 0;
  // Not from a RepeatRun record: the one run of a file that launched its
  // command once (no --repeat), made from its process records.
  bool single_launch = false;
};

// One process name across the runs.
struct ProcessAcrossRuns {
  std::string name;        // comm, as the records give it
  Spread per_run;          // processes of this name per run (0 in a run without one)
  Spread exec_to_exit_ns;  // each finished process's exec -> exit
  // The values themselves, for tests on them (Mann-Whitney U): one count
  // per run, in run order; one exec -> exit per finished process.
  std::vector<double> counts, exec_to_exit_values_ns;
};

// Collects what the statistics need: feed it every record (Visit) of one
// file, then ask. A file that launched its command once (-- CMD without
// --repeat) gives one run too, so two recordings compare whichever way each
// was made; a --pid or --all file gives none.
class RepeatRuns : public RecordVisitor {
 public:
  void OnHeader(const v1::Header& h) override;
  void OnRepeatRun(const v1::RepeatRun& r) override;
  void OnProcess(const v1::ProcessLifetime& p) override;

  // The runs asked for (--repeat N; 0 when the file is not a repeated run).
  uint32_t repeat_count() const { return repeat_count_; }
  bool repeated() const { return repeat_count_ > 0 || !runs_.empty(); }
  // The runs that ended, by index (or the single launch's one run).
  std::vector<RunTiming> Runs() const;
  // The command's time over the runs that ended, failed ones included.
  Spread CommandTime() const;
  size_t failed() const;
  // Per process name, by name: only processes of a run that ended count.
  std::vector<ProcessAcrossRuns> Processes() const;

 private:
  struct NameStats {
    std::map<uint32_t, uint32_t> per_run;  // run index -> processes
    std::vector<double> exec_to_exit_ns;   // with the run index of each
    std::vector<uint32_t> exec_to_exit_run;
  };
  uint32_t repeat_count_ = 0;
  std::map<uint32_t, RunTiming> runs_;
  // A single launch: its command's pid and the run made of its processes.
  int32_t launched_pid_ = 0;
  bool launched_seen_ = false;
  RunTiming single_;
  std::map<std::string, NameStats> names_;
};

// The runs of a whole recording, from its records.
std::vector<RunTiming> RunsOf(const std::vector<v1::Record>& records);

}  // namespace probe
