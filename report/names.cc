#include "names.h"

#include <algorithm>
#include <cctype>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <map>
#include <set>

#include "column_text.h"

namespace probe {

namespace {

bool IsEventfdIo(v1::Syscall s) { return s >= v1::SYSCALL_READ && s <= v1::SYSCALL_WRITEV; }

}  // namespace

std::string SyscallName(v1::Syscall s) {
  const std::string& full = v1::Syscall_Name(s);
  if (full.empty() || s == v1::SYSCALL_UNSPECIFIED) return "syscall#" + std::to_string(s);
  std::string name = full.substr(strlen("SYSCALL_"));
  std::transform(name.begin(), name.end(), name.begin(),
                 [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
  return IsEventfdIo(s) ? name + "(eventfd)" : name;
}

std::string X86SyscallName(int nr) {
  // The kernel's list, generated at build from Debian's asm/unistd_64.h
  // (report/CMakeLists.txt); a short list where the build host had none.
  static const std::map<int, const char*> kNames = [] {
    std::map<int, const char*> kernel = {
#include "x86_64_syscall_names.inc"
    };
    if (!kernel.empty()) return kernel;
    return std::map<int, const char*>{{0, "read"},
                                      {1, "write"},
                                      {3, "close"},
                                      {7, "poll"},
                                      {16, "ioctl"},
                                      {19, "readv"},
                                      {20, "writev"},
                                      {23, "select"},
                                      {35, "nanosleep"},
                                      {44, "sendto"},
                                      {46, "sendmsg"},
                                      {56, "clone"},
                                      {59, "execve"},
                                      {60, "exit"},
                                      {61, "wait4"},
                                      {62, "kill"},
                                      {200, "tkill"},
                                      {202, "futex"},
                                      {230, "clock_nanosleep"},
                                      {231, "exit_group"},
                                      {232, "epoll_wait"},
                                      {234, "tgkill"},
                                      {270, "pselect6"},
                                      {271, "ppoll"},
                                      {281, "epoll_pwait"},
                                      {290, "eventfd2"},
                                      {435, "clone3"},
                                      {441, "epoll_pwait2"}};
  }();
  auto it = kNames.find(nr);
  return it != kNames.end() ? it->second : "syscall " + std::to_string(nr);
}

std::string KernelWakerName(const std::string& comm) {
  // The idle task only wakes others from interrupts: timers, I/O completions.
  if (comm.rfind("swapper/", 0) == 0) return "an interrupt on idle CPU " + comm.substr(8);
  return "kernel thread " + comm;
}

std::string FormatWakerSyscall(const v1::Waker& w) {
  // Syscalls whose first argument is an fd, so "(fd N)" means something.
  static const std::set<int> kFdFirst = {0, 1, 3, 16, 19, 20, 44, 46, 72, 232, 281, 441};
  std::string out = X86SyscallName(w.syscall_nr());
  if (kFdFirst.count(w.syscall_nr())) out += "(fd " + std::to_string(w.fd()) + ")";
  return out;
}

std::string ShimFunctionName(v1::ShimFunction f) {
  const std::string& full = v1::ShimFunction_Name(f);
  if (full.empty() || f == v1::SHIM_UNSPECIFIED) return "function#" + std::to_string(f);
  std::string name = full.substr(strlen("SHIM_"));
  std::transform(name.begin(), name.end(), name.begin(),
                 [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
  return name;
}

void NameTable::Put(std::unordered_map<int32_t, std::string>& table, int32_t id,
                    const std::string& name) {
  if (name.empty()) return;
  auto it = table.find(id);
  if (it != table.end()) {
    it->second = name;
  } else if (table.size() < kMaxNames) {
    table.emplace(id, name);
  } else {
    ++dropped_;
  }
}

void NameTable::OnSnapshot(const v1::ProcessSnapshot& s) {
  // Lifetime records carry the comm after exec: a snapshot does not undo it.
  if (!from_lifetime_.count(s.pid())) Put(processes_, s.pid(), s.comm());
  for (const v1::Thread& t : s.threads()) Put(threads_, t.tid(), t.comm());
  if (s.threads_size() == 0) Put(threads_, s.pid(), s.comm());
}

void NameTable::OnProcess(const v1::ProcessLifetime& p) {
  Put(processes_, p.pid(), p.comm());
  if (processes_.count(p.pid()) && from_lifetime_.size() < kMaxNames)
    from_lifetime_.insert(p.pid());
  Put(threads_, p.pid(), p.comm());
}

void NameTable::OnThreadName(const v1::ThreadName& t) {
  if (t.tid() != 0) Put(threads_, t.tid(), t.comm());
}

void NameTable::OnWakeup(const v1::Wakeup& w) {
  if (!w.has_waker() || w.state() == v1::OFF_CPU_PREEMPTED) return;
  if (w.waker().tid() != 0) Put(threads_, w.waker().tid(), w.waker().comm());
}

const std::string* NameTable::Process(int32_t pid) const {
  auto it = processes_.find(pid);
  return it == processes_.end() ? nullptr : &it->second;
}

const std::string* NameTable::Thread(int32_t tid) const {
  auto it = threads_.find(tid);
  return it == threads_.end() ? nullptr : &it->second;
}

std::string NameTable::WakerComm(const v1::Waker& w) const {
  if (!w.comm().empty() || w.tid() == 0) return w.comm();
  const std::string* name = Thread(w.tid());
  return name ? *name : std::string();
}

// A waker that was not a task: the interrupt, softirq or timer it ran in.
// Empty for a task (the caller names it from pid, tid and comm).
static std::string WakerContextText(const v1::Waker& w) {
  switch (w.context()) {
    case v1::WAKER_CONTEXT_OWN_TIMEOUT:
      return "its own timeout";
    case v1::WAKER_CONTEXT_TIMER:
      return "timer " +
             (w.timer_function_name().empty() ? std::string("function") : w.timer_function_name());
    case v1::WAKER_CONTEXT_HARDIRQ:
      return "irq " + std::to_string(w.irq()) +
             (w.irq_name().empty() ? "" : " (" + w.irq_name() + ")");
    case v1::WAKER_CONTEXT_SOFTIRQ:
      return "softirq " +
             (w.softirq_name().empty() ? std::to_string(w.softirq()) : w.softirq_name());
    case v1::WAKER_CONTEXT_UNKNOWN:
      return "an unseen wakeup";
    default:
      return "";
  }
}

std::string WakerContextDetail(const v1::Waker& w) {
  switch (w.context()) {
    case v1::WAKER_CONTEXT_HARDIRQ:
      return w.irq_name().empty() ? std::to_string(w.irq()) : w.irq_name();
    case v1::WAKER_CONTEXT_SOFTIRQ:
      return w.softirq_name().empty() ? std::to_string(w.softirq()) : w.softirq_name();
    case v1::WAKER_CONTEXT_OWN_TIMEOUT:
    case v1::WAKER_CONTEXT_TIMER: {
      if (!w.timer_function_name().empty()) return w.timer_function_name();
      char hex[32];
      snprintf(hex, sizeof(hex), "0x%" PRIx64, w.timer_function());
      return w.timer_function() ? hex : "";
    }
    case v1::WAKER_CONTEXT_UNKNOWN:
      return EnumName(v1::WakeUnknownReason_descriptor(), w.unknown_reason(), "WAKE_UNKNOWN_");
    default:
      return "";
  }
}

// A waker in words, from its context or else as the task it names.
static std::string ContextOrTaskText(const v1::Waker& w, const std::string& comm,
                                     WakerStyle style) {
  if (std::string context = WakerContextText(w); !context.empty()) return context;
  if (style == WakerStyle::kGroup) {
    if (w.pid() == 0)
      return comm.rfind("swapper/", 0) == 0 ? "an interrupt on an idle CPU" : KernelWakerName(comm);
    return (comm.empty() ? "?" : comm) +
           (w.syscall_nr() >= 0 ? " in " + X86SyscallName(w.syscall_nr()) : " outside a syscall");
  }
  if (w.pid() == 0) return KernelWakerName(comm);
  const std::string pid = std::to_string(w.pid()), tid = std::to_string(w.tid());
  if (style == WakerStyle::kPair) return comm + " " + pid + "/" + tid;
  std::string out = style == WakerStyle::kPidTid
                        ? "pid " + pid + " tid " + tid + " (" + (comm.empty() ? "?" : comm) + ")"
                        : "tid " + tid + " (" + comm + ")";
  return out + (w.syscall_nr() >= 0 ? " in " + FormatWakerSyscall(w) : " outside a syscall");
}

bool NamesATask(const v1::Waker& w) {
  return w.context() == v1::WAKER_CONTEXT_TASK || w.context() == v1::WAKER_CONTEXT_UNTRACKED;
}

std::string WakerText(const v1::Waker& w, const std::string& comm, WakerStyle style) {
  // --no-waker-context: the task named may only have been interrupted.
  return ContextOrTaskText(w, comm, style) +
         (w.context() == v1::WAKER_CONTEXT_UNTRACKED ? " [context not tracked]" : "");
}

}  // namespace probe
