// Timer: runs an owner's tasks at given times -- a log's lingering batches,
// its maintenance rounds, its group members' deadlines.
//
// Every Timer in the process shares one thread, started by the first Timer
// made. Opening and closing a log thus starts and joins no thread of its own.
// Tasks run one at a time, whichever Timer they belong to, so a task must be
// short: hand long work to a TaskRunner.
//
// The thread outlives the Timers, asleep, until the process forks while no
// Timer exists: then it is joined before the fork, so that a process done
// with its logs forks with no thread of rill's, and started again by the
// next Timer. A child of fork() starts a thread of its own for the Timers it
// makes; its copies of its parent's Timers run nothing.
//
// Thread-safety: ScheduleAt from any thread, a task included. A Timer may be
// destroyed by one of its own tasks.
#ifndef RILL_LIB_UTIL_TIMER_H_
#define RILL_LIB_UTIL_TIMER_H_

#include <cstdint>
#include <functional>

#include "rill/clock.h"

namespace rill {

class TimerThread;

class Timer {
 public:
  // Timer(clock): due times are read from `clock`, which must outlive the
  // Timer.
  explicit Timer(Clock* clock);
  // Drops the tasks not yet run, and waits for one of this Timer's tasks that
  // is running on another thread to return.
  ~Timer();
  Timer(const Timer&) = delete;
  Timer& operator=(const Timer&) = delete;

  // ScheduleAt(when_us, task): runs `task` once clock->MonotonicMicros()
  // reaches `when_us`. Of the tasks due, the most overdue runs first. If
  // the process cannot start the shared thread, tasks wait until a later
  // ScheduleAt or Timer starts it.
  void ScheduleAt(int64_t when_us, std::function<void()> task);

 private:
  Clock* const clock_;
  TimerThread* const thread_;  // The process's when this Timer was made.
};

}  // namespace rill

#endif  // RILL_LIB_UTIL_TIMER_H_
