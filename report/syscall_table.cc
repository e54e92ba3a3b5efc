#include "syscall_table.h"

#include <algorithm>
#include <bit>
#include <cctype>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <set>
#include <sstream>

#include "text_escape.h"

namespace probe {

namespace {

constexpr int kLastBucket = kHistogramBuckets - 1;
constexpr int kStars = 40;

bool IsWait(v1::Syscall s) { return s >= v1::SYSCALL_SELECT && s <= v1::SYSCALL_EPOLL_PWAIT2; }

bool IsEpoll(v1::Syscall s) { return s >= v1::SYSCALL_EPOLL_WAIT && s <= v1::SYSCALL_EPOLL_PWAIT2; }

bool IsEventfdCreate(v1::Syscall s) {
  return s == v1::SYSCALL_EVENTFD || s == v1::SYSCALL_EVENTFD2;
}

bool IsEventfdIo(v1::Syscall s) { return s >= v1::SYSCALL_READ && s <= v1::SYSCALL_WRITEV; }

}  // namespace

void TopCalls::Add(const v1::SyscallCall& c) {
  // The heap's front is the least slow call kept, the first to give way.
  auto slower = [](const v1::SyscallCall& a, const v1::SyscallCall& b) {
    if (a.duration_ns() != b.duration_ns()) return a.duration_ns() > b.duration_ns();
    return a.start_time_ns() < b.start_time_ns();
  };
  if (limit_ == 0) return;
  if (heap_.size() < limit_) {
    heap_.push_back(c);
    std::push_heap(heap_.begin(), heap_.end(), slower);
    return;
  }
  if (!slower(c, heap_.front())) return;
  std::pop_heap(heap_.begin(), heap_.end(), slower);
  heap_.back() = c;
  std::push_heap(heap_.begin(), heap_.end(), slower);
}

std::vector<v1::SyscallCall> TopCalls::Sorted() const {
  std::vector<v1::SyscallCall> out = heap_;
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
    if (a.duration_ns() != b.duration_ns()) return a.duration_ns() > b.duration_ns();
    return a.start_time_ns() < b.start_time_ns();
  });
  return out;
}

void SyscallTable::AddCall(const v1::SyscallCall& c) {
  Entry& e = keys_[{c.pid(), c.syscall()}];
  ++e.recorded;
  ++recorded_;
  (c.timed_out() ? slowest_timeouts_ : slowest_).Add(c);
  if (!e.too_many) {
    if (e.durations.size() < kMaxExactCalls) {
      e.durations.push_back(c.duration_ns());
    } else {
      e.too_many = true;
      std::vector<uint64_t>().swap(e.durations);
    }
  }
  if (e.has_record) return;
  e.histogram.set_pid(c.pid());
  e.histogram.set_syscall(c.syscall());
  AddCallToHistogram(c, &e.histogram);
}

void SyscallTable::AddHistogram(const v1::SyscallHistogram& h) {
  // Records are cumulative: the last one holds everything before it.
  Entry& e = keys_[{h.pid(), h.syscall()}];
  e.has_record = true;
  e.histogram = h;
}

std::vector<SyscallRow> SyscallTable::Rows() const {
  std::vector<SyscallRow> rows;
  rows.reserve(keys_.size());
  for (const auto& [key, e] : keys_) {
    rows.push_back({key, e.histogram, !e.has_record, e.recorded, {}});
    // Exact only if the file holds every call the kernel counted.
    if (!e.too_many && e.durations.size() == e.histogram.count()) {
      rows.back().exact_durations = e.durations;
      std::sort(rows.back().exact_durations.begin(), rows.back().exact_durations.end());
    }
    rows.back().quantiles = QuantilesOf(rows.back().exact_durations, e.histogram);
  }
  std::stable_sort(rows.begin(), rows.end(), [](const SyscallRow& a, const SyscallRow& b) {
    if (a.key.pid != b.key.pid) return a.key.pid < b.key.pid;
    return a.histogram.sum_ns() > b.histogram.sum_ns();
  });
  return rows;
}

DurationUnit UnitFor(uint64_t max_ns) {
  if (max_ns < 10'000) return DurationUnit::kNs;
  if (max_ns < 10'000'000) return DurationUnit::kUs;
  return DurationUnit::kMs;
}

namespace {

const char* UnitLabel(DurationUnit u) {
  switch (u) {
    case DurationUnit::kNs:
      return "nsecs";
    case DurationUnit::kUs:
      return "usecs";
    case DurationUnit::kMs:
      return "msecs";
  }
  return "";
}

double UnitNs(DurationUnit u) {
  return u == DurationUnit::kMs ? 1e6 : u == DurationUnit::kUs ? 1e3 : 1;
}

// Three significant digits at most: bucket edges are powers of two in ns,
// so in us or ms they are not round numbers and more digits would be noise.
// An edge under 1 in the histogram's unit is written in the unit below,
// with its name ("262us", "512ns"): in ms, every bucket under 10 us would
// otherwise read "0.00 -> 0.00".
std::string ScaledBound(uint64_t ns, DurationUnit u) {
  const char* suffix = "";
  if (u != DurationUnit::kNs && static_cast<double>(ns) < UnitNs(u)) {
    u = u == DurationUnit::kMs && ns >= 1000 ? DurationUnit::kUs : DurationUnit::kNs;
    suffix = u == DurationUnit::kUs ? "us" : "ns";
  }
  const double v = static_cast<double>(ns) / UnitNs(u);
  char buf[32];
  if (u == DurationUnit::kNs)
    snprintf(buf, sizeof(buf), "%.0f%s", v, suffix);
  else
    snprintf(buf, sizeof(buf), v >= 100 ? "%.0f%s" : v >= 10 ? "%.1f%s" : "%.2f%s", v, suffix);
  return buf;
}

// In ns the edges are shown inclusive and exact, as bcc does; in us and ms
// as [low, high).
std::pair<std::string, std::string> RowBounds(int bucket, DurationUnit u) {
  if (bucket == kLastBucket) return {ScaledBound(BucketLow(bucket), u), "inf"};
  if (u != DurationUnit::kNs)
    return {ScaledBound(BucketLow(bucket), u), ScaledBound(BucketLow(bucket + 1), u)};
  return {std::to_string(BucketLow(bucket)), std::to_string(BucketLow(bucket + 1) - 1)};
}

// As bcc: floor(width * count / max) stars, so a tiny count may show none.
std::string Stars(uint64_t count, uint64_t max_count) {
  if (max_count == 0) return "";
  const uint64_t n = std::min<uint64_t>(kStars, count * kStars / max_count);
  return std::string(n, '*');
}

}  // namespace

std::string FormatHistogramRow(int bucket, uint64_t count, uint64_t max_count, DurationUnit unit) {
  const auto [low, high] = RowBounds(bucket, unit);
  char line[160];
  snprintf(line, sizeof(line), "%10s -> %-10s : %-8" PRIu64 " |%-*s|", low.c_str(), high.c_str(),
           count, kStars, Stars(count, max_count).c_str());
  return line;
}

std::string FormatHistogram(const v1::SyscallHistogram& h) {
  const auto& b = h.log2_buckets();
  const auto nonzero = [](uint64_t n) { return n != 0; };
  const auto first = std::find_if(b.begin(), b.end(), nonzero);
  if (first == b.end()) return "";
  const int lo = static_cast<int>(first - b.begin());
  const int end = static_cast<int>(std::find_if(b.rbegin(), b.rend(), nonzero).base() - b.begin());
  const uint64_t max_count = *std::max_element(b.begin(), b.end());
  const DurationUnit unit = UnitFor(h.max_ns());
  char head[64];
  snprintf(head, sizeof(head), "     %-19s : count     distribution\n", UnitLabel(unit));
  std::string out = head;
  for (int i = lo; i < end; ++i) out += FormatHistogramRow(i, b[i], max_count, unit) + "\n";
  return out;
}

namespace {

std::string ErrnoName(int64_t err) {
  const char* name = err > 0 && err < 4096 ? strerrorname_np(static_cast<int>(err)) : nullptr;
  return name ? name : "errno " + std::to_string(err);
}

std::string Result(const v1::SyscallCall& c) {
  if (c.interrupted()) return "interrupted by a signal";
  return c.ret() < 0 ? ErrnoName(-c.ret()) : "ret " + std::to_string(c.ret());
}

std::string TimeoutText(const v1::SyscallCall& c) {
  if (!c.has_timeout()) return "timeout none";
  if (c.timeout_ns() == 0) return "timeout 0";
  if (c.timeout_ns() < 0) return "timeout " + std::to_string(c.timeout_ns()) + " ns";
  return "timeout " + FormatDuration(static_cast<uint64_t>(c.timeout_ns()));
}

std::string WaitContext(const v1::SyscallCall& c) {
  std::string out =
      IsEpoll(c.syscall()) ? "epfd " + std::to_string(c.fd()) + ", maxevents " : "nfds ";
  out += std::to_string(c.nfds()) + ", " + TimeoutText(c);
  if (c.timed_out()) out += ", timed out";
  return out + ", " + Result(c);
}

std::string EventfdFlags(uint32_t flags) {
  static constexpr std::pair<uint32_t, const char*> kNames[] = {
      {02000000, "EFD_CLOEXEC"}, {04000, "EFD_NONBLOCK"}, {1, "EFD_SEMAPHORE"}};
  if (flags == 0) return "0";
  std::string out;
  for (const auto& [bit, name] : kNames) {
    if (!(flags & bit)) continue;
    out += (out.empty() ? "" : "|") + std::string(name);
    flags &= ~bit;
  }
  if (flags) {
    char rest[16];
    snprintf(rest, sizeof(rest), "0%o", flags);
    out += (out.empty() ? "" : "|") + std::string(rest);
  }
  return out;
}

std::string EventfdCreateContext(const v1::SyscallCall& c) {
  std::string out = "initval " + std::to_string(c.value());
  if (c.syscall() == v1::SYSCALL_EVENTFD2) out += ", flags " + EventfdFlags(c.eventfd_flags());
  return out + ", " + (c.ret() < 0 ? ErrnoName(-c.ret()) : "fd " + std::to_string(c.ret()));
}

std::string EventfdIoContext(const v1::SyscallCall& c) {
  std::string out = "fd " + std::to_string(c.fd());
  if (c.has_value()) out += ", value " + std::to_string(c.value());
  if (c.ret() < 0 || !c.has_value()) out += ", " + Result(c);
  return out;
}

}  // namespace

std::string FormatBreakdown(const v1::WaitBreakdown& b) {
  // A wakeup that was not seen has no waker and no run-queue part: its whole
  // off-CPU time is unknown, never filed as blocked.
  if (b.waker().context() == v1::WAKER_CONTEXT_UNKNOWN) {
    return "= " + FormatDuration(b.unknown_ns()) + " off CPU, wakeup not seen + " +
           FormatDuration(b.to_block_ns() + b.return_ns()) + " to block and return";
  }
  const std::string waker =
      !b.woken() ? "not woken by a task"
      : b.waker().context() == v1::WAKER_CONTEXT_OWN_TIMEOUT
          ? "its timeout expired"
          : "woken by " + WakerText(b.waker(), b.waker().comm(), WakerStyle::kTid);
  std::string out = "= " + FormatDuration(b.blocked_ns()) + " blocked (" + waker + ")";
  if (b.woken()) out += " + " + FormatDuration(b.run_queue_ns()) + " run queue";
  out += " + " + FormatDuration(b.to_block_ns() + b.return_ns()) + " to block and return";
  if (b.total_blocked_ns() > b.blocked_ns())
    out += "; blocked " + FormatDuration(b.total_blocked_ns()) + " in all";
  return out;
}

std::string FormatCallContext(const v1::SyscallCall& c) {
  if (IsWait(c.syscall())) return WaitContext(c);
  if (IsEventfdCreate(c.syscall())) return EventfdCreateContext(c);
  if (IsEventfdIo(c.syscall())) return EventfdIoContext(c);
  return Result(c);
}

namespace {

void AppendTable(const std::vector<SyscallRow>& rows, const SyscallReportContext& ctx,
                 std::ostringstream& o) {
  const char* fmt = "%8s %-16s %-16s %9s %8s %8s %10s %10s %10s %10s %8s\n";
  char line[256];
  snprintf(line, sizeof(line), fmt, "PID", "COMM", "SYSCALL", "CALLS", "TIMEOUTS", "ERRORS", "P50",
           "P90", "P99", "MAX", "RECORDED");
  o << line;
  bool any_from_calls = false;
  for (const SyscallRow& r : rows) {
    const auto& h = r.histogram;
    any_from_calls |= r.from_calls;
    const std::string calls = std::to_string(h.count()) + (r.from_calls ? "*" : "");
    snprintf(line, sizeof(line), fmt, std::to_string(r.key.pid).c_str(),
             CommOf(ctx, r.key.pid).c_str(), SyscallName(r.key.syscall).c_str(), calls.c_str(),
             std::to_string(h.timeouts()).c_str(), std::to_string(h.errors()).c_str(),
             FormatQuantile(r.quantiles.p50_ns, r.quantiles.exact).c_str(),
             FormatQuantile(r.quantiles.p90_ns, r.quantiles.exact).c_str(),
             FormatQuantile(r.quantiles.p99_ns, r.quantiles.exact).c_str(),
             FormatDuration(h.max_ns()).c_str(), std::to_string(r.recorded).c_str());
    o << line;
  }
  o << "percentiles are exact where every call was recorded; ~ marks those interpolated "
       "inside the histogram's bucket\n";
  if (any_from_calls)
    o << "* no histogram record (file cut short): counted from the per-call records"
      << (ctx.min_latency_ns ? ", which miss calls below --min-latency" : "") << "\n";
  if (ctx.min_latency_ns)
    o << "RECORDED counts only calls of at least " << FormatDuration(ctx.min_latency_ns)
      << "; the other columns count every call\n";
}

void AppendHistograms(const std::vector<SyscallRow>& rows, const SyscallReportContext& ctx,
                      std::ostringstream& o) {
  for (const SyscallRow& r : rows) {
    const auto& h = r.histogram;
    o << "\n"
      << SyscallName(r.key.syscall) << ", pid " << r.key.pid << " (" << CommOf(ctx, r.key.pid)
      << "): " << h.count() << (h.count() == 1 ? " call, " : " calls, ")
      << FormatDuration(h.sum_ns()) << " total" << (r.from_calls ? ", from per-call records" : "")
      << "\n"
      << FormatHistogram(h);
  }
}

std::string StartOffset(uint64_t t, uint64_t base) {
  char buf[32];
  const double s = (static_cast<double>(t) - static_cast<double>(base)) / 1e9;
  snprintf(buf, sizeof(buf), "%+.3f s", s);
  return buf;
}

// Idle timeouts (an event loop's 100 ms tick) would fill the list of the
// slowest calls: the waits that ended by their own timeout are listed apart.
void AppendSlowest(const SyscallTable& t, const TopCalls& top, const char* title,
                   const SyscallReportContext& ctx, std::ostringstream& o) {
  auto calls = top.Sorted();
  if (calls.empty()) return;
  if (calls.size() > SyscallTable::kSlowest) calls.resize(SyscallTable::kSlowest);
  o << "\n" << title << " (" << calls.size() << " of " << t.recorded() << " recorded):\n";
  char line[512];
  for (const auto& c : calls) {
    const std::string who = std::to_string(c.pid()) + "/" + std::to_string(c.tid());
    snprintf(line, sizeof(line), "  %10s  %-15s %-16s %10s  %s\n",
             FormatDuration(c.duration_ns()).c_str(), who.c_str(), SyscallName(c.syscall()).c_str(),
             StartOffset(c.start_time_ns(), ctx.start_time_ns).c_str(),
             FormatCallContext(c).c_str());
    o << line;
    if (c.has_breakdown()) o << "              " << FormatBreakdown(c.breakdown()) << "\n";
  }
}

}  // namespace

std::string CommOf(const SyscallReportContext& ctx, int32_t pid) {
  const std::string* name = ctx.names ? ctx.names->Process(pid) : nullptr;
  return name ? TerminalText(*name) : "?";  // the table keeps raw bytes
}

std::string FormatSyscallSection(const SyscallTable& t, const SyscallReportContext& ctx) {
  if (t.empty()) return "";
  const std::vector<SyscallRow> rows = t.Rows();
  std::ostringstream o;
  o << "\nsyscalls (" << rows.size() << " process/syscall pairs), by pid, then total time:\n";
  AppendTable(rows, ctx, o);
  AppendHistograms(rows, ctx, o);
  AppendSlowest(t, t.slowest(), "slowest calls that did not time out", ctx, o);
  AppendSlowest(t, t.slowest_timeouts(), "slowest timeouts", ctx, o);
  return o.str();
}

}  // namespace probe
