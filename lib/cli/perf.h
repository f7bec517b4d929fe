// What the `rill perf` commands share: how a run's result is printed.
#ifndef RILL_LIB_CLI_PERF_H_
#define RILL_LIB_CLI_PERF_H_

#include <cstdint>
#include <optional>
#include <string>

#include "cli/common.h"

namespace rill::cli {

// Latency percentiles of a run, in microseconds.
struct LatencySummary {
  double p50 = 0;
  double p99 = 0;
  double p999 = 0;
  double max = 0;
};

struct PerfResult {
  int64_t records = 0;
  uint64_t bytes = 0;  // Of keys and values.
  double seconds = 0;
  std::optional<LatencySummary> latency = std::nullopt;
};

// PrintResult(command, result, json): one JSON object on a line (records,
// bytes, seconds, records_per_sec, mb_per_sec, latency_us), or a readable
// line. MB are 10^6 bytes.
void PrintResult(const std::string& command, const PerfResult& result, bool json);

// AddPerfLatencyCommand(perf, ctx): `rill perf latency` (perf_latency.cc).
void AddPerfLatencyCommand(CLI::App& perf, Context& ctx);

}  // namespace rill::cli

#endif  // RILL_LIB_CLI_PERF_H_
