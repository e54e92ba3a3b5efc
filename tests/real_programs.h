// Ground truth for the real-program tests: the drivers in tests/workloads/
// print the kernel's own per-thread counters (context switches and
// schedstat's run-queue time) read just before and just after the traced
// window, with CLOCK_MONOTONIC brackets around each read; these helpers line
// them up with the wakeup records.
#pragma once
#include <cstdint>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "probe.pb.h"

namespace probe::testing {

struct ThreadWindow {
  int tid = 0;
  std::string comm;
  uint64_t b_t0 = 0, b_t1 = 0, a_t0 = 0, a_t1 = 0;  // the two reads' brackets
  uint64_t b_csw = 0, a_csw = 0;                    // voluntary + nonvoluntary
  uint64_t b_run_delay = 0, a_run_delay = 0;        // schedstat field 2, ns
  uint64_t b_migrations = 0, a_migrations = 0;      // se.nr_migrations of /proc/../sched
};

// Every "thread tid=.. ..." line of a driver's output.
inline std::vector<ThreadWindow> ParseThreadWindows(const std::string& out) {
  std::vector<ThreadWindow> v;
  std::istringstream lines(out);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.rfind("thread ", 0) != 0) continue;
    std::map<std::string, std::string> kv;
    std::istringstream words(line);
    std::string w;
    while (words >> w)
      if (auto eq = w.find('='); eq != std::string::npos) kv[w.substr(0, eq)] = w.substr(eq + 1);
    ThreadWindow t;
    t.tid = std::stoi(kv["tid"]);
    t.comm = kv["comm"];
    t.b_t0 = std::stoull(kv["b_t0"]);
    t.b_t1 = std::stoull(kv["b_t1"]);
    t.a_t0 = std::stoull(kv["a_t0"]);
    t.a_t1 = std::stoull(kv["a_t1"]);
    t.b_csw = std::stoull(kv["b_csw"]);
    t.a_csw = std::stoull(kv["a_csw"]);
    t.b_run_delay = std::stoull(kv["b_run_delay"]);
    t.a_run_delay = std::stoull(kv["a_run_delay"]);
    t.b_migrations = std::stoull(kv["b_migrations"]);
    t.a_migrations = std::stoull(kv["a_migrations"]);
    v.push_back(t);
  }
  return v;
}

// What the records say of one thread over the window. The kernel counts a
// context switch at the switch-out, so a record belongs to the window by its
// off-CPU time: inside (b_t1, a_t0) it is surely counted, inside one of the
// reads' brackets it may or may not be (ambiguous).
struct ThreadAccount {
  uint64_t records = 0, ambiguous = 0;
  uint64_t run_queue_ns = 0;  // sum over the records back on a CPU inside (b_t1, a_t0):
                              // schedstat adds a run-queue wait at the switch-in
  uint64_t run_queue_records = 0;
  uint64_t run_queue_unknown = 0;     // of those, records whose run-queue time is not known
  uint64_t bracket_run_queue_ns = 0;  // records back on a CPU inside a read's bracket:
                                      // schedstat may or may not have counted them
  uint64_t wake_unknown = 0;          // records whose wakeup was not seen
};

inline ThreadAccount Account(const std::vector<v1::Record>& records, const ThreadWindow& t) {
  ThreadAccount a;
  for (const auto& r : records) {
    if (!r.has_wakeup() || r.wakeup().tid() != t.tid) continue;
    const auto& w = r.wakeup();
    // Its switch-out not seen (off time 0): placed by its switch-in.
    const uint64_t off = w.off_cpu_time_ns() != 0 ? w.off_cpu_time_ns() : w.on_cpu_time_ns();
    if ((off >= t.b_t0 && off <= t.b_t1) || (off >= t.a_t0 && off <= t.a_t1)) {
      a.ambiguous++;
    } else if (off > t.b_t1 && off < t.a_t0) {
      a.records++;
      if (w.waker().context() == v1::WAKER_CONTEXT_UNKNOWN) a.wake_unknown++;
    }
    const uint64_t on = w.on_cpu_time_ns();
    if (on > t.b_t1 && on < t.a_t0) {
      a.run_queue_ns += w.run_queue_ns();
      a.run_queue_records++;
      if (w.wake_time_ns() == 0) a.run_queue_unknown++;
    } else if ((on >= t.b_t0 && on <= t.b_t1) || (on >= t.a_t0 && on <= t.a_t1)) {
      a.bracket_run_queue_ns += w.run_queue_ns();
    }
  }
  return a;
}

}  // namespace probe::testing
