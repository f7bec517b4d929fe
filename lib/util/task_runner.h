// TaskRunner: where rill runs work that must stay off the append path --
// prefaulting the next pages of a segment, syncing sealed segments, and
// (later) retention and compaction.
//
// ThreadTaskRunner runs tasks on threads of its own, each started when the
// tasks queued outnumber the threads free for them: one that is never given
// work starts none. A thread takes the CPU affinity, scheduling policy, nice
// value and signal mask of the thread that made the runner, not of the one
// whose task started it (a producer pinned to its own core, say).
// ManualTaskRunner queues tasks until RunPending() is called: for
// deterministic tests and for programs that want no threads of rill's.
//
// Thread-safety: Schedule may be called from any thread.
#ifndef RILL_LIB_UTIL_TASK_RUNNER_H_
#define RILL_LIB_UTIL_TASK_RUNNER_H_

#include <pthread.h>
#include <sched.h>
#include <signal.h>

#include <deque>
#include <functional>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "util/mutex.h"

namespace rill {

class TaskRunner {
 public:
  virtual ~TaskRunner() = default;
  // Schedule(task): runs `task` later, once. Tasks scheduled after shutdown
  // began are dropped.
  virtual void Schedule(std::function<void()> task) = 0;
};

class ThreadTaskRunner final : public TaskRunner {
 public:
  // At most `threads` threads (at least 1), started as work arrives.
  explicit ThreadTaskRunner(int threads = 1);
  // Runs every task already scheduled, then joins the threads. Tasks left
  // because no thread could be started run here, on the caller's thread.
  ~ThreadTaskRunner() override;
  // Queues `task`, starting a thread for it if none is free. If a thread
  // cannot be started (the system is out of threads), the task waits for a
  // thread started later, or for the destructor.
  void Schedule(std::function<void()> task) override;

  // threads_started(): how many threads the runner has started.
  size_t threads_started() const;

 private:
  // The settings of the thread that made the runner, for those it starts.
  struct Inherited {
    bool has_cpus = false;
    cpu_set_t cpus;
    bool has_sched = false;
    int policy = SCHED_OTHER;
    sched_param param = {};
    int nice = 0;
    sigset_t signals;
  };
  static void* ThreadMain(void* runner);
  void Loop();

  const size_t max_threads_;
  Inherited inherited_;
  mutable Mutex mu_;
  CondVar cv_;  // Signalled when a task is queued or stopping_ is set.
  std::deque<std::function<void()>> queue_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<pthread_t> threads_ ABSL_GUARDED_BY(mu_);
  size_t busy_ ABSL_GUARDED_BY(mu_) = 0;  // Threads running a task.
};

class ManualTaskRunner final : public TaskRunner {
 public:
  void Schedule(std::function<void()> task) override;
  // RunPending(): runs queued tasks, and those they queue, until none is
  // left. Returns how many ran.
  int RunPending();

 private:
  Mutex mu_;
  std::deque<std::function<void()>> queue_ ABSL_GUARDED_BY(mu_);
};

}  // namespace rill

#endif  // RILL_LIB_UTIL_TASK_RUNNER_H_
