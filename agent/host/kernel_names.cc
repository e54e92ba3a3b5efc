#include "kernel_names.h"

#include <fstream>
#include <sstream>

#include "record_kind.h"

namespace probe {

namespace {

// "  27:   12   34   PCI-MSI 49152-edge   virtio0-input.0" -> {27: "virtio0-input.0"}:
// the last word of each numbered line is the handler (action) name.
void ReadInterrupts(std::unordered_map<int, std::string>* out) {
  std::ifstream f("/proc/interrupts");
  std::string line;
  while (std::getline(f, line)) {
    std::istringstream words(line);
    std::string first;
    if (!(words >> first) || first.empty() || first.back() != ':') continue;
    char* end = nullptr;
    long irq = strtol(first.c_str(), &end, 10);
    if (end != first.c_str() + first.size() - 1) continue;  // NMI:, LOC:, ...
    std::string w, last;
    while (words >> w) last = w;
    (*out)[int(irq)] = last.substr(0, 64);
  }
}

}  // namespace

const std::string& KernelNames::Irq(int irq) {
  auto it = irqs_.find(irq);
  if (it == irqs_.end() && irq_reads_ < kMaxReads) {
    irq_reads_++;
    ReadInterrupts(&irqs_);
    it = irqs_.find(irq);
  }
  if (it == irqs_.end()) it = irqs_.emplace(irq, "").first;  // not asked again
  return it->second;
}

// One scan of /proc/kallsyms per new address (few: timer functions). Without
// CAP_SYSLOG the file shows zero addresses and the name stays empty: the
// record keeps the address.
const std::string& KernelNames::Function(uint64_t addr) {
  auto it = functions_.find(addr);
  if (it != functions_.end()) return it->second;
  std::string name;
  if (addr != 0 && kallsyms_reads_ < kMaxReads) {
    kallsyms_reads_++;
    std::ifstream f("/proc/kallsyms");
    std::string line;
    while (std::getline(f, line)) {
      if (strtoull(line.c_str(), nullptr, 16) != addr) continue;
      std::istringstream words(line);
      std::string a, type;
      words >> a >> type >> name;
      break;
    }
  }
  return functions_.emplace(addr, name.substr(0, 128)).first->second;
}

void KernelNames::Fill(v1::Waker* w) {
  if (w->context() == v1::WAKER_CONTEXT_HARDIRQ) w->set_irq_name(Irq(w->irq()));
  // A wait's own timeout is an hrtimer_sleeper: the kernel side only says so
  // when its function is hrtimer_wakeup, which it looked up itself.
  if (w->context() == v1::WAKER_CONTEXT_OWN_TIMEOUT) w->set_timer_function_name("hrtimer_wakeup");
  if (w->context() == v1::WAKER_CONTEXT_TIMER)
    w->set_timer_function_name(Function(w->timer_function()));
}

void KernelNames::Annotate(v1::Record* r) {
  if (v1::Waker* w = MutableWakerOf(r)) Fill(w);
}

}  // namespace probe
