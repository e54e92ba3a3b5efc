/* Exact histograms in slots of a per-CPU array, reached from the thread's
 * in-flight storage (issue 19): a thread finds its process's slot for a key
 * once, through an index hash, and keeps it, so each later call or wakeup
 * costs an inlined array lookup instead of a per-CPU hash lookup.
 *
 * One family of slots (the syscall histograms, or the scheduler's) is four
 * maps and a counter: the index (pid, key) -> slot, the per-CPU slots, a
 * queue of slots the agent gave back, each slot's owner, and a bump counter
 * for slots never used. Lifetimes: a slot belongs to its index key, and its
 * owner says so, from the insert until the agent deletes the key (the
 * process exited and its final counts are written) and clears the owner; a
 * thread that cached the slot checks the owner at every add. A full
 * histogram pass later the agent zeroes the slot and queues it. A slot
 * leaves the queue zeroed. */
#ifndef PROBE_HIST_SLOTS_BPF_H
#define PROBE_HIST_SLOTS_BPF_H

#include "probe_events.h"

/* The maps of one family; max_entries are placeholders the agent sets
 * (histogram_layout.h), all to the same slot count. Preallocated: slots are
 * taken inside sched_switch, with interrupts off. */
#define PROBE_HIST_SLOT_MAPS(prefix)              \
  struct {                                        \
    __uint(type, BPF_MAP_TYPE_HASH);              \
    __uint(max_entries, 4096);                    \
    __type(key, struct probe_hist_key);           \
    __type(value, __u32);                         \
  } prefix##_index SEC(".maps");                  \
  struct {                                        \
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);      \
    __uint(max_entries, 4096);                    \
    __type(key, __u32);                           \
    __type(value, struct probe_hist);             \
  } prefix##_slots SEC(".maps");                  \
  struct {                                        \
    __uint(type, BPF_MAP_TYPE_QUEUE);             \
    __uint(max_entries, 4096);                    \
    __type(value, __u32);                         \
  } prefix##_free SEC(".maps");                   \
  /* Slot -> the tgid it counts for, 0 once the   \
   * agent took its key out of the index. */      \
  struct {                                        \
    __uint(type, BPF_MAP_TYPE_ARRAY);             \
    __uint(max_entries, 4096);                    \
    __type(key, __u32);                           \
    __type(value, __u32);                         \
  } prefix##_owner SEC(".maps");                  \
  /* Slots handed out from the never-used end. */ \
  __u64 prefix##_next = 0;                        \
  const volatile __u32 prefix##_count = 4096;

/* A free slot: one the agent gave back, else a never-used one; false when
 * every slot is taken. */
static __always_inline bool take_slot(void *free_q, __u64 *next, __u32 count, __u32 *slot) {
  if (bpf_map_pop_elem(free_q, slot) == 0) return true;
  __u64 n = __sync_fetch_and_add(next, 1);
  if (n >= count) return false;
  *slot = (__u32)n;
  return true;
}

/* The slot of (tgid, key) through the index, given one if it has none. Two
 * threads of a process can race to give the key a slot: the loser gives its
 * slot back and takes the winner's. A new slot's owner is set before its key
 * is visible, so a slot found through the index always has its owner. */
static __always_inline bool find_slot(void *index, void *free_q, void *owner, __u64 *next,
                                      __u32 count, __u32 tgid, __u32 key, __u32 *slot) {
  struct probe_hist_key k = {.pid = tgid, .syscall = key};
  __u32 *found = bpf_map_lookup_elem(index, &k);
  if (found) {
    *slot = *found;
    return true;
  }
  if (!take_slot(free_q, next, count, slot)) return false;
  __u32 *own = bpf_map_lookup_elem(owner, slot);
  if (!own) return false; /* cannot happen: the slot is below count */
  *own = tgid;
  if (bpf_map_update_elem(index, &k, slot, BPF_NOEXIST) == 0) return true;
  *own = 0;
  bpf_map_push_elem(free_q, slot, 0);
  found = bpf_map_lookup_elem(index, &k);
  if (!found) return false;
  *slot = *found;
  return true;
}

/* The histogram of (tgid, key) for a thread whose cached slot (+1; 0: none
 * yet) is *cached; NULL when every slot is taken. A cached slot whose owner
 * changed was given up by the agent: the process's exit was already written.
 * A thread still running after that (one sleeping in its exit path, woken
 * later) gets a new key through the index, as the hash of old did, instead
 * of counting into the slot's next owner. */
#define HIST_SLOT(prefix, cached, tgid, key)                                          \
  ({                                                                                  \
    struct probe_hist *h_ = NULL;                                                     \
    __u32 s_ = *(cached);                                                             \
    if (s_) {                                                                         \
      __u32 o_i_ = s_ - 1;                                                            \
      __u32 *o_ = bpf_map_lookup_elem(&prefix##_owner, &o_i_);                        \
      if (!o_ || *o_ != (tgid)) s_ = 0;                                               \
    }                                                                                 \
    if (!s_) {                                                                        \
      __u32 got_;                                                                     \
      if (find_slot(&prefix##_index, &prefix##_free, &prefix##_owner, &prefix##_next, \
                    prefix##_count, (tgid), (key), &got_)) {                          \
        s_ = got_ + 1;                                                                \
        *(cached) = s_;                                                               \
      }                                                                               \
    }                                                                                 \
    if (s_) {                                                                         \
      __u32 i_ = s_ - 1;                                                              \
      h_ = bpf_map_lookup_elem(&prefix##_slots, &i_);                                 \
    }                                                                                 \
    h_;                                                                               \
  })

#endif
