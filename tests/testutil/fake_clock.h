// FakeClock: a Clock that stands still until a test moves it.
#ifndef RILL_TESTS_TESTUTIL_FAKE_CLOCK_H_
#define RILL_TESTS_TESTUTIL_FAKE_CLOCK_H_

#include <atomic>
#include <cstdint>

#include "rill/clock.h"

namespace rill::testing {

class FakeClock final : public Clock {
 public:
  explicit FakeClock(int64_t now_ms) : now_ms_(now_ms) {}

  int64_t NowMillis() override { return now_ms_.load(); }
  int64_t MonotonicMicros() override { return now_ms_.load() * 1000; }

  void Advance(int64_t ms) { now_ms_ += ms; }
  void Set(int64_t now_ms) { now_ms_ = now_ms; }

 private:
  std::atomic<int64_t> now_ms_;
};

}  // namespace rill::testing

#endif  // RILL_TESTS_TESTUTIL_FAKE_CLOCK_H_
