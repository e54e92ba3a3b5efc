// --rotate: what each file of a run holds of the run's cumulative counts.
// The kernel's counters and histograms and the agent's tallies run from the
// start of the run; a rotated file holds its own period's only, so that a
// count summed over the files of a run is the run's. Pure: unit-tested
// without a kernel.
#pragma once
#include <map>

#include "probe.pb.h"

namespace probe {

using KindCountersList = google::protobuf::RepeatedPtrField<v1::KindCounters>;

class CounterCut {
 public:
  // The open file's counters so far: every count of cumulative minus the
  // cut (cpu_losses per CPU), produced included (events still in the rings
  // make it more than written + sampled out + lost, as in any Stats record).
  void Period(const KindCountersList& cumulative, KindCountersList* out) const;
  // At a seam, everything drained and flushed: the closing file's counters,
  // its produced being what it accounts for (written + sampled_out + lost),
  // so that they balance; events the kernel counted that are still in the
  // rings are produced in the next file, where they are written. Moves the
  // cut. The last file of a run uses Period: the run's own identity holds.
  void Seam(const KindCountersList& cumulative, KindCountersList* out);

 private:
  std::map<int, v1::KindCounters> cut_;  // by kind
};

// A histogram's counts since cut, both cumulative for one key: count, sum,
// timeouts, errors and buckets exactly; min and max exactly when the period
// set a new extreme, else the period's bucket bound capped by the run's
// extreme (so the min and max over a run's files are the run's).
void SubtractHistogram(const v1::SyscallHistogram& cut, v1::SyscallHistogram* h);
void SubtractHistogram(const v1::SchedHistogram& cut, v1::SchedHistogram* h);

}  // namespace probe
