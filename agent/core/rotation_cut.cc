#include "rotation_cut.h"

#include <algorithm>
#include <type_traits>

#include "counter_table.h"

namespace probe {

namespace {

uint64_t Minus(uint64_t a, uint64_t b) { return a > b ? a - b : 0; }

// The last bucket is open-ended: its top is the run's max.
constexpr int kLastBucket = 47;

template <typename H>
void Subtract(const H& cut, H* h) {
  const uint64_t run_min = h->min_ns(), run_max = h->max_ns();
  h->set_count(Minus(h->count(), cut.count()));
  h->set_sum_ns(Minus(h->sum_ns(), cut.sum_ns()));
  if constexpr (std::is_same_v<H, v1::SyscallHistogram>) {
    h->set_timeouts(Minus(h->timeouts(), cut.timeouts()));
    h->set_errors(Minus(h->errors(), cut.errors()));
  }
  int lowest = -1, highest = -1;
  for (int i = 0; i < h->log2_buckets_size(); ++i) {
    const uint64_t before = i < cut.log2_buckets_size() ? cut.log2_buckets(i) : 0;
    h->set_log2_buckets(i, Minus(h->log2_buckets(i), before));
    if (h->log2_buckets(i) == 0) continue;
    if (lowest < 0) lowest = i;
    highest = i;
  }
  while (h->log2_buckets_size() > 0 && h->log2_buckets(h->log2_buckets_size() - 1) == 0)
    h->mutable_log2_buckets()->RemoveLast();
  if (h->count() == 0 || lowest < 0) {
    h->set_min_ns(0);
    h->set_max_ns(0);
    return;
  }
  // A new extreme was set in this period: it is the period's. Otherwise the
  // period's lies in its lowest (highest) bucket, and not past the run's.
  if (cut.count() > 0 && run_min >= cut.min_ns()) {
    const uint64_t bottom = lowest == 0 ? 0 : uint64_t(1) << lowest;
    h->set_min_ns(std::max(bottom, run_min));
  }
  if (cut.count() > 0 && run_max <= cut.max_ns()) {
    const uint64_t top = highest >= kLastBucket ? run_max : (uint64_t(2) << highest) - 1;
    h->set_max_ns(std::min(top, run_max));
  }
}

}  // namespace

void CounterCut::Period(const KindCountersList& cumulative, KindCountersList* out) const {
  for (const v1::KindCounters& now : cumulative) {
    auto it = cut_.find(now.kind());
    const v1::KindCounters& before =
        it == cut_.end() ? v1::KindCounters::default_instance() : it->second;
    v1::KindCounters* c = out->Add();
    c->set_kind(now.kind());
    for (int r = 0; r < counters::kReasons; ++r) {
      const auto reason = counters::Reason(r);
      counters::Set(c, reason, Minus(counters::Get(now, reason), counters::Get(before, reason)));
    }
    std::map<uint32_t, uint64_t> lost_before;
    for (const auto& l : before.cpu_losses()) lost_before[l.cpu()] = l.lost_ring_full();
    for (const auto& l : now.cpu_losses()) {
      const uint64_t lost = Minus(l.lost_ring_full(), lost_before[l.cpu()]);
      if (lost == 0) continue;
      auto* d = c->add_cpu_losses();
      d->set_cpu(l.cpu());
      d->set_lost_ring_full(lost);
    }
  }
}

void CounterCut::Seam(const KindCountersList& cumulative, KindCountersList* out) {
  const int first = out->size();
  Period(cumulative, out);
  for (int i = first; i < out->size(); ++i) {
    v1::KindCounters* c = out->Mutable(i);
    c->set_produced(c->written() + c->sampled_out() + counters::Lost(*c));
    v1::KindCounters& cut = cut_[c->kind()];
    const uint64_t produced = cut.produced() + c->produced();
    cut = cumulative.Get(i - first);
    cut.set_produced(produced);
  }
}

void SubtractHistogram(const v1::SyscallHistogram& cut, v1::SyscallHistogram* h) {
  Subtract(cut, h);
}
void SubtractHistogram(const v1::SchedHistogram& cut, v1::SchedHistogram* h) { Subtract(cut, h); }

}  // namespace probe
