#include "shim_table.h"

#include <algorithm>
#include <cctype>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <limits>
#include <sstream>
#include <tuple>

#include "histogram.h"

namespace probe {

namespace {

// Nested calls (a signal handler's wait inside a wait) are the only way a
// shim call that started earlier can contain a kernel call; a few suffice.
constexpr int kScanBack = 4;
constexpr size_t kPrintedThreadRows = 50;
constexpr size_t kLabelWidth = 40;

// Saturating: a garbage duration must not wrap into an early end.
uint64_t EndOf(uint64_t start, uint64_t duration) {
  return duration > std::numeric_limits<uint64_t>::max() - start
             ? std::numeric_limits<uint64_t>::max()
             : start + duration;
}

bool WrappedByAny(v1::Syscall s) {
  for (int f = v1::ShimFunction_MIN; f <= v1::ShimFunction_MAX; ++f)
    if (ShimCallWraps(static_cast<v1::ShimFunction>(f), s)) return true;
  return false;
}

}  // namespace

bool ShimCallWraps(v1::ShimFunction f, v1::Syscall s) {
  switch (f) {
    case v1::SHIM_SELECT:
      return s == v1::SYSCALL_PSELECT6 || s == v1::SYSCALL_SELECT;
    case v1::SHIM_PSELECT:
      return s == v1::SYSCALL_PSELECT6;
    case v1::SHIM_POLL:
      return s == v1::SYSCALL_POLL || s == v1::SYSCALL_PPOLL;
    case v1::SHIM_PPOLL:
      return s == v1::SYSCALL_PPOLL;
    case v1::SHIM_EPOLL_WAIT:
      return s == v1::SYSCALL_EPOLL_WAIT || s == v1::SYSCALL_EPOLL_PWAIT;
    case v1::SHIM_EPOLL_PWAIT:
      return s == v1::SYSCALL_EPOLL_PWAIT;
    case v1::SHIM_EPOLL_PWAIT2:
      return s == v1::SYSCALL_EPOLL_PWAIT2;
    case v1::SHIM_EVENTFD:
      return s == v1::SYSCALL_EVENTFD2 || s == v1::SYSCALL_EVENTFD;
    case v1::SHIM_EVENTFD_READ:
    case v1::SHIM_READ:
      return s == v1::SYSCALL_READ;
    case v1::SHIM_EVENTFD_WRITE:
    case v1::SHIM_WRITE:
      return s == v1::SYSCALL_WRITE;
    default:
      return false;
  }
}

// Markers.

uint64_t ShimTable::Elapsed(uint64_t from, uint64_t to) {
  // A thread's markers come in its order, so this only happens with a clock
  // conversion gone wrong; 0 keeps a wrapped difference out of the tables.
  if (to < from) {
    ++time_reversals_;
    return 0;
  }
  return to - from;
}

void ShimTable::AddMarker(const v1::Marker& m) {
  ++markers_;
  const ThreadKey t{m.pid(), m.tid()};
  MarkerThread& th = marker_threads_[t];
  AddInterval(t, th, m);
  if (m.type() == v1::MARKER_BEGIN) {
    if (th.open.size() >= kMaxOpenSpans) {
      th.open.erase(th.open.begin());
      ++given_way_;
    }
    th.open.emplace_back(m.name(), m.time_ns());
  } else if (m.type() == v1::MARKER_END) {
    CloseSpan(t, th, m);
  }
}

void ShimTable::AddInterval(ThreadKey t, MarkerThread& th, const v1::Marker& m) {
  if (th.has_last) intervals_.Add(t, {th.last_name, m.name()}, Elapsed(th.last_time, m.time_ns()));
  th.last_name = m.name();
  th.last_time = m.time_ns();
  th.has_last = true;
}

void ShimTable::CloseSpan(ThreadKey t, MarkerThread& th, const v1::Marker& m) {
  auto it = std::find_if(th.open.rbegin(), th.open.rend(),
                         [&](const auto& open) { return open.first == m.name(); });
  if (it == th.open.rend()) {
    ++unmatched_ends_;
    return;
  }
  spans_.Add(t, m.name(), Elapsed(it->second, m.time_ns()));
  th.open.erase(std::next(it).base());
}

uint64_t ShimTable::open_spans() const {
  uint64_t n = given_way_;
  for (const auto& [key, th] : marker_threads_) n += th.open.size();
  return n;
}

// Wrapped calls vs kernel calls.

void ShimTable::AddShimCall(const v1::ShimCall& c) {
  ++shim_calls_;
  const CallKey key{c.pid(), c.function()};
  auto it = calls_.find(key);
  if (it == calls_.end()) {
    if (calls_.size() >= kMaxCallKeys) {
      ++untracked_calls_;
      return;
    }
    it = calls_.emplace(key, CallStats()).first;
  }
  it->second.count++;
  it->second.user.Add(c.duration_ns());
  const PendingShim s{c.entry_ns(), EndOf(c.entry_ns(), c.duration_ns()), c.pid(), c.function()};
  TidCalls& tc = pending_by_tid_.try_emplace(c.tid()).first->second;
  if (!MatchShim(tc, s)) Park(tc, s);
  tc.shim_watermark = std::max(tc.shim_watermark, s.entry);
  Retire(tc);
  ForgetIfIdle(c.tid());
  if (pending_ > kMaxPendingTotal) EvictOldest();
}

void ShimTable::AddKernelCall(const v1::SyscallCall& c) {
  ++kernel_calls_;
  if (!WrappedByAny(c.syscall())) return;
  const PendingKernel k{c.start_time_ns(), EndOf(c.start_time_ns(), c.duration_ns()), c.syscall()};
  TidCalls& tc = pending_by_tid_.try_emplace(c.tid()).first->second;
  if (!MatchKernel(tc, k)) Park(tc, k);
  tc.kernel_watermark = std::max(tc.kernel_watermark, k.start);
  Retire(tc);
  ForgetIfIdle(c.tid());
  if (pending_ > kMaxPendingTotal) EvictOldest();
}

// The first kernel call inside the shim call, so that a call entering the
// kernel twice (restarted) pairs the same way whichever side came first.
bool ShimTable::MatchShim(TidCalls& tc, const PendingShim& s) {
  auto it = std::lower_bound(tc.kernel.begin(), tc.kernel.end(), s.entry,
                             [](const PendingKernel& k, uint64_t t) { return k.start < t; });
  for (; it != tc.kernel.end() && it->start <= s.end; ++it) {
    if (it->end > s.end || !ShimCallWraps(s.function, it->syscall)) continue;
    RecordMatch(s, *it);
    tc.kernel.erase(it);
    --pending_;
    return true;
  }
  return false;
}

bool ShimTable::MatchKernel(TidCalls& tc, const PendingKernel& k) {
  auto it = std::upper_bound(tc.shim.begin(), tc.shim.end(), k.start,
                             [](uint64_t t, const PendingShim& s) { return t < s.entry; });
  for (int i = 0; i < kScanBack && it != tc.shim.begin(); ++i) {
    --it;
    if (it->end < k.end || !ShimCallWraps(it->function, k.syscall)) continue;
    RecordMatch(*it, k);
    tc.shim.erase(it);
    --pending_;
    return true;
  }
  return false;
}

void ShimTable::RecordMatch(const PendingShim& s, const PendingKernel& k) {
  CallStats& cs = calls_[{s.pid, s.function}];
  const uint64_t user = s.end - s.entry;
  const uint64_t kernel = k.end - k.start;
  cs.matched++;
  cs.kernel.Add(kernel);
  cs.overhead.Add(user - kernel);  // containment makes it >= 0
}

// A waiting call no later record of the other side can contain or fit in:
// that side's later records on this thread all start after it.
void ShimTable::Retire(TidCalls& tc) {
  while (!tc.kernel.empty() && tc.shim_watermark > tc.kernel.front().start) {
    tc.kernel.pop_front();
    --pending_;
  }
  while (!tc.shim.empty() && tc.kernel_watermark > tc.shim.front().end) {
    tc.shim.pop_front();
    --pending_;
  }
}

void ShimTable::Park(TidCalls& tc, const PendingShim& s) {
  auto pos = std::upper_bound(tc.shim.begin(), tc.shim.end(), s.entry,
                              [](uint64_t t, const PendingShim& p) { return t < p.entry; });
  tc.shim.insert(pos, s);
  ++pending_;
  if (tc.shim.size() <= kMaxPendingPerTid) return;
  tc.shim.pop_front();
  --pending_;
  ++dropped_shim_;
}

void ShimTable::Park(TidCalls& tc, const PendingKernel& k) {
  auto pos = std::upper_bound(tc.kernel.begin(), tc.kernel.end(), k.start,
                              [](uint64_t t, const PendingKernel& p) { return t < p.start; });
  tc.kernel.insert(pos, k);
  ++pending_;
  if (tc.kernel.size() <= kMaxPendingPerTid) return;
  tc.kernel.pop_front();
  --pending_;
  ++dropped_kernel_;
}

// An idle thread's watermarks are not worth keeping: any later record
// sets them anew, and the rule in Retire holds from whenever they start.
void ShimTable::ForgetIfIdle(int32_t tid) {
  auto it = pending_by_tid_.find(tid);
  if (it != pending_by_tid_.end() && it->second.shim.empty() && it->second.kernel.empty())
    pending_by_tid_.erase(it);
}

// Threads that never had the shim (other processes of a system-wide run)
// leave kernel calls waiting forever; dropping the oldest quarter at once
// keeps the total bounded at O(1) amortized cost per record.
void ShimTable::EvictOldest() {
  std::vector<uint64_t> starts;
  starts.reserve(pending_);
  for (const auto& [tid, tc] : pending_by_tid_) {
    for (const auto& s : tc.shim) starts.push_back(s.entry);
    for (const auto& k : tc.kernel) starts.push_back(k.start);
  }
  auto cut = starts.begin() + starts.size() / 4;
  std::nth_element(starts.begin(), cut, starts.end());
  const uint64_t cutoff = *cut;
  for (auto it = pending_by_tid_.begin(); it != pending_by_tid_.end();) {
    TidCalls& tc = it->second;
    for (; !tc.shim.empty() && tc.shim.front().entry <= cutoff; ++dropped_shim_, --pending_)
      tc.shim.pop_front();
    for (; !tc.kernel.empty() && tc.kernel.front().start <= cutoff; ++dropped_kernel_, --pending_)
      tc.kernel.pop_front();
    it = tc.shim.empty() && tc.kernel.empty() ? pending_by_tid_.erase(it) : std::next(it);
  }
}

void ShimTable::AddShimProcesses(const google::protobuf::RepeatedPtrField<v1::ShimProcess>& shim) {
  for (const auto& p : shim) processes_[p.pid()] = p;
}

IntervalReport IntervalStats(const ShimTable& t, std::string_view from, std::string_view to) {
  const IntervalName name{std::string(from), std::string(to)};
  IntervalReport r;
  auto all = t.intervals().all().find(name);
  if (all != t.intervals().all().end()) r.all = all->second.Stats();
  for (const auto& [key, sample] : t.intervals().by_thread())
    if (key.second == name) r.by_thread.emplace_back(key.first, sample.Stats());
  return r;
}

// Text.

namespace {

// Marker names come from the traced program: nothing in them may break
// the report's lines.
std::string Printable(const std::string& s) {
  std::string out = s;
  for (char& ch : out)
    if (!std::isprint(static_cast<unsigned char>(ch))) ch = '?';
  return out;
}

std::string Label(const SpanName& name) { return Printable(name); }

std::string Label(const IntervalName& name) {
  return Printable(name.first) + ".." + Printable(name.second);
}

std::string Cell(const DurationStats& s, uint64_t ns) {
  if (s.count == 0) return "-";
  return (s.exact ? "" : "~") + FormatDuration(ns);
}

// The maximum is kept exactly even when the percentiles are estimated.
std::string MaxCell(const DurationStats& s) { return s.count ? FormatDuration(s.max_ns) : "-"; }

std::string Fit(std::string s, size_t width) {
  return s.size() <= width ? s : s.substr(0, width - 3) + "...";
}

const char kNamedFmt[] = "  %-40s %8s %8s %9s %10s %10s %10s\n";

std::string NamedRow(const std::string& label, const std::string& pid, const std::string& tid,
                     const DurationStats& s) {
  char line[256];
  snprintf(line, sizeof(line), kNamedFmt, Fit(label, kLabelWidth).c_str(), pid.c_str(), tid.c_str(),
           std::to_string(s.count).c_str(), Cell(s, s.p50_ns).c_str(), Cell(s, s.p99_ns).c_str(),
           MaxCell(s).c_str());
  return line;
}

template <typename Name>
bool AnyEstimated(const NamedDurations<Name>& d) {
  for (const auto& [name, sample] : d.all())
    if (sample.estimated()) return true;
  for (const auto& [key, sample] : d.by_thread())
    if (sample.estimated()) return true;
  return false;
}

// Rows over all threads, then per thread by name, pid, tid; a run with many
// threads would otherwise print pages, so the per-thread rows are capped.
template <typename Name>
void AppendNamed(const char* title, const NamedDurations<Name>& d, std::ostringstream& o) {
  o << "\n" << title << ":\n";
  char line[256];
  snprintf(line, sizeof(line), kNamedFmt, "NAME", "PID", "TID", "COUNT", "P50", "P99", "MAX");
  o << line;
  for (const auto& [name, sample] : d.all())
    o << NamedRow(Label(name), "all", "all", sample.Stats());
  std::vector<const std::pair<const std::pair<ThreadKey, Name>, DurationSample>*> rows;
  for (const auto& row : d.by_thread()) rows.push_back(&row);
  std::sort(rows.begin(), rows.end(), [](const auto* a, const auto* b) {
    return std::tie(a->first.second, a->first.first) < std::tie(b->first.second, b->first.first);
  });
  for (size_t i = 0; i < rows.size() && i < kPrintedThreadRows; ++i) {
    const auto& [key, sample] = *rows[i];
    o << NamedRow(Label(key.second), std::to_string(key.first.pid), std::to_string(key.first.tid),
                  sample.Stats());
  }
  if (rows.size() > kPrintedThreadRows)
    o << "  (" << rows.size() - kPrintedThreadRows << " more per-thread rows not shown)\n";
  if (AnyEstimated(d))
    o << "  ~ = estimated from a log2 histogram: more than " << DurationSample::kMaxExact
      << " values\n";
  if (d.untracked())
    o << "  (" << d.untracked() << " values of keys past the first " << d.kMaxKeys
      << " not counted)\n";
}

void AppendSpanNotes(const ShimTable& t, std::ostringstream& o) {
  if (t.unmatched_ends()) o << "  END markers with no open BEGIN: " << t.unmatched_ends() << "\n";
  if (t.open_spans()) o << "  BEGIN markers never ended: " << t.open_spans() << "\n";
}

const char kCallFmt[] = "%8s %-16s %-14s %9s %9s %10s %10s %10s %10s %10s %10s\n";

std::string CallRow(const CallKey& key, const CallStats& c, const SyscallReportContext& ctx) {
  const DurationStats user = c.user.Stats();
  const DurationStats kernel = c.kernel.Stats();
  const DurationStats over = c.overhead.Stats();
  char line[256];
  snprintf(line, sizeof(line), kCallFmt, std::to_string(key.pid).c_str(),
           CommOf(ctx, key.pid).c_str(), ShimFunctionName(key.function).c_str(),
           std::to_string(c.count).c_str(), std::to_string(c.matched).c_str(),
           Cell(user, user.p50_ns).c_str(), Cell(user, user.p99_ns).c_str(),
           Cell(kernel, kernel.p50_ns).c_str(), Cell(kernel, kernel.p99_ns).c_str(),
           Cell(over, over.p50_ns).c_str(), Cell(over, over.p99_ns).c_str());
  return line;
}

void AppendCallNotes(const ShimTable& t, const SyscallReportContext& ctx, std::ostringstream& o) {
  if (t.kernel_calls() == 0) {
    o << "  no kernel syscall records in the file: nothing to pair the calls with\n";
    return;
  }
  if (ctx.min_latency_ns)
    o << "  kernel calls shorter than " << FormatDuration(ctx.min_latency_ns)
      << " were not recorded, so the calls around them are unmatched\n";
  if (t.dropped_shim() || t.dropped_kernel())
    o << "  " << t.dropped_shim() << " wrapped and " << t.dropped_kernel()
      << " kernel calls dropped unmatched at the pending limit (kernel calls of threads "
         "without the shim end up there too)\n";
  if (t.untracked_calls())
    o << "  (" << t.untracked_calls() << " calls of keys past the first " << t.kMaxCallKeys
      << " not counted)\n";
}

void AppendCalls(const ShimTable& t, const SyscallReportContext& ctx, std::ostringstream& o) {
  o << "\nwrapped calls vs kernel syscalls (overhead = user-space span - kernel span, "
       "matched calls only):\n";
  char line[256];
  snprintf(line, sizeof(line), kCallFmt, "PID", "COMM", "FUNCTION", "CALLS", "MATCHED", "USER P50",
           "USER P99", "KERN P50", "KERN P99", "OVHD P50", "OVHD P99");
  o << line;
  for (const auto& [key, c] : t.calls()) o << CallRow(key, c, ctx);
  AppendCallNotes(t, ctx, o);
}

uint64_t Lost(const v1::ShimProcess& p) { return p.lost_buffer_full() + p.lost_no_buffer(); }

std::string ShimProcessLine(const v1::ShimProcess& p, const SyscallReportContext& ctx) {
  char line[384];
  snprintf(line, sizeof(line),
           "  pid %d (%s): produced %" PRIu64 "  written %" PRIu64 "  sampled out %" PRIu64
           "  lost %" PRIu64 " (buffer full %" PRIu64 ", no buffer %" PRIu64 ")  rejected %" PRIu64,
           p.pid(), CommOf(ctx, p.pid()).c_str(), p.produced(), p.written(), p.sampled_out(),
           Lost(p), p.lost_buffer_full(), p.lost_no_buffer(), p.rejected());
  std::string out = line;
  if (p.sample_every() > 1) out += "  sampling 1/" + std::to_string(p.sample_every());
  if (p.min_duration_ns()) out += "  min duration " + FormatDuration(p.min_duration_ns());
  if (p.tsc_clock()) out += "  TSC clock";
  return out + "\n";
}

void AppendShimCounters(const ShimTable& t, const SyscallReportContext& ctx,
                        std::ostringstream& o) {
  o << "\nshim counters (last stats record per process):\n";
  for (const auto& [pid, p] : t.processes()) o << ShimProcessLine(p, ctx);
  for (const auto& [pid, p] : t.processes()) {
    if (Lost(p) == 0 && p.rejected() == 0) continue;
    o << "warning: pid " << pid << ": the shim lost " << Lost(p)
      << " calls and markers (buffer full " << p.lost_buffer_full() << ", no buffer "
      << p.lost_no_buffer() << ") and rejected " << p.rejected()
      << " entries; the tables above miss them\n";
  }
}

}  // namespace

std::string FormatShimSection(const ShimTable& t, const SyscallReportContext& ctx) {
  if (t.empty()) return "";
  std::ostringstream o;
  o << "\nuser-space (shim): " << t.shim_calls() << " wrapped calls, " << t.markers()
    << " markers\n";
  if (!t.calls().empty()) AppendCalls(t, ctx, o);
  if (!t.spans().all().empty() || t.unmatched_ends() || t.open_spans()) {
    AppendNamed("spans (BEGIN..END on a thread)", t.spans(), o);
    AppendSpanNotes(t, o);
  }
  if (!t.intervals().all().empty())
    AppendNamed("intervals between consecutive markers on a thread (A..B)", t.intervals(), o);
  if (t.time_reversals())
    o << "note: " << t.time_reversals()
      << " markers went back in time on their thread (shown as 0)\n";
  if (!t.processes().empty()) AppendShimCounters(t, ctx, o);
  return o.str();
}

}  // namespace probe
