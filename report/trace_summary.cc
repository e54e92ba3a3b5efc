#include "trace_summary.h"

#include <algorithm>

#include "record_visitor.h"
#include "text_escape.h"

namespace probe {

namespace {

// Wakers named only by an earlier ThreadName record get their names back,
// so the tables see what older files carried inline.
v1::Waker Named(const v1::Waker& w, const NameTable& names) {
  v1::Waker out = w;
  if (out.comm().empty()) out.set_comm(TerminalText(names.WakerComm(w)));
  return out;
}

class SummaryBuilder : public RecordVisitor {
 public:
  explicit SummaryBuilder(TraceSummary* s) : s_(s) {}

  void OnHeader(const v1::Header& h) override {
    s_->has_header = true;
    s_->header = h;
    s_->repeats.OnHeader(h);
    SeeTime(h.start_time_ns());
  }
  void OnTrailer(const v1::Trailer& t) override {
    s_->has_trailer = true;
    s_->trailer = t;
    s_->shim.AddShimProcesses(t.shim());
    SeeTime(t.time_ns());
  }
  void OnStats(const v1::Stats& st) override {
    s_->has_stats = true;
    s_->last_stats = st;
    s_->shim.AddShimProcesses(st.shim());
    SeeTime(st.time_ns());
  }
  void OnSnapshot(const v1::ProcessSnapshot& p) override { s_->snapshots.push_back(p); }
  void OnProcess(const v1::ProcessLifetime& p) override {
    s_->processes.push_back(p);
    s_->repeats.OnProcess(p);
    SeeTime(p.exit_time_ns());
    SeeTime(p.exec_time_ns());
  }
  void OnSyscall(const v1::SyscallCall& c) override {
    SeeTime(c.start_time_ns() + c.duration_ns());
    s_->threads.OnSyscall(c);
    if (c.has_breakdown() && c.breakdown().waker().tid() != 0 &&
        c.breakdown().waker().comm().empty()) {
      v1::SyscallCall named = c;
      *named.mutable_breakdown()->mutable_waker() = Named(c.breakdown().waker(), s_->names);
      return AddCall(named);
    }
    AddCall(c);
  }
  void OnSyscallHistogram(const v1::SyscallHistogram& h) override {
    s_->syscalls.AddHistogram(h);
    SeeTime(h.time_ns());
  }
  void OnWakeup(const v1::Wakeup& w) override {
    s_->threads.OnWakeup(w);
    if (w.waker().tid() != 0 && w.waker().comm().empty()) {
      v1::Wakeup named = w;
      *named.mutable_waker() = Named(w.waker(), s_->names);
      return s_->sched.AddWakeup(named);
    }
    s_->sched.AddWakeup(w);
  }
  void OnSchedHistogram(const v1::SchedHistogram& h) override {
    s_->sched.AddHistogram(h);
    SeeTime(h.time_ns());
  }
  void OnShimCall(const v1::ShimCall& c) override {
    s_->threads.OnShimCall(c);
    s_->shim.AddShimCall(c);
  }
  void OnMarker(const v1::Marker& m) override {
    s_->threads.OnMarker(m);
    s_->shim.AddMarker(m);
  }
  void OnRepeatRun(const v1::RepeatRun& r) override {
    s_->repeats.OnRepeatRun(r);
    SeeTime(r.end_time_ns());
  }
  void OnUnknown(const v1::Record&) override { s_->unknown_records++; }

 private:
  void AddCall(const v1::SyscallCall& c) {
    s_->syscalls.AddCall(c);
    s_->waits.Add(c);
    s_->shim.AddKernelCall(c);
  }
  void SeeTime(uint64_t t) { s_->last_time_ns = std::max(s_->last_time_ns, t); }

  TraceSummary* s_;
};

}  // namespace

void AddRecord(const v1::Record& r, TraceSummary* s) {
  ++s->records;
  // The names keep the raw bytes (the CSV and Chrome outputs escape them
  // their own way); the tables are printed to a terminal, so names and
  // arguments go into them escaped (text_escape.h) and no table can print
  // them raw.
  Visit(r, s->names);
  SummaryBuilder b(s);
  if (NeedsTerminalEscaping(r)) {
    v1::Record safe = r;
    MakeTerminalSafe(&safe);
    return Visit(safe, b);
  }
  Visit(r, b);
}

SyscallReportContext TraceSummary::Context() const {
  SyscallReportContext ctx;
  ctx.names = &names;
  ctx.start_time_ns = header.start_time_ns();
  ctx.min_latency_ns = header.min_latency_ns();
  return ctx;
}

}  // namespace probe
