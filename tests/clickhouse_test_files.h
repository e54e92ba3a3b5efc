// Ground truth for the ClickHouse tests from record files read with the
// project's reader, and the synthetic files of a multi-file run (one run id,
// sequences 1..n, histograms cumulative within each file as --rotate cuts
// them) and of a file to cut off.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <utility>

#include "probe.pb.h"

namespace probe::testing {

// The tables of probe-report --clickhouse other than runs.
extern const char* const kTables[8];

// A file as the project's reader sees it.
struct FileTruth {
  std::string path, host, run_id, release;
  uint64_t sequence = 0;
  std::map<std::string, uint64_t> rows;  // per table: the records that are its rows
  // The file's last (cumulative) histogram per (pid, syscall) and per pid
  // of the run queue.
  std::map<std::pair<int, int>, v1::SyscallHistogram> syscall_final;
  std::map<int, v1::SchedHistogram> run_queue_final;
  // Calls with a wait breakdown: their count and summed times.
  uint64_t blocked_calls = 0, blocked_total_ns = 0, to_block_ns = 0, blocked_ns = 0,
           run_queue_ns = 0, return_ns = 0;
};

// host "" : the header's hostname as its CSV text.
FileTruth Read(const std::string& path, const std::string& host);
// "epoll_wait": the CSV's name of a syscall.
std::string SyscallText(int s);
void Merge(v1::SyscallHistogram* into, const v1::SyscallHistogram& h);
uint64_t Total(const v1::SyscallHistogram& h);
// The bucket holding quantile q: the first whose running count reaches q * total.
int RankBucket(const v1::SyscallHistogram& h, double q);

struct Synthetic {
  std::string run_id, hostname, release;
  uint64_t sequence = 0;
  int calls = 300;
  uint32_t seed = 1;
  bool trailer = true;
};
extern const std::string kHostileComm, kHostileArg, kHostileMarker;
// Writes the file (failing the test when it cannot).
void WriteSynthetic(const std::string& path, const Synthetic& s);

}  // namespace probe::testing
