// The args of the Chrome trace's events: what a process, a syscall and a
// waker carry into ui.perfetto.dev's details pane.
#pragma once
#include "json_writer.h"
#include "names.h"
#include "probe.pb.h"

namespace probe {

void AddProcessArgs(const v1::ProcessLifetime& p, Event* e);
// The call's arguments, result and, when it blocked, its breakdown and waker.
void AddSyscallArgs(const v1::SyscallCall& c, const NameTable& names, Event* e);
// waker_pid, waker_tid, waker_comm and waker (a kernel waker) or waker_syscall.
void AddWakerArgs(const v1::Waker& w, const NameTable& names, Event* e);
// waker_context "not tracked" when w is only the task that was on the CPU
// (--no-waker-context), for every event that names a waker's task.
void MarkUntrackedWaker(const v1::Waker& w, Event* e);

}  // namespace probe
