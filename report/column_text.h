// How the table outputs (CSV files, ClickHouse rows) write values that are
// not plain numbers, so every table names things the same way: enum values
// by their lower-case name, argv shell-joined, histogram buckets joined.
#pragma once
#include <google/protobuf/repeated_field.h>

#include <string>
#include <string_view>

#include "probe.pb.h"

namespace probe {

// Lower-case enum value name without its prefix ("pselect6", "run_queue");
// the number when unknown.
std::string EnumName(const google::protobuf::EnumDescriptor* d, int value, std::string_view prefix);
// The syscall, wakeup state, scheduler histogram kind, shim function, marker
// type and counter kind as the CSV files and ClickHouse tables name them.
inline std::string SyscallColumn(v1::Syscall s) {
  return EnumName(v1::Syscall_descriptor(), s, "SYSCALL_");
}
inline std::string OffCpuStateColumn(v1::OffCpuState s) {
  return EnumName(v1::OffCpuState_descriptor(), s, "OFF_CPU_");
}
inline std::string SchedKindColumn(v1::SchedHistogramKind k) {
  return EnumName(v1::SchedHistogramKind_descriptor(), k, "SCHED_HISTOGRAM_");
}
inline std::string ShimFunctionColumn(v1::ShimFunction f) {
  return EnumName(v1::ShimFunction_descriptor(), f, "SHIM_");
}
inline std::string MarkerTypeColumn(v1::MarkerType t) {
  return EnumName(v1::MarkerType_descriptor(), t, "MARKER_");
}
inline std::string EventKindColumn(v1::EventKind k) {
  return EnumName(v1::EventKind_descriptor(), k, "EVENT_KIND_");
}

// An argument as a POSIX shell word (quoted only when needed).
std::string ShellQuote(const std::string& arg);
// argv joined with spaces, each argument shell-quoted when needed (Python:
// shlex.split gives them back).
std::string JoinArgv(const google::protobuf::RepeatedPtrField<std::string>& argv);
// "3;0;12": numbers joined with ';'.
std::string JoinNumbers(const google::protobuf::RepeatedField<uint64_t>& values);

}  // namespace probe
