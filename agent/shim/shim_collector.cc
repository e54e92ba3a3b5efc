#include "shim_collector.h"

#include <unistd.h>

#include <cinttypes>
#include <climits>
#include <cstdlib>

namespace probe {

namespace {

constexpr size_t kMaxExited = 65536;

std::string AgentDirectory() {
  char buf[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);
  if (n <= 0) return ".";
  std::string path(buf, size_t(n));
  return path.substr(0, path.rfind('/'));
}

}  // namespace

std::string FindShimLibrary(const Options& o, std::string* error) {
  std::vector<std::string> candidates;
  if (!o.preload_library.empty()) {
    candidates.push_back(o.preload_library);
  } else {
    // Installed: PREFIX/bin/probe-agent and PREFIX/lib/probe/ (the
    // documented place); in the build tree: build/agent and build/preload.
    std::string dir = AgentDirectory();
    candidates = {dir + "/../lib/probe/libprobe_preload.so",
                  dir + "/../preload/libprobe_preload.so", dir + "/libprobe_preload.so"};
  }
  std::string looked;
  for (const auto& c : candidates) {
    char real[PATH_MAX];
    if (access(c.c_str(), R_OK) == 0 && realpath(c.c_str(), real)) return real;
    looked += (looked.empty() ? "" : ", ") + c;
  }
  *error = o.preload_library.empty()
               ? "cannot find the shim libprobe_preload.so; looked in " + looked +
                     " (make install puts it in PREFIX/lib/probe/; or give --preload-library)"
               : "cannot read the shim " + looked + " (--preload-library)";
  return "";
}

std::vector<std::string> ShimEnvironment(const std::string& library,
                                         const std::string& socket_name) {
  std::string preload = library;
  if (const char* old = getenv("LD_PRELOAD"); old && *old) preload += std::string(":") + old;
  return {"LD_PRELOAD=" + preload, "PROBE_AGENT_SOCKET=" + socket_name,
          "PROBE_OUTPUT=", "PROBE_OUTPUT_APPEND="};
}

void ShimCollector::NoteExited(int pid) {
  if (!exited_.insert(pid).second) return;
  exited_order_.push_back(pid);
  if (exited_order_.size() > kMaxExited) {
    exited_.erase(exited_order_.front());
    exited_order_.pop_front();
  }
}

bool ShimCollector::Accepts(const IsTarget& is_target, int pid) const {
  return system_wide_ || is_target(pid) || exited_.count(pid);
}

void ShimCollector::Tick(const IsTarget& is_target, const std::vector<int>& targets, bool full,
                         const ShimConsumer::Sink& sink) {
  clock_.Sample();
  regions_->Accept([&](int pid) { return Accepts(is_target, pid); });
  // A system-wide run does not scan every process's maps: there, only
  // processes started with PROBE_AGENT_SOCKET are read.
  if (full && !system_wide_) regions_->Discover(targets);
  if (regions_->live() > 0) used_ = true;
  if (clock_.points() >= 2) regions_->Drain(clock_, sink, full, rate_);
}

void ShimCollector::Finish(const IsTarget& is_target, const std::vector<int>& targets,
                           const ShimConsumer::Sink& sink) {
  Tick(is_target, targets, true, sink);
  regions_->RefuseDeferred();
  clock_.Sample();
  regions_->Drain(clock_, sink, false, rate_);
}

void ShimCollector::FillStats(v1::Stats* s) {
  if (!used_ && regions_->refused() == 0) return;
  regions_->FillCounters(s->add_counters());
  regions_->FillProcesses(s->mutable_shim(), false);
}

void ShimCollector::FillTrailer(v1::Trailer* t) {
  if (!used_ && regions_->refused() == 0) return;
  regions_->FillCounters(t->add_counters());
  regions_->FillProcesses(t->mutable_shim(), true);
}

uint64_t ShimCollector::written() const {
  v1::KindCounters c;
  regions_->FillCounters(&c);
  return c.written();
}

std::string ShimCollector::Warning() const {
  v1::KindCounters c;
  regions_->FillCounters(&c);
  const uint64_t lost = c.lost_buffer_full() + c.lost_no_buffer() + c.lost_write();
  std::string out;
  char buf[512];
  if (lost > 0) {
    snprintf(buf, sizeof(buf),
             "%" PRIu64 " shim events lost (thread buffer full: %" PRIu64 ", no buffer: %" PRIu64
             ", write failed: %" PRIu64
             "); try a larger PROBE_BUFFER_EVENTS (buffer full) or PROBE_THREADS (no buffer), "
             "or PROBE_SAMPLE",
             lost, c.lost_buffer_full(), c.lost_no_buffer(), c.lost_write());
    out = buf;
  }
  if (c.rejected() > 0) {
    const std::string& why = regions_->last_refusal();
    snprintf(buf, sizeof(buf), "%s%" PRIu64 " shim entries or regions rejected%s%s%s",
             out.empty() ? "" : "; ", c.rejected(), why.empty() ? "" : " (last: ", why.c_str(),
             why.empty() ? "" : ")");
    out += buf;
  }
  return out;
}

}  // namespace probe
