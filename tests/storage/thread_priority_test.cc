// ScopedIdlePriority: the calling thread runs at SCHED_IDLE inside the scope
// and at its old policy after.
#include "util/thread_priority.h"

#include <sched.h>

#include <thread>

#include <catch2/catch.hpp>

namespace rill {
namespace {

TEST_CASE("ScopedIdlePriority: idle inside the scope, as before after it", "[thread_priority]") {
  // On a thread of its own, so that a failure cannot leave the test runner
  // at idle priority.
  int before = -1, inside = -1, after = -1;
  bool active = false;
  std::thread([&] {
    before = sched_getscheduler(0);
    {
      ScopedIdlePriority idle;
      active = idle.active();
      inside = sched_getscheduler(0);
    }
    after = sched_getscheduler(0);
  }).join();
  REQUIRE(before == SCHED_OTHER);
  // Linux lets any thread lower itself to SCHED_IDLE.
  CHECK(active);
  CHECK(inside == SCHED_IDLE);
  CHECK(after == SCHED_OTHER);
}

TEST_CASE("ScopedIdlePriority: nested scopes leave the outer one in charge", "[thread_priority]") {
  int middle = -1, after = -1;
  bool inner_active = true;
  std::thread([&] {
    {
      ScopedIdlePriority outer;
      {
        ScopedIdlePriority inner;  // Already idle: does nothing.
        inner_active = inner.active();
      }
      middle = sched_getscheduler(0);
    }
    after = sched_getscheduler(0);
  }).join();
  CHECK_FALSE(inner_active);
  CHECK(middle == SCHED_IDLE);
  CHECK(after == SCHED_OTHER);
}

}  // namespace
}  // namespace rill
