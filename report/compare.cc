#include "compare.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <set>

#include "compare_stats.h"
#include "histogram.h"

namespace probe {

namespace {

constexpr size_t kMinRunsForPerRunQuantile = 3;

using PerRun = std::function<double(const RunFigures&)>;

std::vector<double> Values(const Side& s, const PerRun& f) {
  std::vector<double> v;
  v.reserve(s.runs.size());
  for (const RunFigures& r : s.runs) v.push_back(f(r));
  return v;
}

std::string PerRunTest(const MwuResult& r) {
  return r.exact ? "MWU per run, exact" : "MWU per run, normal approx.";
}

// A mean-per-run figure: base_f on BASE's runs and new_f on NEW's, tested
// with Mann-Whitney U over the runs.
Figure PerRunFigure(FigureGroup g, std::string what, std::string measure, bool is_time,
                    const Side& base, const Side& neu, const PerRun& base_f, const PerRun& new_f) {
  Figure f;
  f.group = g;
  f.what = std::move(what);
  f.measure = std::move(measure);
  f.is_time = is_time;
  const std::vector<double> a = Values(base, base_f), b = Values(neu, new_f);
  const Spread base_spread = SpreadOf(a), new_spread = SpreadOf(b);
  f.base = base_spread.mean;
  f.neu = new_spread.mean;
  f.base_sd = base_spread.sd;
  f.new_sd = new_spread.sd;
  const MwuResult r = MannWhitneyU(a, b);
  f.p = r.p;
  f.test = PerRunTest(r);
  f.impact_ns = is_time ? std::fabs(f.neu - f.base) : 0;
  return f;
}

template <typename Map, typename Key>
const typename Map::mapped_type* Find(const Map& m, const Key& k) {
  auto it = m.find(k);
  return it == m.end() ? nullptr : &it->second;
}

// Keys of a per-run map over both sides' runs.
template <typename K, typename V>
std::set<K> KeysOf(const Side& a, const Side& b, std::map<K, V> RunFigures::*m) {
  std::set<K> keys;
  for (const Side* s : {&a, &b})
    for (const RunFigures& r : s->runs)
      for (const auto& kv : r.*m) keys.insert(kv.first);
  return keys;
}

// p50/p90/p99 of one distribution on each side. Histograms are merged
// bucket-wise over every run first. p is from Mann-Whitney U on every call
// when both sides hold every call, else over the log2 buckets (sampled
// files: the histograms are exact, the calls are not all there); with
// enough runs, the per-run percentiles must also differ (calls of one run
// are not independent of each other), so p is the larger of the two.
void AddQuantiles(FigureGroup g, const std::string& what, const Side& base, const Side& neu,
                  const std::function<const v1::SyscallHistogram*(const RunFigures&)>& hist,
                  const std::function<const CallFigures*(const RunFigures&)>& calls,
                  std::vector<Figure>* out) {
  struct Merged {
    v1::SyscallHistogram h;
    std::vector<uint64_t> exact;
    bool all_exact = true;
  };
  auto merge = [&](const Side& s) {
    Merged m;
    m.all_exact = calls != nullptr;
    for (const RunFigures& r : s.runs) {
      const v1::SyscallHistogram* h = hist(r);
      if (h) MergeHistogram(*h, &m.h);
      const CallFigures* c = calls ? calls(r) : nullptr;
      if (c && c->all_exact)
        m.exact.insert(m.exact.end(), c->exact.begin(), c->exact.end());
      else if (c)
        m.all_exact = false;
    }
    if (!m.all_exact) m.exact.clear();
    std::sort(m.exact.begin(), m.exact.end());
    return m;
  };
  const Merged a = merge(base), b = merge(neu);
  if (a.h.count() == 0 || b.h.count() == 0) return;  // one side only: the per-run sums say it
  MwuResult calls_test;
  std::string test;
  if (a.all_exact && b.all_exact && !a.exact.empty() && !b.exact.empty()) {
    calls_test = MannWhitneyU(std::vector<double>(a.exact.begin(), a.exact.end()),
                              std::vector<double>(b.exact.begin(), b.exact.end()));
    test = "MWU per call";
  } else {
    calls_test = MannWhitneyUBuckets({a.h.log2_buckets().begin(), a.h.log2_buckets().end()},
                                     {b.h.log2_buckets().begin(), b.h.log2_buckets().end()});
    test = "MWU over log2 buckets (ties)";
  }
  const Quantiles qa = QuantilesOf(a.exact, a.h), qb = QuantilesOf(b.exact, b.h);
  const std::pair<double, uint64_t Quantiles::*> levels[] = {
      {0.50, &Quantiles::p50_ns}, {0.90, &Quantiles::p90_ns}, {0.99, &Quantiles::p99_ns}};
  for (const auto& [q, member] : levels) {
    Figure f;
    f.group = g;
    f.what = what;
    f.measure = q == 0.50 ? "p50" : q == 0.90 ? "p90" : "p99";
    f.base = double(qa.*member);
    f.neu = double(qb.*member);
    f.base_exact = qa.exact;
    f.new_exact = qb.exact;
    f.p = calls_test.p;
    f.test = test;
    if (base.runs.size() >= kMinRunsForPerRunQuantile &&
        neu.runs.size() >= kMinRunsForPerRunQuantile) {
      auto per_run = [&](const RunFigures& r) {
        const v1::SyscallHistogram* h = hist(r);
        const CallFigures* c = calls ? calls(r) : nullptr;
        if (!h || h->count() == 0) return std::nan("");
        std::vector<uint64_t> sorted = c && c->all_exact ? c->exact : std::vector<uint64_t>();
        std::sort(sorted.begin(), sorted.end());
        return double(sorted.empty() ? HistogramPercentile(*h, q) : ExactPercentile(sorted, q));
      };
      std::vector<double> ra, rb;
      for (double v : Values(base, per_run))
        if (!std::isnan(v)) ra.push_back(v);
      for (double v : Values(neu, per_run))
        if (!std::isnan(v)) rb.push_back(v);
      const MwuResult r = MannWhitneyU(ra, rb);
      f.p = std::max(f.p, r.p);
      f.test += " and MWU per run of the " + f.measure + " (the larger p)";
    }
    f.impact_ns = std::fabs(f.neu - f.base);
    f.base_hist = a.h;
    f.new_hist = b.h;
    out->push_back(std::move(f));
  }
}

// Process keys of BASE matched to NEW's: the same place in the tree and
// shape first; then, for what is left, the longest tail of the chain the
// two sides share (a command moved under a wrapper keeps its subtree:
// "python3 > bash _" in BASE is "sh > bash > python3 > bash _" in NEW);
// keys sharing a tail are one figure. What matches nothing is one side's.
struct ProcessMatch {
  std::set<std::string> base_keys, new_keys;  // empty on the side that lacks it
};
std::vector<ProcessMatch> MatchProcesses(const Side& base, const Side& neu) {
  using Chains = std::map<std::string, std::vector<std::string>>;  // key -> chain
  Chains a, b;
  for (const RunFigures& r : base.runs)
    for (const auto& [k, p] : r.processes) a[k] = p.chain;
  for (const RunFigures& r : neu.runs)
    for (const auto& [k, p] : r.processes) b[k] = p.chain;
  size_t longest = 1;
  for (const Chains* side : {&a, &b})
    for (const auto& kv : *side) longest = std::max(longest, kv.second.size());
  std::vector<ProcessMatch> out;
  for (auto it = a.begin(); it != a.end();) {
    if (b.erase(it->first)) {
      out.push_back({{it->first}, {it->first}});
      it = a.erase(it);
    } else {
      ++it;
    }
  }
  for (size_t len = longest; len >= 1; --len) {
    std::map<std::vector<std::string>, ProcessMatch> by_tail;
    auto group = [&](Chains& side, bool is_base) {
      for (const auto& [k, chain] : side) {
        if (chain.size() < len) continue;
        std::vector<std::string> tail(chain.end() - len, chain.end());
        auto& m = by_tail[tail];
        (is_base ? m.base_keys : m.new_keys).insert(k);
      }
    };
    group(a, true);
    group(b, false);
    for (auto& [tail, m] : by_tail) {
      if (m.base_keys.empty() || m.new_keys.empty()) continue;
      for (const auto& k : m.base_keys) a.erase(k);
      for (const auto& k : m.new_keys) b.erase(k);
      out.push_back(std::move(m));
    }
  }
  for (const auto& kv : a) out.push_back({{kv.first}, {}});
  for (const auto& kv : b) out.push_back({{}, {kv.first}});
  return out;
}

std::string Describe(const std::set<std::string>& keys) {
  if (keys.empty()) return "";
  return *keys.begin() +
         (keys.size() > 1 ? " (+" + std::to_string(keys.size() - 1) + " more)" : "");
}

// counts: per process name, how many more (or fewer) per run.
void AddProcessFigures(const Side& base, const Side& neu, Comparison* c,
                       std::map<std::string, double>* counts) {
  for (const ProcessMatch& m : MatchProcesses(base, neu)) {
    const std::string b = Describe(m.base_keys), n = Describe(m.new_keys);
    std::string what = n.empty() ? b + " (BASE only)" : b.empty() ? n + " (NEW only)" : n;
    if (!b.empty() && !n.empty() && b != n) what += " (BASE: " + b + ")";
    auto get = [](const std::set<std::string>& keys, uint64_t ProcessFigures::*field) {
      return [&keys, field](const RunFigures& r) {
        double sum = 0;
        for (const auto& k : keys)
          if (const ProcessFigures* p = Find(r.processes, k)) sum += double(p->*field);
        return sum;
      };
    };
    Figure count = PerRunFigure(FigureGroup::kProcess, what, "processes per run", false, base, neu,
                                get(m.base_keys, &ProcessFigures::count),
                                get(m.new_keys, &ProcessFigures::count));
    Figure time = PerRunFigure(FigureGroup::kProcess, what, "exec->exit per run", true, base, neu,
                               get(m.base_keys, &ProcessFigures::exec_to_exit_ns),
                               get(m.new_keys, &ProcessFigures::exec_to_exit_ns));
    Figure own = PerRunFigure(FigureGroup::kProcess, what, "outside children per run", true, base,
                              neu, get(m.base_keys, &ProcessFigures::own_ns),
                              get(m.new_keys, &ProcessFigures::own_ns));
    Figure cpu = PerRunFigure(FigureGroup::kProcess, what, "CPU per run", true, base, neu,
                              get(m.base_keys, &ProcessFigures::cpu_ns),
                              get(m.new_keys, &ProcessFigures::cpu_ns));
    const double delta = count.neu - count.base;
    if (std::fabs(delta) >= 0.5) {
      std::string name;
      const auto& keys = delta > 0 ? m.new_keys : m.base_keys;
      for (const RunFigures& r : (delta > 0 ? neu : base).runs)
        for (const auto& k : keys)
          if (const ProcessFigures* p = Find(r.processes, k)) name = p->name;
      (*counts)[name] += delta;
      c->process_delta += delta;
      c->process_time_ns += own.neu - own.base;
    }
    c->figures.push_back(std::move(count));
    c->figures.push_back(std::move(time));
    c->figures.push_back(std::move(own));
    c->figures.push_back(std::move(cpu));
  }
}

std::string In(const NamePair& k) { return k.second + " in " + k.first; }

}  // namespace

const char* GroupName(FigureGroup g) {
  switch (g) {
    case FigureGroup::kCommand:
      return "command";
    case FigureGroup::kProcess:
      return "process";
    case FigureGroup::kSyscall:
      return "syscall";
    case FigureGroup::kWait:
      return "wait";
    case FigureGroup::kSched:
      return "scheduler";
    case FigureGroup::kWakeup:
      return "wakeups";
    case FigureGroup::kShim:
      return "shim";
    case FigureGroup::kSpan:
      return "span";
  }
  return "?";
}

double Figure::ratio() const {
  if (base == 0) return neu == 0 ? 1.0 : std::numeric_limits<double>::infinity();
  return neu / base;
}

bool Figure::SlowerBy(double pct) const {
  return is_time && significant() && neu > base && ratio() > 1.0 + pct / 100.0;
}

const Figure* CommandFigure(const Comparison& c) {
  for (const Figure& f : c.figures)
    if (f.group == FigureGroup::kCommand) return &f;
  return nullptr;
}

Comparison Compare(const Side& base, const Side& neu) {
  Comparison c;
  c.base_runs = base.runs.size();
  c.new_runs = neu.runs.size();
  c.base_sampled = base.sampled;
  c.new_sampled = neu.sampled;
  for (const RunFigures& r : base.runs) c.base_failed += !r.succeeded;
  for (const RunFigures& r : neu.runs) c.new_failed += !r.succeeded;
  auto& figs = c.figures;
  auto command = [](const RunFigures& r) { return double(r.command_ns); };
  // A --pid or --all recording has no command time: compared only when every
  // run on both sides has one.
  auto timed = [](const Side& s) {
    return std::all_of(s.runs.begin(), s.runs.end(), [](const RunFigures& r) { return r.timed; });
  };
  if (timed(base) && timed(neu))
    figs.push_back(PerRunFigure(FigureGroup::kCommand, "command", "time per run", true, base, neu,
                                command, command));
  std::map<std::string, double> counts;
  AddProcessFigures(base, neu, &c, &counts);
  // "bash x4, pyenv, head": the most first.
  std::vector<std::pair<double, std::string>> by_count;
  for (const auto& [name, n] : counts)
    if (std::lround(std::fabs(n)) > 0) by_count.emplace_back(-std::fabs(n), name);
  std::sort(by_count.begin(), by_count.end());
  for (const auto& [n, name] : by_count) {
    const long times = std::lround(-n);
    c.process_names.push_back(times > 1 ? name + " x" + std::to_string(times) : name);
  }

  for (const NamePair& k : KeysOf(base, neu, &RunFigures::syscalls)) {
    auto calls = [k](const RunFigures& r) { return Find(r.syscalls, k); };
    auto count = [calls](const RunFigures& r) {
      const CallFigures* cf = calls(r);
      return cf ? double(cf->histogram.count()) : 0.0;
    };
    auto sum = [calls](const RunFigures& r) {
      const CallFigures* cf = calls(r);
      return cf ? double(cf->histogram.sum_ns()) : 0.0;
    };
    figs.push_back(
        PerRunFigure(FigureGroup::kSyscall, In(k), "time per run", true, base, neu, sum, sum));
    figs.push_back(PerRunFigure(FigureGroup::kSyscall, In(k), "calls per run", false, base, neu,
                                count, count));
    AddQuantiles(
        FigureGroup::kSyscall, In(k), base, neu,
        [calls](const RunFigures& r) {
          const CallFigures* cf = calls(r);
          return cf ? &cf->histogram : nullptr;
        },
        calls, &figs);
  }
  for (const NamePair& k : KeysOf(base, neu, &RunFigures::waits)) {
    const std::pair<const char*, uint64_t WaitFigures::*> parts[] = {
        {"blocked per run", &WaitFigures::blocked_ns},
        {"run queue per run", &WaitFigures::run_queue_ns},
        {"to block per run", &WaitFigures::to_block_ns},
        {"return per run", &WaitFigures::return_ns}};
    for (const auto& [measure, field] : parts) {
      auto get = [k, field](const RunFigures& r) {
        const WaitFigures* w = Find(r.waits, k);
        return w ? double(w->*field) : 0.0;
      };
      figs.push_back(PerRunFigure(FigureGroup::kWait, In(k), measure, true, base, neu, get, get));
    }
  }
  for (auto member : {&RunFigures::run_queue, &RunFigures::off_cpu}) {
    const bool rq = member == &RunFigures::run_queue;
    for (const std::string& name : KeysOf(base, neu, member)) {
      auto hist = [name, member](const RunFigures& r) { return Find(r.*member, name); };
      auto sum = [hist](const RunFigures& r) {
        const v1::SyscallHistogram* h = hist(r);
        return h ? double(h->sum_ns()) : 0.0;
      };
      const std::string what = (rq ? "run-queue delay of " : "off-CPU time of ") + name;
      figs.push_back(
          PerRunFigure(FigureGroup::kSched, what, "total per run", true, base, neu, sum, sum));
      AddQuantiles(FigureGroup::kSched, what, base, neu, hist, nullptr, &figs);
    }
  }
  for (const NamePair& k : KeysOf(base, neu, &RunFigures::wakeups)) {
    auto get = [k](const RunFigures& r) {
      const uint64_t* n = Find(r.wakeups, k);
      return n ? double(*n) : 0.0;
    };
    figs.push_back(PerRunFigure(FigureGroup::kWakeup, k.first + " woken by " + k.second,
                                "wakeups per run", false, base, neu, get, get));
  }
  for (const NamePair& k : KeysOf(base, neu, &RunFigures::shim_overhead)) {
    auto mean = [k](const RunFigures& r) {
      const CountSum* s = Find(r.shim_overhead, k);
      return s && s->count ? double(s->sum_ns) / double(s->count) : 0.0;
    };
    figs.push_back(PerRunFigure(FigureGroup::kShim, In(k), "shim overhead per call", true, base,
                                neu, mean, mean));
  }
  for (const NamePair& k : KeysOf(base, neu, &RunFigures::spans)) {
    auto sum = [k](const RunFigures& r) {
      const CountSum* s = Find(r.spans, k);
      return s ? double(s->sum_ns) : 0.0;
    };
    auto count = [k](const RunFigures& r) {
      const CountSum* s = Find(r.spans, k);
      return s ? double(s->count) : 0.0;
    };
    figs.push_back(PerRunFigure(FigureGroup::kSpan, "span " + In(k), "time per run", true, base,
                                neu, sum, sum));
    figs.push_back(PerRunFigure(FigureGroup::kSpan, "span " + In(k), "spans per run", false, base,
                                neu, count, count));
  }
  // Many figures are tested at once: p is adjusted over all of them, so
  // that an A/A comparison is flagged at most kAlpha of the time in all,
  // not kAlpha per figure. A figure the same constant on both sides (a
  // process once per run on each) has nothing to test and is left out.
  std::vector<double> raw;
  std::vector<Figure*> tested;
  for (Figure& f : figs) {
    f.raw_p = f.p;
    if (f.base == f.neu && f.base_sd == 0 && f.new_sd == 0) continue;
    raw.push_back(f.p);
    tested.push_back(&f);
  }
  const std::vector<double> adjusted = HolmAdjust(raw);
  for (size_t i = 0; i < tested.size(); ++i) tested[i]->p = adjusted[i];
  c.tested = tested.size();
  // Regressions first (significant and slower), then significant changes,
  // then the rest; by impact inside each.
  auto rank = [](const Figure& f) {
    if (f.significant() && f.neu > f.base) return 0;
    return f.significant() ? 1 : 2;
  };
  std::stable_sort(figs.begin(), figs.end(), [&](const Figure& a, const Figure& b) {
    if (rank(a) != rank(b)) return rank(a) < rank(b);
    if (a.is_time != b.is_time) return a.is_time;
    return a.impact_ns > b.impact_ns;
  });
  return c;
}

}  // namespace probe
