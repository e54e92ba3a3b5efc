// The statistics of probe-report --compare: Mann-Whitney U (two-sided) on
// per-run or per-call values, and the same test over log2 histogram buckets
// where a sampled file holds only exact histograms (every call of a bucket
// ties with the others there). Pure functions, no I/O.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

namespace probe {

struct MwuResult {
  double u = 0;        // U of the first sample: pairs (a, b) with a > b, ties counting 1/2
  double p = 1;        // two-sided
  bool exact = false;  // from the exact distribution (small samples, no ties)
};

// Exact distribution when there are no ties and n1 + n2 <= kMaxExactN;
// otherwise the normal approximation with the tie correction of the
// variance and a continuity correction (as scipy.stats.mannwhitneyu's
// "asymptotic" method). An empty side, or every value tied, gives p = 1.
inline constexpr size_t kMaxExactN = 60;
MwuResult MannWhitneyU(const std::vector<double>& a, const std::vector<double>& b);

// The same test when each side is only counts per log2 bucket: the values
// of one bucket are tied (normal approximation with tie correction).
MwuResult MannWhitneyUBuckets(const std::vector<uint64_t>& a, const std::vector<uint64_t>& b);

// Two-sided p of the exact null distribution of U for sizes m and n, at u.
double ExactMwuP(size_t m, size_t n, double u);

// Holm's step-down adjustment: p-values that hold for the family, so that
// "any of these m figures is significant" is wrong at most alpha of the time.
std::vector<double> HolmAdjust(const std::vector<double>& p);

double Mean(const std::vector<double>& v);
double StdDev(const std::vector<double>& v);  // sample standard deviation, 0 below 2 values
double Median(std::vector<double> v);

}  // namespace probe
