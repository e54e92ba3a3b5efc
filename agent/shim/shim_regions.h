// Finds, maps and drains the shim regions of targeted processes: the thin,
// kernel-facing side of ShimConsumer. A region arrives over the agent's unix
// socket when a process started under --preload creates it (so even a
// process that lives 1 ms is drained, after its death), or is found in
// /proc/PID/maps of a target that loaded the shim by hand. Regions are
// sealed memfds: checked for the seals before mapping, so a writer cannot
// shrink them under the agent.
#pragma once
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "shim_consumer.h"
#include "unique_fd.h"

namespace probe {

class ShimRegions {
 public:
  // Listens on an abstract unix socket; nullptr with *error on failure.
  static std::unique_ptr<ShimRegions> Create(std::string* error);
  ~ShimRegions();  // where Region is complete
  ShimRegions(const ShimRegions&) = delete;
  ShimRegions& operator=(const ShimRegions&) = delete;

  // For PROBE_AGENT_SOCKET ("@probe-agent-PID": abstract, no file).
  const std::string& socket_name() const { return socket_name_; }

  // Takes the regions processes sent; keeps only those of targets.
  void Accept(const std::function<bool(int)>& is_target);
  // At stop: regions still waiting to be known as a target's are refused.
  void RefuseDeferred();
  // Looks for regions not yet held in the maps of these processes.
  void Discover(const std::vector<int>& pids);
  // Drains every region. With reap, regions whose process is gone get a last
  // drain and are released (their counters are kept for the trailer).
  void Drain(const TscClock& clock, const ShimConsumer::Sink& sink, bool reap,
             const ShimConsumer::RateCheck& rate = ShimConsumer::RateCheck());

  // Per-process counters: live regions, and finished ones (all of them, or
  // only those finished since the last call).
  void FillProcesses(google::protobuf::RepeatedPtrField<v1::ShimProcess>* out, bool all_finished);
  // Sum over every region ever held, plus regions refused.
  void FillCounters(v1::KindCounters* c) const;
  size_t live() const { return regions_.size(); }
  uint64_t refused() const { return refused_; }
  const std::string& last_refusal() const { return last_refusal_; }

 private:
  struct Region;
  ShimRegions(UniqueFd fd, std::string name);
  // count_foreign: also count a region that belongs to another pid as
  // refused (from the socket; in maps it is a parent's). own_pid: the pid it
  // has in its own pid namespace (0: unknown, pid). not_before_ns: a time no
  // event in it can precede, besides the process's start.
  void Adopt(UniqueFd fd, int pid, int own_pid, bool count_foreign, uint64_t not_before_ns);
  void Refuse(const std::string& why, int pid);
  struct Deferred;
  void Consider(Deferred d, const std::function<bool(int)>& is_target);

  UniqueFd listen_fd_;
  std::string socket_name_;
  // A region sent over the socket was made after the socket existed (the
  // shim sends it as it makes it), and its events after that.
  uint64_t created_ns_ = 0;
  std::vector<UniqueFd> pending_;  // accepted connections whose message has not arrived
  // Regions from processes not (or no longer) in the target map: a target
  // that exited is known once its exit record is read from the ring.
  struct Deferred {
    UniqueFd fd;
    int pid, tries;
    int own_pid;  // read when the region arrived, while the sender still existed
  };

  std::vector<Deferred> deferred_;
  std::map<uint64_t, std::unique_ptr<Region>> regions_;  // by memfd inode
  std::set<uint64_t> seen_inodes_;
  std::vector<v1::ShimProcess> finished_;
  size_t finished_reported_ = 0;
  ShimTally finished_total_;
  uint64_t refused_ = 0;
  std::string last_refusal_;
};

}  // namespace probe
