#include "thread_names.h"

#include "record_kind.h"

namespace probe {

bool ThreadNames::Take(v1::Waker* w, v1::Record* name) {
  // tid 0 is every CPU's idle task, each with its own name: kept inline.
  if (w->tid() == 0 || w->comm().empty()) return false;
  auto it = known_.find(w->tid());
  bool announce = it == known_.end() || it->second != w->comm();
  if (announce) {
    name->Clear();
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
  v1::Waker* w = MutableWakerOf(r);
  return w != nullptr && Take(w, name);
}

}  // namespace probe
