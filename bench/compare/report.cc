#include "report.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <optional>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "records.h"

namespace rill::bench {
namespace {

std::string Num(double v) { return FormatNumber(v); }

std::string WithRange(const Spread& s, double scale) {
  if (s.n <= 1 || s.min == s.max) return Num(s.median * scale);
  return absl::StrCat(Num(s.median * scale), " [", Num(s.min * scale), "–", Num(s.max * scale),
                      "]");
}

std::vector<std::string> GroupsOf(const Workload& w) {
  std::vector<std::string> groups;
  for (const Subject& s : w.subjects) {
    if (std::find(groups.begin(), groups.end(), s.group) == groups.end()) groups.push_back(s.group);
  }
  return groups;
}

std::vector<std::string> PeerColumns(const std::vector<Workload>& workloads) {
  std::vector<std::string> columns;
  for (const Workload& w : workloads) {
    for (const Subject& s : w.subjects) {
      if (s.column == kRill || s.column == kLimit) continue;
      if (std::find(columns.begin(), columns.end(), s.column) == columns.end()) {
        columns.push_back(s.column);
      }
    }
  }
  return columns;
}

bool Better(const MetricSpec& m, double a, double b) { return m.higher_is_better ? a > b : a < b; }

// What a column of the summary shows for one group and metric.
struct ColumnValue {
  std::string text = {};             // When there is no value: why.
  std::optional<double> value = {};  // Median of the best subject.
};

ColumnValue BestOf(const Workload& w, const std::string& group, const std::string& column,
                   const MetricSpec& m, const Results& results) {
  ColumnValue out{.text = "—"};
  bool any = false;
  for (const Subject& s : w.subjects) {
    if (s.group != group || s.column != column) continue;
    if (!any) out.text = s.unavailable.empty() ? "cannot" : s.unavailable;
    any = true;
    if (!s.unavailable.empty()) continue;
    const SubjectResults* r = results.Find(w.id, s.name);
    if (r != nullptr && !r->errors.empty() && r->runs.empty()) {
      out.text = "error";
      continue;
    }
    if (std::optional<double> v = results.Median(w.id, s.name, m.key)) {
      if (!out.value || Better(m, *v, *out.value)) out.value = v;
    } else if (r == nullptr) {
      out.text = "not run";
    }
  }
  return out;
}

// LimitFor: the physical limit for subject `rill` in the metric's units.
std::optional<double> LimitFor(const Workload& w, const std::string& group, const MetricSpec& m,
                               const std::string& rill, const Results& results) {
  if (m.limit == LimitRule::kNone) return std::nullopt;
  std::optional<double> best;
  for (const Subject& s : w.subjects) {
    if (s.group != group || s.column != kLimit) continue;
    std::optional<double> v = results.Median(w.id, s.name, m.limit_key);
    if (!v) continue;
    const bool better =
        m.limit == LimitRule::kBytes ? *v > best.value_or(0) : !best || Better(m, *v, *best);
    if (better) best = v;
  }
  if (!best || m.limit == LimitRule::kSame) return best;
  std::optional<double> bytes = results.Median(w.id, rill, kBytesPerRecord);
  if (!bytes || *bytes <= 0) return std::nullopt;
  return *best / *bytes;
}

std::string MachineLine(const Machine& m) {
  return absl::StrFormat(
      "load average %.2f / %.2f / %.2f (1 / 5 / 15 min), CPUs %.0f %% busy over a second, %d "
      "compiler processes visible",
      m.load1, m.load5, m.load15, m.busy_percent, m.compilers_running);
}

void Summary(const ReportInput& in, std::string* out) {
  const std::vector<std::string> peers = PeerColumns(*in.workloads);
  absl::StrAppend(out, "| workload · metric | rill | ", absl::StrJoin(peers, " | "),
                  " | physical limit | rill vs limit |\n|---|---:|");
  for (size_t i = 0; i < peers.size(); ++i) absl::StrAppend(out, "---:|");
  absl::StrAppend(out, "---:|---:|\n");
  for (const Workload& w : *in.workloads) {
    const std::vector<std::string> groups = GroupsOf(w);
    for (const std::string& group : groups) {
      std::vector<const Subject*> rills;
      for (const Subject& s : w.subjects) {
        if (s.group == group && s.column == kRill) rills.push_back(&s);
      }
      for (const Subject* rill : rills) {
        for (const MetricSpec& m : w.metrics) {
          if (!m.summary) continue;
          std::string what = w.id;
          if (groups.size() > 1) absl::StrAppend(&what, " · ", group);
          if (rills.size() > 1) absl::StrAppend(&what, " · ", rill->name);
          absl::StrAppend(&what, " · ", m.label, " (", m.unit, ")");
          const std::optional<double> mine = in.results->Median(w.id, rill->name, m.key);
          const SubjectResults* r = in.results->Find(w.id, rill->name);
          const char* missing = r != nullptr && !r->errors.empty() ? "error" : "not run";
          absl::StrAppend(out, "| ", what, " | **", mine ? Num(*mine * m.scale) : missing, "** |");
          for (const std::string& column : peers) {
            ColumnValue v = BestOf(w, group, column, m, *in.results);
            if (!v.value) {
              absl::StrAppend(out, " ", v.text, " |");
              continue;
            }
            std::string ratio;
            if (mine && *v.value > 0) ratio = absl::StrFormat(" (×%s)", Num(*mine / *v.value));
            absl::StrAppend(out, " ", Num(*v.value * m.scale), ratio, " |");
          }
          const std::optional<double> limit = LimitFor(w, group, m, rill->name, *in.results);
          if (!limit || !mine || *limit <= 0) {
            absl::StrAppend(out, " — | — |\n");
            continue;
          }
          const std::string share = m.higher_is_better
                                        ? absl::StrFormat("%.0f %%", 100 * *mine / *limit)
                                        : absl::StrFormat("×%s", Num(*mine / *limit));
          absl::StrAppend(out, " ", Num(*limit * m.scale), " | ", share, " |\n");
        }
      }
    }
  }
}

void Targets(const ReportInput& in, std::string* out) {
  absl::StrAppend(out, "| target | measured (medians) | met |\n|---|---|---|\n");
  for (const Target& t : *in.targets) {
    const TargetOutcome o = t.check(*in.results);
    const char* met = o.state == TargetOutcome::kMet      ? "yes"
                      : o.state == TargetOutcome::kMissed ? "**no**"
                                                          : "not measured";
    absl::StrAppend(out, "| ", t.text, " | ", o.measured, " | ", met, " |\n");
  }
}

void Details(const ReportInput& in, const Workload& w, std::string* out) {
  absl::StrAppend(out, "#### ", w.title, "\n\n", w.promise, "\n\n");
  for (const std::string& group : GroupsOf(w)) {
    if (!group.empty() && GroupsOf(w).size() > 1) absl::StrAppend(out, "*", group, "*\n\n");
    absl::StrAppend(out, "| subject | settings | promises |");
    for (const MetricSpec& m : w.metrics) absl::StrAppend(out, " ", m.label, " (", m.unit, ") |");
    absl::StrAppend(out, "\n|---|---|---|");
    for (size_t i = 0; i < w.metrics.size(); ++i) absl::StrAppend(out, "---:|");
    absl::StrAppend(out, "\n");
    for (const Subject& s : w.subjects) {
      if (s.group != group) continue;
      absl::StrAppend(out, "| ", s.column == kRill ? absl::StrCat("**", s.name, "**") : s.name,
                      " | ", s.settings, " | ", s.promises, " |");
      const SubjectResults* r = in.results->Find(w.id, s.name);
      for (const MetricSpec& m : w.metrics) {
        std::optional<Spread> v = in.results->Get(w.id, s.name, m.key);
        if (v) {
          absl::StrAppend(out, " ", WithRange(*v, m.scale), " |");
        } else if (!s.unavailable.empty()) {
          absl::StrAppend(out, " ", s.unavailable, " |");
        } else if (r != nullptr && !r->errors.empty()) {
          absl::StrAppend(out, " error |");
        } else {
          absl::StrAppend(out, " — |");
        }
      }
      absl::StrAppend(out, "\n");
      if (r != nullptr) {
        for (const std::string& e : r->errors) absl::StrAppend(out, "\n> ", s.name, ": ", e, "\n");
      }
    }
    absl::StrAppend(out, "\n");
  }
  // Limits reported in bytes per second.
  for (const Subject& s : w.subjects) {
    if (s.column != kLimit) continue;
    for (const char* key : {kWriteBytesRate, kReadBytesRate}) {
      if (std::optional<Spread> v = in.results->Get(w.id, s.name, key)) {
        absl::StrAppend(out, "- ", s.name, ": ", key == kWriteBytesRate ? "write " : "read ",
                        WithRange(*v, 1e-9), " GB/s\n");
      }
    }
  }
  absl::StrAppend(out, "\n");
}

}  // namespace

std::string MarkdownReport(const ReportInput& in) {
  std::string out;
  absl::StrAppend(&out, "Produced by `", in.command, "` on ", in.date, " in ",
                  absl::StrFormat("%.0f", in.minutes), " minutes.\n\n");
  const Machine& m = in.before;
  absl::StrAppend(&out, "- Machine: ", m.cpus, " CPUs (`nproc`), ", m.cpu_model, ", ", m.memory,
                  " RAM, ", m.kernel, "; data directory on ", m.filesystem, ".\n");
  absl::StrAppend(&out, "- Before the run: ", MachineLine(in.before),
                  ". After: ", MachineLine(in.after), ".\n");
  absl::StrAppend(&out, "- Peers: ", in.peer_versions, ".\n");
  absl::StrAppend(&out, "- Each figure is the median of ", in.reps,
                  in.reps == 1 ? " run" : " interleaved runs",
                  " (rill, then each peer, then the limit, then again); ranges are "
                  "[min–max].\n\n");

  absl::StrAppend(&out, "### Summary\n\n",
                  "Each peer's best setting for the row, with rill ÷ peer in parentheses (above 1 "
                  "rill is faster for rates; below 1 rill is quicker for latencies). *rill vs "
                  "limit*: rill's share of the physical limit for rates (the limit converted to "
                  "records through rill's bytes per record), or rill's latency as a multiple of "
                  "the limit's.\n\n");
  Summary(in, &out);
  absl::StrAppend(&out, "\n### Targets\n\n");
  Targets(in, &out);
  absl::StrAppend(&out, "\n### Plots\n\n",
                  "![Append and replay throughput by value size](results_throughput.png)\n\n",
                  "![Thread-to-thread latency percentiles](results_latency.png)\n\n",
                  "### Details\n\n");
  for (const Workload& w : *in.workloads) Details(in, w, &out);
  return out;
}

namespace {

// The subject of `column` in a size workload, and the payload bytes of its
// records.
struct SizePoint {
  const char* workload;
  size_t record_bytes;
};
constexpr SizePoint kSizes[] = {{"append", kKeySize + 100},
                                {"values-1k", kKeySize + 1024},
                                {"values-64k", kKeySize + (64 << 10)}};
struct Series {
  const char* title;
  const char* subject;
};
constexpr Series kSizeSeries[] = {{"rill", "rill"},
                                  {"rill by write", "rill by write"},
                                  {"LMDB NOSYNC", "LMDB NOSYNC"},
                                  {"RocksDB", "RocksDB"},
                                  {"SQLite OFF", "SQLite OFF"},
                                  {"Redis everysec", "Redis everysec"},
                                  {"memcpy to new mapping", "memcpy to new mapping (fallocate)"},
                                  {"write() to new file", "write() to new file"}};

std::string Value(std::optional<double> v) { return v ? absl::StrFormat("%.4g", *v) : "NaN"; }

absl::Status WriteFile(const std::string& path, const std::string& text) {
  std::ofstream f(path);
  f << text;
  f.close();
  if (!f) return absl::InternalError(absl::StrCat("cannot write ", path));
  return absl::OkStatus();
}

}  // namespace

absl::Status WritePlotData(const ReportInput& in, const std::string& dir) {
  for (bool replay : {false, true}) {
    std::string text = "size";
    for (const Series& s : kSizeSeries) absl::StrAppend(&text, " \"", s.title, "\"");
    absl::StrAppend(&text, "\n");
    for (const SizePoint& p : kSizes) {
      absl::StrAppend(&text, p.record_bytes);
      for (const Series& s : kSizeSeries) {
        const std::string_view subject(s.subject);
        const bool limit = subject.starts_with("memcpy") || subject.starts_with("write()");
        std::optional<double> v;
        if (limit) {
          v = in.results->Median(p.workload, s.subject, replay ? kReadBytesRate : kWriteBytesRate);
        } else if (std::optional<double> rate =
                       in.results->Median(p.workload, s.subject, replay ? kReplayRate : kRate)) {
          v = *rate * static_cast<double>(p.record_bytes);
        }
        if (v) *v /= 1e6;  // MB/s of keys and values.
        absl::StrAppend(&text, " ", Value(v));
      }
      absl::StrAppend(&text, "\n");
    }
    if (absl::Status s = WriteFile(
            absl::StrCat(dir, replay ? "/replay_by_size.dat" : "/append_by_size.dat"), text);
        !s.ok()) {
      return s;
    }
  }

  const Workload* latency = nullptr;
  for (const Workload& w : *in.workloads) {
    if (w.id == "latency") latency = &w;
  }
  if (latency == nullptr) return absl::OkStatus();
  std::string text = "percentile";
  for (const Subject& s : latency->subjects) absl::StrAppend(&text, " \"", s.name, "\"");
  absl::StrAppend(&text, "\n");
  for (const auto& [label, key] : {std::pair{"p50", kP50}, std::pair{"p99", kP99},
                                   std::pair{"p99.9", kP999}, std::pair{"max", kMax}}) {
    absl::StrAppend(&text, label);
    for (const Subject& s : latency->subjects) {
      absl::StrAppend(&text, " ", Value(in.results->Median(latency->id, s.name, key)));
    }
    absl::StrAppend(&text, "\n");
  }
  return WriteFile(dir + "/latency.dat", text);
}

}  // namespace rill::bench
