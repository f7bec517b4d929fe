// ThreadTaskRunner: threads started only as work arrives, up to a limit, and
// every task scheduled before destruction run.
#include "util/task_runner.h"

#include <dirent.h>

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

// The threads of this process, from /proc/self/task.
int ThreadCount() {
  DIR* dir = opendir("/proc/self/task");
  if (dir == nullptr) return -1;
  int count = 0;
  while (const dirent* entry = readdir(dir)) {
    if (entry->d_name[0] != '.') ++count;
  }
  closedir(dir);
  return count;
}

TEST_CASE("ThreadTaskRunner starts no thread until it is given work", "[task_runner]") {
  const int before = ThreadCount();
  REQUIRE(before >= 1);
  std::atomic<int> ran{0};
  {
    ThreadTaskRunner runner(2);
    CHECK(ThreadCount() == before);
    runner.Schedule([&] { ++ran; });
    CHECK(ThreadCount() >= before + 1);
  }
  CHECK(ran == 1);
  CHECK(ThreadCount() == before);
  // Never given work: none to start or join.
  { ThreadTaskRunner idle(4); }
  CHECK(ThreadCount() == before);
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
