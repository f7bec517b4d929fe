// The workloads of the comparison, each with rill, the peers that can do
// it, and the physical limit that bounds it; and the targets rill is held
// to.
//
// Thread-safety: plain functions.
#ifndef RILL_BENCH_COMPARE_WORKLOADS_H_
#define RILL_BENCH_COMPARE_WORKLOADS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "harness.h"
#include "results.h"

namespace rill::bench {

// Scale: how much each workload does.
struct Scale {
  uint32_t append_records = 10'000'000;
  uint32_t durable_records = 2'000'000;
  uint32_t sync_each_records = 2'000;   // One thread, one record per sync.
  uint32_t sync_each_per_thread = 2'000; // Each of sync_threads.
  int sync_threads = 8;
  int partitions = 4;
  int64_t latency_messages = 200'000;  // At 100k/s: 2 s.
  uint32_t kib_records = 1'000'000;    // 1 KiB values: 1 GiB.
  uint32_t big_records = 16'000;       // 64 KiB values: 1 GiB.
  uint32_t telemetry_records = 2'000'000;
  int64_t futex_round_trips = 20'000;
  int lifetimes = 1'000;  // Stores opened, written, read and closed.

  // Short(): seconds in all, for CI.
  static Scale Short();
};

std::vector<Workload> MakeWorkloads(const Scale& scale);
std::vector<Target> MakeTargets();

// PeerVersions(): "LMDB 0.9.24, RocksDB 7.8.3, ..." for the peers built.
std::string PeerVersions();

}  // namespace rill::bench

#endif  // RILL_BENCH_COMPARE_WORKLOADS_H_
