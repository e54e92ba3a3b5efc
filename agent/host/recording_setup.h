// What a run writes before its first event and asks of the kernel, made from
// the options alone: the header, the sampling in force, the kinds traced and
// the launched command's environment.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "options.h"
#include "probe.pb.h"

namespace probe {

v1::Sampling MakeSampling(const Options& options);

// The file's first record. roots: the processes traced from the start;
// start_ns: when the agent started (monotonic).
v1::Record MakeHeader(const Options& options, const std::vector<std::string>& argv,
                      const std::vector<int>& roots, uint64_t start_ns,
                      const std::string& preload_library);

// The kinds with a KindCounters entry, in the order they are written.
std::vector<v1::EventKind> TracedKinds(const Options& options);

// The shim's settings for the launched command, after ShimEnvironment's.
std::vector<std::string> ShimSamplingEnvironment(const Options& options);

// uname's release, e.g. "6.1.0-18-amd64"; "" if unknown.
std::string KernelRelease();

}  // namespace probe
