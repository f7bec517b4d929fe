// The report: a Markdown section (summary table with ratios and the share
// of the physical limit, the targets, a table per workload with medians
// and ranges, the command and the machine) and the data files the plots
// are drawn from.
//
// Thread-safety: plain functions.
#ifndef RILL_BENCH_COMPARE_REPORT_H_
#define RILL_BENCH_COMPARE_REPORT_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "env.h"
#include "harness.h"
#include "results.h"

namespace rill::bench {

struct ReportInput {
  const std::vector<Workload>* workloads = nullptr;
  const Results* results = nullptr;
  const std::vector<Target>* targets = nullptr;
  std::string command;
  std::string date;
  std::string peer_versions;
  Machine before = {};
  Machine after = {};
  int reps = 1;
  double minutes = 0;
};

// MarkdownReport(in): the generated section of bench/RESULTS.md.
std::string MarkdownReport(const ReportInput& in);

// WritePlotData(in, dir): append_by_size.dat, replay_by_size.dat and
// latency.dat in `dir`, for bench/compare/plots.gp.
absl::Status WritePlotData(const ReportInput& in, const std::string& dir);

}  // namespace rill::bench

#endif  // RILL_BENCH_COMPARE_REPORT_H_
