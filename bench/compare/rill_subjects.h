// rill as the drivers see it: a Store over a Log (one Producer per writer
// thread, a Consumer for the read-back) and a Queue over a Log for the
// thread-to-thread latency workload.
//
// Thread-safety: as Store and Queue.
#ifndef RILL_BENCH_COMPARE_RILL_SUBJECTS_H_
#define RILL_BENCH_COMPARE_RILL_SUBJECTS_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "drivers.h"
#include "rill/options.h"
#include "store.h"

namespace rill::bench {

struct RillStoreConfig {
  LogOptions log = {};
  // Log::OpenInMemory, not Log::Open in the run's directory.
  bool in_memory = false;
  ProducerOptions producer = {};
  // Partitions of the topic. With one, every writer appends to partition 0;
  // with as many as writers, writer i appends to partition i.
  int partitions = 1;
  // Send() each record (returns once it is as durable as promised) rather
  // than SendAsync() and a Flush() at the end.
  bool send_sync = false;
  ConsumerOptions consumer = {.auto_offset_reset = OffsetReset::kEarliest};
};

// RillStore(config): a StoreFactory for rill.
StoreFactory RillStore(const RillStoreConfig& config);

// RunRillLatency(env, plan, busy_poll, options): producer thread ->
// consumer thread latency over a one-partition topic: Send with
// kProcessCrash, Poll with ConsumerOptions::busy_poll = `busy_poll`, on a log
// opened with `options`.
absl::StatusOr<Metrics> RunRillLatency(const RunEnv& env, const LatencyPlan& plan,
                                       absl::Duration busy_poll, const LogOptions& options = {});

}  // namespace rill::bench

#endif  // RILL_BENCH_COMPARE_RILL_SUBJECTS_H_
