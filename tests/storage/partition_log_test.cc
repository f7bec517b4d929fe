// PartitionLog: offsets, reads across segments, rolling, reopening, time
// lookups, LogAppendTime, errors, group commit and lazy opening. Most cases
// run over both MemFileSystem and PosixFileSystem.
#include "storage/partition_log.h"

#include <algorithm>
#include <limits>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include "format/batch_builder.h"
#include "format/batch_header.h"
#include "format/batch_reader.h"
#include "storage/segment_format.h"
#include "testutil/fake_clock.h"
#include "testutil/log_records.h"
#include "testutil/status.h"
#include "testutil/test_fs.h"

namespace rill {
namespace {

using testing::AppendRecords;
using testing::FsKind;
using testing::RecordAt;
using testing::TestFs;
using testing::TestLogOptions;
using testing::Unwrap;
using testing::VerifyLog;

std::unique_ptr<PartitionLog> OpenLog(TestFs& t, const PartitionLogOptions& options,
                                      RecoveryReport* report = nullptr) {
  return Unwrap(PartitionLog::Open(t.fs(), t.Join("log"), options, report));
}

// The header of the first batch of a read.
BatchHeader FirstBatch(const ReadResult& read) {
  BatchHeader h;
  REQUIRE_OK(CheckBatchHeader(read.batches, &h));
  return h;
}

// Base offsets of the log's segments, from the .log files on disk.
std::vector<int64_t> SegmentBases(TestFs& t) {
  std::vector<int64_t> bases;
  for (const std::string& name : Unwrap(t.fs().ListDir(t.Join("log")))) {
    if (auto base = segment::ParseFileName(name, segment::kLogSuffix)) bases.push_back(*base);
  }
  std::sort(bases.begin(), bases.end());
  return bases;
}

TEST_CASE("PartitionLog: appends get consecutive offsets, and Read finds every offset",
          "[partition_log]") {
  TestFs t(GENERATE(FsKind::kMem, FsKind::kPosix));
  const int max_batch = GENERATE(1, 10, 200);
  INFO(t.name() << ", batches of up to " << max_batch << " records");
  std::mt19937_64 rng(max_batch);
  auto log = OpenLog(t, TestLogOptions());
  CHECK(log->start_offset() == 0);
  CHECK(log->end_offset() == 0);
  CHECK(Unwrap(log->Read(0, 1)).batches.empty());

  REQUIRE_OK(AppendRecords(*log, 2000, rng, max_batch));
  REQUIRE_OK(VerifyLog(*log, 0, 2000));
  for (int64_t o = 0; o < 2000; ++o) {
    const BatchHeader h = FirstBatch(Unwrap(log->Read(o, 1)));
    INFO("offset " << o);
    CHECK(h.base_offset <= o);
    CHECK(h.last_offset() >= o);
  }
}

TEST_CASE("PartitionLog: a read hint skips the lookup; a stale one is ignored", "[partition_log]") {
  TestFs t(GENERATE(FsKind::kMem, FsKind::kPosix));
  INFO(t.name());
  std::mt19937_64 rng(9);
  auto log = OpenLog(t, TestLogOptions(16 << 10));
  REQUIRE_OK(AppendRecords(*log, 3000, rng, 20));
  const int64_t end = log->end_offset();
  REQUIRE(log->segment_count() > 3);

  // A reader that carries the hint from one read to the next, as a
  // consumer does, reads the same batches as one that looks each up.
  ReadHint hint;
  int64_t offset = 0;
  int hinted = 0;
  while (offset < end) {
    INFO("offset " << offset);
    const ReadResult read = Unwrap(log->Read(offset, 600, hint));
    const ReadResult looked_up = Unwrap(log->Read(offset, 600));
    REQUIRE(!read.batches.empty());
    CHECK(read.batches.data() == looked_up.batches.data());
    CHECK(read.batches.size() == looked_up.batches.size());
    CHECK(read.position() == looked_up.position());
    const BatchHeader h = FirstBatch(read);
    CHECK(h.base_offset <= offset);
    CHECK(h.last_offset() >= offset);
    if (hint.segment_id == read.segment->id()) ++hinted;
    // The offset after the last batch read, and where its batch starts.
    int64_t next = offset;
    for (size_t p = 0; p < read.batches.size();) {
      const BatchHeader b = DecodeBatchHeader(read.batches.data() + p);
      next = b.last_offset() + 1;
      p += b.size();
    }
    hint = ReadHint{.segment_id = read.segment->id(),
                    .position = read.position() + read.batches.size(),
                    .offset = next};
    offset = next;
  }
  CHECK(hinted > 10);  // Most reads stayed in the segment of the one before.
  CHECK(Unwrap(log->Read(end, 600, hint)).batches.empty());

  // The hint is taken on trust when it names the segment and the offset:
  // one that points at the segment's first batch is read from there...
  const ReadResult last = Unwrap(log->Read(end - 1, 1));
  REQUIRE(FirstBatch(last).base_offset > last.segment->base_offset());
  const ReadHint wrong{.segment_id = last.segment->id(), .position = 0, .offset = end - 1};
  CHECK(FirstBatch(Unwrap(log->Read(end - 1, 1, wrong))).base_offset ==
        last.segment->base_offset());
  // ...and ignored for any other offset, or for another segment object.
  CHECK(FirstBatch(Unwrap(log->Read(end - 2, 1, wrong))).last_offset() >= end - 2);
  ReadHint other = wrong;
  other.segment_id = Unwrap(log->Read(0, 1)).segment->id();
  CHECK(FirstBatch(Unwrap(log->Read(end - 1, 1, other))).last_offset() == end - 1);
  // A reopened log has new segment objects: the old hint names none.
  REQUIRE_OK(log->Close());
  log = OpenLog(t, TestLogOptions(16 << 10));
  CHECK(FirstBatch(Unwrap(log->Read(end - 1, 1, wrong))).last_offset() == end - 1);
}

TEST_CASE("PartitionLog: a new log starts at initial_offset", "[partition_log]") {
  TestFs t(FsKind::kMem);
  PartitionLogOptions options = TestLogOptions();
  options.initial_offset = 5000;
  std::mt19937_64 rng(1);
  auto log = OpenLog(t, options);
  CHECK(log->start_offset() == 5000);
  REQUIRE_OK(AppendRecords(*log, 100, rng));
  REQUIRE_OK(VerifyLog(*log, 5000, 5100));
  CHECK(SegmentBases(t) == std::vector<int64_t>{5000});
  CHECK(log->Read(4999, 1).status().code() == absl::StatusCode::kOutOfRange);
}

TEST_CASE("PartitionLog: rolls by size, and reads and lookups span the segments",
          "[partition_log]") {
  TestFs t(GENERATE(FsKind::kMem, FsKind::kPosix));
  INFO(t.name());
  // Fewer, larger segments on disk, where closing syncs each one.
  const PartitionLogOptions options = TestLogOptions(t.mem() ? 16 << 10 : 64 << 10);
  std::mt19937_64 rng(2);
  auto log = OpenLog(t, options);
  REQUIRE_OK(AppendRecords(*log, 8000, rng));
  const int64_t end = log->end_offset();
  REQUIRE(log->segment_count() > 15);
  CHECK(log->segment_count() == static_cast<int>(SegmentBases(t).size()));
  REQUIRE_OK(VerifyLog(*log, 0, end));

  // Every segment starts where the one before it ends, and a read never
  // spans two of them.
  const std::vector<int64_t> bases = SegmentBases(t);
  CHECK(bases.front() == 0);
  uint64_t total = 0;
  for (size_t i = 0; i < bases.size(); ++i) {
    const ReadResult read = Unwrap(log->Read(bases[i], std::numeric_limits<size_t>::max()));
    CHECK(read.segment->base_offset() == bases[i]);
    CHECK(FirstBatch(read).base_offset == bases[i]);
    CHECK(read.batches.data() == read.segment->data());
    CHECK(read.batches.size() == read.segment->size());
    const int64_t next = i + 1 < bases.size() ? bases[i + 1] : end;
    CHECK(read.segment->next_offset() == next);
    CHECK(read.segment->size() <= options.segment.max_bytes);
    total += read.segment->size();
  }
  CHECK(log->size_bytes() == total);

  // OffsetForTimestamp over all segments agrees with a scan of every record.
  for (int64_t o = 0; o < end; o += 37) {
    const int64_t ts = RecordAt(o).timestamp;
    for (int64_t target : {ts - 1, ts, ts + 1}) {
      INFO("timestamp " << target);
      CHECK(Unwrap(log->OffsetForTimestamp(target)) ==
            testing::ExpectedOffsetForTimestamp(0, end, target));
    }
  }
  CHECK(Unwrap(log->OffsetForTimestamp(std::numeric_limits<int64_t>::min())) == 0);
  CHECK(Unwrap(log->OffsetForTimestamp(std::numeric_limits<int64_t>::max())) == end);

  // The same after a reopen, when old segments are opened on first use.
  REQUIRE_OK(log->Close());
  log = OpenLog(t, options);
  for (int64_t o = 5; o < end; o += 101) {
    const int64_t ts = RecordAt(o).timestamp;
    CHECK(Unwrap(log->OffsetForTimestamp(ts)) == testing::ExpectedOffsetForTimestamp(0, end, ts));
  }
  REQUIRE_OK(VerifyLog(*log, 0, end));
}

// Appends one one-record batch stamped with the clock's time.
void AppendNow(PartitionLog& log, testing::FakeClock& clock) {
  BatchBuilder builder;
  const testing::OwnedRecord record = RecordAt(log.end_offset());
  testing::OwnedRecord now = record;
  now.timestamp = clock.NowMillis();
  builder.Add(now.view(), now.timestamp);
  REQUIRE_OK(log.Append(Unwrap(builder.Finish())));
}

TEST_CASE("PartitionLog: rolls by age, also across a reopen", "[partition_log]") {
  TestFs t(FsKind::kMem);
  testing::FakeClock clock(1'800'000'000'000);
  PartitionLogOptions options = TestLogOptions();
  options.segment_ms = 1000;
  options.clock = &clock;
  auto log = OpenLog(t, options);

  AppendNow(*log, clock);
  clock.Advance(999);
  AppendNow(*log, clock);
  CHECK(log->segment_count() == 1);
  clock.Advance(1);  // The first batch is now segment_ms old.
  AppendNow(*log, clock);
  CHECK(log->segment_count() == 2);
  const int64_t second_started = clock.NowMillis();
  clock.Advance(500);
  AppendNow(*log, clock);
  CHECK(log->segment_count() == 2);

  // Reopened, the age counts from the first batch's timestamp.
  REQUIRE_OK(log->Close());
  log = OpenLog(t, options);
  clock.Set(second_started + 999);
  AppendNow(*log, clock);
  CHECK(log->segment_count() == 2);
  clock.Set(second_started + 1000);
  AppendNow(*log, clock);
  CHECK(log->segment_count() == 3);

  // Roll() starts a new segment, unless the active one is empty.
  REQUIRE_OK(log->Roll());
  CHECK(log->segment_count() == 4);
  REQUIRE_OK(log->Roll());
  CHECK(log->segment_count() == 4);
  CHECK(SegmentBases(t).size() == 4);
  REQUIRE_OK(VerifyLog(*log, 0, log->end_offset(), {.timestamps = false}));
}

TEST_CASE("PartitionLog: reopened after Close, it holds the same records", "[partition_log]") {
  TestFs t(GENERATE(FsKind::kMem, FsKind::kPosix));
  const bool explicit_close = GENERATE(true, false);
  INFO(t.name() << (explicit_close ? ", Close()" : ", destructor"));
  const PartitionLogOptions options = TestLogOptions(32 << 10);
  std::mt19937_64 rng(3);
  auto log = OpenLog(t, options);
  REQUIRE_OK(AppendRecords(*log, 3000, rng));
  const int64_t end = log->end_offset();
  const int segments = log->segment_count();
  if (explicit_close) {
    REQUIRE_OK(log->Close());
    CHECK(log->Close().code() == absl::StatusCode::kFailedPrecondition);
  }
  log.reset();

  RecoveryReport report;
  log = OpenLog(t, options, &report);
  // Closed cleanly: nothing to check, nothing dropped.
  CHECK(report.partitions_recovered == 0);
  CHECK(report.segments_checked == 0);
  CHECK_FALSE(report.dropped_anything());
  CHECK(report.details.empty());
  CHECK(log->segment_count() == segments);
  REQUIRE_OK(VerifyLog(*log, 0, end));

  REQUIRE_OK(AppendRecords(*log, 500, rng));
  REQUIRE_OK(VerifyLog(*log, 0, end + 500));
}

TEST_CASE("PartitionLog: LogAppendTime stamps batches with the log's clock", "[partition_log]") {
  TestFs t(GENERATE(FsKind::kMem, FsKind::kPosix));
  const bool write_through_file = GENERATE(false, true);
  INFO(t.name() << (write_through_file ? ", appended by write" : ", appended by mapping"));
  testing::FakeClock clock(1'800'000'000'000);
  PartitionLogOptions options = TestLogOptions(64 << 10);
  options.segment.write_through_file = write_through_file;
  options.log_append_time = true;
  options.clock = &clock;
  auto log = OpenLog(t, options);

  BatchBuilder builder;
  std::vector<int64_t> stamps;  // Per offset.
  std::mt19937_64 rng(4);
  for (int i = 0; i < 200; ++i) {
    clock.Advance(1 + static_cast<int64_t>(rng() % 50));
    const int n = 1 + static_cast<int>(rng() % 12);  // Fits a segment, however large.
    const std::span<const char> batch = Unwrap(testing::BuildBatch(builder, log->end_offset(), n));
    const std::string before(batch.data(), batch.size());
    // A caller's reading of the clock, however old, does not set the time:
    // the log reads its clock under its lock, so the times never go back.
    const int64_t callers_now = i % 2 == 0 ? -1 : clock.NowMillis() - 1000;
    const AppendResult result = Unwrap(log->Append(batch, callers_now));
    CHECK(result.log_append_time == clock.NowMillis());
    CHECK(std::string(batch.data(), batch.size()) == before);  // The caller's bytes are theirs.
    stamps.insert(stamps.end(), n, clock.NowMillis());
  }
  const int64_t end = log->end_offset();
  REQUIRE(static_cast<int64_t>(stamps.size()) == end);

  auto check = [&] {
    REQUIRE_OK(VerifyLog(*log, 0, end, {.timestamps = false}));
    BatchReader reader;
    for (int64_t o = 0; o < end;) {
      const ReadResult read = Unwrap(log->Read(o, 1));
      BatchHeader h;
      REQUIRE_OK(CheckBatch(read.batches, &h));  // Re-stamped, and the CRC holds.
      CHECK(h.log_append_time());
      CHECK(h.max_timestamp == stamps[o]);
      detail::RecordDecoder decoder;
      REQUIRE_OK(reader.Open(read.batches.first(h.size()), h, &decoder));
      RecordView record;
      while (decoder.Next(&record)) CHECK(record.timestamp() == stamps[record.offset()]);
      o = h.last_offset() + 1;
    }
    // Lookups by time use the append times.
    for (int64_t o = 0; o < end; o += 13) {
      const int64_t first =
          std::lower_bound(stamps.begin(), stamps.end(), stamps[o]) - stamps.begin();
      CHECK(Unwrap(log->OffsetForTimestamp(stamps[o])) == first);
    }
  };
  check();
  REQUIRE_OK(log->Close());
  log = OpenLog(t, options);
  check();

  // Without the option, producers' timestamps are kept.
  TestFs other(FsKind::kMem);
  auto plain = Unwrap(PartitionLog::Open(other.fs(), other.Join("log"), TestLogOptions(), nullptr));
  CHECK(Unwrap(plain->Append(Unwrap(testing::BuildBatch(builder, 0, 3)))).log_append_time == -1);
  REQUIRE_OK(VerifyLog(*plain, 0, 3));
}

TEST_CASE("PartitionLog: bad batches are refused and change nothing", "[partition_log]") {
  TestFs t(GENERATE(FsKind::kMem, FsKind::kPosix));
  INFO(t.name());
  PartitionLogOptions options = TestLogOptions(64 << 10);
  options.max_batch_bytes = 8000;
  std::mt19937_64 rng(5);
  auto log = OpenLog(t, options);
  REQUIRE_OK(AppendRecords(*log, 100, rng));
  const int64_t end = log->end_offset();
  BatchBuilder builder;

  auto refused = [&](std::span<const char> batch, absl::StatusCode code) {
    const absl::Status s = log->Append(batch).status();
    INFO(s.ToString());
    CHECK(s.code() == code);
    CHECK(log->end_offset() == end);
  };
  // Larger than max.message.bytes.
  std::string big = testing::RandomBytes(rng, 9000);
  builder.Reset();
  Record record;
  record.value = big;
  builder.Add(record, 1);
  refused(Unwrap(builder.Finish()), absl::StatusCode::kInvalidArgument);
  // Not a batch at all.
  for (int i = 0; i < 20; ++i) {
    std::string garbage = testing::RandomBytes(rng, 61 + rng() % 500);
    refused(std::span<const char>(garbage), absl::StatusCode::kInvalidArgument);
  }
  refused({}, absl::StatusCode::kInvalidArgument);
  // A batch cut short, and two batches as one.
  const std::span<const char> good = Unwrap(testing::BuildBatch(builder, end, 5));
  const std::string batch(good.data(), good.size());
  refused(std::span<const char>(batch).first(batch.size() - 1), absl::StatusCode::kInvalidArgument);
  const std::string two = batch + batch;
  refused(std::span<const char>(two), absl::StatusCode::kInvalidArgument);
  REQUIRE_OK(VerifyLog(*log, 0, end));

  // A batch damaged in transit, when CRCs are checked on append.
  log.reset();
  options.check_crc_on_append = true;
  log = OpenLog(t, options);
  std::string damaged = batch;
  damaged[damaged.size() - 3] ^= 0x20;
  refused(std::span<const char>(damaged), absl::StatusCode::kDataLoss);
  REQUIRE_OK(log->Append(std::span<const char>(batch)));
  REQUIRE_OK(VerifyLog(*log, 0, end + 5));
}

TEST_CASE("PartitionLog: larger than a segment is refused", "[partition_log]") {
  TestFs t(FsKind::kMem);
  PartitionLogOptions options = TestLogOptions(16 << 10);
  auto log = OpenLog(t, options);
  BatchBuilder builder;
  std::mt19937_64 rng(6);
  const std::string value = testing::RandomBytes(rng, 17 << 10);
  Record record;
  record.value = value;
  builder.Add(record, 1);
  CHECK(log->Append(Unwrap(builder.Finish())).status().code() ==
        absl::StatusCode::kInvalidArgument);
  CHECK(log->end_offset() == 0);
  CHECK(log->segment_count() == 1);
}

TEST_CASE("PartitionLog: out-of-range reads, and calls after Close", "[partition_log]") {
  TestFs t(GENERATE(FsKind::kMem, FsKind::kPosix));
  INFO(t.name());
  PartitionLogOptions options = TestLogOptions();
  options.initial_offset = 100;
  std::mt19937_64 rng(7);
  auto log = OpenLog(t, options);
  REQUIRE_OK(AppendRecords(*log, 50, rng));
  CHECK(Unwrap(log->Read(150, 1)).batches.empty());  // The end: nothing yet.
  CHECK(log->Read(151, 1).status().code() == absl::StatusCode::kOutOfRange);
  CHECK(log->Read(99, 1).status().code() == absl::StatusCode::kOutOfRange);
  CHECK(log->Read(-1, 1).status().code() == absl::StatusCode::kOutOfRange);

  const ReadResult held = Unwrap(log->Read(100, 1 << 20));
  REQUIRE_OK(log->Close());
  BatchHeader h;
  CHECK_OK(CheckBatch(held.batches, &h));  // A ReadResult outlives Close.

  BatchBuilder builder;
  CHECK(log->Append(Unwrap(testing::BuildBatch(builder, 150, 1))).status().code() ==
        absl::StatusCode::kFailedPrecondition);
  CHECK(log->Roll().code() == absl::StatusCode::kFailedPrecondition);
  CHECK(log->Sync().code() == absl::StatusCode::kFailedPrecondition);
  CHECK(log->Read(120, 1).status().code() == absl::StatusCode::kFailedPrecondition);
  CHECK(log->OffsetForTimestamp(0).status().code() == absl::StatusCode::kFailedPrecondition);
}

TEST_CASE("PartitionLog: a clean open maps only the last segment, older ones on first read",
          "[partition_log]") {
  TestFs t(FsKind::kMem);
  MemFileSystem& fs = *t.mem();
  const PartitionLogOptions options = TestLogOptions(16 << 10);
  auto opens = [&] { return fs.OperationCount(kMemFsOpen | kMemFsMap); };
  // Two logs, closed cleanly: one of a few segments, one of many.
  for (const auto& [dir, records] : {std::pair{"few", 300}, std::pair{"many", 4000}}) {
    auto log = Unwrap(PartitionLog::Open(fs, t.Join(dir), options, nullptr));
    std::mt19937_64 rng(9);
    REQUIRE_OK(AppendRecords(*log, records, rng));
  }
  int64_t before = opens();
  auto few = Unwrap(PartitionLog::Open(fs, t.Join("few"), options, nullptr));
  const int64_t few_cost = opens() - before;
  before = opens();
  auto many = Unwrap(PartitionLog::Open(fs, t.Join("many"), options, nullptr));
  const int64_t many_cost = opens() - before;
  REQUIRE(few->segment_count() >= 2);
  REQUIRE(many->segment_count() >= 10 * few->segment_count());
  CHECK(many_cost == few_cost);

  // Reading the last segment opens nothing more.
  before = opens();
  CHECK_OK(many->Read(3999, 1));
  CHECK(opens() == before);
  // An old segment is opened by its first read, and only then.
  CHECK_OK(many->Read(0, 1));
  const int64_t lazy_cost = opens() - before;
  CHECK(lazy_cost > 0);
  before = opens();
  CHECK_OK(many->Read(1, 1));
  CHECK_OK(many->Read(0, 1 << 20));
  CHECK(opens() == before);
  CHECK_OK(many->Read(2000, 1));
  CHECK(opens() - before == lazy_cost);
  REQUIRE_OK(VerifyLog(*many, 0, 4000));
  REQUIRE_OK(VerifyLog(*few, 0, 300));
}

}  // namespace
}  // namespace rill
