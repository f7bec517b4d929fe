// Results: every run's metrics, by workload and subject, and the targets
// rill is held to, checked against their medians.
//
// Thread-safety: not thread-safe; the harness runs one subject at a time.
#ifndef RILL_BENCH_COMPARE_RESULTS_H_
#define RILL_BENCH_COMPARE_RESULTS_H_

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "harness.h"
#include "stats.h"

namespace rill::bench {

struct SubjectResults {
  std::vector<Metrics> runs;
  std::vector<std::string> errors;
};

class Results {
 public:
  // Add(workload, subject, result): one run's outcome.
  void Add(const std::string& workload, const std::string& subject,
           const absl::StatusOr<Metrics>& result);

  // Find: nullptr if the subject never ran.
  const SubjectResults* Find(const std::string& workload, const std::string& subject) const;

  // Get(workload, subject, metric): the metric over the subject's runs;
  // nullopt if it has none.
  std::optional<Spread> Get(const std::string& workload, const std::string& subject,
                            const std::string& metric) const;
  std::optional<double> Median(const std::string& workload, const std::string& subject,
                               const std::string& metric) const;

  int errors() const { return errors_; }

 private:
  std::map<std::string, std::map<std::string, SubjectResults>> results_;
  int errors_ = 0;
};

// Target: a figure rill aims at (see bench/RESULTS.md).
struct TargetOutcome {
  enum State { kMet, kMissed, kNotMeasured } state = kNotMeasured;
  std::string measured;  // "5.8 M rec/s", "2.4x LMDB".
};
struct Target {
  std::string text;  // "append, no sync: >= 5 M rec/s"
  std::function<TargetOutcome(const Results&)> check;
};

}  // namespace rill::bench

#endif  // RILL_BENCH_COMPARE_RESULTS_H_
