#include "recording_setup.h"

#include <sys/utsname.h>
#include <unistd.h>

#include <ctime>

#include "format.h"
#include "proc_scan.h"
#include "run_identity.h"

namespace probe {

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
  h->set_repeat_count(o.repeat);
  *h->mutable_sampling() = MakeSampling(o);
  AddRunIdentity(o, h);
  return r;
}

std::vector<v1::EventKind> TracedKinds(const Options& o) {
  std::vector<v1::EventKind> kinds;
  if (o.trace_process) kinds.push_back(v1::EVENT_KIND_PROCESS);
  if (o.trace_syscalls) kinds.push_back(v1::EVENT_KIND_SYSCALL);
  if (o.trace_wakeups) kinds.push_back(v1::EVENT_KIND_WAKEUP);
  return kinds;
}

std::vector<std::string> ShimSamplingEnvironment(const Options& o) {
  std::vector<std::string> env;
  if (o.shim_one_in > 1) env.push_back("PROBE_SAMPLE=" + std::to_string(o.shim_one_in));
  if (o.shim_min_latency_ns > 0)
    env.push_back("PROBE_MIN_DURATION=" + std::to_string(o.shim_min_latency_ns) + "ns");
  if (o.shim_first_per_s > 0)
    env.push_back("PROBE_FIRST_PER_SECOND=" + std::to_string(o.shim_first_per_s));
  return env;
}

}  // namespace probe
