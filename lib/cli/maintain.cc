// rill maintain: one maintenance pass now, in the foreground -- what the
// library's background threads do every maintenance_interval -- and what it
// removed.
#include <cstdio>
#include <memory>
#include <string>

#include "CLI/CLI.hpp"
#include "absl/strings/str_cat.h"
#include "cli/commands.h"
#include "cli/common.h"
#include "cli/text.h"

namespace rill::cli {
namespace {

struct MaintainOptions {
  std::string topic;  // Empty: every topic.
};

// Removed(what, segments, records, bytes): one line of the summary.
std::string Removed(const char* what, int64_t segments, int64_t records, uint64_t bytes) {
  return absl::StrCat(what, ": ", segments, " segments, ", records, " records, ",
                      HumanBytes(static_cast<double>(bytes)), "\n");
}

int Maintain(const Context& ctx, const MaintainOptions& options) {
  // No background threads: the pass, and the syncs it causes, run here.
  absl::StatusOr<std::unique_ptr<Log>> log = OpenLog(ctx, LogAccess::kExisting, 0);
  if (!log.ok()) return Fail(log.status());
  absl::StatusOr<MaintenanceReport> report = options.topic.empty()
                                                 ? (*log)->RunMaintenance()
                                                 : (*log)->RunMaintenance(options.topic);
  if (!report.ok()) return Fail(report.status());
  if (absl::Status s = (*log)->Close(); !s.ok()) return Fail(s);

  const RemovalCounts& r = report->removed;
  std::string out;
  absl::StrAppend(&out, "rolled: ", report->segments_rolled, " active segments\n");
  absl::StrAppend(&out, Removed("expired (retention.ms, retention.bytes)", r.expired_segments,
                                r.expired_records, r.expired_bytes));
  absl::StrAppend(&out, Removed("dropped (quota.bytes, disk budget)", r.dropped_segments,
                                r.dropped_records, r.dropped_bytes));
  absl::StrAppend(&out, "compacted: ", r.compacted_segments, " segments rewritten, ",
                  r.compacted_records, " records and ",
                  HumanBytes(static_cast<double>(r.compacted_bytes)), " removed, ",
                  HumanBytes(static_cast<double>(report->compaction_bytes_read)), " read\n");
  absl::StrAppend(&out, "on disk: ", HumanBytes(static_cast<double>(report->disk_bytes)));
  if (report->disk_budget_bytes > 0) {
    absl::StrAppend(&out, " of a ", HumanBytes(static_cast<double>(report->disk_budget_bytes)),
                    " budget");
  }
  out += "\n";
  std::fwrite(out.data(), 1, out.size(), stdout);
  for (const std::string& e : report->errors) PrintError(e);
  if (std::fflush(stdout) != 0) return Fail("writing to stdout failed");
  return report->errors.empty() ? kExitOk : kExitFailure;
}

}  // namespace

void AddMaintainCommand(CLI::App& app, Context& ctx) {
  auto options = std::make_shared<MaintainOptions>();
  CLI::App* cmd = app.add_subcommand(
      "maintain", "Run retention, quotas and compaction now, and say what was removed");
  cmd->add_option("--topic", options->topic,
                  "Only this topic's retention, quota and compaction (the log's disk budget "
                  "is kept as always)");
  cmd->footer(
      "Runs one maintenance pass in the foreground, as the library's background threads do "
      "every maintenance_interval: rolls segments past segment.ms, deletes segments past "
      "retention.ms or retention.bytes, compacts topics with cleanup.policy=compact, and "
      "deletes the oldest segments of drop-oldest topics over their quota.bytes. Exits 1 "
      "if any step failed (the others still ran).");
  cmd->callback([&ctx, options] { ctx.action = [&ctx, options] { return Maintain(ctx, *options); }; });
}

}  // namespace rill::cli
