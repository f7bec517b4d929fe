#include "util/timer.h"

#include <pthread.h>

#include <atomic>
#include <limits>
#include <map>
#include <mutex>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/time/time.h"
#include "util/mutex.h"

namespace rill {

// The thread every Timer shares, and the tasks of every Timer that has some.
class TimerThread {
 public:
  // Shared(): the process's TimerThread. Never destroyed: a task may still
  // be running while the program exits, and a child of fork() keeps its
  // parent's for the copies of the parent's Timers.
  static TimerThread* Shared();

  // Attach(): counts a new Timer, and starts the thread if it is not running.
  void Attach() {
    MutexLock lock(&mu_);
    ++timers_;
    StartLocked();
  }

  // Detach(owner): drops `owner`'s tasks and waits until none of them runs,
  // unless called from one of them. Counts `owner` gone.
  void Detach(const Timer* owner) {
    std::multimap<int64_t, std::function<void()>> dropped;  // Destroyed unlocked.
    MutexLock lock(&mu_);
    --timers_;
    if (auto it = queues_.find(owner); it != queues_.end()) {
      dropped = std::move(it->second.tasks);
      queues_.erase(it);
    }
    if (orphaned_ || OnThreadLocked()) return;
    while (running_ == owner) done_.Wait(&mu_);
  }

  void Add(const Timer* owner, Clock* clock, int64_t when_us, std::function<void()> task) {
    {
      MutexLock lock(&mu_);
      if (orphaned_) return;  // A parent's Timer, copied by fork(): runs nothing.
      Queue& queue = queues_[owner];
      queue.clock = clock;
      queue.tasks.emplace(when_us, std::move(task));
      StartLocked();
      // A thread that is not asleep looks at every queue before it sleeps
      // again; one asleep wakes by itself in time for a task due later than
      // its wake-up. Signalling costs a system call, and the thread's waking
      // takes the lock from the caller: a log's open arms its maintenance
      // round, due long after the wake-up left by the last log closed.
      if (wake_at_us_ == kAwake ||
          Clock::Real()->MonotonicMicros() + (when_us - clock->MonotonicMicros()) >= wake_at_us_) {
        return;
      }
    }
    work_.Signal();
  }

  // The fork handlers. Before: joins the thread if no Timer needs it, then
  // holds the lock across the fork so that both copies find the state whole.
  void BeforeFork() ABSL_NO_THREAD_SAFETY_ANALYSIS {
    mu_.Lock();
    if (started_ && !stop_ && timers_ == 0 && running_ == nullptr && !OnThreadLocked()) {
      stop_ = true;
      const pthread_t thread = thread_;
      mu_.Unlock();
      work_.Signal();
      pthread_join(thread, nullptr);
      mu_.Lock();
      stop_ = false;
      started_ = false;
      if (timers_ > 0) StartLocked();  // One was made while the thread stopped.
    }
  }
  void AfterForkInParent() ABSL_NO_THREAD_SAFETY_ANALYSIS { mu_.Unlock(); }
  // In the child: no thread runs these tasks any more, and none will.
  void AfterForkInChild() ABSL_NO_THREAD_SAFETY_ANALYSIS {
    orphaned_ = true;
    running_ = nullptr;
    queues_.clear();
    mu_.Unlock();
  }

 private:
  struct Queue {
    Clock* clock = nullptr;
    std::multimap<int64_t, std::function<void()>> tasks;  // By due time.
  };

  bool OnThreadLocked() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return started_ && pthread_equal(pthread_self(), thread_);
  }

  void StartLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (started_ || orphaned_) return;
    started_ = pthread_create(&thread_, nullptr, &TimerThread::Main, this) == 0;
  }

  static void* Main(void* self) {
    pthread_setname_np(pthread_self(), "rill-timer");
    static_cast<TimerThread*>(self)->Loop();
    return nullptr;
  }

  void Loop() {
    MutexLock lock(&mu_);
    while (!stop_) {
      // The most overdue task, or how long until the next is due. Each
      // owner's times are on its own clock.
      const Timer* due = nullptr;
      int64_t most_late = 0;
      int64_t wait_us = std::numeric_limits<int64_t>::max();
      for (const auto& [owner, queue] : queues_) {
        const int64_t left = queue.tasks.begin()->first - queue.clock->MonotonicMicros();
        if (left <= 0 && (due == nullptr || -left > most_late)) {
          due = owner;
          most_late = -left;
        } else if (left > 0 && left < wait_us) {
          wait_us = left;
        }
      }
      if (due == nullptr) {
        if (wait_us == std::numeric_limits<int64_t>::max()) {
          wake_at_us_ = std::numeric_limits<int64_t>::max();
          work_.Wait(&mu_);
        } else {
          wake_at_us_ = Clock::Real()->MonotonicMicros() + wait_us;
          work_.WaitFor(&mu_, absl::Microseconds(wait_us));
        }
        wake_at_us_ = kAwake;
        continue;
      }
      auto queue = queues_.find(due);
      auto first = queue->second.tasks.begin();
      std::function<void()> task = std::move(first->second);
      queue->second.tasks.erase(first);
      if (queue->second.tasks.empty()) queues_.erase(queue);
      running_ = due;
      mu_.Unlock();
      task();
      task = nullptr;  // Its captures go before its owner is told it is done.
      mu_.Lock();
      // `due` may be destroyed by now: compared, never used.
      running_ = nullptr;
      done_.SignalAll();
    }
  }

  Mutex mu_;
  CondVar work_;                                               // Signalled when a task is added.
  CondVar done_;                                               // Signalled when a task returns.
  std::map<const Timer*, Queue> queues_ ABSL_GUARDED_BY(mu_);  // Owners with tasks.
  const Timer* running_ ABSL_GUARDED_BY(mu_) = nullptr;        // Whose task runs.
  int64_t timers_ ABSL_GUARDED_BY(mu_) = 0;                    // Attached, not detached.
  bool started_ ABSL_GUARDED_BY(mu_) = false;                  // thread_ runs Loop.
  // While the thread waits on work_: when it wakes by itself, on
  // Clock::Real() (the largest int64_t if it does not); else kAwake.
  static constexpr int64_t kAwake = -1;
  int64_t wake_at_us_ ABSL_GUARDED_BY(mu_) = kAwake;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;      // Loop returns.
  bool orphaned_ ABSL_GUARDED_BY(mu_) = false;  // A parent's, in a child.
  pthread_t thread_ ABSL_GUARDED_BY(mu_);
};

namespace {

std::atomic<TimerThread*> shared_thread{nullptr};

}  // namespace

TimerThread* TimerThread::Shared() {
  static std::once_flag once;
  std::call_once(once, [] {
    shared_thread.store(new TimerThread, std::memory_order_release);
    pthread_atfork([] { shared_thread.load(std::memory_order_acquire)->BeforeFork(); },
                   [] { shared_thread.load(std::memory_order_acquire)->AfterForkInParent(); },
                   [] {
                     // The child's Timers get a TimerThread of their own.
                     TimerThread* parents = shared_thread.load(std::memory_order_acquire);
                     parents->AfterForkInChild();
                     shared_thread.store(new TimerThread, std::memory_order_release);
                   });
  });
  return shared_thread.load(std::memory_order_acquire);
}

Timer::Timer(Clock* clock) : clock_(clock), thread_(TimerThread::Shared()) { thread_->Attach(); }

Timer::~Timer() { thread_->Detach(this); }

void Timer::ScheduleAt(int64_t when_us, std::function<void()> task) {
  thread_->Add(this, clock_, when_us, std::move(task));
}

}  // namespace rill
