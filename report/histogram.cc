#include "histogram.h"

#include <algorithm>
#include <bit>
#include <cinttypes>
#include <cmath>
#include <cstdio>

namespace probe {

namespace {

constexpr int kLastBucket = kHistogramBuckets - 1;

// Exclusive; the last bucket has no upper bound, so the caller supplies one.
uint64_t BucketEnd(int i, uint64_t open_end) {
  return i == kLastBucket ? std::max(open_end, BucketLow(i)) : uint64_t{1} << (i + 1);
}

uint64_t BucketTotal(const v1::SyscallHistogram& h) {
  uint64_t total = 0;
  for (uint64_t n : h.log2_buckets()) total += n;
  return total;
}

uint64_t ClampToMinMax(double v, const v1::SyscallHistogram& h) {
  const double lo = static_cast<double>(h.min_ns());
  const double hi = static_cast<double>(std::max(h.min_ns(), h.max_ns()));
  return static_cast<uint64_t>(std::llround(std::clamp(v, lo, hi)));
}

// frac of the way through bucket i, after narrowing the bucket to
// [min_ns, max_ns]: min and max are exact, so the part of the bucket outside
// them holds no calls and interpolating over it would only add error.
uint64_t InterpolateInBucket(const v1::SyscallHistogram& h, int i, double frac) {
  const double lo = static_cast<double>(std::max(BucketLow(i), h.min_ns()));
  const double end = static_cast<double>(std::min(BucketEnd(i, h.max_ns()), h.max_ns()));
  const double hi = std::max(lo, end);
  return ClampToMinMax(lo + frac * (hi - lo), h);
}

}  // namespace

std::string FormatDuration(uint64_t ns) {
  char buf[32];
  if (ns >= 1000000000ull)
    snprintf(buf, sizeof(buf), "%.3f s", ns / 1e9);
  else if (ns >= 1000000)
    snprintf(buf, sizeof(buf), "%.2f ms", ns / 1e6);
  else if (ns >= 1000)
    snprintf(buf, sizeof(buf), "%.1f us", ns / 1e3);
  else
    snprintf(buf, sizeof(buf), "%" PRIu64 " ns", ns);
  return buf;
}

int Log2Bucket(uint64_t ns) {
  if (ns < 2) return 0;
  return std::min(static_cast<int>(std::bit_width(ns)) - 1, kLastBucket);
}

uint64_t BucketLow(int i) { return i == 0 ? 0 : uint64_t{1} << i; }

void AddCallToHistogram(const v1::SyscallCall& c, v1::SyscallHistogram* h) {
  const uint64_t d = c.duration_ns();
  AddToHistogram(d, h);
  if (c.timed_out()) h->set_timeouts(h->timeouts() + 1);
  if (c.ret() < 0) h->set_errors(h->errors() + 1);
  h->set_time_ns(std::max(h->time_ns(), c.start_time_ns() + d));
}

void AddToHistogram(uint64_t d, v1::SyscallHistogram* h) {
  if (h->count() == 0 || d < h->min_ns()) h->set_min_ns(d);
  h->set_max_ns(std::max(h->max_ns(), d));
  h->set_count(h->count() + 1);
  h->set_sum_ns(h->sum_ns() + d);
  const int b = Log2Bucket(d);
  while (h->log2_buckets_size() <= b) h->add_log2_buckets(0);
  h->set_log2_buckets(b, h->log2_buckets(b) + 1);
}

void MergeHistogram(const v1::SyscallHistogram& from, v1::SyscallHistogram* into) {
  if (from.count() == 0 && from.log2_buckets_size() == 0) return;
  if (into->count() == 0 || from.min_ns() < into->min_ns()) into->set_min_ns(from.min_ns());
  into->set_max_ns(std::max(into->max_ns(), from.max_ns()));
  into->set_count(into->count() + from.count());
  into->set_sum_ns(into->sum_ns() + from.sum_ns());
  into->set_timeouts(into->timeouts() + from.timeouts());
  into->set_errors(into->errors() + from.errors());
  into->set_time_ns(std::max(into->time_ns(), from.time_ns()));
  while (into->log2_buckets_size() < from.log2_buckets_size()) into->add_log2_buckets(0);
  for (int i = 0; i < from.log2_buckets_size(); ++i)
    into->set_log2_buckets(i, into->log2_buckets(i) + from.log2_buckets(i));
}

// Exact to the bucket: a log2 histogram only says how many calls fell in
// each [2^i, 2^(i+1)), so the rank q * total is located in its bucket and
// placed linearly inside it, by how far into the bucket's count it falls.
// The result is clamped to [min_ns, max_ns], which are exact; q = 0 gives
// min_ns, q = 1 gives max_ns, and a one-bucket histogram with min == max is
// exact everywhere. Totals come from the buckets rather than count so that a
// record whose per-CPU counts were read mid-update still sums consistently.
uint64_t HistogramPercentile(const v1::SyscallHistogram& h, double q) {
  const uint64_t total = BucketTotal(h);
  if (total == 0) return 0;
  const double rank = std::clamp(q, 0.0, 1.0) * static_cast<double>(total);
  uint64_t below = 0;
  for (int i = 0; i < h.log2_buckets_size(); ++i) {
    const uint64_t n = h.log2_buckets(i);
    if (n == 0) continue;
    if (static_cast<double>(below + n) >= rank)
      return InterpolateInBucket(h, i, (rank - static_cast<double>(below)) / n);
    below += n;
  }
  return h.max_ns();
}

uint64_t ExactPercentile(const std::vector<uint64_t>& sorted, double q) {
  if (sorted.empty()) return 0;
  q = std::clamp(q, 0.0, 1.0);
  size_t rank = static_cast<size_t>(std::ceil(q * static_cast<double>(sorted.size())));
  return sorted[rank == 0 ? 0 : rank - 1];
}

Quantiles QuantilesOf(const std::vector<uint64_t>& sorted, const v1::SyscallHistogram& h) {
  Quantiles q;
  q.exact = !sorted.empty();
  auto at = [&](double p) {
    return q.exact ? ExactPercentile(sorted, p) : HistogramPercentile(h, p);
  };
  q.p50_ns = at(0.50);
  q.p90_ns = at(0.90);
  q.p99_ns = at(0.99);
  return q;
}

std::string FormatQuantile(uint64_t ns, bool exact) {
  return (exact ? "" : "~") + FormatDuration(ns);
}

void DurationSample::Add(uint64_t ns) {
  ++count_;
  sum_ += ns;
  max_ = std::max(max_, ns);
  if (!estimated_ && exact_.size() < kMaxExact) {
    exact_.push_back(ns);
    return;
  }
  if (!estimated_) FoldIntoHistogram();
  AddToHistogram(ns, &histogram_);
}

void DurationSample::FoldIntoHistogram() {
  estimated_ = true;
  for (uint64_t ns : exact_) AddToHistogram(ns, &histogram_);
  std::vector<uint64_t>().swap(exact_);
}

DurationStats DurationSample::Stats() const {
  std::vector<uint64_t> sorted = exact_;
  std::sort(sorted.begin(), sorted.end());
  const Quantiles q = QuantilesOf(sorted, histogram_);
  DurationStats s;
  s.count = count_;
  s.max_ns = max_;
  s.exact = !estimated_;
  s.p50_ns = q.p50_ns;
  s.p90_ns = q.p90_ns;
  s.p99_ns = q.p99_ns;
  return s;
}

}  // namespace probe
