// The header fields that line a record file up with other tools and hosts:
// a BOOTTIME sample beside MONOTONIC, boot id, machine id, a run id, the CPU
// count and the user's --tag labels.
#pragma once
#include <string>

#include "options.h"
#include "probe.pb.h"

namespace probe {

void AddRunIdentity(const Options& o, v1::Header* h);

// A random (version 4) UUID, "" if the kernel gave no randomness.
std::string NewRunId();

}  // namespace probe
