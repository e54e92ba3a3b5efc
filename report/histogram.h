// The one histogram and percentile module of probe-report: log2 buckets as
// the kernel fills them, percentiles exact from every value where the file
// holds every value and interpolated inside a bucket (marked "~") where it
// does not, and the duration format every output uses.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "probe.pb.h"

namespace probe {

// Matches PROBE_HIST_BUCKETS in bpf/probe_events.h.
inline constexpr int kHistogramBuckets = 48;

// "1.234 s", "5.00 ms", "14.0 us", "812 ns".
std::string FormatDuration(uint64_t ns);

// Bucket of a duration: i for [2^i, 2^(i+1)), 0 for [0, 2), capped at the last.
int Log2Bucket(uint64_t ns);
// The bucket's lower bound (0 for bucket 0).
uint64_t BucketLow(int i);

// Counts one call into h as the kernel would have.
void AddCallToHistogram(const v1::SyscallCall& c, v1::SyscallHistogram* h);
// Counts one duration into h.
void AddToHistogram(uint64_t ns, v1::SyscallHistogram* h);
// Adds every bucket, count, sum, timeout and error of from into *into and
// widens its min and max: distributions are merged here, never their
// percentiles.
void MergeHistogram(const v1::SyscallHistogram& from, v1::SyscallHistogram* into);

// Duration at quantile q (0..1), exact to the bucket; see the .cc.
uint64_t HistogramPercentile(const v1::SyscallHistogram& h, double q);
// Nearest-rank percentile of sorted durations (q in 0..1).
uint64_t ExactPercentile(const std::vector<uint64_t>& sorted, double q);

// p50, p90 and p99 of one distribution; exact = false when interpolated in
// a histogram's buckets.
struct Quantiles {
  uint64_t p50_ns = 0, p90_ns = 0, p99_ns = 0;
  bool exact = false;
};
// From every value (sorted) when given, else from the histogram.
Quantiles QuantilesOf(const std::vector<uint64_t>& sorted, const v1::SyscallHistogram& h);
// "2.9 us" when exact, "~3.3 us" when interpolated: the mark every output uses.
std::string FormatQuantile(uint64_t ns, bool exact);

// One distribution's summary. exact = false when the percentiles were
// estimated from a log2 histogram because there were too many values to keep.
struct DurationStats {
  uint64_t count = 0;
  uint64_t p50_ns = 0;
  uint64_t p90_ns = 0;
  uint64_t p99_ns = 0;
  uint64_t max_ns = 0;
  bool exact = true;
};

// Durations of one key: every value up to kMaxExact for exact nearest-rank
// percentiles, then a log2 histogram, so a key costs at most ~800 KB.
class DurationSample {
 public:
  static constexpr size_t kMaxExact = 100000;

  void Add(uint64_t ns);
  uint64_t count() const { return count_; }
  uint64_t sum() const { return sum_; }  // of every value added
  bool estimated() const { return estimated_; }
  DurationStats Stats() const;

 private:
  void FoldIntoHistogram();

  uint64_t count_ = 0;
  uint64_t sum_ = 0;
  uint64_t max_ = 0;
  bool estimated_ = false;          // past kMaxExact: exact_ released for good
  std::vector<uint64_t> exact_;     // unsorted
  v1::SyscallHistogram histogram_;  // used only once estimated_
};

}  // namespace probe
