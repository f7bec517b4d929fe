// Percentiles and medians.
//
// Thread-safety: plain functions.
#ifndef RILL_BENCH_COMPARE_STATS_H_
#define RILL_BENCH_COMPARE_STATS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "harness.h"

namespace rill::bench {

// Percentile(sorted, p): the nearest-rank p-th percentile (0 < p <= 100) of
// an ascending vector; 0 when empty.
double Percentile(const std::vector<double>& sorted, double p);

// LatencyMetrics(ns): p50, p99, p99.9 and max of latencies given in
// nanoseconds, in microseconds (sorts `ns`).
Metrics LatencyMetrics(std::vector<int64_t>& ns);

// Spread: the median and range of one metric over repetitions.
struct Spread {
  double median = 0, min = 0, max = 0;
  int n = 0;
};
Spread SpreadOf(std::vector<double> values);

// FormatNumber(v): three significant digits or so, never an exponent for
// the magnitudes the report shows: "1234", "56.7", "0.89", "0.0093".
std::string FormatNumber(double v);

}  // namespace rill::bench

#endif  // RILL_BENCH_COMPARE_STATS_H_
