#include "chrome_args.h"

namespace probe {

namespace {

bool IsWaitSyscall(v1::Syscall s) {
  return s >= v1::SYSCALL_SELECT && s <= v1::SYSCALL_EPOLL_PWAIT2;
}

}  // namespace

void AddProcessArgs(const v1::ProcessLifetime& p, Event* e) {
  e->ArgInt("pid", p.pid()).ArgInt("ppid", p.ppid());
  if (!p.exe().empty()) e->Arg("exe", p.exe());
  if (p.argv_size() > 0) {
    std::string argv;
    for (const std::string& a : p.argv()) {
      if (!argv.empty()) argv.push_back(' ');
      argv += a;
    }
    if (p.argv_truncated()) argv += " ...";
    e->Arg("argv", argv);
  }
  if (p.fork_time_ns() && p.exec_time_ns()) e->ArgUint("fork_to_exec_ns", p.fork_to_exec_ns());
  if (p.finished()) {
    if (p.exit_signal() != 0) {
      e->ArgInt("exit_signal", p.exit_signal());
      if (p.core_dumped()) e->ArgBool("core_dumped", true);
    } else {
      e->ArgInt("exit_code", p.exit_code());
    }
    e->ArgUint("exec_to_exit_ns", p.exec_to_exit_ns());
  } else {
    e->ArgBool("finished", false);
  }
  e->ArgUint("user_time_ns", p.user_time_ns())
      .ArgUint("system_time_ns", p.system_time_ns())
      .ArgUint("peak_rss_bytes", p.peak_rss_bytes());
  if (p.has_user_time_before_ns() && p.has_system_time_before_ns())  // it existed at the start
    e->ArgUint("user_time_before_ns", p.user_time_before_ns())
        .ArgUint("system_time_before_ns", p.system_time_before_ns());
  if (p.exec_count() > 1) e->ArgUint("exec_count", p.exec_count());
}

void AddSyscallArgs(const v1::SyscallCall& c, const NameTable& names, Event* e) {
  e->ArgInt("ret", c.ret());
  if (c.ret() < 0 && !c.interrupted()) e->ArgInt("errno", -c.ret());
  if (c.interrupted()) e->ArgBool("interrupted", true);
  if (c.has_fd()) e->ArgInt("fd", c.fd());
  if (IsWaitSyscall(c.syscall())) {
    e->ArgUint("nfds", c.nfds());
    if (c.has_timeout()) {
      e->ArgInt("timeout_ns", c.timeout_ns());
    } else {
      e->Arg("timeout", "none");
    }
    e->ArgBool("timed_out", c.timed_out());
  }
  if (c.has_value()) e->ArgUint("value", c.value());
  if (c.eventfd_flags() != 0) e->ArgUint("eventfd_flags", c.eventfd_flags());
  if (c.has_breakdown()) {
    const v1::WaitBreakdown& b = c.breakdown();
    e->ArgUint("to_block_ns", b.to_block_ns())
        .ArgUint("blocked_ns", b.blocked_ns())
        .ArgUint("run_queue_ns", b.run_queue_ns())
        .ArgUint("return_ns", b.return_ns());
    if (b.total_blocked_ns() > 0) e->ArgUint("total_blocked_ns", b.total_blocked_ns());
    e->ArgBool("woken", b.woken());
    if (b.woken()) AddWakerArgs(b.waker(), names, e);
  }
}

void MarkUntrackedWaker(const v1::Waker& w, Event* e) {
  if (w.context() == v1::WAKER_CONTEXT_UNTRACKED) e->Arg("waker_context", "not tracked");
}

void AddWakerArgs(const v1::Waker& w, const NameTable& names, Event* e) {
  const std::string comm = names.WakerComm(w);
  // An interrupt, softirq or timer woke it: the task it interrupted is a
  // bystander, so only the context is given.
  if (!NamesATask(w)) {
    e->Arg("waker", WakerText(w, comm, WakerStyle::kGroup));
    return;
  }
  MarkUntrackedWaker(w, e);
  e->ArgInt("waker_pid", w.pid()).ArgInt("waker_tid", w.tid());
  if (w.pid() == 0) {
    e->Arg("waker_comm", comm).Arg("waker", KernelWakerName(comm));
  } else {
    e->Arg("waker_comm", comm);
    e->Arg("waker_syscall", w.syscall_nr() >= 0 ? FormatWakerSyscall(w) : "none");
  }
}

}  // namespace probe
