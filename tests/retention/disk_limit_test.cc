// Disk limits through the public API, on a real directory: a log-wide budget
// and a topic quota hold -- by stat(2), not by rill's counters -- while a
// producer writes ten times as much; what is dropped is counted exactly and
// what is left is an intact tail; the reject policy loses nothing.
#include <memory>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "absl/strings/str_cat.h"
#include "core/log_state.h"
#include "format/batch_builder.h"
#include "format/batch_format.h"
#include "retention/retention_util.h"
#include "rill/rill.h"
#include "testutil/status.h"
#include "testutil/temp_dir.h"

namespace rill {
namespace {

using testing::Unwrap;

constexpr int64_t kSegmentBytes = 128 << 10;

// The record the tests send as the n-th: a value of 3000..4500 bytes.
std::string ValueFor(int64_t n) {
  return absl::StrCat("value-", n, "-",
                      std::string(3000 + static_cast<size_t>(n * 37 % 1500), 'v'));
}
std::string KeyFor(int64_t n) { return absl::StrCat("key-", n); }

// The bytes Send() appends for that record: one batch of one record.
uint64_t BatchSizeFor(int64_t n) {
  const std::string key = KeyFor(n);
  const std::string value = ValueFor(n);
  return batch::kHeaderSize +
         BatchBuilder::EncodedRecordSize(Record{.key = key, .value = value}, 0, 0);
}

const PartitionLog& PartitionOf(Log& log, const std::string& topic) {
  return Unwrap(log.state()->FindPartition({.topic = topic, .partition = 0}))->log();
}

// Checks that `topic` holds exactly the records [start, end) sent by
// ValueFor, and returns start.
int64_t CheckTail(Log& log, const std::string& topic, int64_t end) {
  const PartitionLog& p = PartitionOf(log, topic);
  const std::vector<testing::ReadRecord> records = Unwrap(testing::ReadAll(p));
  const int64_t start = p.start_offset();
  REQUIRE(static_cast<int64_t>(records.size()) == end - start);
  for (size_t i = 0; i < records.size(); ++i) {
    const int64_t n = start + static_cast<int64_t>(i);
    if (records[i].offset != n || records[i].key != KeyFor(n) || records[i].value != ValueFor(n)) {
      FAIL("record " << i << " of the tail is not the one sent at offset " << n);
    }
  }
  return start;
}

struct Case {
  const char* name;
  uint64_t budget;
  int64_t quota;
};

TEST_CASE("A disk limit with drop-oldest holds on disk while ten times as much is written",
          "[retention][disk]") {
  constexpr uint64_t kLimit = 1 << 20;
  const Case c = GENERATE(Case{"log budget", kLimit, -1}, Case{"topic quota", 0, kLimit});
  INFO(c.name);
  testing::TempDir tmp;
  const std::string dir = tmp.Join("log");
  auto log = Unwrap(Log::Open(dir, {.disk_budget_bytes = c.budget, .background_threads = 0}));
  TopicConfig config{.segment_bytes = kSegmentBytes};
  config.quota = {.bytes = c.quota, .policy = QuotaPolicy::kDropOldest};
  REQUIRE_OK(log->CreateTopic("t", config));
  Producer producer(*log);
  uint64_t written = 0;
  uint64_t max_seen = 0;
  int64_t n = 0;
  for (; written < 10 * kLimit; ++n) {
    const std::string key = KeyFor(n);
    const std::string value = ValueFor(n);
    const RecordPosition pos = Unwrap(producer.Send("t", {.key = key, .value = value}));
    REQUIRE(pos.offset == n);
    written += BatchSizeFor(n);
    const uint64_t on_disk = testing::DiskBytesByStat(dir);
    max_seen = std::max(max_seen, on_disk);
    if (on_disk > kLimit + kSegmentBytes)
      FAIL("after record " << n << ": " << on_disk << " bytes on disk");
    if (n % 50 == 49) {
      const MaintenanceReport report = log->RunMaintenance();
      CHECK(report.errors.empty());
      REQUIRE(testing::DiskBytesByStat(dir) <= kLimit + kSegmentBytes);
    }
  }
  CAPTURE(max_seen);
  CHECK(max_seen > kLimit / 2);  // The limit, not something smaller, is what held.

  const int64_t start = CheckTail(*log, "t", n);
  CHECK(start > 0);
  const TopicDescription d = Unwrap(log->DescribeTopic("t"));
  CHECK(d.removed.dropped_records == start);
  uint64_t dropped_bytes = 0;
  for (int64_t i = 0; i < start; ++i) dropped_bytes += BatchSizeFor(i);
  CHECK(d.removed.dropped_bytes == dropped_bytes);
  CHECK(d.removed.dropped_bytes + d.partitions[0].bytes == written);
  CHECK(d.removed.dropped_segments > 0);
  CHECK(d.removed.expired_records == 0);
  // rill's own count agrees with stat(2) after a pass.
  log->RunMaintenance();
  CHECK(log->DiskBytes() == testing::DiskBytesByStat(dir));
}

TEST_CASE(
    "The log budget drops the oldest data of every drop-oldest topic, and spares reject topics",
    "[retention][disk]") {
  constexpr uint64_t kBudget = 1 << 20;
  testing::TempDir tmp;
  const std::string dir = tmp.Join("log");
  auto log = Unwrap(Log::Open(dir, {.disk_budget_bytes = kBudget, .background_threads = 0}));
  TopicConfig drop{.segment_bytes = kSegmentBytes};
  drop.quota.policy = QuotaPolicy::kDropOldest;
  TopicConfig keep{.segment_bytes = kSegmentBytes};  // quota.policy reject.
  REQUIRE_OK(log->CreateTopic("a", drop));
  REQUIRE_OK(log->CreateTopic("b", drop));
  REQUIRE_OK(log->CreateTopic("kept", keep));
  Producer producer(*log);
  // The reject topic takes a quarter of the budget first; it is never touched.
  int64_t kept = 0;
  for (uint64_t bytes = 0; bytes < kBudget / 4; ++kept) {
    REQUIRE_OK(producer.Send("kept", {.key = KeyFor(kept), .value = ValueFor(kept)}));
    bytes += BatchSizeFor(kept);
  }
  const std::string kept_bytes = Unwrap(testing::BatchBytes(PartitionOf(*log, "kept")));
  int64_t na = 0;
  int64_t nb = 0;
  for (int i = 0; i < 2400; ++i) {
    // a gets twice the records b does.
    if (i % 3 != 2) {
      REQUIRE_OK(producer.Send("a", {.key = KeyFor(na), .value = ValueFor(na)}));
      ++na;
    } else {
      REQUIRE_OK(producer.Send("b", {.key = KeyFor(nb), .value = ValueFor(nb)}));
      ++nb;
    }
    REQUIRE(testing::DiskBytesByStat(dir) <= kBudget + kSegmentBytes);
  }
  CHECK(Unwrap(testing::BatchBytes(PartitionOf(*log, "kept"))) == kept_bytes);
  const int64_t start_a = CheckTail(*log, "a", na);
  const int64_t start_b = CheckTail(*log, "b", nb);
  CHECK(start_a > 0);
  CHECK(start_b > 0);
  CHECK(Unwrap(log->DescribeTopic("a")).removed.dropped_records == start_a);
  CHECK(Unwrap(log->DescribeTopic("b")).removed.dropped_records == start_b);
  CHECK(Unwrap(log->DescribeTopic("kept")).removed == RemovalCounts{});
  // The budget is full: the reject topic is refused once it reaches it,
  // and its refusals take nothing from the others.
  absl::Status refused;
  for (int i = 0; i < 400 && refused.ok(); ++i) {
    refused = producer.Send("kept", {.key = "k", .value = std::string(4000, 'x')}).status();
  }
  CHECK(absl::IsResourceExhausted(refused));
  CHECK(PartitionOf(*log, "a").start_offset() == start_a);
  CHECK(PartitionOf(*log, "b").start_offset() == start_b);
}

TEST_CASE("The reject policy refuses appends past the quota and loses nothing written",
          "[retention][disk]") {
  testing::TempDir tmp;
  const std::string dir = tmp.Join("log");
  auto log = Unwrap(Log::Open(dir, {.background_threads = 0}));
  TopicConfig config{.segment_bytes = kSegmentBytes};
  config.quota.bytes = 512 << 10;  // quota.policy = reject by default.
  REQUIRE_OK(log->CreateTopic("t", config));
  Producer producer(*log);
  int64_t n = 0;
  absl::Status refused;
  for (;; ++n) {
    absl::StatusOr<RecordPosition> pos =
        producer.Send("t", {.key = KeyFor(n), .value = ValueFor(n)});
    if (!pos.ok()) {
      refused = pos.status();
      break;
    }
    REQUIRE(n < 10000);
  }
  INFO(refused.ToString());
  CHECK(absl::IsResourceExhausted(refused));
  CHECK(n > 50);
  CHECK(testing::DiskBytesByStat(dir) <= (512 << 10) + 64 * 1024);
  const std::string before = Unwrap(testing::BatchBytes(PartitionOf(*log, "t")));

  // More sends, sync and async, and maintenance: all refused, nothing moves.
  for (int i = 0; i < 20; ++i) {
    CHECK(absl::IsResourceExhausted(producer.Send("t", {.value = "more"}).status()));
  }
  absl::Status async_status;
  REQUIRE_OK(producer.SendAsync(
      "t", {.key = "async", .value = "more"},
      [&](const absl::StatusOr<RecordPosition>& r) { async_status = r.status(); }));
  CHECK(absl::IsResourceExhausted(producer.Flush()));
  CHECK(absl::IsResourceExhausted(async_status));
  CHECK(log->RunMaintenance().errors.empty());
  CHECK(Unwrap(testing::BatchBytes(PartitionOf(*log, "t"))) == before);
  CHECK(CheckTail(*log, "t", n) == 0);
  CHECK(Unwrap(log->DescribeTopic("t")).removed == RemovalCounts{});

  // A larger quota, set on the live topic, lets appends in again.
  REQUIRE_OK(log->SetTopicConfig("t", "quota.bytes", absl::StrCat(4 << 20)));
  CHECK(Unwrap(producer.Send("t", {.key = KeyFor(n), .value = ValueFor(n)})).offset == n);
  CHECK(CheckTail(*log, "t", n + 1) == 0);
}

}  // namespace
}  // namespace rill
