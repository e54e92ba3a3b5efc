#include "event_decoder.h"

#include <gtest/gtest.h>
#include <linux/types.h>

#include <cstring>

extern "C" {
#include "probe_events.h"
}

namespace probe {
namespace {

probe_proc_exit_event MakeExit() {
  probe_proc_exit_event e;
  memset(&e, 0, sizeof(e));
  e.hdr.type = PROBE_EV_PROC_EXIT;
  e.hdr.size = sizeof(e);
  e.hdr.time_ns = 5'000'000'000;
  e.pid = 10;
  e.ppid = 9;
  e.exit_code = 3 << 8;
  e.fork_ns = 4'000'000'000;
  e.info.exec_ns = 4'800'000'000;
  e.maxrss_pages = 100;
  strcpy(e.comm, "sleep");
  strcpy(e.info.filename, "/bin/sleep");
  e.info.filename_len = 11;
  memcpy(e.info.args,
         "sleep\0"
         "0.2\0",
         10);
  e.info.args_len = 10;
  e.info.args_total = 10;
  return e;
}

TEST(EventDecoderTest, ProcessExit) {
  auto e = MakeExit();
  v1::Record r;
  ASSERT_EQ(DecodeEvent(&e, sizeof(e), &r, 4096), DecodeResult::kOk);
  const auto& p = r.process();
  EXPECT_EQ(p.pid(), 10);
  EXPECT_EQ(p.ppid(), 9);
  EXPECT_EQ(p.comm(), "sleep");
  EXPECT_EQ(p.exe(), "/bin/sleep");
  ASSERT_EQ(p.argv_size(), 2);
  EXPECT_EQ(p.argv(1), "0.2");
  EXPECT_FALSE(p.argv_truncated());
  EXPECT_EQ(p.exec_to_exit_ns(), 200'000'000u);
  EXPECT_EQ(p.fork_to_exec_ns(), 800'000'000u);
  EXPECT_EQ(p.exit_code(), 3);
  EXPECT_EQ(p.exit_signal(), 0);
  EXPECT_EQ(p.peak_rss_bytes(), 409600u);
  EXPECT_TRUE(p.finished());
}

// Issue 20: a process that exec'd twice keeps its first exec's time too.
TEST(EventDecoderTest, ProcessExitKeepsTheFirstExec) {
  auto e = MakeExit();
  e.info.exec_count = 2;
  e.info.first_exec_ns = 4'100'000'000;
  v1::Record r;
  ASSERT_EQ(DecodeEvent(&e, sizeof(e), &r, 4096), DecodeResult::kOk);
  EXPECT_EQ(r.process().first_exec_time_ns(), 4'100'000'000u);
  EXPECT_EQ(r.process().exec_time_ns(), 4'800'000'000u);
  EXPECT_EQ(r.process().exec_count(), 2u);
}

TEST(EventDecoderTest, KilledBySignalWithCore) {
  auto e = MakeExit();
  e.exit_code = 11 | 0x80;
  v1::Record r;
  ASSERT_EQ(DecodeEvent(&e, sizeof(e), &r, 4096), DecodeResult::kOk);
  EXPECT_EQ(r.process().exit_signal(), 11);
  EXPECT_TRUE(r.process().core_dumped());
}

TEST(EventDecoderTest, UntrustedLengthsAreBounded) {
  auto e = MakeExit();
  e.info.args_len = 60000;  // claims more than the buffer holds
  e.info.filename_len = 60000;
  memset(e.info.filename, 'a', sizeof(e.info.filename));  // no NUL
  v1::Record r;
  ASSERT_EQ(DecodeEvent(&e, sizeof(e), &r, 4096), DecodeResult::kOk);
  EXPECT_EQ(r.process().exe().size(), sizeof(e.info.filename));
}

TEST(EventDecoderTest, ShortOrWrongSizedEventsAreMalformed) {
  auto e = MakeExit();
  v1::Record r;
  EXPECT_EQ(DecodeEvent(&e, 8, &r, 4096), DecodeResult::kMalformed);
  EXPECT_EQ(DecodeEvent(&e, sizeof(e) - 1, &r, 4096), DecodeResult::kMalformed);
  e.hdr.size = 32;
  EXPECT_EQ(DecodeEvent(&e, sizeof(e), &r, 4096), DecodeResult::kMalformed);
  e = MakeExit();
  e.hdr.type = 999;
  EXPECT_EQ(DecodeEvent(&e, sizeof(e), &r, 4096), DecodeResult::kUnknownType);
}

TEST(EventDecoderTest, ArgvTruncationIsFlagged) {
  auto e = MakeExit();
  e.info.args_total = 5000;
  v1::Record r;
  ASSERT_EQ(DecodeEvent(&e, sizeof(e), &r, 4096), DecodeResult::kOk);
  EXPECT_TRUE(r.process().argv_truncated());
}

}  // namespace
}  // namespace probe

namespace probe {
namespace {

probe_syscall_event MakeSyscall(uint16_t sys) {
  probe_syscall_event e;
  memset(&e, 0, sizeof(e));
  e.hdr.type = PROBE_EV_SYSCALL;
  e.hdr.size = sizeof(e);
  e.hdr.time_ns = 1000;
  e.pid = 7;
  e.tid = 8;
  e.duration_ns = 5'000'000;
  e.syscall = sys;
  e.fd = -1;
  return e;
}

TEST(EventDecoderTest, WaitWithTimeout) {
  auto e = MakeSyscall(PROBE_SYS_PSELECT6);
  e.arg = 4;
  e.timeout_ns = 0;
  e.flags = PROBE_SYS_F_HAS_TIMEOUT | PROBE_SYS_F_TIMED_OUT;
  v1::Record r;
  ASSERT_EQ(DecodeEvent(&e, sizeof(e), &r, 4096), DecodeResult::kOk);
  const auto& c = r.syscall();
  EXPECT_EQ(c.pid(), 7);
  EXPECT_EQ(c.tid(), 8);
  EXPECT_EQ(c.syscall(), v1::SYSCALL_PSELECT6);
  EXPECT_EQ(c.start_time_ns(), 1000u);
  EXPECT_EQ(c.duration_ns(), 5'000'000u);
  EXPECT_EQ(c.nfds(), 4u);
  EXPECT_TRUE(c.has_timeout());
  EXPECT_TRUE(c.timed_out());
  EXPECT_FALSE(c.has_value());
}

probe_wakeup_event MakeWakeup() {
  probe_wakeup_event e;
  memset(&e, 0, sizeof(e));
  e.hdr.type = PROBE_EV_WAKEUP;
  e.hdr.size = sizeof(e);
  e.hdr.time_ns = 10'000;
  e.pid = 7;
  e.tid = 8;
  e.off_ns = 1'000;
  e.wake_ns = 9'000;
  e.state = PROBE_OFF_SLEEPING;
  e.waker.pid = 3;
  e.waker.tid = 4;
  e.waker.nr = -1;
  e.waker.fd = -1;
  return e;
}

TEST(EventDecoderTest, WakerContexts) {
  auto e = MakeWakeup();
  v1::Record r;
  e.waker.ctx = PROBE_WAKER_HARDIRQ;
  e.waker.ctx_id = 27;
  ASSERT_EQ(DecodeEvent(&e, sizeof(e), &r, 4096), DecodeResult::kOk);
  EXPECT_EQ(r.wakeup().waker().context(), v1::WAKER_CONTEXT_HARDIRQ);
  EXPECT_EQ(r.wakeup().waker().irq(), 27);
  e.waker.ctx = PROBE_WAKER_SOFTIRQ;
  e.waker.ctx_id = 3;
  ASSERT_EQ(DecodeEvent(&e, sizeof(e), &r, 4096), DecodeResult::kOk);
  EXPECT_EQ(r.wakeup().waker().context(), v1::WAKER_CONTEXT_SOFTIRQ);
  EXPECT_EQ(r.wakeup().waker().softirq_name(), "NET_RX");
  e.waker.ctx_id = 1000;  // not a vector: no name, no overrun
  ASSERT_EQ(DecodeEvent(&e, sizeof(e), &r, 4096), DecodeResult::kOk);
  EXPECT_EQ(r.wakeup().waker().softirq_name(), "");
  e.waker.ctx = PROBE_WAKER_OWN_TIMEOUT;
  e.waker.ctx_fn = 0xffffffff81000000ull;
  ASSERT_EQ(DecodeEvent(&e, sizeof(e), &r, 4096), DecodeResult::kOk);
  EXPECT_EQ(r.wakeup().waker().context(), v1::WAKER_CONTEXT_OWN_TIMEOUT);
  EXPECT_EQ(r.wakeup().waker().timer_function(), 0xffffffff81000000ull);
  e.waker.ctx = PROBE_WAKER_UNTRACKED;  // --no-waker-context: the task on the CPU, said so
  ASSERT_EQ(DecodeEvent(&e, sizeof(e), &r, 4096), DecodeResult::kOk);
  EXPECT_EQ(r.wakeup().waker().context(), v1::WAKER_CONTEXT_UNTRACKED);
  EXPECT_EQ(r.wakeup().waker().pid(), static_cast<int32_t>(e.waker.pid));
  e.waker.ctx = 99;  // from a newer kernel side: unknown, not a task
  ASSERT_EQ(DecodeEvent(&e, sizeof(e), &r, 4096), DecodeResult::kOk);
  EXPECT_EQ(r.wakeup().waker().context(), v1::WAKER_CONTEXT_UNKNOWN);
  EXPECT_EQ(r.wakeup().waker().unknown_reason(), v1::WAKE_UNKNOWN_UNSPECIFIED);
}

TEST(EventDecoderTest, WakeupNotSeenIsUnknownNotOffCpu) {
  auto e = MakeWakeup();
  e.wake_ns = 0;
  e.waker.ctx = PROBE_WAKER_UNKNOWN;
  e.waker.ctx_id = PROBE_UNKNOWN_WAKING_NOT_SEEN;
  v1::Record r;
  ASSERT_EQ(DecodeEvent(&e, sizeof(e), &r, 4096), DecodeResult::kOk);
  const auto& w = r.wakeup();
  EXPECT_EQ(w.unknown_ns(), 9'000u);
  EXPECT_EQ(w.off_cpu_ns(), 0u);
  EXPECT_EQ(w.run_queue_ns(), 0u);
  EXPECT_EQ(w.waker().context(), v1::WAKER_CONTEXT_UNKNOWN);
  EXPECT_EQ(w.waker().unknown_reason(), v1::WAKE_UNKNOWN_WAKING_NOT_SEEN);
}

// An epoll_wait that switched out sleeping at 2 us, nothing else seen yet.
probe_syscall_wait_event MakeBlockedWait() {
  probe_syscall_wait_event w;
  memset(&w, 0, sizeof(w));
  w.call = MakeSyscall(PROBE_SYS_EPOLL_WAIT);
  w.call.hdr.type = PROBE_EV_SYSCALL_WAIT;
  w.call.hdr.size = sizeof(w);
  w.off_ns = 2'000;
  return w;
}

// A call that returned was back on a CPU, so a wait with neither its wakeup
// nor its switch-in seen (the kernel skipped a scheduler program) has an
// unknown end: never "blocked until the return" (seen on redis: 1 in ~5000).
TEST(EventDecoderTest, ReturnedCallWithNoWakeupNorSwitchInSeenIsUnknownNotBlocked) {
  probe_syscall_wait_event w = MakeBlockedWait();
  v1::Record r;
  ASSERT_EQ(DecodeEvent(&w, sizeof(w), &r, 4096), DecodeResult::kOk);
  const auto& b = r.syscall().breakdown();
  EXPECT_FALSE(b.woken());
  EXPECT_EQ(b.blocked_ns(), 0u) << "unknown time is never blocked";
  EXPECT_EQ(b.to_block_ns(), 1'000u);
  EXPECT_EQ(b.unknown_ns(), w.call.hdr.time_ns + w.call.duration_ns - 2'000u);
  EXPECT_EQ(b.waker().context(), v1::WAKER_CONTEXT_UNKNOWN);
  EXPECT_EQ(b.waker().unknown_reason(), v1::WAKE_UNKNOWN_SWITCH_IN_NOT_SEEN);
}

TEST(EventDecoderTest, BlockedCallWithUnseenWakeupNamesTheUnknownPart) {
  probe_syscall_wait_event w = MakeBlockedWait();
  w.on_ns = 4'000'000;
  w.waker.ctx = PROBE_WAKER_UNKNOWN;
  w.waker.ctx_id = PROBE_UNKNOWN_WAKING_NOT_SEEN;
  v1::Record r;
  ASSERT_EQ(DecodeEvent(&w, sizeof(w), &r, 4096), DecodeResult::kOk);
  const auto& b = r.syscall().breakdown();
  EXPECT_FALSE(b.woken());
  EXPECT_EQ(b.blocked_ns(), 0u) << "unknown time is never blocked";
  EXPECT_EQ(b.run_queue_ns(), 0u);
  EXPECT_EQ(b.to_block_ns(), 1'000u);
  EXPECT_EQ(b.unknown_ns(), 4'000'000u - 2'000u);
  EXPECT_EQ(b.return_ns(), 1'000u + 5'000'000u - 4'000'000u);
  EXPECT_EQ(b.to_block_ns() + b.unknown_ns() + b.return_ns(), r.syscall().duration_ns());
}

// A blocked call's record that carries the thread's wakeup from its last
// sleep: the Wakeup record decoded from it is the one the switch-in would
// have written, field for field.
TEST(EventDecoderTest, FoldedWakeupIsTheSwitchInsRecord) {
  probe_syscall_wait_event w = MakeBlockedWait();
  w.wake_ns = 3'000;
  w.on_ns = 3'500;
  w.blocked_ns = 1'000;
  w.waker.pid = 3;
  w.waker.tid = 4;
  w.waker.nr = 1;
  w.waker.fd = 5;
  memcpy(w.waker.comm, "writer", 7);
  w.wakeup_cpu = 1;
  w.wakeup_state = PROBE_OFF_SLEEPING;
  w.wakeup_folded = 1;
  probe_wakeup_event e;
  memset(&e, 0, sizeof(e));
  e.hdr.type = PROBE_EV_WAKEUP;
  e.hdr.size = sizeof(e);
  e.hdr.cpu = 1;
  e.hdr.time_ns = 3'500;
  e.pid = w.call.pid;
  e.tid = w.call.tid;
  e.off_ns = 2'000;
  e.wake_ns = 3'000;
  e.state = PROBE_OFF_SLEEPING;
  e.waker = w.waker;
  v1::Record folded, own, call;
  ASSERT_TRUE(DecodeFoldedWakeup(&w, sizeof(w), &folded));
  ASSERT_EQ(DecodeEvent(&e, sizeof(e), &own, 4096), DecodeResult::kOk);
  EXPECT_EQ(folded.SerializeAsString(), own.SerializeAsString()) << folded.ShortDebugString();
  EXPECT_EQ(folded.wakeup().run_queue_ns(), 500u);
  EXPECT_EQ(folded.wakeup().off_cpu_ns(), 1'000u);
  // The call itself decodes as before.
  ASSERT_EQ(DecodeEvent(&w, sizeof(w), &call, 4096), DecodeResult::kOk);
  EXPECT_TRUE(call.syscall().breakdown().woken());
  EXPECT_EQ(call.syscall().breakdown().run_queue_ns(), 500u);
}

TEST(EventDecoderTest, OnlyAFoldedWaitCarriesAWakeup) {
  probe_syscall_wait_event w = MakeBlockedWait();
  v1::Record r;
  EXPECT_FALSE(DecodeFoldedWakeup(&w, sizeof(w), &r)) << "wakeup_folded = 0";
  w.wakeup_folded = 2;
  EXPECT_FALSE(DecodeFoldedWakeup(&w, sizeof(w), &r)) << "not a value the kernel writes";
  w.wakeup_folded = 1;
  EXPECT_FALSE(DecodeFoldedWakeup(&w, sizeof(w) - 1, &r)) << "short";
  w.call.hdr.size = sizeof(w) - 8;
  EXPECT_FALSE(DecodeFoldedWakeup(&w, sizeof(w), &r)) << "size field disagrees";
  w.call.hdr.size = sizeof(w);
  w.call.hdr.type = PROBE_EV_SYSCALL;
  EXPECT_FALSE(DecodeFoldedWakeup(&w, sizeof(w), &r)) << "another type";
  EXPECT_FALSE(r.has_wakeup());
  w.call.hdr.type = PROBE_EV_SYSCALL_WAIT;
  EXPECT_TRUE(DecodeFoldedWakeup(&w, sizeof(w), &r));
  EXPECT_TRUE(r.has_wakeup());
}

TEST(EventDecoderTest, EventfdReadValueAndError) {
  auto e = MakeSyscall(PROBE_SYS_READ);
  e.fd = 3;
  e.ret = 8;
  e.value = 1234;  // shares its bytes with timeout_ns: only waits have one
  e.flags = PROBE_SYS_F_HAS_VALUE;
  v1::Record r;
  ASSERT_EQ(DecodeEvent(&e, sizeof(e), &r, 4096), DecodeResult::kOk);
  EXPECT_EQ(r.syscall().fd(), 3);
  EXPECT_EQ(r.syscall().value(), 1234u);
  EXPECT_FALSE(r.syscall().has_timeout()) << "not a wait";
  e.ret = -11;
  e.flags = 0;
  ASSERT_EQ(DecodeEvent(&e, sizeof(e), &r, 4096), DecodeResult::kOk);
  EXPECT_EQ(r.syscall().ret(), -11);
  EXPECT_FALSE(r.syscall().has_value());
}

TEST(EventDecoderTest, SyscallOutOfRangeOrWrongSizeIsMalformed) {
  v1::Record r;
  auto e = MakeSyscall(0);
  EXPECT_EQ(DecodeEvent(&e, sizeof(e), &r, 4096), DecodeResult::kMalformed);
  e = MakeSyscall(PROBE_SYS_MAX);
  EXPECT_EQ(DecodeEvent(&e, sizeof(e), &r, 4096), DecodeResult::kMalformed);
  e = MakeSyscall(PROBE_SYS_WRITE);
  e.hdr.size = sizeof(e) - 8;
  EXPECT_EQ(DecodeEvent(&e, sizeof(e), &r, 4096), DecodeResult::kMalformed);
}

// The agent decodes every event into one Record, which keeps its message
// from the last event of the same kind: nothing of an earlier event may show
// through, whatever came before (a blocked call's breakdown, a wakeup's
// waker, another kind, a malformed event).
TEST(EventDecoderTest, ARecordDecodedIntoAgainHoldsOnlyTheNewEvent) {
  probe_syscall_wait_event wait = MakeBlockedWait();
  wait.wake_ns = 3'000;
  wait.on_ns = 3'500;
  wait.waker.pid = 3;
  memcpy(wait.waker.comm, "writer", 7);
  wait.wakeup_folded = 1;
  probe_syscall_event call = MakeSyscall(PROBE_SYS_READ);
  probe_wakeup_event wakeup = MakeWakeup();
  wakeup.waker.ctx = PROBE_WAKER_TIMER;
  wakeup.waker.ctx_fn = 0xffffffff81000000ull;
  // Then one with less in it: preempted, so no waker and no wake of its own.
  probe_wakeup_event preempted = MakeWakeup();
  preempted.state = PROBE_OFF_PREEMPTED;
  preempted.wake_ns = preempted.off_ns;
  memset(&preempted.waker, 0, sizeof(preempted.waker));
  preempted.waker.nr = -1;
  preempted.waker.fd = -1;
  // A wait with less in it than the first: still asleep when it returned.
  probe_syscall_wait_event bare_wait = MakeBlockedWait();
  probe_proc_exit_event exit = MakeExit();
  struct Event {
    const void* data;
    size_t size;
  };
  const Event events[] = {
      {&wait, sizeof(wait)},           {&call, sizeof(call)}, {&wakeup, sizeof(wakeup)},
      {&preempted, sizeof(preempted)}, {&wait, sizeof(wait)}, {&bare_wait, sizeof(bare_wait)},
      {&wakeup, sizeof(wakeup)},       {&call, sizeof(call)}, {&exit, sizeof(exit)},
      {&call, sizeof(call)},           {&wait, sizeof(wait)}};
  v1::Record reused, reused_folded;
  for (size_t i = 0; i < sizeof(events) / sizeof(events[0]); ++i) {
    // A malformed event between each pair leaves nothing behind either.
    EXPECT_NE(DecodeEvent(&call, 8, &reused, 4096), DecodeResult::kOk);
    const Event& e = events[i];
    v1::Record fresh, fresh_folded;
    ASSERT_EQ(DecodeEvent(e.data, e.size, &fresh, 4096), DecodeResult::kOk);
    ASSERT_EQ(DecodeEvent(e.data, e.size, &reused, 4096), DecodeResult::kOk);
    EXPECT_EQ(reused.SerializeAsString(), fresh.SerializeAsString())
        << "event " << i << ": " << reused.ShortDebugString();
    const bool folded = DecodeFoldedWakeup(e.data, e.size, &fresh_folded);
    EXPECT_EQ(DecodeFoldedWakeup(e.data, e.size, &reused_folded), folded);
    if (folded) EXPECT_EQ(reused_folded.SerializeAsString(), fresh_folded.SerializeAsString());
  }
}

}  // namespace
}  // namespace probe
