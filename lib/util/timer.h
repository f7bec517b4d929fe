// Timer: runs tasks at given times on one thread of its own.
//
// Thread-safety: Schedule from any thread. Tasks run one at a time.
#ifndef RILL_LIB_UTIL_TIMER_H_
#define RILL_LIB_UTIL_TIMER_H_

#include <cstdint>
#include <functional>
#include <map>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "util/mutex.h"
#include "rill/clock.h"

namespace rill {

class Timer {
 public:
  explicit Timer(Clock* clock);
  // Stops the thread; tasks not yet due are dropped.
  ~Timer();

  // ScheduleAt(when_us, task): runs `task` once clock->MonotonicMicros()
  // reaches `when_us`.
  void ScheduleAt(int64_t when_us, std::function<void()> task);

 private:
  void Loop();

  Clock* const clock_;
  Mutex mu_;
  CondVar cv_;  // Signalled when a task is added or stopping_ is set.
  std::multimap<int64_t, std::function<void()>> tasks_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace rill

#endif  // RILL_LIB_UTIL_TIMER_H_
