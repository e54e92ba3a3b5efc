// The statistics of probe-report (repeated runs and --compare): the spread
// of a set of values, and Mann-Whitney U (two-sided) on
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

// Statistics of a set of values, as hyperfine gives them. sd is the sample
// standard deviation (the n-1 one, hyperfine's σ), 0 for a single value;
// median is the mean of the two middle values for an even n.
struct Spread {
  size_t n = 0;
  double mean = 0, sd = 0, median = 0, min = 0, max = 0;
};
Spread SpreadOf(std::vector<double> values);

}  // namespace probe
