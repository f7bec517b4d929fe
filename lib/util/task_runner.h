// TaskRunner: where rill runs work that must stay off the append path --
// prefaulting the next pages of a segment, syncing sealed segments, and
// (later) retention and compaction.
//
// ThreadTaskRunner runs tasks on threads of its own, each started when the
// tasks queued outnumber the threads free for them: one that is never given
// work starts none. ManualTaskRunner queues
// them until RunPending() is called: for deterministic tests and for
// programs that want no threads of rill's.
//
// Thread-safety: Schedule may be called from any thread.
#ifndef RILL_LIB_UTIL_TASK_RUNNER_H_
#define RILL_LIB_UTIL_TASK_RUNNER_H_

#include <deque>
#include <functional>
#include <thread>
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
  // At most `threads` threads, started as work arrives.
  explicit ThreadTaskRunner(int threads = 1);
  // Runs every task already scheduled, then joins the threads.
  ~ThreadTaskRunner() override;
  void Schedule(std::function<void()> task) override;

 private:
  void Loop();

  const size_t max_threads_;
  Mutex mu_;
  CondVar cv_;  // Signalled when a task is queued or stopping_ is set.
  std::deque<std::function<void()>> queue_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::thread> threads_ ABSL_GUARDED_BY(mu_);
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
