// Deleted and compacted-away segments give back their file descriptors and
// mappings -- as /proc/self/fd and /proc/self/maps show them -- as soon as
// no consumer's last poll holds them.
#include <string>

#include <catch2/catch.hpp>

#include "absl/strings/str_cat.h"
#include "core/log_state.h"
#include "retention/retention_util.h"
#include "rill/rill.h"
#include "testutil/fake_clock.h"
#include "testutil/status.h"
#include "testutil/temp_dir.h"

namespace rill {
namespace {

using testing::MappingsUnder;
using testing::OpenFilesUnder;
using testing::Unwrap;

constexpr int64_t kStart = 1'700'000'000'000;

// Every segment of the log is open in this process: three files, each open
// and mapped once; plus the lock file, open and not mapped.
void CheckOnlySegmentsOpen(Log& log, const std::string& dir) {
  const int segments = Unwrap(log.DescribeTopic("t")).partitions[0].segments;
  CHECK(OpenFilesUnder(dir) == 1 + 3 * segments);
  CHECK(MappingsUnder(dir) == 3 * segments);
}

TEST_CASE("Segments deleted by retention release their files once consumers move on",
          "[retention][resources]") {
  testing::TempDir tmp;
  const std::string dir = tmp.Join("log");
  testing::FakeClock clock(kStart);
  auto log = Unwrap(Log::Open(dir, {.clock = &clock, .background_threads = 0}));
  REQUIRE_OK(log->CreateTopic("t", {.retention = {.ms = 1000}, .segment_bytes = 16 << 10}));
  const int baseline_files = OpenFilesUnder(dir);
  const int baseline_maps = MappingsUnder(dir);
  CHECK(baseline_files == 4);  // The lock, and the active segment's three files.
  CheckOnlySegmentsOpen(*log, dir);

  Producer producer(*log);
  for (int i = 0; i < 600; ++i) {
    REQUIRE_OK(producer.Send("t", {.key = absl::StrCat(i), .value = std::string(200, 'v')}));
  }
  Consumer consumer(*log, {.auto_offset_reset = OffsetReset::kEarliest});
  REQUIRE_OK(consumer.Subscribe({"t"}));
  REQUIRE(Unwrap(consumer.Poll(absl::ZeroDuration())).size() > 0);  // Holds segment 0.
  CHECK(OpenFilesUnder(dir) > 20);

  clock.Advance(1001);
  const MaintenanceReport r = log->RunMaintenance();
  CHECK(r.removed.expired_records == 600);
  CHECK(Unwrap(log->DescribeTopic("t")).partitions[0].segments == 1);
  // The consumer's last poll still holds the first segment, deleted.
  CHECK(OpenFilesUnder(dir) == baseline_files + 3);
  CHECK(MappingsUnder(dir) == baseline_maps + 3);

  // Its next poll finds its position gone, starts again at the earliest
  // offset, and lets go.
  CHECK(Unwrap(consumer.Poll(absl::ZeroDuration())).size() == 0);
  CHECK(OpenFilesUnder(dir) == baseline_files);
  CHECK(MappingsUnder(dir) == baseline_maps);
  CheckOnlySegmentsOpen(*log, dir);
}

TEST_CASE("Segments compacted away release their files once consumers move on",
          "[retention][resources]") {
  testing::TempDir tmp;
  const std::string dir = tmp.Join("log");
  testing::FakeClock clock(kStart);
  auto log = Unwrap(Log::Open(dir, {.clock = &clock, .background_threads = 0}));
  TopicConfig config{.segment_bytes = 16 << 10};
  config.cleanup_policy = CleanupPolicy::kCompact;
  config.min_cleanable_dirty_ratio = 0;
  REQUIRE_OK(log->CreateTopic("t", config));
  Producer producer(*log);
  for (int i = 0; i < 1000; ++i) {
    REQUIRE_OK(producer.Send("t", {.key = absl::StrCat(i % 20), .value = std::string(200, 'v')}));
  }
  Consumer consumer(*log, {.auto_offset_reset = OffsetReset::kEarliest});
  REQUIRE_OK(consumer.Subscribe({"t"}));
  REQUIRE(Unwrap(consumer.Poll(absl::ZeroDuration())).size() > 0);
  const int before = Unwrap(log->DescribeTopic("t")).partitions[0].segments;
  // The first pass cleans each segment on its own (groups are sized by what
  // goes in, as Kafka's); the next one merges the small copies.
  REQUIRE(log->RunMaintenance().removed.compacted_records > 0);
  REQUIRE_OK(Unwrap(log->state()->FindPartition({.topic = "t", .partition = 0}))->log().Roll());
  REQUIRE(log->RunMaintenance().removed.compacted_segments > 0);
  const int after = Unwrap(log->DescribeTopic("t")).partitions[0].segments;
  CHECK(after < before / 4);
  // The poll still holds the first segment as it was before compaction.
  CHECK(OpenFilesUnder(dir) == 1 + 3 * after + 3);
  CHECK(MappingsUnder(dir) == 3 * after + 3);
  // Polls move on through what compaction left (empty batches, at first).
  for (int i = 0; i < 100 && Unwrap(consumer.Poll(absl::ZeroDuration())).size() == 0; ++i) {
  }
  CheckOnlySegmentsOpen(*log, dir);
}

}  // namespace
}  // namespace rill
