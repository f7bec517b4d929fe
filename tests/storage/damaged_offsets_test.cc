// Damage that no CRC covers: a batch's baseOffset (outside the batch's CRC)
// and the entries of an offset index (which has no checksum). A read must
// never return records at offsets other than those written, nor skip
// records without saying so: it returns the batch as written, or kDataLoss.
#include <algorithm>
#include <atomic>
#include <random>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "absl/strings/str_cat.h"
#include "format/batch_format.h"
#include "format/batch_header.h"
#include "rill/clock.h"
#include "storage/partition_log.h"
#include "storage/segment_format.h"
#include "testutil/log_records.h"
#include "testutil/status.h"
#include "testutil/test_fs.h"
#include "util/endian.h"

namespace rill {
namespace {

using testing::FsKind;
using testing::TestFs;
using testing::TestLogOptions;
using testing::Unwrap;

struct Batch {
  std::string path;
  uint64_t position;
  BatchHeader header;
};

// A closed log of several segments, and where its batches lie.
std::vector<Batch> WriteLog(TestFs& t,
                            const PartitionLogOptions& options = TestLogOptions(16 << 10)) {
  std::mt19937_64 rng(8);
  auto log = Unwrap(PartitionLog::Open(t.fs(), t.Join("log"), options, nullptr));
  REQUIRE_OK(testing::AppendRecords(*log, 800, rng, 4));
  REQUIRE(log->segment_count() >= 4);
  std::vector<Batch> batches;
  for (int64_t next = 0; next < log->end_offset();) {
    const ReadResult read = Unwrap(log->Read(next, 1));
    Batch b{read.segment->path(),
            static_cast<uint64_t>(read.batches.data() - read.segment->data()),
            {}};
    REQUIRE_OK(CheckBatch(read.batches, &b.header));
    batches.push_back(b);
    next = b.header.last_offset() + 1;
  }
  REQUIRE_OK(log->Close());
  return batches;
}

// A clock a millisecond later at each reading: with log_append_time, each
// batch is stamped later than the one before.
class TickingClock final : public Clock {
 public:
  int64_t NowMillis() override { return ++now_ms_; }
  int64_t MonotonicMicros() override { return now_ms_.load() * 1000; }

 private:
  std::atomic<int64_t> now_ms_{1'700'000'000'000};
};

void Patch(FileSystem& fs, const std::string& path, uint64_t at, std::string_view bytes) {
  REQUIRE_OK(Unwrap(fs.OpenFile(path, OpenMode::kReadWrite))->WriteAt(at, bytes));
}

// Reads the batch holding each offset in turn: each read returns that batch
// as written -- offsets and CRC -- or kDataLoss. Returns the reads that
// failed.
int ReadEachBatch(const PartitionLog& log, const std::vector<Batch>& batches) {
  int failed = 0;
  for (const Batch& b : batches) {
    INFO("reading offset " << b.header.base_offset);
    absl::StatusOr<ReadResult> read = log.Read(b.header.base_offset, 1);
    if (!read.ok()) {
      CHECK(read.status().code() == absl::StatusCode::kDataLoss);
      ++failed;
      continue;
    }
    REQUIRE_FALSE(read->batches.empty());
    const BatchHeader h = DecodeBatchHeader(read->batches.data());
    CHECK(h.base_offset == b.header.base_offset);
    CHECK(h.last_offset() == b.header.last_offset());
    CHECK(h.crc == b.header.crc);
  }
  return failed;
}

TEST_CASE("A damaged baseOffset in a sealed segment is data loss, never other offsets",
          "[damage]") {
  // A batch in the middle of the first segment, or its last one; moved a
  // little or far, up or down.
  const bool last_of_segment = GENERATE(false, true);
  const int64_t delta = GENERATE(as<int64_t>{}, 1, 3, 300, int64_t{1} << 40, -1, -2);
  INFO((last_of_segment ? "last batch" : "middle batch") << " moved by " << delta);
  TestFs t(FsKind::kPosix);
  const std::vector<Batch> batches = WriteLog(t);
  size_t victim = 5;
  if (last_of_segment) {
    while (batches[victim + 1].path == batches[victim].path) ++victim;
  }
  const Batch& b = batches[victim];
  char field[8];
  StoreBigEndian(field, b.header.base_offset + delta);
  Patch(t.fs(), b.path, b.position + batch::kBaseOffsetPos, {field, 8});

  auto log = Unwrap(PartitionLog::Open(t.fs(), t.Join("log"), TestLogOptions(16 << 10), nullptr));
  // The damaged batch is never read as other offsets; it, and at most its
  // neighbour (which of the two is damaged cannot be told), are data loss.
  const int failed = ReadEachBatch(*log, batches);
  CHECK(failed >= 1);
  const absl::Status s = log->Read(b.header.base_offset, 1).status();
  CHECK(s.code() == absl::StatusCode::kDataLoss);
  // Other segments are unharmed.
  size_t other = victim;
  while (batches[other].path == b.path) ++other;
  REQUIRE_OK(testing::VerifyLog(*log, batches[other].header.base_offset, log->end_offset()));
}

TEST_CASE("A damaged batch length in a sealed segment is data loss there, never followed",
          "[damage]") {
  // Shorter than a header, into the next batch, or far past the file's end.
  const uint32_t length = GENERATE(as<uint32_t>{}, 5, 300, uint32_t{1} << 30);
  INFO("batchLength set to " << length);
  TestFs t(FsKind::kPosix);
  const std::vector<Batch> batches = WriteLog(t);
  const Batch& b = batches[5];
  REQUIRE(batches[4].path == b.path);
  char field[4];
  StoreBigEndian(field, length);
  Patch(t.fs(), b.path, b.position + batch::kBatchLengthPos, {field, 4});

  auto log = Unwrap(PartitionLog::Open(t.fs(), t.Join("log"), TestLogOptions(16 << 10), nullptr));
  // A read that starts at it says so; one that starts before it returns the
  // batches before it, and stops there.
  CHECK(log->Read(b.header.base_offset, 1 << 20).status().code() == absl::StatusCode::kDataLoss);
  const ReadResult before = Unwrap(log->Read(batches[4].header.base_offset, 1 << 20));
  CHECK(static_cast<uint64_t>(before.batches.data() - before.segment->data()) ==
        batches[4].position);
  CHECK(before.batches.size() == b.position - batches[4].position);
  // The batches before it read as written. (Those after it, up to the next
  // index entry, are reached through it, and are data loss as well.)
  CHECK(ReadEachBatch(*log, {batches.begin(), batches.begin() + 6}) == 1);
}

TEST_CASE(
    "A damaged batch header in a sealed segment's tail leaves the rest readable and deletable",
    "[damage]") {
  // Batch times rise, so the segment's last time index entry is its last
  // batch's. The damage: the segment's last batch, past its last offset
  // index entry, where opening the segment walks the headers to find its
  // end.
  TickingClock clock;
  PartitionLogOptions options = TestLogOptions(16 << 10);
  options.log_append_time = true;
  options.clock = &clock;
  std::vector<std::string> logged;
  options.log_sink = [&logged](LogSeverity, std::string_view m) { logged.emplace_back(m); };
  TestFs t(FsKind::kPosix);
  const std::vector<Batch> batches = WriteLog(t, options);
  size_t victim = 0;
  while (batches[victim + 1].path == batches[victim].path) ++victim;
  const Batch& b = batches[victim];
  const Batch& next_segment = batches[victim + 1];
  char field[4];
  StoreBigEndian(field, uint32_t{5});
  Patch(t.fs(), b.path, b.position + batch::kBatchLengthPos, {field, 4});

  auto log = Unwrap(PartitionLog::Open(t.fs(), t.Join("log"), options, nullptr));
  // The batches before it read as written; it, and every offset after it in
  // the segment, is data loss -- never skipped to the next segment.
  CHECK(ReadEachBatch(*log, {batches.begin(), batches.begin() + victim}) == 0);
  const absl::Status s = log->Read(b.header.base_offset, 1 << 20).status();
  CHECK(s.code() == absl::StatusCode::kDataLoss);
  CHECK_THAT(std::string(s.message()), Catch::Contains(b.path));
  CHECK(log->Read(b.header.last_offset(), 1).status().code() == absl::StatusCode::kDataLoss);
  REQUIRE_OK(testing::VerifyLog(*log, next_segment.header.base_offset, log->end_offset(),
                                {.timestamps = false}));
  REQUIRE(logged.size() == 1);
  CHECK_THAT(logged[0], Catch::Contains(absl::StrCat("from offset ", b.header.base_offset)));
  // By time: each readable batch is found by its time; a later time, which
  // the lost records may hold, finds the first lost offset, not one in the
  // next segment.
  for (size_t i = 0; i < victim; ++i) {
    INFO("batch at offset " << batches[i].header.base_offset);
    CHECK(Unwrap(log->OffsetForTimestamp(batches[i].header.max_timestamp)) ==
          batches[i].header.base_offset);
  }
  CHECK(Unwrap(log->OffsetForTimestamp(batches[victim - 1].header.max_timestamp + 1)) ==
        b.header.base_offset);
  // The segment is listed, and retention can still delete it: a damaged
  // segment must not hold its disk space for ever.
  const std::vector<SegmentInfo> segments = Unwrap(log->ListSegments());
  REQUIRE(segments.size() >= 4);
  CHECK(segments[0].next_offset == b.header.base_offset);
  const DeletedSegments deleted = Unwrap(log->DeleteOldestSegments(1, RemovalReason::kRetention));
  CHECK(deleted.segments == 1);
  // Its records cannot all be counted: the offsets it spans are.
  CHECK(deleted.records == next_segment.header.base_offset);
  CHECK(log->start_offset() == next_segment.header.base_offset);
}

TEST_CASE("A damaged offset index entry never makes a read skip records", "[damage]") {
  // Point an entry at another batch, or name another offset for its batch.
  const std::string field = GENERATE(as<std::string>{}, "position", "offset");
  INFO("entry's " << field << " damaged");
  TestFs t(FsKind::kPosix);
  const std::vector<Batch> batches = WriteLog(t);
  const std::string index = t.Join("log/" + segment::FileName(0, segment::kIndexSuffix));
  const std::string bytes = Unwrap(ReadFileToString(t.fs(), index));
  const size_t entries = bytes.size() / segment::kOffsetEntrySize;
  REQUIRE(entries >= 3);
  auto entry = [&](size_t i) {
    const char* e = bytes.data() + i * segment::kOffsetEntrySize;
    return std::pair<int64_t, uint64_t>(LoadBigEndian<int32_t>(e), LoadBigEndian<uint32_t>(e + 4));
  };
  auto batch_at = [&](uint64_t position) {
    size_t k = 0;
    while (batches[k].position != position) ++k;
    return k;
  };
  // An entry that, damaged, still lies between its neighbours, but would
  // start a walk two batches too late: at a later batch's position, or with
  // the last offset of the batch two before its own.
  bool patched = false;
  for (size_t i = 1; i + 1 < entries && !patched; ++i) {
    const size_t k = batch_at(entry(i).second);
    char value[4];
    if (field == "position" && batches[k + 2].position < entry(i + 1).second) {
      StoreBigEndian(value, static_cast<uint32_t>(batches[k + 2].position));
      Patch(t.fs(), index, i * segment::kOffsetEntrySize + 4, {value, 4});
      patched = true;
    } else if (field == "offset" && k >= 2 &&
               batches[k - 2].header.last_offset() > entry(i - 1).first) {
      StoreBigEndian(value, static_cast<int32_t>(batches[k - 2].header.last_offset()));
      Patch(t.fs(), index, i * segment::kOffsetEntrySize, {value, 4});
      patched = true;
    }
  }
  REQUIRE(patched);
  auto log = Unwrap(PartitionLog::Open(t.fs(), t.Join("log"), TestLogOptions(16 << 10), nullptr));
  CHECK(ReadEachBatch(*log, batches) == 0);
  REQUIRE_OK(testing::VerifyLog(*log, 0, log->end_offset()));
}

TEST_CASE("A damaged time index entry never makes a lookup by time skip records", "[damage]") {
  // An entry whose timestamp is lowered, or whose offset is raised, yet
  // still lies between its neighbours; or the last entry, which gives the
  // segment's greatest timestamp, lowered.
  const std::string field = GENERATE(as<std::string>{}, "timestamp", "offset", "last timestamp");
  INFO("entry's " << field << " damaged");
  TestFs t(FsKind::kPosix);
  const std::vector<Batch> batches = WriteLog(t);
  const int64_t end = batches.back().header.last_offset() + 1;
  const std::string index = t.Join("log/" + segment::FileName(0, segment::kTimeIndexSuffix));
  const std::string bytes = Unwrap(ReadFileToString(t.fs(), index));
  const size_t entries = bytes.size() / segment::kTimeEntrySize;
  REQUIRE(entries >= 3);
  auto entry = [&](size_t i) {
    const char* e = bytes.data() + i * segment::kTimeEntrySize;
    return std::pair<int64_t, int64_t>(LoadBigEndian<int64_t>(e), LoadBigEndian<int32_t>(e + 8));
  };
  const size_t i = field == "last timestamp" ? entries - 1 : entries / 2;
  if (field != "offset") {
    char value[8];
    StoreBigEndian(value, entry(i - 1).first + 1);
    Patch(t.fs(), index, i * segment::kTimeEntrySize, {value, 8});
  } else {
    char value[4];
    StoreBigEndian(value, static_cast<int32_t>(entry(i + 1).second - 1));
    Patch(t.fs(), index, i * segment::kTimeEntrySize + 8, {value, 4});
  }
  auto log = Unwrap(PartitionLog::Open(t.fs(), t.Join("log"), TestLogOptions(16 << 10), nullptr));
  for (int64_t ts = entry(0).first - 100; ts <= entry(entries - 1).first + 100; ts += 7) {
    INFO("timestamp " << ts);
    CHECK(Unwrap(log->OffsetForTimestamp(ts)) == testing::ExpectedOffsetForTimestamp(0, end, ts));
  }
}

}  // namespace
}  // namespace rill
