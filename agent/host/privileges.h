// What the agent keeps once its BPF programs are loaded and attached, and the
// kernel calls that give up the rest. Loading needs root (or CAP_BPF and
// CAP_PERFMON); draining what is already attached needs almost nothing, so
// an agent that is later subverted (it parses other processes' memory) holds
// no more than the run needs.
#pragma once
#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "sudo_user.h"

namespace probe {

// What the rest of the run still has to do.
struct PrivilegeNeeds {
  // Reading /proc/PID/maps and map_files of targets that loaded the shim by
  // hand, whoever owns them: CAP_SYS_PTRACE for another user's maps,
  // CAP_DAC_READ_SEARCH for its map_files directory (mode 0500),
  // CAP_CHECKPOINT_RESTORE to open a map_files entry at all.
  bool read_target_memory = false;
  // Stopping the launched command, which runs as root (CAP_KILL).
  bool signal_child = false;
  // The kernel's release, e.g. "6.1.0": before 6.5, with unprivileged BPF
  // disabled, even bpf() on an open map fd needs CAP_BPF.
  std::string kernel_release;
  // --rotate: each new file's snapshot reads /proc/PID/exe of the live
  // targets, whoever owns them (CAP_SYS_PTRACE).
  bool snapshot_processes = false;
};

struct PrivilegePlan {
  std::optional<SudoUser> user;  // switch to this user, or keep the uid
  std::vector<int> keep;         // capabilities kept, ascending
};

PrivilegePlan PlanPrivilegeDrop(const PrivilegeNeeds& needs, std::optional<SudoUser> sudo);

// "uid 1000 gid 1000, capabilities: kill, no_new_privs": for the header
// and for messages.
std::string DescribePlan(const PrivilegePlan& plan);

// Applies the plan to this (single-threaded) process: bounding and ambient
// sets emptied of what is not kept, the user switched, the kept capabilities
// effective and nothing else, no_new_privs set. Capabilities the process
// never had are not added. False with a one-line *error if any step failed
// or the result is not what was asked.
bool DropPrivileges(const PrivilegePlan& plan, std::string* error);

// Whether the user the plan switches to may create and rename files in the
// directory dirfd (--rotate makes files all run long), asked of the kernel
// with that user's filesystem ids before the drop; true when the plan keeps
// the uid.
bool DirectoryWritableAfterDrop(int dirfd, const PrivilegePlan& plan);

}  // namespace probe
