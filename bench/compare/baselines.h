// The machine's physical limits, measured in the same run as the subjects
// they bound: what the fastest possible code would get from the page cache,
// the device, and the scheduler.
//
// Thread-safety: each call runs on its own.
#ifndef RILL_BENCH_COMPARE_BASELINES_H_
#define RILL_BENCH_COMPARE_BASELINES_H_

#include <cstdint>

#include "absl/status/statusor.h"
#include "drivers.h"
#include "harness.h"

namespace rill::bench {

// How RunFreshMappingCopy prepares the new file's pages.
enum class FreshMapping {
  kFtruncate,  // Sized with ftruncate (sparse); the copy faults pages in.
  kFallocate,  // Space allocated with fallocate; the copy faults pages in.
  // fallocate, and a second thread faults pages in (MADV_POPULATE_WRITE)
  // 1 MiB at a time ahead of the copy, as rill's segments are prepared.
  kPrefaultThread,
};

// RunFreshMappingCopy(env, bytes, how): creates a file, maps it and memcpys
// `bytes` into it in 1 MiB steps -- the cost of appending to new pages. Then
// reads the mapping once, summing its words as a replay checks them.
// Metrics: kWriteBytesRate, kReadBytesRate.
absl::StatusOr<Metrics> RunFreshMappingCopy(const RunEnv& env, uint64_t bytes, FreshMapping how);

// RunFreshFileWrites(env, bytes): write() of `bytes` to a new file in 1 MiB
// steps, no sync -- how LMDB, SQLite and RocksDB's WAL reach the page
// cache. Metrics: kWriteBytesRate.
absl::StatusOr<Metrics> RunFreshFileWrites(const RunEnv& env, uint64_t bytes);

// RunSyncedWrites(env, count, size): appends `count` blocks of `size` bytes
// to a new file, each followed by fdatasync. Metrics: latency of each
// write+fdatasync, kRate (blocks per second), kWriteBytesRate.
absl::StatusOr<Metrics> RunSyncedWrites(const RunEnv& env, int64_t count, size_t size);

// RunSpscLatency(plan): RunLatency over a bare lock-free single-producer
// single-consumer ring whose consumer spins.
absl::StatusOr<Metrics> RunSpscLatency(const LatencyPlan& plan);

// RunFutexRoundTrip(round_trips): two threads wake each other through
// futexes, each sleeping until woken. Metrics: latencies of the round trip.
absl::StatusOr<Metrics> RunFutexRoundTrip(int64_t round_trips);

}  // namespace rill::bench

#endif  // RILL_BENCH_COMPARE_BASELINES_H_
