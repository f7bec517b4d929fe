// rill groups list | describe | reset | delete: consumer groups' committed
// offsets and lag, as kafka-consumer-groups shows them.
//
// The command opens the log itself, so the groups it sees have no members:
// members live inside the process that has the log open. What it shows and
// changes are the committed offsets kept in the log.
#include <algorithm>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "cli/commands.h"
#include "cli/common.h"
#include "util/strings.h"

namespace rill::cli {
namespace {

// PrintTable(rows): rows of cells in columns as wide as their widest cell,
// one space apart (the first row is the header).
void PrintTable(const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> widths;
  for (const auto& row : rows) {
    widths.resize(std::max(widths.size(), row.size()));
    for (size_t i = 0; i < row.size(); ++i) widths[i] = std::max(widths[i], row[i].size());
  }
  for (const auto& row : rows) {
    std::string line;
    for (size_t i = 0; i < row.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size()) line += std::string(widths[i] - row[i].size() + 1, ' ');
    }
    std::printf("%s\n", line.c_str());
  }
}

std::string OrDash(int64_t v) { return v < 0 ? "-" : absl::StrCat(v); }

int List(const Context& ctx) {
  absl::StatusOr<std::unique_ptr<Log>> log = OpenLog(ctx, LogAccess::kExisting, 0);
  if (!log.ok()) return Fail(log.status());
  for (const std::string& group : (*log)->ListGroups()) std::printf("%s\n", group.c_str());
  absl::Status closed = (*log)->Close();
  return closed.ok() ? kExitOk : Fail(closed);
}

int Describe(const Context& ctx, const std::string& group) {
  absl::StatusOr<std::unique_ptr<Log>> log = OpenLog(ctx, LogAccess::kExisting, 0);
  if (!log.ok()) return Fail(log.status());
  absl::StatusOr<GroupDescription> d = (*log)->DescribeGroup(group);
  if (!d.ok()) return Fail(d.status());
  std::fprintf(stderr,
               "Consumer group '%s' has no active members: members exist only inside the process "
               "that has the log open. Offsets are those committed.\n",
               group.c_str());
  std::vector<std::vector<std::string>> rows = {
      {"GROUP", "TOPIC", "PARTITION", "CURRENT-OFFSET", "LOG-END-OFFSET", "LAG", "CONSUMER-ID"}};
  for (const GroupPartition& p : d->partitions) {
    rows.push_back({d->group, p.partition.topic, absl::StrCat(p.partition.partition),
                    OrDash(p.committed_offset), OrDash(p.end_offset), OrDash(p.lag),
                    p.member_id.empty() ? "-" : p.member_id});
  }
  PrintTable(rows);
  absl::Status closed = (*log)->Close();
  return closed.ok() ? kExitOk : Fail(closed);
}

struct ResetArgs {
  std::string group;
  std::string to;
  std::vector<std::string> topics;
};

absl::StatusOr<OffsetResetSpec> ParseTo(const std::string& to) {
  if (to == "earliest") return OffsetResetSpec{.to = OffsetResetSpec::To::kEarliest};
  if (to == "latest") return OffsetResetSpec{.to = OffsetResetSpec::To::kLatest};
  const bool time = !to.empty() && to[0] == '@';
  int64_t value;
  if (!absl::SimpleAtoi(ToAbsl(time ? to.substr(1) : to), &value) || value < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("--to ", to,
                     ": expected earliest, latest, an offset, or @ and a time in ms since the "
                     "Unix epoch"));
  }
  return OffsetResetSpec{
      .to = time ? OffsetResetSpec::To::kTimestamp : OffsetResetSpec::To::kOffset, .value = value};
}

int Reset(const Context& ctx, const ResetArgs& args) {
  absl::StatusOr<OffsetResetSpec> spec = ParseTo(args.to);
  if (!spec.ok()) return UsageError(spec.status());
  for (const std::string& topic : args.topics) {
    if (absl::Status s = CheckTopicName(topic); !s.ok()) return UsageError(s);
  }
  spec->topics = args.topics;
  absl::StatusOr<std::unique_ptr<Log>> log = OpenLog(ctx, LogAccess::kExisting, 0);
  if (!log.ok()) return Fail(log.status());
  absl::StatusOr<OffsetMap> offsets = (*log)->ResetGroupOffsets(args.group, *spec);
  if (!offsets.ok()) return Fail(offsets.status());
  if (absl::Status s = (*log)->Close(); !s.ok()) return Fail(s);
  std::vector<std::vector<std::string>> rows = {{"GROUP", "TOPIC", "PARTITION", "NEW-OFFSET"}};
  for (const auto& [tp, committed] : *offsets) {
    rows.push_back(
        {args.group, tp.topic, absl::StrCat(tp.partition), absl::StrCat(committed.offset)});
  }
  PrintTable(rows);
  return kExitOk;
}

int Delete(const Context& ctx, const std::string& group) {
  absl::StatusOr<std::unique_ptr<Log>> log = OpenLog(ctx, LogAccess::kExisting, 0);
  if (!log.ok()) return Fail(log.status());
  if (absl::Status s = (*log)->DeleteGroup(group); !s.ok()) return Fail(s);
  if (absl::Status s = (*log)->Close(); !s.ok()) return Fail(s);
  std::printf("deleted group %s\n", group.c_str());
  return kExitOk;
}

}  // namespace

void AddGroupsCommands(CLI::App& app, Context& ctx) {
  CLI::App* groups = app.add_subcommand(
      "groups", "List consumer groups, show their committed offsets and lag, reset or delete them");
  groups->require_subcommand(1);
  groups->footer(
      "Members of a group exist only inside the process that has the log open; these commands "
      "open the log themselves, so they see and change committed offsets only (and refuse to "
      "change a group while another process has the log).");

  groups->add_subcommand("list", "Print the groups with committed offsets, one a line")
      ->callback([&ctx] { ctx.action = [&ctx] { return List(ctx); }; });

  auto describe_group = std::make_shared<std::string>();
  CLI::App* describe = groups->add_subcommand(
      "describe", "Print a group's committed offset, log-end offset and lag per partition");
  describe->add_option("group", *describe_group, "Group name")->required();
  describe->callback([&ctx, describe_group] {
    ctx.action = [&ctx, describe_group] { return Describe(ctx, *describe_group); };
  });

  auto reset_args = std::make_shared<ResetArgs>();
  CLI::App* reset = groups->add_subcommand("reset", "Move a group's committed offsets");
  reset->add_option("group", reset_args->group, "Group name")->required();
  reset
      ->add_option("--to", reset_args->to,
                   "earliest, latest, an OFFSET (moved into each partition's range), or "
                   "@UNIX_MS (the first record at or after that time)")
      ->required();
  reset->add_option("--topic", reset_args->topics,
                    "Reset every partition of this topic (repeatable; default: the topics the "
                    "group has committed offsets for)");
  reset->callback(
      [&ctx, reset_args] { ctx.action = [&ctx, reset_args] { return Reset(ctx, *reset_args); }; });

  auto delete_group = std::make_shared<std::string>();
  CLI::App* del = groups->add_subcommand("delete", "Delete a group's committed offsets");
  del->add_option("group", *delete_group, "Group name")->required();
  del->callback([&ctx, delete_group] {
    ctx.action = [&ctx, delete_group] { return Delete(ctx, *delete_group); };
  });
}

}  // namespace rill::cli
