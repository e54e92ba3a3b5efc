#include "thread_names.h"

namespace probe {

bool ThreadNames::Take(v1::Waker* w, v1::Record* name) {
  // tid 0 is every CPU's idle task, each with its own name: kept inline.
  if (w->tid() == 0 || w->comm().empty()) return false;
  auto it = known_.find(w->tid());
  bool announce = it == known_.end() || it->second != w->comm();
  if (announce) {
    if (known_.size() >= kMaxThreads) known_.clear();
    known_[w->tid()] = w->comm();
    auto* t = name->mutable_thread_name();
    t->set_pid(w->pid());
    t->set_tid(w->tid());
    t->set_comm(w->comm());
  }
  w->clear_comm();
  return announce;
}

bool ThreadNames::Intern(v1::Record* r, v1::Record* name) {
  name->Clear();
  if (r->has_wakeup() && r->wakeup().has_waker())
    return Take(r->mutable_wakeup()->mutable_waker(), name);
  if (r->has_syscall() && r->syscall().has_breakdown() && r->syscall().breakdown().has_waker())
    return Take(r->mutable_syscall()->mutable_breakdown()->mutable_waker(), name);
  return false;
}

}  // namespace probe
