#include "util/timer.h"

#include "absl/time/time.h"

namespace rill {

Timer::Timer(Clock* clock) : clock_(clock), thread_([this] { Loop(); }) {}

Timer::~Timer() {
  {
    MutexLock lock(&mu_);
    stopping_ = true;
  }
  cv_.Signal();
  thread_.join();
}

void Timer::ScheduleAt(int64_t when_us, std::function<void()> task) {
  {
    MutexLock lock(&mu_);
    tasks_.emplace(when_us, std::move(task));
  }
  cv_.Signal();
}

void Timer::Loop() {
  MutexLock lock(&mu_);
  while (!stopping_) {
    if (tasks_.empty()) {
      cv_.Wait(&mu_);
      continue;
    }
    const int64_t now = clock_->MonotonicMicros();
    auto first = tasks_.begin();
    if (first->first > now) {
      // Sleep until the first task is due, or a new task may be due sooner.
      cv_.WaitFor(&mu_, absl::Microseconds(first->first - now));
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
