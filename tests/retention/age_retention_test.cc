// Retention by age and by size through the public API, with a fake clock:
// what Log::RunMaintenance removes and when, the roll of a quiet topic,
// settings changed on a live log, and the periodic pass on the log's own
// background thread.
#include <chrono>
#include <string>
#include <thread>

#include <catch2/catch.hpp>

#include "absl/strings/str_cat.h"
#include "rill/rill.h"
#include "testutil/fake_clock.h"
#include "testutil/status.h"
#include "testutil/temp_dir.h"

namespace rill {
namespace {

using testing::FakeClock;
using testing::Unwrap;

constexpr int64_t kStart = 1'700'000'000'000;
const TopicPartition kTp{.topic = "t", .partition = 0};

void SendN(Producer& producer, int n, size_t value_bytes = 100) {
  for (int i = 0; i < n; ++i) {
    REQUIRE_OK(
        producer.Send("t", {.key = absl::StrCat("k", i), .value = std::string(value_bytes, 'v')}));
  }
}

TEST_CASE(
    "retention.ms deletes segments by their newest record, and a quiet topic rolls and ages out",
    "[retention][age]") {
  FakeClock clock(kStart);
  auto log = Unwrap(Log::OpenInMemory({.clock = &clock, .background_threads = 0}));
  TopicConfig config{.retention = {.ms = 60'000}, .segment_ms = 10'000};
  REQUIRE_OK(log->CreateTopic("t", config));
  Producer producer(*log);
  SendN(producer, 100);  // At kStart, all in the active segment.

  clock.Advance(9'999);
  MaintenanceReport r = log->RunMaintenance();
  CHECK(r.segments_rolled == 0);
  CHECK(r.removed == RemovalCounts{});

  clock.Advance(1);  // segment.ms reached with no append: maintenance rolls.
  r = log->RunMaintenance();
  CHECK(r.segments_rolled == 1);
  CHECK(r.removed == RemovalCounts{});
  CHECK(Unwrap(log->DescribeTopic("t")).partitions[0].segments == 2);

  SendN(producer, 50);         // At kStart + 10 s, in the new segment.
  clock.Set(kStart + 60'000);  // The first segment is exactly 60 s old: kept.
  r = log->RunMaintenance();
  CHECK(r.segments_rolled == 1);
  CHECK(r.removed.expired_segments == 0);
  CHECK(Unwrap(log->StartOffset(kTp)) == 0);

  clock.Advance(1);
  r = log->RunMaintenance();
  CHECK(r.removed.expired_segments == 1);
  CHECK(r.removed.expired_records == 100);
  CHECK(Unwrap(log->StartOffset(kTp)) == 100);

  clock.Set(kStart + 70'001);
  r = log->RunMaintenance();
  CHECK(r.removed.expired_records == 50);
  CHECK(Unwrap(log->StartOffset(kTp)) == 150);
  CHECK(Unwrap(log->EndOffset(kTp)) == 150);
  const TopicDescription d = Unwrap(log->DescribeTopic("t"));
  CHECK(d.removed.expired_segments == 2);
  CHECK(d.removed.expired_records == 150);
  CHECK(d.partitions[0].bytes == 0);

  // A consumer from the earliest offset finds nothing left, then new records.
  Consumer consumer(*log, {.auto_offset_reset = OffsetReset::kEarliest});
  REQUIRE_OK(consumer.Subscribe({"t"}));
  CHECK(Unwrap(consumer.Poll(absl::ZeroDuration())).size() == 0);
  SendN(producer, 3);
  absl::StatusOr<ConsumerRecords> records = consumer.Poll(absl::ZeroDuration());
  REQUIRE_OK(records);
  CHECK(records->size() == 3);
  CHECK(records->begin()->offset() == 150);
}

TEST_CASE("An active segment wholly past retention.ms is rolled and deleted in one pass",
          "[retention][age]") {
  FakeClock clock(kStart);
  auto log = Unwrap(Log::OpenInMemory({.clock = &clock, .background_threads = 0}));
  REQUIRE_OK(log->CreateTopic("t", {.retention = {.ms = 1000}}));  // segment.ms: 7 days.
  Producer producer(*log);
  SendN(producer, 10);
  clock.Advance(1000);
  CHECK(log->RunMaintenance().removed.expired_records == 0);
  clock.Advance(1);
  const MaintenanceReport r = log->RunMaintenance();
  CHECK(r.segments_rolled == 1);
  CHECK(r.removed.expired_records == 10);
  CHECK(Unwrap(log->StartOffset(kTp)) == 10);
}

TEST_CASE("retention.bytes keeps the partition at or just above the limit", "[retention][age]") {
  FakeClock clock(kStart);
  auto log = Unwrap(Log::OpenInMemory({.clock = &clock, .background_threads = 0}));
  REQUIRE_OK(log->CreateTopic("t", {.retention = {.bytes = 40 << 10}, .segment_bytes = 8 << 10}));
  Producer producer(*log);
  SendN(producer, 800, 200);
  const TopicDescription before = Unwrap(log->DescribeTopic("t"));
  const MaintenanceReport r = log->RunMaintenance();
  CHECK(r.removed.expired_segments > 10);
  const TopicDescription after = Unwrap(log->DescribeTopic("t"));
  CHECK(after.partitions[0].bytes >= (40u << 10));
  CHECK(after.partitions[0].bytes + r.removed.expired_bytes == before.partitions[0].bytes);
  CHECK(after.partitions[0].start_offset == r.removed.expired_records);
  // One more segment gone would take it below the limit: nothing more goes.
  CHECK(log->RunMaintenance().removed.expired_segments == 0);
}

TEST_CASE("Settings changed on a live topic apply at the next pass and are stored",
          "[retention][age]") {
  testing::TempDir tmp;
  FakeClock clock(kStart);
  {
    auto log = Unwrap(Log::Open(tmp.path(), {.clock = &clock, .background_threads = 0}));
    REQUIRE_OK(log->CreateTopic("t", {.retention = {.ms = -1}, .segment_bytes = 4096}));
    Producer producer(*log);
    SendN(producer, 200);
    clock.Advance(1'000'000);
    CHECK(log->RunMaintenance().removed.expired_records == 0);
    REQUIRE_OK(log->SetTopicConfig("t", "retention.ms", "1000"));
    REQUIRE_OK(log->SetTopicConfig("t", "cleanup.policy", "delete, compact"));
    REQUIRE_OK(log->SetTopicConfig("t", "quota.policy", "drop-oldest"));
    CHECK(absl::IsInvalidArgument(log->SetTopicConfig("t", "quota.policy", "drop")));
    CHECK(log->RunMaintenance().removed.expired_records == 200);
  }
  auto log = Unwrap(Log::Open(tmp.path(), {.clock = &clock, .background_threads = 0}));
  const TopicConfig config = Unwrap(log->DescribeTopic("t")).config;
  CHECK(config.retention.ms == 1000);
  CHECK(config.cleanup_policy == CleanupPolicy::kCompactDelete);
  CHECK(config.quota.policy == QuotaPolicy::kDropOldest);
  CHECK(config.ToMap().at("cleanup.policy") == "compact,delete");
}

TEST_CASE("The log's background thread runs the pass on its own, and stops with the log",
          "[retention][age]") {
  FakeClock clock(kStart);
  auto log = Unwrap(Log::OpenInMemory(
      {.clock = &clock, .background_threads = 1, .maintenance_interval = absl::Milliseconds(5)}));
  REQUIRE_OK(log->CreateTopic("t", {.retention = {.ms = 1000}}));
  Producer producer(*log);
  SendN(producer, 20);
  clock.Advance(10'000);
  // Wait -- with no bound on how long it takes -- for the pass to happen.
  for (int i = 0; i < 20'000 && Unwrap(log->StartOffset(kTp)) != 20; ++i) {
    clock.Advance(10);
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  CHECK(Unwrap(log->StartOffset(kTp)) == 20);
  CHECK(Unwrap(log->DescribeTopic("t")).removed.expired_records == 20);
  REQUIRE_OK(log->Close());
  CHECK(log->RunMaintenance().errors.size() == 0);  // Closed: nothing runs, nothing fails.
}

}  // namespace
}  // namespace rill
