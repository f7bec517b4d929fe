// The measured loops: RunWrites drives a Store (writers on threads, then a
// read-back); RunTransfer drives a message queue (a sender thread, a
// receiver thread); RunLatency sends at a fixed rate through a Pipe and
// records each message's one-way latency.
//
// Every driver checks what arrived or was read back with a Verifier and
// fails with kDataLoss if a record is missing, extra, out of order or
// damaged.
//
// Thread-safety: each call runs on its own; the plans are read only.
#ifndef RILL_BENCH_COMPARE_DRIVERS_H_
#define RILL_BENCH_COMPARE_DRIVERS_H_

#include <cstdint>
#include <memory>
#include <mutex>
#include <string_view>

#include "absl/functional/function_ref.h"
#include "harness.h"
#include "records.h"
#include "store.h"

namespace rill::bench {

// SharedExpected: the expected read-back of a plan, computed on first use
// and shared by the subjects and repetitions that run the plan.
class SharedExpected {
 public:
  SharedExpected(const ValueSource* values, uint32_t streams, uint32_t per_stream)
      : values_(values), streams_(streams), per_stream_(per_stream) {}
  const Expected& Get() {
    std::call_once(once_, [this] { expected_ = ComputeExpected(*values_, streams_, per_stream_); });
    return expected_;
  }

 private:
  const ValueSource* values_;
  uint32_t streams_, per_stream_;
  std::once_flag once_;
  Expected expected_;
};

struct WritePlan {
  int writers = 1;
  uint32_t per_writer = 0;
  // Records per Write call (a transaction, a batch).
  int chunk = 1000;
  std::shared_ptr<const ValueSource> values = {};
  // Record the latency of every Write (p50, p99, ...).
  bool time_writes = false;
  // Time the read-back: once touching each record (kTouchRate), then once
  // hashing every byte (kReplayRate). Untimed, only the second runs.
  bool time_replay = true;
  std::shared_ptr<SharedExpected> expected = {};
};

// WritePlanFor(writers, per_writer, chunk, values): a plan with its shared
// expectation.
WritePlan MakeWritePlan(int writers, uint32_t per_writer, int chunk,
                        std::shared_ptr<const ValueSource> values);

// RunWrites(factory, env, plan): opens a store, writes plan.writers streams
// of plan.per_writer records from as many threads, reads them back and
// checks them, closes the store and measures its files. Metrics: kRate,
// kTouchRate and kReplayRate (if timed), kBytesPerRecord, and latencies if
// timed.
absl::StatusOr<Metrics> RunWrites(const StoreFactory& factory, const RunEnv& env,
                                  const WritePlan& plan);

// RunLifetimes(factory, env, plan, lives): what a test pays for a store of its
// own, `lives` times: open a new store in a directory of its own, write the
// plan's one stream with one writer, read it back, close the store. Each
// read-back is checked (after the clock stops) and each directory removed.
// Metrics: kRate (lives per second) and the latency of one life (p50, p99,
// ...).
absl::StatusOr<Metrics> RunLifetimes(const StoreFactory& factory, const RunEnv& env,
                                     const WritePlan& plan, int lives);

// Queue: a message queue with no storage: one sender thread, one receiver.
class Queue {
 public:
  virtual ~Queue() = default;
  // Send(message): on the sender's thread.
  virtual absl::Status Send(std::string_view message) = 0;
  // Receive(on_message): on the receiver's thread; waits up to a few seconds
  // for messages and passes each to on_message. kDeadlineExceeded when none
  // came.
  virtual absl::Status Receive(absl::FunctionRef<void(std::string_view)> on_message) = 0;
};

// RunTransfer(queue, plan): sends one stream of plan.per_writer records
// (key then value in one message) and receives them on another thread.
// Metrics: kRate, from the first send to the last receive.
absl::StatusOr<Metrics> RunTransfer(Queue& queue, const WritePlan& plan);

struct LatencyPlan {
  int64_t messages = 0;
  int64_t rate_per_s = 100'000;
  size_t message_size = 100;
  int64_t warmup = 1000;  // First messages not counted.
};

// RunLatency(queue, plan): sends plan.messages messages at a fixed rate,
// each carrying its send time, and records the one-way latency of each.
// Metrics: p50, p99, p99.9, max, and kRate (the achieved send rate).
absl::StatusOr<Metrics> RunLatency(Queue& queue, const LatencyPlan& plan);

}  // namespace rill::bench

#endif  // RILL_BENCH_COMPARE_DRIVERS_H_
