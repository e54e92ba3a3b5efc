#include "shim_regions.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "proc_scan.h"

namespace probe {

namespace {

constexpr size_t kMaxRegions = 4096;
constexpr size_t kMaxPending = 256;
constexpr size_t kMaxFinished = 100000;

void Add(ShimTally* to, const ShimTally& t) {
  to->produced += t.produced;
  to->written += t.written;
  to->lost_write += t.lost_write;
  to->sampled_out += t.sampled_out;
  to->sampled_one_in_n += t.sampled_one_in_n;
  to->sampled_min_latency += t.sampled_min_latency;
  to->sampled_first_k += t.sampled_first_k;
  to->sampled_rate += t.sampled_rate;
  to->lost_buffer_full += t.lost_buffer_full;
  to->lost_no_buffer += t.lost_no_buffer;
  to->rejected += t.rejected;
}

// The memfd passed in SCM_RIGHTS, or none.
UniqueFd ReceiveFd(int conn, bool* closed) {
  char byte;
  iovec iov{&byte, 1};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))];
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof(control);
  ssize_t n = recvmsg(conn, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
  *closed = n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK);
  if (n <= 0) return UniqueFd();
  *closed = true;  // one message per connection
  UniqueFd fd;
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
    size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (size_t i = 0; i < count; ++i) {
      int got;
      memcpy(&got, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
      UniqueFd received(got);
      if (!fd) fd = std::move(received);  // more than one: keep the first
    }
  }
  return fd;
}

int PeerPid(int conn) {
  ucred cred{};
  socklen_t len = sizeof(cred);
  return getsockopt(conn, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0 ? cred.pid : -1;
}

uint64_t StartTicks(int pid) {
  ProcStat st;
  return ReadProcStat(pid, &st) ? st.start_ticks : 0;
}

// Unmaps a region's mapping.
struct Unmap {
  size_t bytes = 0;
  void operator()(uint8_t* p) const { munmap(p, bytes); }
};

}  // namespace

struct ShimRegions::Region {
  std::unique_ptr<uint8_t, Unmap> mapping;
  int pid = 0;
  uint64_t start_ticks = 0;  // tells a reused pid from the region's process
  // Declared after the mapping it reads: destroyed before it is unmapped.
  std::unique_ptr<ShimConsumer> consumer;
};

std::unique_ptr<ShimRegions> ShimRegions::Create(std::string* error) {
  UniqueFd fd(socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd) {
    *error = std::string("shim socket: ") + strerror(errno);
    return nullptr;
  }
  std::string name = "@probe-agent-" + std::to_string(getpid());
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  memcpy(addr.sun_path + 1, name.data() + 1, name.size() - 1);
  socklen_t len = offsetof(sockaddr_un, sun_path) + name.size();
  if (bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), len) != 0 || listen(fd.get(), 128) != 0) {
    *error = "shim socket " + name + ": " + strerror(errno);
    return nullptr;
  }
  return std::unique_ptr<ShimRegions>(new ShimRegions(std::move(fd), name));
}

ShimRegions::ShimRegions(UniqueFd fd, std::string name)
    : listen_fd_(std::move(fd)), socket_name_(std::move(name)), created_ns_(MonotonicNs()) {}

ShimRegions::~ShimRegions() = default;

void ShimRegions::Refuse(const std::string& why, int pid) {
  ++refused_;
  last_refusal_ = "pid " + std::to_string(pid) + ": " + why;
}

void ShimRegions::Adopt(UniqueFd fd, int pid, int own_pid, bool count_foreign,
                        uint64_t not_before_ns) {
  struct stat st {};
  int seals = fcntl(fd.get(), F_GET_SEALS);
  std::string why;
  if (fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode))
    why = "not a regular file";
  else if (seen_inodes_.count(st.st_ino))
    why = "";  // already held (sent and also found in maps)
  else if (seals < 0 || !(seals & F_SEAL_SHRINK))
    why = "region not sealed against shrinking";
  else if (st.st_size <= 0 || uint64_t(st.st_size) > PROBE_SHM_MAX_BYTES)
    why = "region size out of bounds";
  else if (regions_.size() >= kMaxRegions)
    why = "too many regions";
  if (!why.empty() || seen_inodes_.count(st.st_ino)) {
    if (!why.empty()) Refuse(why, pid);
    return;
  }
  auto r = std::make_unique<Region>();
  const size_t size = size_t(st.st_size);
  void* p = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd.get(), 0);
  fd.reset();  // the mapping holds the memfd
  if (p == MAP_FAILED) {
    Refuse(std::string("mmap: ") + strerror(errno), pid);
    return;
  }
  r->mapping = std::unique_ptr<uint8_t, Unmap>(static_cast<uint8_t*>(p), Unmap{size});
  r->pid = pid;
  r->start_ticks = StartTicks(pid);
  std::string error;
  r->consumer = ShimConsumer::Attach(r->mapping.get(), size, pid, &error, own_pid);
  if (!r->consumer) {
    // A child's inherited copy of its parent's region is not a refusal.
    if (count_foreign || error.rfind("region belongs to pid", 0) != 0) Refuse(error, pid);
    return;
  }
  if (r->consumer->self_drained()) return;  // PROBE_OUTPUT: the shim writes its own file
  // Its events are the process's own: none predates its start (read while
  // it lives; a process already gone has only not_before_ns).
  const uint64_t started = r->start_ticks ? StartTicksToMonotonicNs(r->start_ticks) : 0;
  r->consumer->SetNotBefore(std::max(started, not_before_ns));
  seen_inodes_.insert(st.st_ino);
  regions_[st.st_ino] = std::move(r);
}

void ShimRegions::Consider(Deferred d, const std::function<bool(int)>& is_target) {
  constexpr int kTries = 50;  // ticks, ~0.5 s
  if (d.pid > 0 && is_target(d.pid)) {
    Adopt(std::move(d.fd), d.pid, d.own_pid, true, created_ns_);
  } else if (d.pid > 0 && d.tries < kTries && deferred_.size() < kMaxPending) {
    // Maybe a target that exited (a zombie, out of the target map) before
    // its exit record was read: decided again at the next tick.
    deferred_.push_back({std::move(d.fd), d.pid, d.tries + 1, d.own_pid});
  } else {
    Refuse("not a target", d.pid);
  }
}

void ShimRegions::RefuseDeferred() {
  for (const auto& d : deferred_) Refuse("not a target", d.pid);
  deferred_.clear();
}

void ShimRegions::Accept(const std::function<bool(int)>& is_target) {
  for (;;) {
    UniqueFd c(accept4(listen_fd_.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC));
    if (!c) break;
    if (pending_.size() >= kMaxPending) {
      Refuse("too many pending connections", PeerPid(c.get()));
      continue;
    }
    pending_.push_back(std::move(c));
  }
  std::vector<Deferred> retry;
  retry.swap(deferred_);
  for (auto& d : retry) Consider(std::move(d), is_target);
  std::vector<UniqueFd> still;
  for (UniqueFd& c : pending_) {
    bool closed = false;
    UniqueFd fd = ReceiveFd(c.get(), &closed);
    if (fd) {
      // The kernel vouches for the sender (SO_PEERCRED, our pid namespace);
      // the header names it as it sees itself. Mapped through NSpid while it
      // lives; one already gone (a child that ran 1 ms) cannot be mapped,
      // and is taken on the kernel's word: the shim sends only the region it
      // just made, and another process's region cannot be sent by one that
      // does not already hold it (closed at once, map_files needs privilege).
      const int pid = PeerPid(c.get());
      const int own = pid > 0 ? InnermostPid(pid) : 0;
      Consider({std::move(fd), pid, 0, own > 0 ? own : ShimConsumer::kAnyPid}, is_target);
    }
    if (!closed) still.push_back(std::move(c));
  }
  pending_ = std::move(still);
}

void ShimRegions::Discover(const std::vector<int>& pids) {
  std::set<int> held;
  for (const auto& [ino, r] : regions_) held.insert(r->pid);
  for (int pid : pids) {
    if (held.count(pid)) continue;
    std::ifstream maps("/proc/" + std::to_string(pid) + "/maps");
    std::string line;
    while (std::getline(maps, line)) {
      if (line.find("/memfd:" PROBE_SHM_MEMFD_NAME " (deleted)") == std::string::npos) continue;
      std::string range = line.substr(0, line.find(' '));
      UniqueFd fd(open(("/proc/" + std::to_string(pid) + "/map_files/" + range).c_str(),
                       O_RDWR | O_CLOEXEC));
      if (fd) Adopt(std::move(fd), pid, InnermostPid(pid), false, 0);
    }
  }
}

void ShimRegions::Drain(const TscClock& clock, const ShimConsumer::Sink& sink, bool reap,
                        const ShimConsumer::RateCheck& rate) {
  for (auto it = regions_.begin(); it != regions_.end();) {
    Region& r = *it->second;
    bool gone = reap && StartTicks(r.pid) != r.start_ticks;
    // After the check: a gone process wrote its last before.
    r.consumer->Drain(clock, MonotonicNs, sink, rate);
    if (!gone) {
      ++it;
      continue;
    }
    v1::ShimProcess p;
    r.consumer->FillProcess(&p);
    p.set_finished(true);
    Add(&finished_total_, r.consumer->Tally());
    if (finished_.size() < kMaxFinished) finished_.push_back(p);
    it = regions_.erase(it);
  }
}

void ShimRegions::FillProcesses(google::protobuf::RepeatedPtrField<v1::ShimProcess>* out,
                                bool all_finished) {
  for (size_t i = all_finished ? 0 : finished_reported_; i < finished_.size(); ++i)
    *out->Add() = finished_[i];
  finished_reported_ = finished_.size();
  for (const auto& [ino, r] : regions_) r->consumer->FillProcess(out->Add());
}

void ShimRegions::FillCounters(v1::KindCounters* c) const {
  ShimTally t = finished_total_;
  for (const auto& [ino, r] : regions_) Add(&t, r->consumer->Tally());
  c->set_kind(v1::EVENT_KIND_SHIM);
  c->set_produced(t.produced);
  c->set_written(t.written);
  c->set_sampled_out(t.sampled_out);
  c->set_sampled_one_in_n(t.sampled_one_in_n);
  c->set_sampled_min_latency(t.sampled_min_latency);
  c->set_sampled_first_k(t.sampled_first_k);
  c->set_sampled_rate(t.sampled_rate);
  c->set_lost_buffer_full(t.lost_buffer_full);
  c->set_lost_no_buffer(t.lost_no_buffer);
  c->set_lost_write(t.lost_write);
  c->set_rejected(t.rejected + refused_);
}

}  // namespace probe
