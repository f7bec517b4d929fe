// rill_compare: runs the comparison workloads on rill, each peer and the
// machine's physical limits, interleaved over repetitions, and reports
// medians, ranges and ratios (see bench/RESULTS.md).
//
//   rill_compare [--short] [--reps N] [--only ID,ID] [--subjects NAME,NAME] [--markdown FILE]
//                [--plot-data DIR] [--command TEXT] [--list]
//
// Exits non-zero if any run failed, or lost or damaged a record.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "env.h"
#include "report.h"
#include "results.h"
#include "workloads.h"

namespace rill::bench {
namespace {

struct Flags {
  bool quick = false;
  int reps = 3;
  int settle_seconds = 10;
  std::vector<std::string> only;
  std::vector<std::string> subjects;
  std::string markdown;
  std::string plot_data;
  std::string command;
  bool list = false;
};

void Usage() {
  std::fprintf(stderr,
               "usage: rill_compare [--short] [--reps N] [--only ID,ID] [--subjects NAME,NAME]\n"
               "                    [--markdown FILE] [--plot-data DIR] [--command TEXT] [--list]\n"
               "  --short      a few seconds in all, one repetition (CI)\n"
               "  --reps N     interleaved repetitions (default 3)\n"
               "  --settle S   seconds to wait after each run of a workload that writes much,\n"
               "               so the next starts with memory as cold as the first (default\n"
               "               10; 0 with --short)\n"
               "  --only IDS   only these workloads (see --list)\n"
               "  --subjects NAMES  only these subjects (see --list), for profiling\n"
               "  --markdown   write the report section to FILE\n"
               "  --plot-data  write the plots' data files to DIR\n"
               "  --command    the command to name in the report (default: this one)\n"
               "Data directories go under $RILL_BENCH_DIR (default /tmp).\n");
}

bool Parse(int argc, char** argv, Flags* f) {
  bool reps_set = false, settle_set = false;
  std::vector<std::string> args(argv + 1, argv + argc);
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    auto value = [&](std::string* out) {
      if (i + 1 >= args.size()) return false;
      *out = args[++i];
      return true;
    };
    std::string v;
    if (a == "--short") {
      f->quick = true;
    } else if (a == "--list") {
      f->list = true;
    } else if (a == "--reps" && value(&v)) {
      f->reps = std::atoi(v.c_str());
      reps_set = true;
      if (f->reps < 1) return false;
    } else if (a == "--settle" && value(&v)) {
      f->settle_seconds = std::atoi(v.c_str());
      settle_set = true;
    } else if (a == "--only" && value(&v)) {
      f->only = absl::StrSplit(v, ',', absl::SkipEmpty());
    } else if (a == "--subjects" && value(&v)) {
      f->subjects = absl::StrSplit(v, ',', absl::SkipEmpty());
    } else if (a == "--markdown" && value(&v)) {
      f->markdown = v;
    } else if (a == "--plot-data" && value(&v)) {
      f->plot_data = v;
    } else if (a == "--command" && value(&v)) {
      f->command = v;
    } else {
      return false;
    }
  }
  if (f->quick && !reps_set) f->reps = 1;
  if (f->quick && !settle_set) f->settle_seconds = 0;
  if (f->command.empty()) f->command = absl::StrJoin(argv, argv + argc, " ");
  return true;
}

std::string Describe(const Metrics& m) {
  std::vector<std::string> parts;
  for (const auto& [key, value] : m) parts.push_back(absl::StrCat(key, "=", value));
  return absl::StrJoin(parts, " ");
}

// Settle(seconds): waits for the memory the last run freed to go back where
// fresh memory comes from. On a VM that returns freed pages to its host
// (free page reporting), a run that starts right after another reuses its
// pages at several GB/s, while one that starts later faults in pages from
// the host at well under 1 GB/s: without the wait, each subject's figure
// would depend on who ran before it.
void Settle(int seconds) {
  if (seconds > 0) std::this_thread::sleep_for(std::chrono::seconds(seconds));
}

// Run(subject, parent): one run in a directory of its own, removed after.
absl::StatusOr<Metrics> Run(const Subject& subject, const std::string& parent) {
  absl::StatusOr<std::string> dir = MakeScratchDir(parent, "run");
  if (!dir.ok()) return dir.status();
  absl::StatusOr<Metrics> m = subject.run(RunEnv{.dir = *dir});
  if (absl::Status removed = RemoveTree(*dir); !removed.ok() && m.ok()) return removed;
  return m;
}

int Main(int argc, char** argv) {
  Flags flags;
  if (!Parse(argc, argv, &flags)) {
    Usage();
    return 2;
  }
  const Scale scale = flags.quick ? Scale::Short() : Scale();
  std::vector<Workload> workloads = MakeWorkloads(scale);
  if (!flags.only.empty()) {
    std::erase_if(workloads, [&](const Workload& w) {
      return std::find(flags.only.begin(), flags.only.end(), w.id) == flags.only.end();
    });
    if (workloads.empty()) {
      std::fprintf(stderr, "no workload matches --only (see --list)\n");
      return 2;
    }
  }
  if (flags.list) {
    for (const Workload& w : workloads) {
      std::printf("%s: %s\n", w.id.c_str(), w.title.c_str());
      for (const Subject& s : w.subjects) {
        std::printf("  %-34s %s\n", s.name.c_str(),
                    s.unavailable.empty() ? "" : s.unavailable.c_str());
      }
    }
    return 0;
  }

  const std::vector<Target> targets = MakeTargets();
  ReportInput report{.workloads = &workloads,
                     .targets = &targets,
                     .command = flags.command,
                     .date = DateNow(),
                     .peer_versions = PeerVersions(),
                     .before = DescribeMachine(),
                     .reps = flags.reps};
  std::fprintf(stderr,
               "rill_compare: %d CPUs, %s, load %.2f, %.0f%% busy, %d compilers running; "
               "peers: %s\n",
               report.before.cpus, report.before.cpu_model.c_str(), report.before.load1,
               report.before.busy_percent, report.before.compilers_running,
               report.peer_versions.c_str());

  absl::StatusOr<std::string> top = MakeScratchDir(BenchRoot(), "rill-compare");
  if (!top.ok()) {
    std::fprintf(stderr, "%s\n", top.status().ToString().c_str());
    return 1;
  }
  Results results;
  const int64_t start = NowNs();
  for (const Workload& w : workloads) {
    for (int rep = 1; rep <= flags.reps; ++rep) {
      for (const Subject& s : w.subjects) {
        if (s.run == nullptr) continue;
        if (!flags.subjects.empty() && std::find(flags.subjects.begin(), flags.subjects.end(),
                                                 s.name) == flags.subjects.end()) {
          continue;
        }
        const int64_t t0 = NowNs();
        absl::StatusOr<Metrics> m = Run(s, *top);
        const double seconds = static_cast<double>(NowNs() - t0) / 1e9;
        std::fprintf(stderr, "[%s %d/%d] %-32s %6.1fs  %s\n", w.id.c_str(), rep, flags.reps,
                     s.name.c_str(), seconds,
                     m.ok() ? Describe(*m).c_str() : m.status().ToString().c_str());
        results.Add(w.id, s.name, m);
        if (w.settle) Settle(flags.settle_seconds);
      }
    }
  }
  report.minutes = static_cast<double>(NowNs() - start) / 60e9;
  report.after = DescribeMachine();
  report.results = &results;
  (void)RemoveTree(*top);

  const std::string markdown = MarkdownReport(report);
  std::fputs(markdown.c_str(), stdout);
  int rc = 0;
  if (!flags.markdown.empty()) {
    FILE* f = std::fopen(flags.markdown.c_str(), "w");
    if (f == nullptr || std::fputs(markdown.c_str(), f) < 0 || std::fclose(f) != 0) {
      std::fprintf(stderr, "cannot write %s\n", flags.markdown.c_str());
      rc = 1;
    }
  }
  if (!flags.plot_data.empty()) {
    if (absl::Status s = WritePlotData(report, flags.plot_data); !s.ok()) {
      std::fprintf(stderr, "%s\n", s.ToString().c_str());
      rc = 1;
    }
  }
  if (results.errors() > 0) {
    std::fprintf(stderr, "rill_compare: %d runs failed (see the report)\n", results.errors());
    rc = 1;
  }
  return rc;
}

}  // namespace
}  // namespace rill::bench

int main(int argc, char** argv) { return rill::bench::Main(argc, argv); }
