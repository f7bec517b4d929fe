// The comparison harness's vocabulary: a Workload is one job (append 10M
// records, replay them, ...) done by several Subjects -- rill, each peer in
// each of its settings, and the physical limit of the machine -- each run
// returning named Metrics.
//
// Thread-safety: plain values.
#ifndef RILL_BENCH_COMPARE_HARNESS_H_
#define RILL_BENCH_COMPARE_HARNESS_H_

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace rill::bench {

// Metrics: what one run measured, by key (see the kMetric* names).
using Metrics = std::map<std::string, double>;

// Metric keys. Rates are per second; latencies in microseconds; bytes are
// bytes.
inline constexpr char kRate[] = "rate";  // Records written per second.
// Records read back per second: touching each record (its key and the first
// bytes of its value), and reading every byte (hashing it).
inline constexpr char kTouchRate[] = "touch_rate";
inline constexpr char kReplayRate[] = "replay_rate";
inline constexpr char kBytesPerRecord[] = "bytes_per_record";  // On disk, after close.
inline constexpr char kWriteBytesRate[] = "write_bytes_rate";  // Limits: bytes per second.
inline constexpr char kReadBytesRate[] = "read_bytes_rate";    // Limits: bytes per second.
inline constexpr char kP50[] = "p50_us";
inline constexpr char kP99[] = "p99_us";
inline constexpr char kP999[] = "p999_us";
inline constexpr char kMax[] = "max_us";

// RunEnv: what the harness gives one run.
struct RunEnv {
  // An empty directory of the run's own, removed after it.
  std::string dir = {};
};

using RunFn = std::function<absl::StatusOr<Metrics>(const RunEnv&)>;

// Column names of the summary table.
inline constexpr char kRill[] = "rill";
inline constexpr char kLimit[] = "limit";

// Subject: one contender in a workload.
struct Subject {
  // Summary column: kRill, a peer's name ("LMDB"), or kLimit.
  std::string column = {};
  // Unique within the workload: "LMDB MDB_NOSYNC", "rill".
  std::string name = {};
  // Comparison group within the workload: subjects are compared only with
  // subjects of the same group (e.g. "1 thread" and "8 threads").
  std::string group = {};
  // Settings, as a reader would configure them, and what the subject
  // promises under them (durability, ordering).
  std::string settings = {};
  std::string promises = {};
  // Why it does not run, if it does not: "not built", "cannot: ...".
  std::string unavailable = {};
  RunFn run = {};
};

// How a metric of rill relates to the physical limit of its group.
enum class LimitRule {
  kNone,
  // The limit subject reports the same metric.
  kSame,
  // The limit subject reports bytes per second (`limit_key`); the subject's
  // rate converts to bytes per second through its bytes_per_record.
  kBytes,
};

struct MetricSpec {
  std::string key = {};
  std::string label = {};  // For tables: "append", "replay", "p50".
  std::string unit = {};   // Unit after scaling: "M rec/s", "µs".
  double scale = 1;        // Shown value = metric * scale.
  bool higher_is_better = true;
  // Whether the metric gets a row in the summary table.
  bool summary = true;
  LimitRule limit = LimitRule::kNone;
  std::string limit_key = {};
};

struct Workload {
  std::string id = {};     // For --only: "append", "latency".
  std::string title = {};  // "Append 10M records of 8 + 100 bytes, no sync".
  // What every subject is asked to do and keep, so that the comparison is
  // fair; anything a subject promises beyond or short of it is in its row.
  std::string promise = {};
  std::vector<MetricSpec> metrics = {};
  std::vector<Subject> subjects = {};
  // The workload writes enough to depend on the cost of fresh memory: each
  // run starts only once the memory freed by the one before has settled
  // (see --settle in main.cc).
  bool settle = false;
};

}  // namespace rill::bench

#endif  // RILL_BENCH_COMPARE_HARNESS_H_
