#include "util/task_runner.h"

#include <errno.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>

namespace rill {
namespace {

using Task = std::function<void()>;

// TakeFront(mu, queue): the task at the front of `queue`, taken off it under
// `mu`; an empty function if there is none.
Task TakeFront(Mutex* mu, std::deque<Task>* queue) ABSL_LOCKS_EXCLUDED(mu) {
  MutexLock lock(mu);
  if (queue->empty()) return nullptr;
  Task task = std::move(queue->front());
  queue->pop_front();
  return task;
}

}  // namespace

ThreadTaskRunner::ThreadTaskRunner(int threads)
    : max_threads_(static_cast<size_t>(std::max(threads, 1))) {
  const pthread_t self = pthread_self();
  inherited_.has_cpus = pthread_getaffinity_np(self, sizeof(cpu_set_t), &inherited_.cpus) == 0;
  inherited_.has_sched = pthread_getschedparam(self, &inherited_.policy, &inherited_.param) == 0;
  errno = 0;
  inherited_.nice = getpriority(PRIO_PROCESS, static_cast<id_t>(gettid()));  // -1 is a value too.
  if (errno != 0) inherited_.nice = 0;
  pthread_sigmask(SIG_SETMASK, nullptr, &inherited_.signals);
}

ThreadTaskRunner::~ThreadTaskRunner() {
  std::vector<pthread_t> threads;
  {
    MutexLock lock(&mu_);
    stopping_ = true;  // No thread starts from now on.
    threads = std::move(threads_);
  }
  cv_.SignalAll();
  for (pthread_t t : threads) pthread_join(t, nullptr);
  // Left only if no thread could be started to run them.
  while (Task task = TakeFront(&mu_, &queue_)) task();
}

void ThreadTaskRunner::Schedule(std::function<void()> task) {
  {
    MutexLock lock(&mu_);
    queue_.push_back(std::move(task));
    // A thread that is starting, or waiting, counts as free; one that has
    // just run a task counts as busy until it looks for the next, so a
    // thread may start a moment early, never past the limit.
    if (!stopping_ && threads_.size() < max_threads_ && queue_.size() > threads_.size() - busy_) {
      pthread_t thread;
      if (pthread_create(&thread, nullptr, &ThreadTaskRunner::ThreadMain, this) == 0) {
        threads_.push_back(thread);
      }
    }
  }
  cv_.Signal();
}

size_t ThreadTaskRunner::threads_started() const {
  MutexLock lock(&mu_);
  return threads_.size();
}

void* ThreadTaskRunner::ThreadMain(void* arg) {
  auto* runner = static_cast<ThreadTaskRunner*>(arg);
  // As if started by the thread that made the runner. Best effort: a
  // setting the system refuses (a higher priority, say) stays as it came.
  const Inherited& from = runner->inherited_;
  const pthread_t self = pthread_self();
  if (from.has_cpus) pthread_setaffinity_np(self, sizeof(cpu_set_t), &from.cpus);
  if (from.has_sched) pthread_setschedparam(self, from.policy, &from.param);
  setpriority(PRIO_PROCESS, static_cast<id_t>(gettid()), from.nice);
  pthread_sigmask(SIG_SETMASK, &from.signals, nullptr);
  runner->Loop();
  return nullptr;
}

void ThreadTaskRunner::Loop() {
  bool ran = false;
  for (;;) {
    std::function<void()> task;
    {
      MutexLock lock(&mu_);
      if (ran) --busy_;
      while (!stopping_ && queue_.empty()) cv_.Wait(&mu_);
      if (queue_.empty()) return;  // Stopping, and nothing left to run.
      task = std::move(queue_.front());
      queue_.pop_front();
      ++busy_;
    }
    task();
    ran = true;
  }
}

void ManualTaskRunner::Schedule(std::function<void()> task) {
  MutexLock lock(&mu_);
  queue_.push_back(std::move(task));
}

int ManualTaskRunner::RunPending() {
  int ran = 0;
  while (Task task = TakeFront(&mu_, &queue_)) {
    task();
    ++ran;
  }
  return ran;
}

}  // namespace rill
