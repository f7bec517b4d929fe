#include "results.h"

namespace rill::bench {

void Results::Add(const std::string& workload, const std::string& subject,
                  const absl::StatusOr<Metrics>& result) {
  SubjectResults& r = results_[workload][subject];
  if (result.ok()) {
    r.runs.push_back(*result);
  } else {
    r.errors.push_back(result.status().ToString());
    ++errors_;
  }
}

const SubjectResults* Results::Find(const std::string& workload, const std::string& subject) const {
  auto w = results_.find(workload);
  if (w == results_.end()) return nullptr;
  auto s = w->second.find(subject);
  return s == w->second.end() ? nullptr : &s->second;
}

std::optional<Spread> Results::Get(const std::string& workload, const std::string& subject,
                                   const std::string& metric) const {
  const SubjectResults* r = Find(workload, subject);
  if (r == nullptr) return std::nullopt;
  std::vector<double> values;
  for (const Metrics& m : r->runs) {
    auto it = m.find(metric);
    if (it != m.end()) values.push_back(it->second);
  }
  if (values.empty()) return std::nullopt;
  return SpreadOf(std::move(values));
}

std::optional<double> Results::Median(const std::string& workload, const std::string& subject,
                                      const std::string& metric) const {
  std::optional<Spread> s = Get(workload, subject, metric);
  if (!s) return std::nullopt;
  return s->median;
}

}  // namespace rill::bench
