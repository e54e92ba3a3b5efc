// Every name probe-report prints, from one place: processes and threads
// (a bounded table fed once per record, before any output sees the record),
// syscalls (the proto's and the waker's x86_64 numbers), and wakers.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <unordered_map>
#include <unordered_set>

#include "probe.pb.h"
#include "record_visitor.h"

namespace probe {

// Lower-case kernel name; read/write/readv/writev say "(eventfd)" because
// only eventfds are traced for them.
std::string SyscallName(v1::Syscall s);
// An x86_64 syscall number as its name, "syscall 999" when not known here.
std::string X86SyscallName(int nr);
// A waker with pid 0: "an interrupt on idle CPU 1" or "kernel thread kworker/0:1".
std::string KernelWakerName(const std::string& comm);
// "write(fd 7)", "futex": the fd only for syscalls that take one first.
std::string FormatWakerSyscall(const v1::Waker& w);

// How a waker is written: the text report's "tid 812 (server) in
// write(fd 7)", the HTML's "pid 800 tid 812 (server) in write(fd 7)", the
// wakers table's "server 800/812", or grouped across threads and fds for
// delays by waker: "server in write", "an interrupt on an idle CPU".
enum class WakerStyle { kTid, kPidTid, kPair, kGroup };
// The one place a waker becomes words (without "woken by"), given its comm.
std::string WakerText(const v1::Waker& w, const std::string& comm, WakerStyle style);
// Whether w names a task (pid, tid, comm): in process context, or untracked
// (--no-waker-context: the task on the CPU then). Else they are only the
// task an interrupt, softirq or timer happened to interrupt.
bool NamesATask(const v1::Waker& w);
// What a waker that was not a task was: the irq's name (or number), the
// softirq's name (or vector), the hrtimer function's name (or address, in
// hex), why no wakeup was seen; empty for a task.
std::string WakerContextDetail(const v1::Waker& w);
// "select", "eventfd_read": a shim function's C name.
std::string ShimFunctionName(v1::ShimFunction f);

// pid -> process comm and tid -> thread comm. Bounded: past kMaxNames ids
// per table, names of new ids are not kept (counted in dropped()); known
// ids are still renamed.
class NameTable : public RecordVisitor {
 public:
  static constexpr size_t kMaxNames = 1 << 18;

  void OnSnapshot(const v1::ProcessSnapshot& s) override;
  void OnProcess(const v1::ProcessLifetime& p) override;
  void OnThreadName(const v1::ThreadName& t) override;
  void OnWakeup(const v1::Wakeup& w) override;

  // The process's comm (its lifetime record's, else its snapshot's), or null.
  const std::string* Process(int32_t pid) const;
  // The thread's comm (ThreadName records, snapshots, the main thread of a
  // process, wakers' inline names), or null.
  const std::string* Thread(int32_t tid) const;
  // The waker's comm: the record's own, else the thread's known name, else "".
  std::string WakerComm(const v1::Waker& w) const;
  // WakerText with the comm resolved.
  std::string Waker(const v1::Waker& w, WakerStyle style) const {
    return WakerText(w, WakerComm(w), style);
  }
  uint64_t dropped() const { return dropped_; }

 private:
  void Put(std::unordered_map<int32_t, std::string>& table, int32_t id, const std::string& name);

  std::unordered_map<int32_t, std::string> processes_;
  std::unordered_set<int32_t> from_lifetime_;  // named by a lifetime: a snapshot does not rename
  std::unordered_map<int32_t, std::string> threads_;
  uint64_t dropped_ = 0;
};

}  // namespace probe
