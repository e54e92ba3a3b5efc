#include "accounting.h"

#include <cstring>

namespace probe {

using counters::Class;
using counters::kCounters;

uint64_t KernelCounters::Total(counters::Reason reason) const {
  uint64_t n = 0;
  for (const auto& kind : value) n += kind[reason];
  return n;
}

uint64_t KernelCounters::Lost() const {
  uint64_t n = 0;
  for (const KernelCounter& c : kKernelCounters)
    if (c.in_record && kCounters[c.reason].cls == Class::kLost) n += value[c.kind][c.reason];
  return n;
}

KernelCounters ReadKernelCounters(const std::function<std::vector<uint64_t>(uint32_t)>& read) {
  KernelCounters k;
  for (const KernelCounter& c : kKernelCounters) {
    std::vector<uint64_t> per_cpu = read(c.index);
    uint64_t total = 0;
    for (uint64_t v : per_cpu) total += v;
    // Several kernel counters may make up one count (+=); the per-CPU split
    // is kept for the ring, which has one.
    k.value[c.kind][c.reason] += total;
    if (c.reason == counters::kLostRingFull) k.ring_full_cpu[c.kind] = std::move(per_cpu);
  }
  return k;
}

uint64_t AgentCounters::LostDecode() const {
  uint64_t n = 0;
  for (const auto& k : kind) n += k.lost_decode;
  return n;
}

uint64_t AgentCounters::LostWrite() const {
  uint64_t n = 0;
  for (const auto& k : kind) n += k.lost_write;
  return n;
}

uint64_t AgentCounters::Lost() const { return LostDecode() + LostWrite(); }

uint64_t AgentCounters::TotalWritten() const {
  uint64_t n = histograms_written;
  for (const auto& k : kind) n += k.written;
  return n;
}

void AgentCounters::Appended(v1::EventKind k, bool ok) {
  if (ok)
    kind[k].pending++;
  else
    kind[k].lost_write++;
}

void AgentCounters::Settle(bool write_failed, uint64_t bytes_buffered) {
  if (!write_failed && bytes_buffered > 0) return;
  for (auto& k : kind) {
    (write_failed ? k.lost_write : k.written) += k.pending;
    k.pending = 0;
  }
}

v1::EventKind KindOfEventType(const void* data, size_t size) {
  uint16_t type = 0;
  if (size >= sizeof(type)) memcpy(&type, data, sizeof(type));
  if (type == PROBE_EV_SYSCALL || type == PROBE_EV_SYSCALL_WAIT) return v1::EVENT_KIND_SYSCALL;
  if (type == PROBE_EV_WAKEUP) return v1::EVENT_KIND_WAKEUP;
  return v1::EVENT_KIND_PROCESS;
}

void FillCounters(const std::vector<v1::EventKind>& kinds, const KernelCounters& kernel,
                  const AgentCounters& agent,
                  google::protobuf::RepeatedPtrField<v1::KindCounters>* out) {
  for (v1::EventKind kind : kinds) {
    const KindTally& t = agent.kind[kind];
    auto* c = out->Add();
    c->set_kind(kind);
    c->set_written(t.written);
    c->set_lost_decode(t.lost_decode);
    c->set_lost_write(t.lost_write);
    for (const KernelCounter& k : kKernelCounters)
      if (k.kind == kind && k.in_record) counters::Set(c, k.reason, kernel.at(kind, k.reason));
    c->set_produced(c->produced() + t.agent_produced);
    c->set_sampled_out(counters::SampledReasons(*c));
    const std::vector<uint64_t>& per_cpu = kernel.ring_full_cpu[kind];
    for (size_t cpu = 0; cpu < per_cpu.size(); ++cpu) {
      if (per_cpu[cpu] == 0) continue;
      auto* l = c->add_cpu_losses();
      l->set_cpu(uint32_t(cpu));
      l->set_lost_ring_full(per_cpu[cpu]);
    }
  }
}

bool HistogramLedger::Changed(uint64_t id, uint64_t count) const {
  auto it = written_.find(id);
  return count != (it == written_.end() ? 0 : it->second);
}

bool HistogramLedger::Visit(uint64_t id, uint64_t count, bool written, bool exited,
                            const std::function<bool()>& may_run) {
  uint64_t& seen = written_[id];
  const bool unchanged = count == seen;
  bool in_file = unchanged;
  if (!unchanged && written) {
    seen = count;
    in_file = true;
  }
  bool final = false;
  if (may_run()) {
    // Still running (or exiting): not final.
  } else if (exited && in_file) {
    final = true;
  } else {
    if (gone_.count(id) && unchanged)
      final = true;
    else
      gone_now_.insert(id);
  }
  if (final) written_.erase(id);
  return final;
}

void HistogramLedger::EndPass() {
  gone_ = std::move(gone_now_);
  gone_now_.clear();
}

}  // namespace probe
