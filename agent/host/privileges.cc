#include "privileges.h"

#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <sys/fsuid.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "proc_scan.h"

namespace probe {

namespace {

constexpr struct {
  int cap;
  const char* name;
} kCapNames[] = {
    {CAP_DAC_READ_SEARCH, "dac_read_search"},
    {CAP_KILL, "kill"},
    {CAP_SYS_PTRACE, "sys_ptrace"},
    {CAP_BPF, "bpf"},
    {CAP_CHECKPOINT_RESTORE, "checkpoint_restore"},
};

// Kernels before 6.5 check unprivileged_bpf_disabled on every bpf() command,
// map lookups on an already open fd included.
bool MapAccessNeedsCapBpf(const std::string& release) {
  unsigned major = 0, minor = 0;
  if (sscanf(release.c_str(), "%u.%u", &major, &minor) != 2) return true;
  return major < 6 || (major == 6 && minor < 5);
}

struct CapSets {
  uint64_t effective = 0, permitted = 0, inheritable = 0;
};

bool GetCaps(CapSets* out) {
  __user_cap_header_struct hdr{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2] = {};
  if (syscall(SYS_capget, &hdr, data) != 0) return false;
  out->effective = data[0].effective | (uint64_t(data[1].effective) << 32);
  out->permitted = data[0].permitted | (uint64_t(data[1].permitted) << 32);
  out->inheritable = data[0].inheritable | (uint64_t(data[1].inheritable) << 32);
  return true;
}

bool SetCaps(uint64_t caps) {
  __user_cap_header_struct hdr{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2] = {};
  data[0].effective = data[0].permitted = uint32_t(caps);
  data[1].effective = data[1].permitted = uint32_t(caps >> 32);
  return syscall(SYS_capset, &hdr, data) == 0;
}

int LastCap() {
  int last = CAP_LAST_CAP;
  if (FILE* f = fopen("/proc/sys/kernel/cap_last_cap", "re")) {
    if (fscanf(f, "%d", &last) != 1) last = CAP_LAST_CAP;
    fclose(f);
  }
  return std::min(last, 63);
}

bool Fail(std::string* error, const std::string& what) {
  *error = "cannot drop privileges: " + what + ": " + strerror(errno);
  return false;
}

}  // namespace

PrivilegePlan PlanPrivilegeDrop(const PrivilegeNeeds& needs, std::optional<SudoUser> sudo) {
  PrivilegePlan plan;
  if (sudo && sudo->uid != 0) plan.user = sudo;
  if (needs.signal_child) plan.keep.push_back(CAP_KILL);
  if (needs.read_target_memory) {
    plan.keep.push_back(CAP_DAC_READ_SEARCH);
    plan.keep.push_back(CAP_SYS_PTRACE);
    plan.keep.push_back(CAP_CHECKPOINT_RESTORE);
  }
  if (needs.snapshot_processes && !needs.read_target_memory) plan.keep.push_back(CAP_SYS_PTRACE);
  if (MapAccessNeedsCapBpf(needs.kernel_release)) plan.keep.push_back(CAP_BPF);
  std::sort(plan.keep.begin(), plan.keep.end());
  return plan;
}

std::string DescribePlan(const PrivilegePlan& plan) {
  std::string s =
      plan.user ? "uid " + std::to_string(plan.user->uid) + " gid " + std::to_string(plan.user->gid)
                : "same uid";
  s += ", capabilities:";
  if (plan.keep.empty()) s += " none";
  for (size_t i = 0; i < plan.keep.size(); ++i) {
    s += i ? "," : " ";
    const char* name = nullptr;
    for (const auto& c : kCapNames)
      if (c.cap == plan.keep[i]) name = c.name;
    s += name ? name : std::to_string(plan.keep[i]);
  }
  return s + ", no_new_privs";
}

bool DropPrivileges(const PrivilegePlan& plan, std::string* error) {
  // capset changes the calling thread only: another thread would keep all.
  if (size_t n = ThreadIds("self").size(); n != 1) {
    errno = EBUSY;
    return Fail(error, "the agent has " + std::to_string(n) + " threads, expected 1");
  }
  CapSets before;
  if (!GetCaps(&before)) return Fail(error, "capget");
  uint64_t keep = 0;
  for (int cap : plan.keep) keep |= uint64_t(1) << cap;
  keep &= before.permitted;  // never more than the process had

  // The bounding set first, while CAP_SETPCAP is still effective. Without
  // CAP_SETPCAP (an unprivileged user with file capabilities) the bounding
  // set stays; no_new_privs still keeps exec from granting anything.
  const bool can_setpcap = before.effective & (uint64_t(1) << CAP_SETPCAP);
  for (int cap = 0; can_setpcap && cap <= LastCap(); ++cap) {
    if (keep & (uint64_t(1) << cap)) continue;
    if (prctl(PR_CAPBSET_READ, cap, 0, 0, 0) == 1 && prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0)
      return Fail(error, "PR_CAPBSET_DROP " + std::to_string(cap));
  }
  if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0 && errno != EINVAL)
    return Fail(error, "PR_CAP_AMBIENT_CLEAR_ALL");

  if (plan.user) {
    // Changing uid from 0 clears the permitted set unless asked to keep it.
    if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) != 0) return Fail(error, "PR_SET_KEEPCAPS");
    const gid_t gid = plan.user->gid;
    if (setgroups(1, &gid) != 0) return Fail(error, "setgroups");
    if (setresgid(gid, gid, gid) != 0) return Fail(error, "setresgid");
    if (setresuid(plan.user->uid, plan.user->uid, plan.user->uid) != 0)
      return Fail(error, "setresuid");
    if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) != 0) return Fail(error, "PR_SET_KEEPCAPS");
  }
  if (!SetCaps(keep)) return Fail(error, "capset");
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return Fail(error, "PR_SET_NO_NEW_PRIVS");

  // Check the result rather than trust each step.
  CapSets after;
  uid_t r, e, s;
  errno = EPERM;
  if (!GetCaps(&after) || after.effective != keep || after.permitted != keep ||
      after.inheritable != 0)
    return Fail(error, "capabilities not as planned");
  if (plan.user && (getresuid(&r, &e, &s) != 0 || r != plan.user->uid || e != plan.user->uid ||
                    s != plan.user->uid))
    return Fail(error, "uid not as planned");
  if (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1) return Fail(error, "no_new_privs not set");
  return true;
}

bool DirectoryWritableAfterDrop(int dirfd, const PrivilegePlan& plan) {
  if (!plan.user) return true;
  // A non-zero fsuid takes the DAC-overriding capabilities out of the
  // effective set: the kernel answers as it will for that user.
  const int old_gid = setfsgid(plan.user->gid);
  const int old_uid = setfsuid(plan.user->uid);
  const bool ok = faccessat(dirfd, ".", W_OK | X_OK, AT_EACCESS) == 0;
  setfsuid(static_cast<uid_t>(old_uid));
  setfsgid(static_cast<gid_t>(old_gid));
  return ok;
}

}  // namespace probe
