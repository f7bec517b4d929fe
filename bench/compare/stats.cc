#include "stats.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_format.h"

namespace rill::bench {

double Percentile(const std::vector<double>& sorted, double p) {
  if (sorted.empty()) return 0;
  const double rank = std::ceil(p / 100 * static_cast<double>(sorted.size()));
  const size_t i = static_cast<size_t>(std::clamp(rank, 1.0, static_cast<double>(sorted.size())));
  return sorted[i - 1];
}

Metrics LatencyMetrics(std::vector<int64_t>& ns) {
  std::sort(ns.begin(), ns.end());
  std::vector<double> us(ns.size());
  for (size_t i = 0; i < ns.size(); ++i) us[i] = static_cast<double>(ns[i]) / 1000;
  return {{kP50, Percentile(us, 50)},
          {kP99, Percentile(us, 99)},
          {kP999, Percentile(us, 99.9)},
          {kMax, us.empty() ? 0 : us.back()}};
}

std::string FormatNumber(double v) {
  const double a = std::fabs(v);
  if (a >= 100) return absl::StrFormat("%.0f", v);
  if (a >= 10) return absl::StrFormat("%.1f", v);
  if (a >= 0.1 || a == 0) return absl::StrFormat("%.2f", v);
  return absl::StrFormat("%.2g", v);
}

Spread SpreadOf(std::vector<double> values) {
  Spread s;
  if (values.empty()) return s;
  std::sort(values.begin(), values.end());
  const size_t n = values.size();
  s.n = static_cast<int>(n);
  s.median = n % 2 == 1 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
  s.min = values.front();
  s.max = values.back();
  return s;
}

}  // namespace rill::bench
