// The header lines that identify a run and line it up with other traces:
// run id, boot id, machine id, CPU count, the BOOTTIME offset and --tag labels.
#pragma once
#include <string>

#include "probe.pb.h"

namespace probe {

// "" for files written before these fields existed (or by the shim alone).
std::string FormatRunIdentity(const v1::Header& h);

}  // namespace probe
