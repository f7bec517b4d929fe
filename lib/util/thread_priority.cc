#include "util/thread_priority.h"

#include <sched.h>

namespace rill {

ScopedIdlePriority::ScopedIdlePriority() {
#ifdef SCHED_IDLE
  old_policy_ = sched_getscheduler(0);
  sched_param old{};
  if (old_policy_ < 0 || old_policy_ == SCHED_IDLE || sched_getparam(0, &old) != 0) return;
  old_priority_ = old.sched_priority;
  // A real-time thread stays as it is: lowering it may not be undone.
  if (old_policy_ != SCHED_OTHER && old_policy_ != SCHED_BATCH) return;
  sched_param idle{};
  active_ = sched_setscheduler(0, SCHED_IDLE, &idle) == 0;
#endif
}

ScopedIdlePriority::~ScopedIdlePriority() {
  if (!active_) return;
  // Going back from SCHED_IDLE to SCHED_OTHER or SCHED_BATCH is allowed to
  // an unprivileged thread whose nice value its RLIMIT_NICE permits, which
  // holds for the nice value it had before.
  sched_param old{};
  old.sched_priority = old_priority_;
  sched_setscheduler(0, old_policy_, &old);
}

}  // namespace rill
