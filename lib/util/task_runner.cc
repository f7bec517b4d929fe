#include "util/task_runner.h"

#include <algorithm>

namespace rill {

ThreadTaskRunner::ThreadTaskRunner(int threads)
    : max_threads_(static_cast<size_t>(std::max(threads, 1))) {}

ThreadTaskRunner::~ThreadTaskRunner() {
  std::vector<std::thread> threads;
  {
    MutexLock lock(&mu_);
    stopping_ = true;  // No thread starts from now on.
    threads = std::move(threads_);
  }
  cv_.SignalAll();
  for (std::thread& t : threads) t.join();
}

void ThreadTaskRunner::Schedule(std::function<void()> task) {
  {
    MutexLock lock(&mu_);
    queue_.push_back(std::move(task));
    // A thread that is starting, or waiting, counts as free.
    if (!stopping_ && threads_.size() < max_threads_ && queue_.size() > threads_.size() - busy_) {
      threads_.emplace_back([this] { Loop(); });
    }
  }
  cv_.Signal();
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
  for (;;) {
    std::function<void()> task;
    {
      MutexLock lock(&mu_);
      if (queue_.empty()) return ran;
      task = std::move(queue_.front());
      queue_.pop_front();
    }
    task();
    ++ran;
  }
}

}  // namespace rill
