// The HTML page's sections that print the summary the text report prints:
// the recording, the counters, syscall latency and the scheduler. Each
// returns one <section> and counts the plots it drew in *plots.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

#include "trace_summary.h"

namespace probe::html {

// The process's name for the page (clipped), "?" when not known.
std::string CommOf(const TraceSummary& s, int32_t pid);

std::string HeaderSection(const TraceSummary& s);
std::string CountersSection(const TraceSummary& s);
std::string SyscallSection(const TraceSummary& s, size_t* plots);
std::string SchedSection(const TraceSummary& s, size_t* plots);
// The slowest calls on a time axis, each split into where its time went.
std::string WaitsSection(const TraceSummary& s, size_t* plots);

}  // namespace probe::html
