#include "compare_stats.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace probe {

namespace {

// Normal approximation: U's null mean n1 n2 / 2 and variance
// n1 n2 / 12 * ((N + 1) - sum(t^3 - t) / (N (N - 1))) over tie groups of
// size t; |U - mean| less 1/2 for continuity.
double NormalP(double u, double n1, double n2, double tie_sum) {
  const double n = n1 + n2;
  const double var = n1 * n2 / 12.0 * ((n + 1) - tie_sum / (n * (n - 1)));
  if (!(var > 0)) return 1.0;
  const double z = (std::fabs(u - n1 * n2 / 2.0) - 0.5) / std::sqrt(var);
  if (z <= 0) return 1.0;
  return std::min(1.0, std::erfc(z / std::sqrt(2.0)));
}

}  // namespace

// The counts of U = 0..m n under the null are the coefficients of the
// Gaussian binomial [m+n choose m](q) = prod_{i=1..m} (1 - q^(n+i)) / (1 - q^i);
// each factor is applied as a multiplication then an exact division.
double ExactMwuP(size_t m, size_t n, double u) {
  if (m == 0 || n == 0) return 1.0;
  const size_t top = m * n;
  std::vector<double> c(top + 1, 0.0);
  c[0] = 1.0;
  for (size_t i = 1; i <= m; ++i) {
    for (size_t k = top; k >= n + i; --k) c[k] -= c[k - n - i];  // * (1 - q^(n+i))
    for (size_t k = i; k <= top; ++k) c[k] += c[k - i];          // / (1 - q^i)
  }
  const double total = std::accumulate(c.begin(), c.end(), 0.0);
  // P(U <= u) and P(U >= u); U is symmetric, so twice the smaller tail.
  const size_t lo = static_cast<size_t>(std::floor(std::min(u, double(top) - u) + 1e-9));
  double tail = 0;
  for (size_t k = 0; k <= lo && k <= top; ++k) tail += c[k];
  return std::min(1.0, 2.0 * tail / total);
}

MwuResult MannWhitneyU(const std::vector<double>& a, const std::vector<double>& b) {
  MwuResult r;
  if (a.empty() || b.empty()) return r;
  struct V {
    double x;
    bool first;
  };
  std::vector<V> all;
  all.reserve(a.size() + b.size());
  for (double x : a) all.push_back({x, true});
  for (double x : b) all.push_back({x, false});
  std::sort(all.begin(), all.end(), [](const V& l, const V& r) { return l.x < r.x; });
  double rank_sum = 0, tie_sum = 0;
  bool ties = false;
  for (size_t i = 0; i < all.size();) {
    size_t j = i;
    while (j < all.size() && all[j].x == all[i].x) ++j;
    const double t = double(j - i);
    const double avg_rank = (double(i + 1) + double(j)) / 2.0;
    for (size_t k = i; k < j; ++k)
      if (all[k].first) rank_sum += avg_rank;
    if (t > 1) {
      ties = true;
      tie_sum += t * t * t - t;
    }
    i = j;
  }
  const double n1 = double(a.size()), n2 = double(b.size());
  r.u = rank_sum - n1 * (n1 + 1) / 2.0;
  if (!ties && a.size() + b.size() <= kMaxExactN) {
    r.exact = true;
    r.p = ExactMwuP(a.size(), b.size(), r.u);
  } else {
    r.p = NormalP(r.u, n1, n2, tie_sum);
  }
  return r;
}

MwuResult MannWhitneyUBuckets(const std::vector<uint64_t>& a, const std::vector<uint64_t>& b) {
  MwuResult r;
  const size_t buckets = std::max(a.size(), b.size());
  double n1 = 0, n2 = 0;
  for (uint64_t x : a) n1 += double(x);
  for (uint64_t x : b) n2 += double(x);
  if (n1 == 0 || n2 == 0) return r;
  double below = 0, rank_sum = 0, tie_sum = 0;
  for (size_t i = 0; i < buckets; ++i) {
    const double x = i < a.size() ? double(a[i]) : 0, y = i < b.size() ? double(b[i]) : 0;
    const double t = x + y;
    if (t == 0) continue;
    rank_sum += x * (below + (t + 1) / 2.0);
    tie_sum += t * t * t - t;
    below += t;
  }
  r.u = rank_sum - n1 * (n1 + 1) / 2.0;
  r.p = NormalP(r.u, n1, n2, tie_sum);
  return r;
}

std::vector<double> HolmAdjust(const std::vector<double>& p) {
  std::vector<size_t> order(p.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return p[a] < p[b]; });
  std::vector<double> out(p.size());
  double running = 0;
  for (size_t i = 0; i < order.size(); ++i) {
    running = std::max(running, std::min(1.0, double(p.size() - i) * p[order[i]]));
    out[order[i]] = running;
  }
  return out;
}

Spread SpreadOf(std::vector<double> values) {
  Spread s;
  s.n = values.size();
  if (values.empty()) return s;
  std::sort(values.begin(), values.end());
  s.min = values.front();
  s.max = values.back();
  double sum = 0;
  for (double v : values) sum += v;
  s.mean = sum / double(s.n);
  const size_t mid = s.n / 2;
  s.median = s.n % 2 ? values[mid] : (values[mid - 1] + values[mid]) / 2;
  if (s.n > 1) {
    double squares = 0;
    for (double v : values) squares += (v - s.mean) * (v - s.mean);
    s.sd = std::sqrt(squares / double(s.n - 1));
  }
  return s;
}

}  // namespace probe
