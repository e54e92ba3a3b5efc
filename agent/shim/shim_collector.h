// The agent's side of the LD_PRELOAD shim during a run: the environment that
// puts the shim into a launched command, and the periodic accept / discover /
// drain of the targets' regions into the record file.
#pragma once
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "options.h"
#include "shim_regions.h"
#include "tsc_clock.h"

namespace probe {

// The shim --preload uses: --preload-library, else the one built or installed
// beside probe-agent. "" with *error when there is none.
std::string FindShimLibrary(const Options& o, std::string* error);

// NAME=value entries for the launched command: LD_PRELOAD with the shim
// first, where to send its region, and no PROBE_OUTPUT (the agent writes).
std::vector<std::string> ShimEnvironment(const std::string& library,
                                         const std::string& socket_name);

class ShimCollector {
 public:
  using IsTarget = std::function<bool(int)>;
  // Takes the first clock point now, so the first drain has a segment.
  ShimCollector(std::unique_ptr<ShimRegions> regions, bool system_wide)
      : regions_(std::move(regions)), system_wide_(system_wide) {
    clock_.Sample();
  }

  const std::string& socket_name() const { return regions_->socket_name(); }
  // --max-rate: shim records take tokens from the kernel's bucket too.
  void SetRateCheck(ShimConsumer::RateCheck rate) { rate_ = std::move(rate); }
  // A target's exit (from its ProcessLifetime record): a region sent by it
  // after it exited is still accepted.
  void NoteExited(int pid);
  // One pass; slow work (maps scans, reaping) only when full is set.
  void Tick(const IsTarget& is_target, const std::vector<int>& targets, bool full,
            const ShimConsumer::Sink& sink);
  // Last pass at stop: every region drained to its end.
  void Finish(const IsTarget& is_target, const std::vector<int>& targets,
              const ShimConsumer::Sink& sink);
  bool active() const { return regions_->live() > 0; }
  bool used() const { return used_; }
  void FillStats(v1::Stats* s);
  void FillTrailer(v1::Trailer* t);
  // A one-line warning when shim events were lost or refused, else "".
  std::string Warning() const;
  uint64_t written() const;

 private:
  bool Accepts(const IsTarget& is_target, int pid) const;

  std::unique_ptr<ShimRegions> regions_;
  bool system_wide_;
  bool used_ = false;
  TscClock clock_;
  ShimConsumer::RateCheck rate_;
  std::set<int> exited_;
  std::deque<int> exited_order_;
};

}  // namespace probe
