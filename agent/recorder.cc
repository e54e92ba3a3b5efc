#include "recorder.h"

#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <map>
#include <set>

#include "bpf_session.h"
#include "event_decoder.h"
#include "format.h"
#include "histogram.h"
#include "launcher.h"
#include "output_stream.h"
#include "preload_check.h"
#include "privileges.h"
#include "proc_scan.h"
#include "rate_bucket.h"
#include "record_writer.h"
#include "run_identity.h"
#include "shim_collector.h"
#include "target_attach.h"
#include "thread_names.h"
extern "C" {
#include <linux/types.h>

#include "probe_events.h"
}

namespace probe {

namespace {

struct KindTally {
  uint64_t written = 0;  // in the file (flushed)
  uint64_t lost_decode = 0;
  uint64_t lost_write = 0;
  uint64_t pending = 0;         // appended, not yet flushed: written or lost at the next flush
  uint64_t agent_produced = 0;  // made by the agent itself (unfinished lifetimes at stop)
};

// What the agent did with the events of each kind, indexed by v1::EventKind.
struct AgentCounters {
  KindTally kind[v1::EventKind_ARRAYSIZE];
  uint64_t histograms_written = 0;
  uint64_t Lost() const {
    uint64_t n = 0;
    for (const auto& k : kind) n += k.lost_decode + k.lost_write;
    return n;
  }
};

v1::EventKind KindOfEventType(const void* data, size_t size) {
  uint16_t type = 0;
  if (size >= sizeof(type)) memcpy(&type, data, sizeof(type));
  if (type == PROBE_EV_SYSCALL || type == PROBE_EV_SYSCALL_WAIT) return v1::EVENT_KIND_SYSCALL;
  if (type == PROBE_EV_WAKEUP) return v1::EVENT_KIND_WAKEUP;
  return v1::EVENT_KIND_PROCESS;
}

v1::EventKind KindOfRecord(const v1::Record& r) {
  if (r.has_syscall()) return v1::EVENT_KIND_SYSCALL;
  if (r.has_shim_call() || r.has_marker()) return v1::EVENT_KIND_SHIM;
  if (r.has_wakeup()) return v1::EVENT_KIND_WAKEUP;
  return v1::EVENT_KIND_PROCESS;
}

// A counters entry for kind with what the agent did with its events; the
// caller adds what the kernel counted.
v1::KindCounters* AddKind(v1::EventKind kind, const AgentCounters& a,
                          google::protobuf::RepeatedPtrField<v1::KindCounters>* out) {
  const KindTally& t = a.kind[kind];
  auto* c = out->Add();
  c->set_kind(kind);
  c->set_written(t.written);
  c->set_lost_decode(t.lost_decode);
  c->set_lost_write(t.lost_write);
  return c;
}

void AddCpuLosses(const std::vector<uint64_t>& per_cpu, v1::KindCounters* c) {
  for (size_t cpu = 0; cpu < per_cpu.size(); ++cpu) {
    if (per_cpu[cpu] == 0) continue;
    auto* l = c->add_cpu_losses();
    l->set_cpu(uint32_t(cpu));
    l->set_lost_ring_full(per_cpu[cpu]);
  }
}

void SetSampled(uint64_t min_latency, uint64_t one_in_n, uint64_t first_k, uint64_t rate,
                v1::KindCounters* c) {
  c->set_sampled_min_latency(min_latency);
  c->set_sampled_one_in_n(one_in_n);
  c->set_sampled_first_k(first_k);
  c->set_sampled_rate(rate);
  c->set_sampled_out(min_latency + one_in_n + first_k + rate);
}

void FillCounters(const Options& o, const KernelCounters& k, const AgentCounters& a,
                  google::protobuf::RepeatedPtrField<v1::KindCounters>* out) {
  if (o.trace_process) {
    auto* c = AddKind(v1::EVENT_KIND_PROCESS, a, out);
    c->set_produced(k.proc_produced + a.kind[v1::EVENT_KIND_PROCESS].agent_produced);
    c->set_lost_ring_full(k.proc_ring_full);
    AddCpuLosses(k.proc_ring_full_cpu, c);
  }
  if (o.trace_syscalls) {
    auto* c = AddKind(v1::EVENT_KIND_SYSCALL, a, out);
    c->set_produced(k.sys_produced);
    SetSampled(k.sys_filtered, k.sys_sampled, k.sys_first_k, k.sys_rate, c);
    c->set_lost_ring_full(k.sys_ring_full);
    c->set_lost_table_full(k.sys_table_full);
    c->set_lost_histogram_full(k.sys_hist_full);
    AddCpuLosses(k.sys_ring_full_cpu, c);
  }
  if (o.trace_wakeups) {
    auto* c = AddKind(v1::EVENT_KIND_WAKEUP, a, out);
    c->set_produced(k.wake_produced);
    SetSampled(0, k.wake_sampled, k.wake_first_k, k.wake_rate, c);
    c->set_lost_ring_full(k.wake_ring_full);
    c->set_lost_histogram_full(k.wake_hist_full);
    AddCpuLosses(k.wake_ring_full_cpu, c);
  }
}

v1::Sampling MakeSampling(const Options& o) {
  v1::Sampling s;
  auto add = [&](v1::EventKind kind, uint32_t one_in, uint64_t min_latency, uint32_t first) {
    auto* k = s.add_kinds();
    k->set_kind(kind);
    k->set_keep_one_in(one_in);
    k->set_min_latency_ns(min_latency);
    k->set_first_per_second(first);
  };
  if (o.trace_syscalls)
    add(v1::EVENT_KIND_SYSCALL, o.syscalls_one_in, o.min_latency_ns, o.syscalls_first_per_s);
  if (o.trace_wakeups) add(v1::EVENT_KIND_WAKEUP, o.wakeups_one_in, 0, o.wakeups_first_per_s);
  if (o.preload) add(v1::EVENT_KIND_SHIM, o.shim_one_in, o.shim_min_latency_ns, o.shim_first_per_s);
  s.set_max_records_per_s(o.max_records_per_s);
  s.set_seed(o.sample_seed);
  return s;
}

uint64_t KernelLost(const KernelCounters& k) {
  return k.proc_ring_full + k.sys_ring_full + k.sys_table_full + k.wake_ring_full;
}

// Fills r from one kernel histogram; returns its count.
uint64_t MergeInto(HistogramMap which, const probe_hist_key& key, const probe_hist* per_cpu,
                   int ncpu, uint64_t now, v1::Record* r) {
  if (which == HistogramMap::kSyscalls) {
    MergeHistogram(key, per_cpu, ncpu, now, r->mutable_syscall_histogram());
    return r->syscall_histogram().count();
  }
  MergeSchedHistogram(key, per_cpu, ncpu, now, r->mutable_sched_histogram());
  return r->sched_histogram().count();
}

// What was written of one histogram map: count per key, and the keys whose
// process was already gone at the previous pass.
struct HistogramLedger {
  std::map<uint64_t, uint64_t> written;
  std::set<uint64_t> gone;
};

// Writes the histograms that changed since the last call, and drops from the
// kernel map those that are final. A key is final when its process's exit
// record has been read (every call returned before its last thread exited),
// or, when exits are not traced, when the process was already gone at the
// previous pass too and its count has not moved since: a last call racing
// the read is written first, never lost.
void EmitHistograms(BpfSession& bpf, HistogramMap which, RecordWriter& writer,
                    HistogramLedger& ledger, const std::set<uint32_t>& exited,
                    AgentCounters& agent) {
  const uint64_t now = MonotonicNs();
  std::vector<probe_hist_key> finished;
  std::set<uint64_t> gone_now;
  v1::Record r;
  bpf.ForEachHistogram(which, [&](const probe_hist_key& key, const probe_hist* per_cpu, int ncpu) {
    uint64_t count = MergeInto(which, key, per_cpu, ncpu, now, &r);
    uint64_t id = (uint64_t(key.pid) << 32) | key.syscall;
    uint64_t& seen = ledger.written[id];
    const bool unchanged = count == seen;
    bool in_file = unchanged;
    if (!unchanged && writer.Append(r)) {
      agent.histograms_written++;
      seen = count;
      in_file = true;
    }
    if (exited.count(key.pid) && in_file) {
      finished.push_back(key);
    } else if (!ProcessExists(static_cast<int>(key.pid))) {
      if (ledger.gone.count(id) && unchanged)
        finished.push_back(key);
      else
        gone_now.insert(id);
    }
  });
  for (const auto& key : finished) {
    bpf.DeleteHistogram(which, key);
    ledger.written.erase((uint64_t(key.pid) << 32) | key.syscall);
  }
  ledger.gone = std::move(gone_now);
}

// Both kinds, each with its own ledger. Written every --histogram-interval,
// and sooner when processes come and go fast: each exit frees its entries,
// and the maps (16384 syscall keys, 4096 scheduler keys, two per process)
// must not fill with the dead between two intervals.
struct HistogramState {
  static constexpr uint32_t kExitsPerPass = 512;
  HistogramLedger syscalls, scheduler;
  std::set<uint32_t> exited;  // exit records read since the last pass
  void NoteExit(uint32_t pid) { exited.insert(pid); }
  bool Crowded() const { return exited.size() >= kExitsPerPass; }
  void Emit(BpfSession& bpf, RecordWriter& writer, AgentCounters& agent) {
    EmitHistograms(bpf, HistogramMap::kSyscalls, writer, syscalls, exited, agent);
    EmitHistograms(bpf, HistogramMap::kScheduler, writer, scheduler, exited, agent);
    exited.clear();
  }
};

std::string KernelRelease() {
  utsname u{};
  return uname(&u) == 0 ? u.release : "";
}

v1::Record MakeHeader(const Options& o, const std::vector<std::string>& argv,
                      const std::vector<int>& roots, uint64_t start_ns,
                      const std::string& preload_library) {
  v1::Record r;
  auto* h = r.mutable_header();
  h->set_format_version(format::kFormatVersion);
  char host[256] = {};
  gethostname(host, sizeof(host) - 1);
  h->set_hostname(host);
  h->set_kernel_release(KernelRelease());
  h->set_clock_id(CLOCK_MONOTONIC);
  timespec rt{}, mono{};
  clock_gettime(CLOCK_REALTIME, &rt);
  clock_gettime(CLOCK_MONOTONIC, &mono);
  h->set_wall_clock_offset_ns((int64_t(rt.tv_sec) - mono.tv_sec) * 1000000000ll +
                              (rt.tv_nsec - mono.tv_nsec));
  for (const auto& a : argv) h->add_command_line(a);
  for (int p : roots) h->add_target_pids(p);
  h->set_follow_children(o.follow_children);
  h->set_system_wide(o.all);
  for (const auto& e : EventNames(o)) h->add_events(e);
  h->set_min_latency_ns(o.min_latency_ns);
  h->set_histogram_interval_ns(o.histogram_interval_ns);
  h->set_agent_pid(getpid());
  h->set_start_time_ns(start_ns);
  h->set_ready_time_ns(MonotonicNs());
  h->set_ring_buffer_bytes(o.ring_buffer_bytes);
  h->set_agent_version(PROBE_VERSION);
  h->set_preload_library(preload_library);
  *h->mutable_sampling() = MakeSampling(o);
  AddRunIdentity(o, h);
  return r;
}

int MakeSignalFd() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGHUP);
  sigprocmask(SIG_BLOCK, &set, nullptr);
  // A reader that goes away (-o FIFO) makes write() fail with EPIPE, which
  // stops the run with one line, instead of SIGPIPE killing the agent
  // without a word. The launched command gets an empty mask at fork.
  sigset_t pipe_set;
  sigemptyset(&pipe_set);
  sigaddset(&pipe_set, SIGPIPE);
  sigprocmask(SIG_BLOCK, &pipe_set, nullptr);
  return signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
}

// Records count as written once the writer has flushed them: a write that
// fails (disk full) loses what was buffered since the last flush, and that
// is counted as lost, not written.
void Settle(AgentCounters& a, const RecordWriter& w) {
  if (!w.failed() && w.bytes_buffered() > 0) return;
  for (auto& k : a.kind) {
    (w.failed() ? k.lost_write : k.written) += k.pending;
    k.pending = 0;
  }
}

uint64_t TotalWritten(const AgentCounters& a) {
  uint64_t n = a.histograms_written;
  for (const auto& k : a.kind) n += k.written;
  return n;
}

std::string HumanBytes(uint64_t b) {
  char buf[32];
  if (b >= (1u << 20))
    snprintf(buf, sizeof(buf), "%.1f MiB", b / 1048576.0);
  else if (b >= 1024)
    snprintf(buf, sizeof(buf), "%.1f KiB", b / 1024.0);
  else
    snprintf(buf, sizeof(buf), "%" PRIu64 " B", b);
  return buf;
}

}  // namespace

int RunRecorder(const Options& o, const std::vector<std::string>& argv) {
  const uint64_t start_ns = MonotonicNs();
  std::string error;
  if (!CheckBpfPrerequisites(&error)) {
    fprintf(stderr, "probe-agent: %s\n", error.c_str());
    return 1;
  }
  // Pinned now: the pids may name other processes by the time BPF is attached.
  TargetPins pins;
  if (!pins.Open(o.pids, &error)) {
    fprintf(stderr, "probe-agent: %s\n", error.c_str());
    return 1;
  }
  int sigfd = MakeSignalFd();

  Launcher launcher;
  auto writer = OpenOutput(o, &error);
  if (!writer) {
    launcher.Abort();
    fprintf(stderr, "probe-agent: %s\n", error.c_str());
    return 1;
  }

  AgentCounters agent;
  std::unique_ptr<ShimCollector> shim;
  const uint64_t page_size = static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
  v1::Record event_record, name_record;
  ThreadNames thread_names;
  HistogramState histograms;
  auto sink = [&](const void* data, size_t size) {
    if (DecodeEvent(data, size, &event_record, page_size) != DecodeResult::kOk) {
      agent.kind[KindOfEventType(data, size)].lost_decode++;
      return;
    }
    KindTally& tally = agent.kind[KindOfRecord(event_record)];
    if (thread_names.Intern(&event_record, &name_record)) writer->Append(name_record);
    if (writer->Append(event_record))
      tally.pending++;
    else
      tally.lost_write++;
    Settle(agent, *writer);
    if (event_record.has_process() && event_record.process().finished())
      histograms.NoteExit(uint32_t(event_record.process().pid()));
    if (shim && event_record.has_process()) shim->NoteExited(event_record.process().pid());
  };
  // Shim records are counted by the shim's consumers, per process.
  auto shim_sink = [&](const v1::Record& r) { return writer->Append(r); };

  BpfConfig cfg;
  cfg.target_all = o.all;
  cfg.follow_children = o.follow_children;
  cfg.ring_buffer_bytes = o.ring_buffer_bytes;
  cfg.ring_buffers = o.ring_buffers;
  cfg.emit_process_exits = o.trace_process;
  cfg.trace_syscalls = o.trace_syscalls;
  cfg.trace_wakeups = o.trace_wakeups;
  cfg.min_latency_ns = o.min_latency_ns;
  cfg.keep_one_in[PROBE_SAMPLE_SYSCALLS] = o.syscalls_one_in;
  cfg.keep_one_in[PROBE_SAMPLE_WAKEUPS] = o.wakeups_one_in;
  cfg.first_per_second[PROBE_SAMPLE_SYSCALLS] = o.syscalls_first_per_s;
  cfg.first_per_second[PROBE_SAMPLE_WAKEUPS] = o.wakeups_first_per_s;
  cfg.max_records_per_s = o.max_records_per_s;
  cfg.sample_seed = o.sample_seed;
  auto bpf = BpfSession::Create(cfg, sink, &error);
  if (!bpf) {
    launcher.Abort();
    writer.reset();
    DiscardOutput(o);  // nothing was recorded: leave no half file
    fprintf(stderr, "probe-agent: %s\n", error.c_str());
    return 1;
  }

  std::string preload_library;
  std::vector<std::string> child_env;
  if (auto regions = ShimRegions::Create(&error)) {
    shim = std::make_unique<ShimCollector>(std::move(regions), o.all);
    if (o.max_records_per_s > 0) {
      rate_bucket* bucket = bpf->RateBucket();
      shim->SetRateCheck(
          [bucket, &o] { return TakeRateToken(bucket, o.max_records_per_s, MonotonicNs()); });
    }
  } else {
    fprintf(stderr, "probe-agent: warning: %s; shim regions will not be read\n", error.c_str());
  }
  if (o.preload) {
    preload_library = FindShimLibrary(o, &error);
    if (preload_library.empty() || !shim) {
      fprintf(stderr, "probe-agent: %s\n",
              shim ? error.c_str() : "--preload needs the shim socket");
      writer.reset();
      DiscardOutput(o);
      return 1;
    }
    child_env = ShimEnvironment(preload_library, shim->socket_name());
    if (o.shim_one_in > 1) child_env.push_back("PROBE_SAMPLE=" + std::to_string(o.shim_one_in));
    if (o.shim_min_latency_ns > 0)
      child_env.push_back("PROBE_MIN_DURATION=" + std::to_string(o.shim_min_latency_ns) + "ns");
    if (o.shim_first_per_s > 0)
      child_env.push_back("PROBE_FIRST_PER_SECOND=" + std::to_string(o.shim_first_per_s));
    std::string why = PreloadObstacle(FindExecutable(o.command[0]));
    if (!why.empty())
      fprintf(stderr, "probe-agent: warning: %s; recording kernel events only\n", why.c_str());
  }
  // The child is forked after attach and held before exec, so its
  // fork-to-exec time is its own and not the agent's start-up.
  if (!o.command.empty() && !launcher.Start(o.command, child_env, &error)) {
    fprintf(stderr, "probe-agent: %s\n", error.c_str());
    return 1;
  }
  // Targets go into the map after attach, then /proc is scanned, so a fork
  // racing with start-up is caught by one or the other.
  std::vector<int> gone;
  std::vector<int> roots = pins.AddLive(*bpf, &gone);
  if (!ReportGoneTargets(gone, roots.empty() && launcher.pid() <= 0)) {
    writer.reset();
    DiscardOutput(o);  // nothing was recorded: leave no half file
    return 1;
  }
  const std::vector<int> pinned = roots;
  if (launcher.pid() > 0) {
    roots.push_back(launcher.pid());
    bpf->AddTarget(launcher.pid());
  }
  std::set<int> initial;
  if (o.all) {
    for (const auto& [pid, ppid] : ReadParentMap()) initial.insert(pid);
  } else {
    initial = WithDescendants(roots, ReadParentMap(), o.follow_children);
    AddFoundTargets(*bpf, initial, pinned);
  }
  PrivilegePlan privileges = PlanPrivilegeDrop({.read_target_memory = shim && !o.all,
                                                .signal_child = launcher.pid() > 0,
                                                .kernel_release = KernelRelease()},
                                               InvokingSudoUser());
  v1::Record header = MakeHeader(o, argv, roots, start_ns, preload_library);
  header.mutable_header()->set_ring_buffers(bpf->ring_buffers());
  if (!o.keep_privileges) header.mutable_header()->set_privileges(DescribePlan(privileges));
  writer->Append(header);
  for (int pid : initial) {
    if (pid == launcher.pid()) continue;  // not yet exec'd: its lifetime record says all
    v1::Record snap;
    if (SnapshotProcess(pid, snap.mutable_snapshot())) writer->Append(snap);
  }
  writer->Flush();
  // Everything that needs root is done: the programs are attached, the
  // maps, rings, socket and file are open. Fail closed: a run that cannot
  // drop does not go on as root.
  if (!o.keep_privileges && !DropPrivileges(privileges, &error)) {
    launcher.Abort();
    writer.reset();
    DiscardOutput(o);
    fprintf(stderr, "probe-agent: %s (--keep-privileges runs without dropping)\n", error.c_str());
    return 1;
  }

  if (launcher.pid() > 0 && !launcher.Release(&error)) {
    fprintf(stderr, "probe-agent: %s\n", error.c_str());
  }

  const bool tty = isatty(STDERR_FILENO);
  const uint64_t deadline = o.duration_s > 0 ? start_ns + uint64_t(o.duration_s * 1e9) : 0;
  uint64_t next_tick = MonotonicNs() + 1000000000ull;
  uint64_t next_histograms = MonotonicNs() + o.histogram_interval_ns;
  int child_status = -1;
  std::string stop_reason;
  uint64_t last_written = 0;
  auto is_target = [&](int pid) { return bpf->IsTarget(pid); };
  auto make_stats = [&](const KernelCounters& k) {
    v1::Record stats;
    stats.mutable_stats()->set_time_ns(MonotonicNs());
    FillCounters(o, k, agent, stats.mutable_stats()->mutable_counters());
    stats.mutable_stats()->set_bytes_written(writer->bytes_written());
    if (shim) shim->FillStats(stats.mutable_stats());
    *stats.mutable_stats()->mutable_sampling() = MakeSampling(o);
    return stats;
  };
  uint64_t next_shim_scan = 0, next_target_check = 0;
  while (stop_reason.empty()) {
    // Shim rings are per thread and bounded: drain them every 10 ms.
    // Waits for a ring's wakeup, or the timeout (records below the wakeup
    // threshold wake nobody), then drains a bounded amount of each ring.
    bpf->Poll(o.preload || (shim && shim->active()) ? 10 : 100);
    if (o.drain_delay_ns) {  // --drain-delay: a slow consumer on purpose (tests)
      timespec d{time_t(o.drain_delay_ns / 1000000000ull), long(o.drain_delay_ns % 1000000000ull)};
      nanosleep(&d, nullptr);
    }
    if (shim) {
      bool full = MonotonicNs() >= next_shim_scan;
      if (full) next_shim_scan = MonotonicNs() + 1000000000ull;
      shim->Tick(is_target, full ? bpf->Targets() : std::vector<int>(), full, shim_sink);
    }
    signalfd_siginfo si;
    if (read(sigfd, &si, sizeof(si)) == sizeof(si)) stop_reason = "signal";
    if (launcher.pid() > 0 && child_status < 0) {
      int st;
      if (waitpid(launcher.pid(), &st, WNOHANG) == launcher.pid()) child_status = st;
    }
    uint64_t now = MonotonicNs();
    if (deadline && now >= deadline) stop_reason = "duration";
    // Walking the target map costs two bpf() calls per bucket chain: under
    // load the ring wakes this loop hundreds of times a second, so look
    // every 100 ms, not every pass.
    if (!o.all && stop_reason.empty() && (launcher.pid() <= 0 || child_status >= 0) &&
        now >= next_target_check) {
      next_target_check = now + 100000000ull;
      if (bpf->Targets().empty()) stop_reason = "targets exited";
    }
    if ((now >= next_histograms || histograms.Crowded()) && stop_reason.empty()) {
      next_histograms = now + o.histogram_interval_ns;
      histograms.Emit(*bpf, *writer, agent);
    }
    if (now >= next_tick && stop_reason.empty()) {
      next_tick = now + 1000000000ull;
      writer->Flush();
      Settle(agent, *writer);
      writer->Append(make_stats(bpf->ReadCounters()));
      writer->Flush();
      if (tty) {
        KernelCounters k = bpf->ReadCounters();
        uint64_t written = TotalWritten(agent);
        fprintf(stderr, "\r[probe] %.0fs  %" PRIu64 " records/s  %s  lost %" PRIu64 "   ",
                (now - start_ns) / 1e9, written - last_written,
                HumanBytes(writer->bytes_written()).c_str(), KernelLost(k) + agent.Lost());
        last_written = written;
      }
    }
    if (writer->failed()) stop_reason = "write failed";
  }
  if (tty) fprintf(stderr, "\n");
  bpf->Detach();
  bpf->ConsumeAll();  // everything submitted before the programs stopped
  histograms.Emit(*bpf, *writer, agent);
  if (shim) shim->Finish(is_target, bpf->Targets(), shim_sink);

  // Processes still alive get an unfinished record.
  for (int pid : o.all ? std::vector<int>() : bpf->Targets()) {
    v1::Record r;
    if (UnfinishedLifetime(pid, r.mutable_process())) {
      bpf->AddExecInfo(pid, r.mutable_process());
      KindTally& procs = agent.kind[v1::EVENT_KIND_PROCESS];
      procs.agent_produced++;
      if (writer->Append(r))
        procs.pending++;
      else
        procs.lost_write++;
    }
  }
  // The last stats record and the trailer hold the same final counters,
  // with every record before them flushed and settled.
  writer->Flush();
  Settle(agent, *writer);
  KernelCounters k = bpf->ReadCounters();
  writer->Append(make_stats(k));
  v1::Record trailer;
  trailer.mutable_trailer()->set_time_ns(MonotonicNs());
  trailer.mutable_trailer()->set_stop_reason(stop_reason);
  FillCounters(o, k, agent, trailer.mutable_trailer()->mutable_counters());
  trailer.mutable_trailer()->set_bytes_written(writer->bytes_written());
  if (shim) shim->FillTrailer(trailer.mutable_trailer());
  FillKernelTables(*bpf, trailer.mutable_trailer()->mutable_kernel_tables());
  writer->Append(trailer);
  writer->Flush();

  const KindTally& procs = agent.kind[v1::EVENT_KIND_PROCESS];
  const KindTally& calls = agent.kind[v1::EVENT_KIND_SYSCALL];
  fprintf(stderr,
          "probe-agent: %s: %" PRIu64 " process records, %" PRIu64 " syscall records (%" PRIu64
          " calls), %" PRIu64 " wakeup records, %" PRIu64 " histogram records, %s, stopped: %s\n",
          o.output.c_str(), procs.written, calls.written, k.sys_produced,
          agent.kind[v1::EVENT_KIND_WAKEUP].written, agent.histograms_written,
          HumanBytes(writer->bytes_written()).c_str(), stop_reason.c_str());
  if (shim && shim->used())
    fprintf(stderr, "probe-agent: %" PRIu64 " shim records (user-space calls and markers)\n",
            shim->written());
  if (shim && !shim->Warning().empty())
    fprintf(stderr, "probe-agent: warning: %s\n", shim->Warning().c_str());
  if (o.preload && shim && !shim->used())
    fprintf(stderr,
            "probe-agent: warning: --preload: no process loaded the shim or called a wrapped "
            "function\n");
  uint64_t lost = KernelLost(k) + agent.Lost();
  if (lost > 0 && !writer->failed()) {  // a failed write has its own message below
    uint64_t decode = 0, write = 0;
    for (const auto& t : agent.kind) decode += t.lost_decode, write += t.lost_write;
    const uint64_t ring = k.proc_ring_full + k.sys_ring_full + k.wake_ring_full;
    fprintf(stderr,
            "probe-agent: warning: %" PRIu64 " events lost: ring buffer full %" PRIu64
            " (process %" PRIu64 ", syscalls %" PRIu64 ", wakeups %" PRIu64
            "), no in-flight slot %" PRIu64 ", malformed %" PRIu64 ", write failed %" PRIu64 "\n",
            lost, ring, k.proc_ring_full, k.sys_ring_full, k.wake_ring_full, k.sys_table_full,
            decode, write);
    if (ring > 0)
      fprintf(stderr,
              "probe-agent: the agent could not keep up: give a larger --ring-buffer (now %s), "
              "or keep fewer records: --sample syscalls=1/N, --min-latency, --max-rate\n",
              HumanBytes(o.ring_buffer_bytes).c_str());
  }
  if (k.wake_table_full > 0)
    fprintf(stderr,
            "probe-agent: warning: %" PRIu64 " thread switches untracked: no per-thread slot\n",
            k.wake_table_full);
  if (k.sys_hist_full + k.wake_hist_full > 0) {
    fprintf(stderr,
            "probe-agent: warning: %" PRIu64
            " calls missing from histograms: the histogram map was full\n",
            k.sys_hist_full + k.wake_hist_full);
  }
  if (writer->failed()) {
    uint64_t lost_write = 0;
    for (const auto& t : agent.kind) lost_write += t.lost_write;
    fprintf(stderr,
            "probe-agent: %s: the file is whole up to its last record (%s); %" PRIu64
            " event records could not be written\n",
            writer->error().c_str(), HumanBytes(writer->bytes_written()).c_str(), lost_write);
    return 1;
  }
  // A command that ended by itself passes its status on (a failing workload
  // fails the script that wraps it). One stopped by the agent (SIGINT,
  // SIGTERM, --duration) does not: the run did what was asked, and the
  // command's status is in its process record.
  if (launcher.pid() > 0 && child_status >= 0) return ShellExitStatus(child_status);
  if (launcher.pid() > 0) {
    kill(launcher.pid(), SIGTERM);
    waitpid(launcher.pid(), &child_status, 0);
  }
  return 0;
}

}  // namespace probe
