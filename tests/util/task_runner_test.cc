// ThreadTaskRunner: threads started only as work arrives, up to a limit, with
// the settings of the thread that made the runner; every task scheduled
// before destruction run.
#include "util/task_runner.h"

#include <pthread.h>
#include <sched.h>
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <set>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "util/mutex.h"

namespace rill {
namespace {

TEST_CASE("ThreadTaskRunner starts no thread until it is given work", "[task_runner]") {
  std::atomic<int> ran{0};
  {
    ThreadTaskRunner runner(2);
    CHECK(runner.threads_started() == 0);
    runner.Schedule([&] { ++ran; });
    CHECK(runner.threads_started() == 1);
  }
  CHECK(ran == 1);
  // Never given work: none to start or join.
  ThreadTaskRunner idle(4);
  CHECK(idle.threads_started() == 0);
}

// The calling thread's CPUs and blocked signals. (No assertions here: they
// run on threads other than the test's.)
struct ThreadSettings {
  bool ok = false;
  cpu_set_t cpus;
  sigset_t signals;
};
ThreadSettings CurrentSettings() {
  ThreadSettings s;
  s.ok = pthread_getaffinity_np(pthread_self(), sizeof(cpu_set_t), &s.cpus) == 0 &&
         pthread_sigmask(SIG_SETMASK, nullptr, &s.signals) == 0;
  return s;
}

TEST_CASE("ThreadTaskRunner's threads take the settings of the thread that made it",
          "[task_runner]") {
  const ThreadSettings maker = CurrentSettings();
  REQUIRE(maker.ok);
  REQUIRE(sigismember(&maker.signals, SIGUSR2) == 0);
  const int cpus = CPU_COUNT(&maker.cpus);
  ThreadSettings seen;
  bool scheduler_changed = false;
  {
    ThreadTaskRunner runner;
    // The first task comes from a thread pinned to one CPU that blocks
    // SIGUSR2: the runner's thread starts then, but not with those.
    std::thread scheduler([&] {
      cpu_set_t one;
      CPU_ZERO(&one);
      for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
        if (CPU_ISSET(cpu, &maker.cpus)) {
          CPU_SET(cpu, &one);
          break;
        }
      }
      sigset_t block;
      sigemptyset(&block);
      sigaddset(&block, SIGUSR2);
      scheduler_changed = pthread_setaffinity_np(pthread_self(), sizeof(cpu_set_t), &one) == 0 &&
                          pthread_sigmask(SIG_BLOCK, &block, nullptr) == 0;
      runner.Schedule([&] { seen = CurrentSettings(); });
    });
    scheduler.join();
  }
  REQUIRE(scheduler_changed);
  REQUIRE(seen.ok);
  CHECK(sigismember(&seen.signals, SIGUSR2) == 0);
  CHECK(CPU_COUNT(&seen.cpus) == cpus);
  CHECK(CPU_EQUAL(&seen.cpus, &maker.cpus));
}

TEST_CASE("ThreadTaskRunner runs tasks on as many threads as it may, and no more",
          "[task_runner]") {
  constexpr int kThreads = 3;
  constexpr int kTasks = 12;
  Mutex mu;
  CondVar cv;
  int running = 0;
  int most_running = 0;
  std::set<std::thread::id> ids;
  {
    ThreadTaskRunner runner(kThreads);
    for (int i = 0; i < kTasks; ++i) {
      runner.Schedule([&] {
        MutexLock lock(&mu);
        ids.insert(std::this_thread::get_id());
        most_running = std::max(most_running, ++running);
        // Each task waits until kThreads run at once, or all threads have
        // run one: the first tasks wait for the threads to be started. (A
        // runner that starts too few fails the checks after 10 s.)
        const absl::Time deadline = absl::Now() + absl::Seconds(10);
        while (running < kThreads && static_cast<int>(ids.size()) < kThreads &&
               absl::Now() < deadline) {
          cv.WaitFor(&mu, deadline - absl::Now());
        }
        cv.SignalAll();
        --running;
      });
    }
  }  // Runs every task scheduled, then joins.
  MutexLock lock(&mu);
  CHECK(most_running == kThreads);
  CHECK(ids.size() == kThreads);
}

TEST_CASE("ThreadTaskRunner with one thread runs tasks in order, and those they schedule",
          "[task_runner]") {
  std::vector<int> order;  // Written by the runner's one thread only.
  {
    ThreadTaskRunner runner(1);
    for (int i = 0; i < 100; ++i) {
      runner.Schedule([&order, &runner, i] {
        order.push_back(i);
        if (i == 99) runner.Schedule([&order] { order.push_back(100); });
      });
    }
  }
  REQUIRE(order.size() == 101);
  for (int i = 0; i <= 100; ++i) CHECK(order[i] == i);
}

}  // namespace
}  // namespace rill
