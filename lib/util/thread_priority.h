// ScopedIdlePriority: runs the rest of a scope on the calling thread at the
// lowest scheduling priority (Linux SCHED_IDLE): the thread gets a CPU only
// when no ordinary thread wants it, and never preempts one. For work that
// merely gets ahead of need, such as faulting in pages before a writer
// reaches them, so that it does not stall a thread spinning on a busy core.
//
// Thread-safety: affects only the calling thread; restores its policy when
// the scope ends.
#ifndef RILL_LIB_UTIL_THREAD_PRIORITY_H_
#define RILL_LIB_UTIL_THREAD_PRIORITY_H_

namespace rill {

class ScopedIdlePriority {
 public:
  ScopedIdlePriority();
  ~ScopedIdlePriority();
  ScopedIdlePriority(const ScopedIdlePriority&) = delete;
  ScopedIdlePriority& operator=(const ScopedIdlePriority&) = delete;

  // active(): whether the thread runs at idle priority now (false where the
  // system refused, or does not have the policy).
  bool active() const { return active_; }

 private:
  int old_policy_ = 0;
  int old_priority_ = 0;
  bool active_ = false;
};

}  // namespace rill

#endif  // RILL_LIB_UTIL_THREAD_PRIORITY_H_
