// Timer: every Timer's tasks run on one shared thread, each by its own clock,
// in order of due time; destroying a Timer drops its tasks and waits for the
// one running; the thread is joined before a fork when no Timer is left, and
// a child of fork() gets a thread of its own.
#include "util/timer.h"

#include <pthread.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "testutil/fake_clock.h"
#include "util/mutex.h"

#if defined(__SANITIZE_THREAD__)
// One case below forks while the timer thread runs, on purpose: without this,
// ThreadSanitizer ends such a child at the first thread it starts.
extern "C" __attribute__((visibility("default"))) const char* __tsan_default_options() {
  return "die_after_fork=0";
}
#endif

namespace rill {
namespace {

using testing::FakeClock;

// WaitUntil(done): polls `done` for up to 10 seconds; whether it came true.
bool WaitUntil(const std::function<bool()>& done) {
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (!done()) {
    if (absl::Now() > deadline) return false;
    absl::SleepFor(absl::Milliseconds(1));
  }
  return true;
}

int64_t Now(Clock* clock) { return clock->MonotonicMicros(); }

// TimerThreads(): how many threads of this process are named "rill-timer".
int TimerThreads() {
  int n = 0;
  for (const auto& task : std::filesystem::directory_iterator("/proc/self/task")) {
    std::ifstream comm(task.path() / "comm");
    std::string name;
    if (std::getline(comm, name) && name == "rill-timer") ++n;
  }
  return n;
}

// RunsATask(): whether a new Timer's task runs within 10 seconds.
bool RunsATask() {
  std::atomic<bool> ran{false};
  Timer timer(Clock::Real());
  timer.ScheduleAt(Now(Clock::Real()) + 1'000, [&] { ran = true; });
  return WaitUntil([&] { return ran.load(); });
}

TEST_CASE("Timer: tasks run by their own Timer's clock, in order of due time, on one thread",
          "[timer]") {
  FakeClock fake(1'000);
  Timer on_fake(&fake);
  Timer on_real(Clock::Real());

  Mutex mu;
  std::vector<std::string> order;
  std::vector<pthread_t> threads;
  auto record = [&](std::string name) {
    return [&, name] {
      MutexLock lock(&mu);
      order.push_back(name);
      threads.push_back(pthread_self());
    };
  };
  auto ran = [&] {
    MutexLock lock(&mu);
    return order.size();
  };
  // Due in 10 and 20 ms by a clock that stands still: not until the test
  // moves it. Scheduled latest first, so that only the due times order them;
  // a real clock could not test that, as it may move past both while the
  // first is scheduled.
  on_fake.ScheduleAt(Now(&fake) + 20'000, record("fake 20ms"));
  on_fake.ScheduleAt(Now(&fake) + 10'000, record("fake 10ms"));
  on_real.ScheduleAt(Now(Clock::Real()) + 5'000, record("real 5ms"));
  REQUIRE(WaitUntil([&] { return ran() == 1; }));
  absl::SleepFor(absl::Milliseconds(30));  // Longer than the fake tasks' waits.
  CHECK(ran() == 1);
  fake.Advance(20);
  REQUIRE(WaitUntil([&] { return ran() == 3; }));

  MutexLock lock(&mu);
  CHECK(order == std::vector<std::string>{"real 5ms", "fake 10ms", "fake 20ms"});
  CHECK(pthread_equal(threads[0], threads[1]));
  CHECK(pthread_equal(threads[0], threads[2]));
  CHECK(!pthread_equal(threads[0], pthread_self()));
}

TEST_CASE("Timer: a task due before the thread's next wake-up wakes it", "[timer]") {
  Timer timer(Clock::Real());
  std::atomic<int> ran{0};
  // The thread sleeps toward a task a minute away...
  timer.ScheduleAt(Now(Clock::Real()) + 60'000'000, [&] { ran += 100; });
  absl::SleepFor(absl::Milliseconds(20));
  // ...until a task due sooner, from another Timer on another clock.
  FakeClock fake(5'000'000);
  Timer other(&fake);
  other.ScheduleAt(Now(&fake), [&] { ++ran; });  // Due now.
  CHECK(WaitUntil([&] { return ran == 1; }));
}

TEST_CASE("Timer: destroying one drops its tasks and waits for the one running", "[timer]") {
  std::atomic<bool> started{false};
  std::atomic<bool> release{false};
  std::atomic<bool> returned{false};
  std::atomic<int> dropped_ran{0};
  std::atomic<int> other_ran{0};
  Timer other(Clock::Real());
  auto timer = std::make_unique<Timer>(Clock::Real());
  timer->ScheduleAt(Now(Clock::Real()), [&] {
    started = true;
    while (!release) absl::SleepFor(absl::Milliseconds(1));
    returned = true;
  });
  timer->ScheduleAt(Now(Clock::Real()) + 1'000, [&] { ++dropped_ran; });
  REQUIRE(WaitUntil([&] { return started.load(); }));

  std::atomic<bool> destroyed{false};
  std::thread destroyer([&] {
    timer.reset();
    destroyed = true;
  });
  absl::SleepFor(absl::Milliseconds(50));
  CHECK_FALSE(destroyed);  // Still waiting for the running task.
  release = true;
  destroyer.join();
  CHECK(returned);
  // The dropped task never runs; the shared thread goes on with others'.
  other.ScheduleAt(Now(Clock::Real()), [&] { ++other_ran; });
  REQUIRE(WaitUntil([&] { return other_ran == 1; }));
  absl::SleepFor(absl::Milliseconds(20));
  CHECK(dropped_ran == 0);
}

TEST_CASE("Timer: a task may destroy its own Timer", "[timer]") {
  auto timer = std::make_unique<Timer>(Clock::Real());
  std::atomic<bool> done{false};
  std::atomic<int> later_ran{0};
  timer->ScheduleAt(Now(Clock::Real()) + 1'000'000, [&] { ++later_ran; });
  timer->ScheduleAt(Now(Clock::Real()), [&] {
    timer.reset();
    done = true;
  });
  REQUIRE(WaitUntil([&] { return done.load(); }));
  CHECK(timer == nullptr);
  CHECK(later_ran == 0);
}

TEST_CASE("Timer: a child of fork() runs its own Timers' tasks", "[timer]") {
  // The parent's shared thread is running, and busy, at the fork.
  Timer parent(Clock::Real());
  std::atomic<bool> parent_busy{false};
  std::atomic<bool> release{false};
  parent.ScheduleAt(Now(Clock::Real()), [&] {
    parent_busy = true;
    while (!release) absl::SleepFor(absl::Milliseconds(1));
  });
  REQUIRE(WaitUntil([&] { return parent_busy.load(); }));

  const pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    // No Catch2 here: report by exit status. The copy of `parent` runs
    // nothing, and is destroyed without waiting for the parent's task.
    parent.ScheduleAt(Now(Clock::Real()), [] { _exit(2); });
    _exit(RunsATask() ? 0 : 1);
  }
  int status = 0;
  REQUIRE(waitpid(pid, &status, 0) == pid);
  release = true;
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
}

TEST_CASE("Timer: a process whose Timers are gone forks without the thread, then starts it again",
          "[timer]") {
  REQUIRE(RunsATask());
  REQUIRE(TimerThreads() == 1);  // Asleep, with no Timer left.

  const pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) _exit(TimerThreads() == 0 && RunsATask() ? 0 : 1);
  CHECK(TimerThreads() == 0);  // Joined before the fork.
  int status = 0;
  REQUIRE(waitpid(pid, &status, 0) == pid);
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  CHECK(RunsATask());
  CHECK(TimerThreads() == 1);
}

}  // namespace
}  // namespace rill
