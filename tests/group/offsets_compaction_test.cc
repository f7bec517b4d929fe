// Committed offsets survive compaction of __consumer_offsets: a group
// commits the same partitions hundreds of times and another group is
// deleted (tombstones); once the log has compacted the topic -- keeping
// the last record of each key -- it holds a fraction of the bytes, and the
// committed offsets read back, before and after a reopen, are the same.
#include <map>
#include <string>

#include <catch2/catch.hpp>

#include "absl/strings/str_join.h"

#include "group/group_util.h"

namespace rill {
namespace {

using testing::TempDir;

std::map<TopicPartition, int64_t> Committed(Log& log, const std::string& group) {
  std::map<TopicPartition, int64_t> out;
  absl::StatusOr<GroupDescription> d = log.DescribeGroup(group);
  REQUIRE_OK(d);
  for (const GroupPartition& p : d->partitions) out[p.partition] = p.committed_offset;
  return out;
}

TEST_CASE("committed offsets survive compaction of __consumer_offsets", "[group][compaction]") {
  TempDir dir;
  const LogOptions options{.background_threads = 0};  // Maintenance runs when asked.
  absl::StatusOr<std::unique_ptr<Log>> log = Log::Open(dir.path(), options);
  REQUIRE_OK(log);
  REQUIRE_OK((*log)->CreateTopic("t", {.partitions = 4}));
  for (int32_t p = 0; p < 4; ++p) testing::Produce(**log, "t", p, 300);

  // The first commit creates __consumer_offsets, compacted.
  REQUIRE_OK((*log)->ResetGroupOffsets("gone", {.topics = {"t"}}));
  absl::StatusOr<TopicDescription> topic = (*log)->DescribeTopic(kConsumerOffsetsTopic);
  REQUIRE_OK(topic);
  CHECK(topic->config.ToMap()["cleanup.policy"] == "compact");
  // Small segments, rolled often, so that compaction has sealed ones to work on.
  REQUIRE_OK((*log)->SetTopicConfig(kConsumerOffsetsTopic, "segment.bytes", "4096"));
  REQUIRE_OK((*log)->SetTopicConfig(kConsumerOffsetsTopic, "segment.ms", "1"));

  {
    Consumer c(**log, {.group = "g",
                       .enable_auto_commit = false,
                       .auto_offset_reset = OffsetReset::kEarliest,
                       .max_poll_records = 2});
    REQUIRE_OK(c.Subscribe({"t"}));
    for (int round = 0; round < 500; ++round) {
      REQUIRE_OK(c.Poll(absl::ZeroDuration()));
      REQUIRE_OK(c.Commit());
    }
  }
  REQUIRE_OK((*log)->DeleteGroup("gone"));
  const std::map<TopicPartition, int64_t> before = Committed(**log, "g");
  REQUIRE(before.size() == 4);
  const uint64_t bytes_before = (*log)->DescribeTopic(kConsumerOffsetsTopic)->partitions[0].bytes;

  // Passes until one finds nothing left to clean (the first seals the
  // active segment, by segment.ms).
  for (int pass = 0; pass < 10; ++pass) {
    const MaintenanceReport report = (*log)->RunMaintenance();
    INFO(absl::StrJoin(report.errors, "; "));
    REQUIRE(report.errors.empty());
    if (pass > 0 && report.compaction_bytes_read == 0) break;
  }
  const uint64_t bytes_after = (*log)->DescribeTopic(kConsumerOffsetsTopic)->partitions[0].bytes;
  INFO(bytes_before << " bytes before compaction, " << bytes_after << " after");
  CHECK(bytes_after < bytes_before / 4);
  CHECK(Committed(**log, "g") == before);
  CHECK_CODE((*log)->DescribeGroup("gone"), kNotFound);

  log->reset();
  log = Log::Open(dir.path(), options);
  REQUIRE_OK(log);
  CHECK(Committed(**log, "g") == before);
  CHECK_CODE((*log)->DescribeGroup("gone"), kNotFound);
  // And a member resumes there.
  std::map<TopicPartition, int64_t> resumed;
  Consumer* self = nullptr;
  ConsumerOptions resume{.group = "g", .enable_auto_commit = false};
  resume.on_assigned = [&](const testing::Partitions& partitions) {
    for (const TopicPartition& tp : partitions) resumed[tp] = *self->Position(tp);
  };
  Consumer c(**log, resume);
  self = &c;
  REQUIRE_OK(c.Subscribe({"t"}));
  REQUIRE_OK(c.Poll(absl::ZeroDuration()));
  CHECK(resumed == before);
}

}  // namespace
}  // namespace rill
