// Log compaction through the public API, with a fake clock, checked against
// a model: the latest record of each key survives with its offset, nothing
// else does once the cleaner is through, tombstones go after
// delete.retention.ms and not before, min.compaction.lag.ms holds, and
// consumers reading while the cleaner works see a consistent log.
#include <algorithm>
#include <atomic>
#include <map>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include "absl/strings/str_cat.h"
#include "core/log_state.h"
#include "retention/retention_util.h"
#include "rill/rill.h"
#include "testutil/fake_clock.h"
#include "testutil/status.h"

namespace rill {
namespace {

using testing::FakeClock;
using testing::KeyedOp;
using testing::OpAt;
using testing::ReadRecord;
using testing::Unwrap;

constexpr int64_t kStart = 1'700'000'000'000;
constexpr int64_t kDeleteRetention = 3'600'000;

TopicConfig CompactConfig() {
  TopicConfig c{.segment_bytes = 16 << 10};
  c.cleanup_policy = CleanupPolicy::kCompact;
  c.delete_retention_ms = kDeleteRetention;
  c.min_cleanable_dirty_ratio = 0;
  return c;
}

PartitionLog& PartitionOf(Log& log) {
  return Unwrap(log.state()->FindPartition({.topic = "t", .partition = 0}))->log();
}

Record ToRecord(const KeyedOp& op) {
  Record r{.key = op.key};
  if (op.value) r.value = *op.value;
  return r;
}

// Writes the ops at offsets [from, to) of `ops`: some one by one (a batch
// each), some several to a batch.
void Write(Producer& producer, const std::vector<KeyedOp>& ops, size_t from, size_t to,
           std::mt19937_64& rng) {
  for (size_t o = from; o < to;) {
    const size_t n = std::min<size_t>(to - o, 1 + rng() % 12);
    if (n == 1) {
      REQUIRE(Unwrap(producer.Send("t", ToRecord(ops[o]))).offset == static_cast<int64_t>(o));
    } else {
      for (size_t i = o; i < o + n; ++i) REQUIRE_OK(producer.SendAsync("t", ToRecord(ops[i])));
      REQUIRE_OK(producer.Flush());
    }
    o += n;
  }
}

// Checks the log against the ops written so far: every record is the one
// written at its offset, and the latest record of every key is there
// (tombstones too, unless `tombstones_gone`). With `exact`, nothing else is:
// one record per key -- none for a key whose latest record is a tombstone
// when `tombstones_gone`.
void CheckLog(Log& log, const std::vector<KeyedOp>& ops, bool exact, bool tombstones_gone) {
  const PartitionLog& p = PartitionOf(log);
  REQUIRE(p.end_offset() == static_cast<int64_t>(ops.size()));
  const std::vector<ReadRecord> records = Unwrap(testing::ReadAll(p));
  std::map<std::string, int64_t> seen;
  for (const ReadRecord& r : records) {
    REQUIRE(r.offset < static_cast<int64_t>(ops.size()));
    const KeyedOp& op = ops[static_cast<size_t>(r.offset)];
    if (r.key != op.key || r.value != op.value)
      FAIL("offset " << r.offset << " holds another record");
    if (exact && seen.count(*r.key) > 0) FAIL("key " << *r.key << " appears twice");
    seen[*r.key] = r.offset;
  }
  std::map<std::string, int64_t> latest;
  for (size_t o = 0; o < ops.size(); ++o) latest[ops[o].key] = static_cast<int64_t>(o);
  for (const auto& [key, offset] : latest) {
    const bool tombstone = !ops[static_cast<size_t>(offset)].value.has_value();
    if (tombstone && tombstones_gone) {
      if (exact && seen.count(key) > 0) FAIL("the tombstone of " << key << " outlived its time");
      continue;
    }
    auto it = seen.find(key);
    if (it == seen.end() || it->second != offset) {
      FAIL("the latest record of " << key << " (offset " << offset << ") is missing");
    }
  }
  // Copies end where the segments they replace did: each segment's last
  // batch ends just before the next segment begins.
  const std::vector<SegmentInfo> segments = Unwrap(p.ListSegments());
  for (size_t i = 0; i + 1 < segments.size(); ++i) {
    CHECK(segments[i].next_offset == segments[i + 1].base_offset);
  }
}

TEST_CASE("Compaction keeps exactly the latest record of each key, offsets unchanged",
          "[retention][compaction]") {
  const uint64_t seed = GENERATE(1, 2, 3, 4, 5);
  const Compression codec = seed % 3 == 0   ? Compression::kLz4
                            : seed % 3 == 1 ? Compression::kNone
                                            : Compression::kZstd;
  CAPTURE(seed);
  FakeClock clock(kStart);
  auto log = Unwrap(Log::OpenInMemory({.clock = &clock, .background_threads = 0}));
  REQUIRE_OK(log->CreateTopic("t", CompactConfig()));
  Producer producer(*log, {.compression = codec});
  std::mt19937_64 rng(seed);
  std::vector<KeyedOp> ops;
  const int keys = 10 + static_cast<int>(seed * 17 % 60);
  for (int64_t o = 0; o < 4000; ++o) ops.push_back(OpAt(o, keys, seed));
  int64_t removed = 0;
  for (size_t from = 0; from < ops.size(); from += 500) {
    Write(producer, ops, from, from + 500, rng);
    const MaintenanceReport r = log->RunMaintenance();
    CHECK(r.errors.empty());
    removed += r.removed.compacted_records;
    const std::vector<KeyedOp> written(ops.begin(), ops.begin() + static_cast<int64_t>(from + 500));
    CheckLog(*log, written, /*exact=*/false, /*tombstones_gone=*/false);
  }
  CHECK(removed > 0);
  // segment.ms rolls the active segment; the same pass compacts it.
  REQUIRE_OK(log->SetTopicConfig("t", "segment.ms", "1000"));
  clock.Advance(1000);
  removed += log->RunMaintenance().removed.compacted_records;
  CheckLog(*log, ops, /*exact=*/true, /*tombstones_gone=*/false);
  // Small compacted segments were merged: a few segments hold the keys.
  CHECK(Unwrap(log->DescribeTopic("t")).partitions[0].segments <= 4);
  const int64_t left = static_cast<int64_t>(Unwrap(testing::ReadAll(PartitionOf(*log))).size());
  CHECK(removed == 4000 - left);
  CHECK(Unwrap(log->DescribeTopic("t")).removed.compacted_records == removed);

  // Once delete.retention.ms has passed, the tombstones go too.
  clock.Advance(kDeleteRetention);
  log->RunMaintenance();
  CheckLog(*log, ops, /*exact=*/true, /*tombstones_gone=*/true);
}

TEST_CASE("A tombstone goes delete.retention.ms after the cleaner first keeps it, not before",
          "[retention][compaction]") {
  FakeClock clock(kStart);
  auto log = Unwrap(Log::OpenInMemory({.clock = &clock, .background_threads = 0}));
  TopicConfig config = CompactConfig();
  config.segment_ms = 1000;
  REQUIRE_OK(log->CreateTopic("t", config));
  Producer producer(*log);
  const std::vector<KeyedOp> ops = {
      {"a", "a1"}, {"b", "b1"}, {"a", std::nullopt}, {"c", "c1"}, {"b", "b2"}};
  for (const KeyedOp& op : ops) REQUIRE_OK(producer.Send("t", ToRecord(op)));
  clock.Advance(1000);  // The next pass rolls the segment and compacts it.
  MaintenanceReport r = log->RunMaintenance();
  CHECK(r.removed.compacted_records == 2);  // a1 and b1.
  CheckLog(*log, ops, /*exact=*/true, /*tombstones_gone=*/false);

  clock.Advance(kDeleteRetention - 1);
  r = log->RunMaintenance();
  CHECK(r.removed.compacted_records == 0);
  CheckLog(*log, ops, /*exact=*/true, /*tombstones_gone=*/false);

  clock.Advance(1);
  r = log->RunMaintenance();
  CHECK(r.removed.compacted_records == 1);
  CheckLog(*log, ops, /*exact=*/true, /*tombstones_gone=*/true);
  const std::vector<ReadRecord> left = Unwrap(testing::ReadAll(PartitionOf(*log)));
  REQUIRE(left.size() == 2);
  CHECK(left[0].offset == 3);
  CHECK(left[1].offset == 4);
}

TEST_CASE("min.compaction.lag.ms keeps young segments, and all after them, out of the cleaner",
          "[retention][compaction]") {
  FakeClock clock(kStart);
  auto log = Unwrap(Log::OpenInMemory({.clock = &clock, .background_threads = 0}));
  TopicConfig config = CompactConfig();
  config.min_compaction_lag_ms = 1000;
  REQUIRE_OK(log->CreateTopic("t", config));
  Producer producer(*log);
  const TopicPartition tp{.topic = "t", .partition = 0};
  auto roll = [&] { REQUIRE_OK(Unwrap(log->state()->FindPartition(tp))->log().Roll()); };
  std::vector<KeyedOp> ops = {{"a", "a1"}, {"b", "b1"}};
  for (const KeyedOp& op : ops) REQUIRE_OK(producer.Send("t", ToRecord(op)));  // At kStart.
  roll();
  clock.Advance(10);
  ops.push_back({"a", "a2"});
  REQUIRE_OK(producer.Send("t", ToRecord(ops.back())));  // At kStart + 10.
  roll();

  clock.Set(kStart + 999);  // Both segments too young.
  CHECK(log->RunMaintenance().removed.compacted_records == 0);
  clock.Set(kStart + 1009);  // The first is old enough; a2, in the second, is not seen yet.
  CHECK(log->RunMaintenance().removed.compacted_records == 0);
  CHECK(Unwrap(testing::ReadAll(PartitionOf(*log))).size() == 3);
  clock.Set(kStart + 1010);  // Both: a1 goes.
  CHECK(log->RunMaintenance().removed.compacted_records == 1);
  CheckLog(*log, ops, /*exact=*/true, /*tombstones_gone=*/false);
}

TEST_CASE("Consumers reading while the cleaner works see a consistent log",
          "[retention][compaction]") {
  FakeClock clock(kStart);
  auto log = Unwrap(Log::OpenInMemory({.clock = &clock, .background_threads = 0}));
  REQUIRE_OK(log->CreateTopic("t", CompactConfig()));
  constexpr int kKeys = 50;
  constexpr uint64_t kSeed = 9;
  Producer producer(*log);
  int64_t written = 0;
  auto write = [&](int n) {
    for (int i = 0; i < n; ++i, ++written) {
      REQUIRE(Unwrap(producer.Send("t", ToRecord(OpAt(written, kKeys, kSeed)))).offset == written);
    }
  };
  write(2000);

  // A poll's records stay valid while the cleaner swaps their segment out.
  Consumer holder(*log, {.auto_offset_reset = OffsetReset::kEarliest, .max_poll_records = 100});
  REQUIRE_OK(holder.Subscribe({"t"}));
  absl::StatusOr<ConsumerRecords> held = holder.Poll(absl::ZeroDuration());
  REQUIRE_OK(held);
  REQUIRE(held->size() > 10);  // Those of the first segment, at least.
  REQUIRE(log->RunMaintenance().removed.compacted_records > 0);
  int64_t expected = 0;
  for (const RecordView& r : *held) {
    const KeyedOp op = OpAt(r.offset(), kKeys, kSeed);
    CHECK(r.offset() == expected++);
    CHECK(r.key() == op.key);
    CHECK(r.has_value() == op.value.has_value());
    if (op.value) CHECK(r.value() == *op.value);
  }

  std::atomic<bool> stop{false};
  std::atomic<int> scans{0};
  std::atomic<int64_t> published_end{written};
  std::atomic<bool> failed{false};
  std::string failure;  // Written by the reader before it sets `failed`.
  std::thread reader([&] {
    Consumer consumer(*log, {.auto_offset_reset = OffsetReset::kEarliest, .max_poll_records = 37});
    if (!consumer.Subscribe({"t"}).ok()) return;
    while (!stop.load() && failure.empty()) {
      if (!consumer.SeekToBeginning({{.topic = "t", .partition = 0}}).ok()) {
        failure = "seek failed";
        break;
      }
      const int64_t end = published_end.load();
      std::map<std::string, int64_t> seen;
      int64_t last = -1;
      for (int64_t position = 0; position < end && failure.empty();) {
        absl::StatusOr<ConsumerRecords> records = consumer.Poll(absl::ZeroDuration());
        if (!records.ok()) {
          failure = records.status().ToString();
          break;
        }
        for (const RecordView& r : *records) {
          const KeyedOp op = OpAt(r.offset(), kKeys, kSeed);
          if (r.offset() <= last || r.key() != op.key || r.has_value() != op.value.has_value() ||
              (op.value && r.value() != *op.value)) {
            failure = absl::StrCat("a scan read a wrong record at offset ", r.offset());
          }
          last = r.offset();
          seen[std::string(r.key())] = r.offset();
        }
        position = consumer.Position({.topic = "t", .partition = 0}).value_or(end);
      }
      // Every key whose latest record (as of now) lies below the scan's end
      // was seen at exactly that record. "Now" covers what the scan read
      // past `end`: the writer appends before it publishes the new end.
      const int64_t now_end = std::max(published_end.load(), last + 1);
      std::map<std::string, int64_t> latest;
      for (int64_t o = 0; o < now_end; ++o) latest[OpAt(o, kKeys, kSeed).key] = o;
      for (const auto& [key, offset] : latest) {
        if (offset < end && (seen.count(key) == 0 || seen[key] != offset) && failure.empty()) {
          failure = absl::StrCat("a scan missed the latest record of ", key, " at ", offset);
        }
      }
      ++scans;
    }
    if (!failure.empty()) failed.store(true);
  });
  for (int round = 0; round < 40 && !failed.load(); ++round) {
    write(150);
    published_end.store(written);
    REQUIRE_OK(PartitionOf(*log).Roll());
    CHECK(log->RunMaintenance().errors.empty());
  }
  while (scans.load() < 3 && !failed.load()) std::this_thread::yield();
  stop.store(true);
  reader.join();
  INFO(failure);
  CHECK(failure.empty());
  CHECK(scans.load() >= 3);
}

TEST_CASE("The log's background thread compacts while a producer writes, and stops with the log",
          "[retention][compaction]") {
  constexpr int kKeys = 100;
  constexpr uint64_t kSeed = 11;
  auto log = Unwrap(
      Log::OpenInMemory({.background_threads = 1, .maintenance_interval = absl::Milliseconds(1)}));
  REQUIRE_OK(log->CreateTopic("t", CompactConfig()));
  Producer producer(*log);
  int64_t written = 0;
  // Until a pass has compacted something (no bound on how long that takes
  // but the data written meanwhile), then some more.
  while (Unwrap(log->DescribeTopic("t")).removed.compacted_records == 0 || written < 20'000) {
    REQUIRE(Unwrap(producer.Send("t", ToRecord(OpAt(written, kKeys, kSeed)))).offset == written);
    ++written;
  }
  const PartitionLog& p = PartitionOf(*log);
  CHECK_OK(testing::CheckKeyedLog(p, kKeys, kSeed, /*exact=*/false));
  CHECK(Unwrap(testing::ReadAll(p)).size() < static_cast<size_t>(written));
  REQUIRE_OK(log->Close());
}

}  // namespace
}  // namespace rill
