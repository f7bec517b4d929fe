// rill stats: the log's state in Prometheus' text exposition format, for a
// node exporter's textfile collector or a scrape through a small wrapper.
#include <cstdio>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/strings/str_cat.h"
#include "cli/commands.h"
#include "cli/common.h"
#include "cli/text.h"

namespace rill::cli {
namespace {

// A gauge with one sample per partition.
struct PartitionGauge {
  const char* name;
  const char* help;
  std::function<int64_t(const PartitionDescription&)> value;
};

// A gauge with one sample per group and partition.
struct GroupGauge {
  const char* name;
  const char* help;
  int64_t (*value)(const GroupPartition&);  // Negative: no sample.
};

// AppendGroupGauges(groups, out): per group and partition, the committed
// offset and the lag (end offset - committed), where a commit exists.
void AppendGroupGauges(const std::vector<GroupDescription>& groups, std::string* out) {
  absl::StrAppend(out, "# HELP rill_groups Consumer groups with committed offsets.\n",
                  "# TYPE rill_groups gauge\nrill_groups ", groups.size(), "\n");
  const GroupGauge gauges[] = {
      {"rill_group_committed_offset", "The offset the group committed for the partition.",
       [](const GroupPartition& p) { return p.committed_offset; }},
      {"rill_group_lag", "Records of the partition after the group's committed offset.",
       [](const GroupPartition& p) { return p.lag; }},
  };
  for (const GroupGauge& gauge : gauges) {
    absl::StrAppend(out, "# HELP ", gauge.name, " ", gauge.help, "\n# TYPE ", gauge.name,
                    " gauge\n");
    for (const GroupDescription& g : groups) {
      for (const GroupPartition& p : g.partitions) {
        const int64_t value = gauge.value(p);
        if (value < 0) continue;
        absl::StrAppend(out, gauge.name, "{group=\"", PrometheusLabel(g.group), "\",topic=\"",
                        PrometheusLabel(p.partition.topic), "\",partition=\"",
                        p.partition.partition, "\"} ", value, "\n");
      }
    }
  }
}

// AppendTopicDisk(topics, disk_bytes, out): what the log and each topic
// take on the device, the topics' quotas, and what retention, quotas and
// compaction removed.
void AppendTopicDisk(const std::vector<TopicDescription>& topics, uint64_t disk_bytes,
                     std::string* out) {
  absl::StrAppend(out,
                  "# HELP rill_log_disk_bytes Bytes the log's files take on the device.\n"
                  "# TYPE rill_log_disk_bytes gauge\nrill_log_disk_bytes ",
                  disk_bytes, "\n");
  absl::StrAppend(out,
                  "# HELP rill_topic_disk_bytes Bytes the topic's files take on the device "
                  "(what quota.bytes limits).\n# TYPE rill_topic_disk_bytes gauge\n");
  for (const TopicDescription& t : topics) {
    absl::StrAppend(out, "rill_topic_disk_bytes{topic=\"", PrometheusLabel(t.name), "\"} ",
                    t.disk_bytes, "\n");
  }
  absl::StrAppend(out,
                  "# HELP rill_topic_quota_bytes The topic's quota.bytes, where it has one.\n"
                  "# TYPE rill_topic_quota_bytes gauge\n");
  for (const TopicDescription& t : topics) {
    if (t.config.quota.bytes < 0) continue;
    absl::StrAppend(out, "rill_topic_quota_bytes{topic=\"", PrometheusLabel(t.name), "\"} ",
                    t.config.quota.bytes, "\n");
  }
  // Counters since the log was opened: by this command they count what the
  // open itself removed, in a program that embeds rill what its log has.
  struct Cause {
    const char* name;
    int64_t RemovalCounts::*records;
    uint64_t RemovalCounts::*bytes;
  };
  const Cause causes[] = {
      {"retention", &RemovalCounts::expired_records, &RemovalCounts::expired_bytes},
      {"quota", &RemovalCounts::dropped_records, &RemovalCounts::dropped_bytes},
      {"compaction", &RemovalCounts::compacted_records, &RemovalCounts::compacted_bytes},
  };
  absl::StrAppend(out,
                  "# HELP rill_topic_removed_records_total Records removed since the log was "
                  "opened, by cause (quota: dropped to keep quota.bytes or the disk budget).\n"
                  "# TYPE rill_topic_removed_records_total counter\n");
  for (const TopicDescription& t : topics) {
    for (const Cause& c : causes) {
      absl::StrAppend(out, "rill_topic_removed_records_total{topic=\"", PrometheusLabel(t.name),
                      "\",cause=\"", c.name, "\"} ", t.removed.*c.records, "\n");
    }
  }
  absl::StrAppend(out,
                  "# HELP rill_topic_removed_bytes_total Batch bytes removed since the log was "
                  "opened, by cause.\n# TYPE rill_topic_removed_bytes_total counter\n");
  for (const TopicDescription& t : topics) {
    for (const Cause& c : causes) {
      absl::StrAppend(out, "rill_topic_removed_bytes_total{topic=\"", PrometheusLabel(t.name),
                      "\",cause=\"", c.name, "\"} ", t.removed.*c.bytes, "\n");
    }
  }
}

int Stats(const Context& ctx) {
  absl::StatusOr<std::unique_ptr<Log>> log = OpenLog(ctx, LogAccess::kExisting, 0);
  if (!log.ok()) return Fail(log.status());
  std::vector<TopicDescription> topics;
  for (const std::string& name : (*log)->ListTopics()) {
    absl::StatusOr<TopicDescription> d = (*log)->DescribeTopic(name);
    if (!d.ok()) return Fail(d.status());
    topics.push_back(*std::move(d));
  }
  std::vector<GroupDescription> groups;
  for (const std::string& name : (*log)->ListGroups()) {
    absl::StatusOr<GroupDescription> d = (*log)->DescribeGroup(name);
    if (!d.ok()) return Fail(d.status());
    groups.push_back(*std::move(d));
  }
  const uint64_t disk_bytes = (*log)->DiskBytes();
  if (absl::Status s = (*log)->Close(); !s.ok()) return Fail(s);

  std::string out;
  absl::StrAppend(&out, "# HELP rill_topics Topics in the log.\n# TYPE rill_topics gauge\n",
                  "rill_topics ", topics.size(), "\n");
  absl::StrAppend(&out, "# HELP rill_topic_partitions Partitions of the topic.\n",
                  "# TYPE rill_topic_partitions gauge\n");
  for (const TopicDescription& t : topics) {
    absl::StrAppend(&out, "rill_topic_partitions{topic=\"", PrometheusLabel(t.name), "\"} ",
                    t.partitions.size(), "\n");
  }
  const PartitionGauge gauges[] = {
      {"rill_partition_start_offset", "The first offset still in the partition.",
       [](const PartitionDescription& p) { return static_cast<int64_t>(p.start_offset); }},
      {"rill_partition_end_offset", "The offset the partition's next record will get.",
       [](const PartitionDescription& p) { return static_cast<int64_t>(p.end_offset); }},
      {"rill_partition_bytes", "Bytes of record batches in the partition's segments.",
       [](const PartitionDescription& p) { return static_cast<int64_t>(p.bytes); }},
      {"rill_partition_segments", "Segment files of the partition.",
       [](const PartitionDescription& p) { return static_cast<int64_t>(p.segments); }},
  };
  for (const PartitionGauge& gauge : gauges) {
    absl::StrAppend(&out, "# HELP ", gauge.name, " ", gauge.help, "\n# TYPE ", gauge.name,
                    " gauge\n");
    for (const TopicDescription& t : topics) {
      for (const PartitionDescription& p : t.partitions) {
        absl::StrAppend(&out, gauge.name, "{topic=\"", PrometheusLabel(t.name), "\",partition=\"",
                        p.partition, "\"} ", gauge.value(p), "\n");
      }
    }
  }
  AppendTopicDisk(topics, disk_bytes, &out);
  AppendGroupGauges(groups, &out);
  std::fwrite(out.data(), 1, out.size(), stdout);
  return std::fflush(stdout) == 0 ? kExitOk : Fail("writing to stdout failed");
}

}  // namespace

void AddStatsCommand(CLI::App& app, Context& ctx) {
  app.add_subcommand("stats", "Print gauges per topic and partition, for Prometheus")
      ->footer(
          "Prints, in Prometheus' text exposition format, rill_topics, rill_topic_partitions, "
          "per partition rill_partition_start_offset, rill_partition_end_offset, "
          "rill_partition_bytes and rill_partition_segments, rill_groups, and per group and "
          "partition rill_group_committed_offset and rill_group_lag; rill_log_disk_bytes, per "
          "topic rill_topic_disk_bytes, rill_topic_quota_bytes and, by cause (retention, "
          "quota, compaction), rill_topic_removed_records_total and "
          "rill_topic_removed_bytes_total.")
      ->callback([&ctx] { ctx.action = [&ctx] { return Stats(ctx); }; });
}

}  // namespace rill::cli
