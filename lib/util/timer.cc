#include "util/timer.h"

#include "absl/time/time.h"

namespace rill {

Timer::Timer(Clock* clock) : clock_(clock), thread_([this] { Loop(); }) {}

Timer::~Timer() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  thread_.join();
}

void Timer::ScheduleAt(int64_t when_us, std::function<void()> task) {
  absl::MutexLock lock(&mu_);
  tasks_.emplace(when_us, std::move(task));
}

void Timer::Loop() {
  absl::MutexLock lock(&mu_);
  while (!stopping_) {
    if (tasks_.empty()) {
      mu_.Await(absl::Condition(
          +[](Timer* t) ABSL_EXCLUSIVE_LOCKS_REQUIRED(t->mu_) {
            return t->stopping_ || !t->tasks_.empty();
          },
          this));
      continue;
    }
    const int64_t now = clock_->MonotonicMicros();
    auto first = tasks_.begin();
    if (first->first > now) {
      // Sleep until the first task is due or the set of tasks changes.
      const int64_t due = first->first;
      const size_t count = tasks_.size();
      struct Args {
        Timer* timer;
        int64_t due;
        size_t count;
      } args{this, due, count};
      mu_.AwaitWithTimeout(
          absl::Condition(
              +[](Args* a) ABSL_EXCLUSIVE_LOCKS_REQUIRED(a->timer->mu_) {
                return a->timer->stopping_ || a->timer->tasks_.size() != a->count ||
                       a->timer->tasks_.begin()->first != a->due;
              },
              &args),
          absl::Microseconds(due - now));
      continue;
    }
    std::function<void()> task = std::move(first->second);
    tasks_.erase(first);
    mu_.Unlock();
    task();
    mu_.Lock();
  }
}

}  // namespace rill
