// Clock: where rill reads the time (record timestamps, segment age,
// retention). Tests pass a fake one to make time-based behaviour
// deterministic.
//
// Thread-safety: implementations must be safe to call from any thread.
#ifndef RILL_CLOCK_H_
#define RILL_CLOCK_H_

#include <cstdint>

#include "rill/export.h"

namespace rill {

class RILL_EXPORT Clock {
 public:
  virtual ~Clock() = default;
  // NowMillis(): milliseconds since the Unix epoch (Kafka's timestamps).
  virtual int64_t NowMillis() = 0;
  // NowMicros(): microseconds on a clock that never goes backwards, for
  // measuring intervals; unrelated to NowMillis()'s epoch.
  virtual int64_t MonotonicMicros() = 0;

  // Real(): the system's clocks. Never null; never destroyed.
  static Clock* Real();
};

}  // namespace rill

#endif  // RILL_CLOCK_H_
