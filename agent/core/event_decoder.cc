#include "event_decoder.h"

#include <linux/types.h>

#include <cstring>
#include <iterator>

extern "C" {
#include "probe_events.h"
}

static_assert(sizeof(probe_event_header) == 16);
static_assert(sizeof(probe_proc_info) == 16 + 8 + PROBE_FILENAME_LEN + PROBE_ARGS_LEN + 8);
static_assert(sizeof(probe_proc_exit_event) ==
              16 + 16 + 32 + PROBE_COMM_LEN + sizeof(probe_proc_info));
static_assert(sizeof(probe_syscall_event) == 56);
static_assert(sizeof(probe_waker) == 48);
static_assert(sizeof(probe_syscall_wait_event) == 56 + 32 + 48 + 8);
static_assert(sizeof(probe_wakeup_event) == 16 + 8 + 16 + 8 + 48);
static_assert(PROBE_SYS_MAX - 1 == probe::v1::Syscall_MAX);

namespace probe {

namespace {

std::string BoundedString(const char* s, size_t cap) { return std::string(s, strnlen(s, cap)); }

void DecodeProcExit(const probe_proc_exit_event& e, v1::ProcessLifetime* p, uint64_t page_size) {
  p->set_pid(static_cast<int32_t>(e.pid));
  p->set_ppid(static_cast<int32_t>(e.ppid));
  p->set_comm(BoundedString(e.comm, sizeof(e.comm)));
  size_t fname_len = std::min<size_t>(e.info.filename_len, sizeof(e.info.filename));
  p->set_exe(BoundedString(e.info.filename, fname_len));
  size_t args_len = std::min<size_t>(e.info.args_len, sizeof(e.info.args));
  SplitArgs(e.info.args, args_len, p->mutable_argv());
  p->set_argv_truncated(e.info.args_total > args_len);
  p->set_fork_time_ns(e.fork_ns);
  p->set_exec_time_ns(e.info.exec_ns);
  p->set_exit_time_ns(e.hdr.time_ns);
  p->set_exec_count(e.info.exec_count);
  p->set_first_exec_time_ns(e.info.first_exec_ns);
  if (e.info.exec_ns != 0 && e.hdr.time_ns >= e.info.exec_ns)
    p->set_exec_to_exit_ns(e.hdr.time_ns - e.info.exec_ns);
  if (e.info.exec_ns != 0 && e.info.exec_ns >= e.fork_ns)
    p->set_fork_to_exec_ns(e.info.exec_ns - e.fork_ns);
  // task->exit_code: (status << 8) for exit(), signal | 0x80 (core) when killed.
  uint32_t sig = e.exit_code & 0x7f;
  if (sig != 0) {
    p->set_exit_signal(static_cast<int32_t>(sig));
    p->set_core_dumped((e.exit_code & 0x80) != 0);
  } else {
    p->set_exit_code(static_cast<int32_t>((e.exit_code >> 8) & 0xff));
  }
  p->set_user_time_ns(e.utime_ns);
  p->set_system_time_ns(e.stime_ns);
  p->set_peak_rss_bytes(e.maxrss_pages * page_size);
  p->set_finished(true);
}

void DecodeSyscall(const probe_syscall_event& e, v1::SyscallCall* c) {
  c->set_pid(static_cast<int32_t>(e.pid));
  c->set_tid(static_cast<int32_t>(e.tid));
  c->set_syscall(static_cast<v1::Syscall>(e.syscall));
  c->set_start_time_ns(e.hdr.time_ns);
  c->set_duration_ns(e.duration_ns);
  c->set_ret(e.ret);
  if (e.fd >= 0) c->set_fd(e.fd);  // absent, not -1: 2 bytes less for every wait
  bool wait = e.syscall <= PROBE_SYS_EPOLL_PWAIT2;
  if (wait) {
    c->set_nfds(e.arg);
    c->set_has_timeout((e.flags & PROBE_SYS_F_HAS_TIMEOUT) != 0);
    if (c->has_timeout()) c->set_timeout_ns(e.timeout_ns);
    c->set_timed_out((e.flags & PROBE_SYS_F_TIMED_OUT) != 0);
  }
  if (e.flags & PROBE_SYS_F_HAS_VALUE) {
    c->set_has_value(true);
    c->set_value(e.value);
  }
  if (e.syscall == PROBE_SYS_EVENTFD2) c->set_eventfd_flags(e.arg);
  c->set_interrupted((e.flags & PROBE_SYS_F_INTERRUPTED) != 0);
}

// The kernel's softirq vectors (include/linux/interrupt.h), as /proc/softirqs names them.
const char* SoftirqName(uint32_t vec) {
  static const char* const kNames[] = {"HI",       "TIMER",   "NET_TX", "NET_RX",  "BLOCK",
                                       "IRQ_POLL", "TASKLET", "SCHED",  "HRTIMER", "RCU"};
  return vec < std::size(kNames) ? kNames[vec] : "";
}

void DecodeWaker(const probe_waker& w, v1::Waker* k) {
  k->set_pid(static_cast<int32_t>(w.pid));
  k->set_tid(static_cast<int32_t>(w.tid));
  k->set_comm(BoundedString(w.comm, sizeof(w.comm)));
  k->set_syscall_nr(w.nr);
  if (w.fd >= 0) k->set_fd(w.fd);
  switch (w.ctx) {
    case PROBE_WAKER_TASK:
      break;
    case PROBE_WAKER_UNTRACKED:
      k->set_context(v1::WAKER_CONTEXT_UNTRACKED);
      break;
    case PROBE_WAKER_HARDIRQ:
      k->set_context(v1::WAKER_CONTEXT_HARDIRQ);
      k->set_irq(static_cast<int32_t>(w.ctx_id));
      break;
    case PROBE_WAKER_SOFTIRQ:
      k->set_context(v1::WAKER_CONTEXT_SOFTIRQ);
      k->set_softirq(w.ctx_id);
      k->set_softirq_name(SoftirqName(w.ctx_id));
      break;
    case PROBE_WAKER_OWN_TIMEOUT:
    case PROBE_WAKER_TIMER:
      k->set_context(w.ctx == PROBE_WAKER_TIMER ? v1::WAKER_CONTEXT_TIMER
                                                : v1::WAKER_CONTEXT_OWN_TIMEOUT);
      k->set_timer_function(w.ctx_fn);
      break;
    default:  // PROBE_WAKER_UNKNOWN, or a value this agent does not know
      k->set_context(v1::WAKER_CONTEXT_UNKNOWN);
      k->set_unknown_reason(w.ctx == PROBE_WAKER_UNKNOWN &&
                                    w.ctx_id >= PROBE_UNKNOWN_WAKING_NOT_SEEN &&
                                    w.ctx_id <= PROBE_UNKNOWN_SWITCH_IN_NOT_SEEN
                                ? static_cast<v1::WakeUnknownReason>(w.ctx_id)
                                : v1::WAKE_UNKNOWN_UNSPECIFIED);
      break;
  }
}

void DecodeWakeup(const probe_wakeup_event& e, v1::Wakeup* w) {
  w->set_pid(static_cast<int32_t>(e.pid));
  w->set_tid(static_cast<int32_t>(e.tid));
  w->set_on_cpu_time_ns(e.hdr.time_ns);
  w->set_cpu(e.hdr.cpu);
  w->set_off_cpu_time_ns(e.off_ns);
  w->set_wake_time_ns(e.wake_ns);
  w->set_state(e.state <= PROBE_OFF_OTHER ? static_cast<v1::OffCpuState>(e.state)
                                          : v1::OFF_CPU_OTHER);
  if (e.state != PROBE_OFF_PREEMPTED) DecodeWaker(e.waker, w->mutable_waker());
  if (e.wake_ns == 0) {  // the wakeup was not seen: off -> on is unknown, not blocked
    if (e.off_ns != 0 && e.hdr.time_ns >= e.off_ns) w->set_unknown_ns(e.hdr.time_ns - e.off_ns);
    return;
  }
  if (e.wake_ns >= e.off_ns) w->set_off_cpu_ns(e.wake_ns - e.off_ns);
  if (e.hdr.time_ns >= e.wake_ns) w->set_run_queue_ns(e.hdr.time_ns - e.wake_ns);
}

void DecodeWait(const probe_syscall_wait_event& w, v1::SyscallCall* c) {
  const uint64_t start = w.call.hdr.time_ns, end = start + w.call.duration_ns;
  auto span = [](uint64_t from, uint64_t to) { return to >= from && from != 0 ? to - from : 0; };
  auto* b = c->mutable_breakdown();
  b->set_to_block_ns(span(start, w.off_ns));
  b->set_woken(w.wake_ns != 0);
  if (w.wake_ns == 0) {
    // It returned, so it was back on a CPU: with no wakeup seen, switched
    // out -> on is unknown (-> the return, when the switch-in was not seen
    // either), never "blocked".
    b->set_unknown_ns(span(w.off_ns, w.on_ns != 0 ? w.on_ns : end));
    if (w.on_ns != 0) b->set_return_ns(span(w.on_ns, end));
    if (w.blocked_ns > 0) b->set_total_blocked_ns(w.blocked_ns);
    if (w.waker.ctx == PROBE_WAKER_UNKNOWN) {
      DecodeWaker(w.waker, b->mutable_waker());
    } else {  // the kernel side did not name it: a scheduler program was skipped
      b->mutable_waker()->set_context(v1::WAKER_CONTEXT_UNKNOWN);
      b->mutable_waker()->set_unknown_reason(w.on_ns != 0 ? v1::WAKE_UNKNOWN_WAKING_NOT_SEEN
                                                          : v1::WAKE_UNKNOWN_SWITCH_IN_NOT_SEEN);
    }
    return;
  }
  b->set_blocked_ns(span(w.off_ns, w.wake_ns));
  // Only when it blocked more than once: absent means the same as blocked_ns.
  if (w.blocked_ns > b->blocked_ns()) b->set_total_blocked_ns(w.blocked_ns);
  uint64_t on = w.on_ns != 0 ? w.on_ns : end;
  b->set_run_queue_ns(span(w.wake_ns, on));
  b->set_return_ns(span(on, end));
  DecodeWaker(w.waker, b->mutable_waker());
}

// The kind message of *out, empty, for the record being decoded. The agent
// decodes every event into the same Record; when the last one was of the
// same kind its message is cleared and reused, not freed and allocated again
// (that free and allocation were ~10% of the agent's time draining W1).
template <class M>
M* Fresh(v1::Record* out, bool (v1::Record::*has)() const, M* (v1::Record::*mutable_kind)()) {
  if (!(out->*has)()) out->Clear();
  M* m = (out->*mutable_kind)();
  m->Clear();
  return m;
}

v1::SyscallCall* FreshSyscall(v1::Record* out) {
  return Fresh(out, &v1::Record::has_syscall, &v1::Record::mutable_syscall);
}

v1::Wakeup* FreshWakeup(v1::Record* out) {
  return Fresh(out, &v1::Record::has_wakeup, &v1::Record::mutable_wakeup);
}

}  // namespace

bool DecodeFoldedWakeup(const void* data, size_t size, v1::Record* out) {
  probe_syscall_wait_event w;
  // The header first: this runs on every event the agent drains.
  probe_event_header hdr;
  if (size < sizeof(w)) return false;
  memcpy(&hdr, data, sizeof(hdr));
  if (hdr.type != PROBE_EV_SYSCALL_WAIT || hdr.size != sizeof(w)) return false;
  memcpy(&w, data, sizeof(w));
  if (w.wakeup_folded != 1) return false;
  // The wakeup record the switch-in would have written.
  probe_wakeup_event e = {};
  e.hdr.type = PROBE_EV_WAKEUP;
  e.hdr.size = sizeof(e);
  e.hdr.cpu = w.wakeup_cpu;
  e.hdr.time_ns = w.on_ns;
  e.pid = w.call.pid;
  e.tid = w.call.tid;
  e.off_ns = w.off_ns;
  e.wake_ns = w.wake_ns;
  e.state = w.wakeup_state;
  e.waker = w.waker;
  DecodeWakeup(e, FreshWakeup(out));
  return true;
}

void SplitArgs(const char* data, size_t len, google::protobuf::RepeatedPtrField<std::string>* out) {
  size_t start = 0;
  for (size_t i = 0; i < len; ++i) {
    if (data[i] == '\0') {
      out->Add(std::string(data + start, i - start));
      start = i + 1;
    }
  }
  if (start < len) out->Add(std::string(data + start, len - start));
}

DecodeResult DecodeEvent(const void* data, size_t size, v1::Record* out, uint64_t page_size) {
  probe_event_header hdr;
  if (size < sizeof(hdr)) return DecodeResult::kMalformed;
  memcpy(&hdr, data, sizeof(hdr));
  if (hdr.size > size) return DecodeResult::kMalformed;
  switch (hdr.type) {
    case PROBE_EV_PROC_EXIT: {
      if (hdr.size != sizeof(probe_proc_exit_event)) return DecodeResult::kMalformed;
      probe_proc_exit_event e;
      memcpy(&e, data, sizeof(e));
      out->Clear();  // rare: no reuse
      DecodeProcExit(e, out->mutable_process(), page_size);
      return DecodeResult::kOk;
    }
    case PROBE_EV_SYSCALL: {
      if (hdr.size != sizeof(probe_syscall_event)) return DecodeResult::kMalformed;
      probe_syscall_event e;
      memcpy(&e, data, sizeof(e));
      if (e.syscall == 0 || e.syscall >= PROBE_SYS_MAX) return DecodeResult::kMalformed;
      DecodeSyscall(e, FreshSyscall(out));
      return DecodeResult::kOk;
    }
    case PROBE_EV_SYSCALL_WAIT: {
      if (hdr.size != sizeof(probe_syscall_wait_event)) return DecodeResult::kMalformed;
      probe_syscall_wait_event w;
      memcpy(&w, data, sizeof(w));
      if (w.call.syscall == 0 || w.call.syscall >= PROBE_SYS_MAX) return DecodeResult::kMalformed;
      v1::SyscallCall* call = FreshSyscall(out);
      DecodeSyscall(w.call, call);
      DecodeWait(w, call);
      return DecodeResult::kOk;
    }
    case PROBE_EV_WAKEUP: {
      if (hdr.size != sizeof(probe_wakeup_event)) return DecodeResult::kMalformed;
      probe_wakeup_event e;
      memcpy(&e, data, sizeof(e));
      DecodeWakeup(e, FreshWakeup(out));
      return DecodeResult::kOk;
    }
    default:
      return DecodeResult::kUnknownType;
  }
}

}  // namespace probe
