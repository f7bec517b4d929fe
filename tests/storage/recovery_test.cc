// Recovery: what opening a log finds after a loss of power (through
// MemFileSystem's crash copies) or after its files were damaged on disk.
#include <algorithm>
#include <deque>
#include <functional>
#include <map>
#include <random>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "format/batch_format.h"
#include "format/batch_header.h"
#include "storage/partition_log.h"
#include "storage/segment_format.h"
#include "testutil/log_records.h"
#include "testutil/status.h"
#include "testutil/test_fs.h"
#include "util/endian.h"

namespace rill {
namespace {

using testing::AppendRecords;
using testing::FsKind;
using testing::TestFs;
using testing::TestLogOptions;
using testing::Unwrap;
using testing::VerifyLog;

// A TaskRunner that runs its tasks in order, only when told and only as
// many as it is told: a background thread that a crash can interrupt
// between any two tasks.
class StepRunner final : public TaskRunner {
 public:
  void Schedule(std::function<void()> task) override { tasks_.push_back(std::move(task)); }
  void Run(size_t n) {
    for (; n > 0 && !tasks_.empty(); --n) {
      std::function<void()> task = std::move(tasks_.front());
      tasks_.pop_front();
      task();
    }
  }
  size_t pending() const { return tasks_.size(); }

 private:
  std::deque<std::function<void()>> tasks_;
};

// The .log files of a partition directory, by name, with their bytes.
std::map<std::string, std::string> LogFiles(FileSystem& fs, const std::string& dir) {
  std::map<std::string, std::string> files;
  for (const std::string& name : Unwrap(fs.ListDir(dir))) {
    if (segment::ParseFileName(name, segment::kLogSuffix)) {
      files[name] = Unwrap(ReadFileToString(fs, JoinPath(dir, name)));
    }
  }
  return files;
}

// Checks what a report says was dropped against the .log files before and
// after recovery: at least the non-zero bytes past each file's new end
// (and every deleted file's), at most all bytes past it.
void CheckDropped(const RecoveryReport& report, const std::map<std::string, std::string>& before,
                  const std::map<std::string, std::string>& after) {
  uint64_t least = 0;
  uint64_t most = 0;
  int64_t deleted = 0;
  // A log with no segment left starts a new one.
  for (const auto& [name, bytes] : after) {
    if (before.count(name) == 0) CHECK((before.empty() && after.size() == 1 && bytes.empty()));
  }
  for (const auto& [name, bytes] : before) {
    auto it = after.find(name);
    const size_t kept = it == after.end() ? 0 : it->second.size();
    if (it == after.end()) ++deleted;
    REQUIRE(kept <= bytes.size());
    CHECK(bytes.compare(0, kept, it == after.end() ? "" : it->second) == 0);  // Only cut.
    const size_t last_non_zero = bytes.find_last_not_of('\0');
    if (last_non_zero != std::string::npos && last_non_zero >= kept) {
      least += last_non_zero + 1 - kept;
    }
    most += bytes.size() - kept;
  }
  CHECK(std::max<size_t>(after.size(), 1) == std::max<size_t>(before.size() - deleted, 1));
  INFO("dropped " << report.bytes_dropped << " bytes; expected [" << least << ", " << most << "]");
  CHECK(report.bytes_dropped >= least);
  CHECK(report.bytes_dropped <= most);
  CHECK(report.segments_dropped == deleted);
  CHECK(report.details.empty() == !report.dropped_anything());
  if (report.partitions_recovered == 0) CHECK_FALSE(report.dropped_anything());
}

TEST_CASE("Recovery after a power loss keeps every synced record and invents none", "[recovery]") {
  const CrashMode mode = GENERATE(CrashMode::kDropUnsynced, CrashMode::kCutUnsynced,
                                  CrashMode::kRandomPages, CrashMode::kGarbageUnsynced);
  const bool background = GENERATE(false, true);
  for (uint64_t seed = 0; seed < 20; ++seed) {
    INFO("mode " << static_cast<int>(mode) << ", seed " << seed
                 << (background ? ", sealed segments synced in the background" : ""));
    std::mt19937_64 rng(seed);
    TestFs t(FsKind::kMem, {.track_durability = true});
    const std::string dir = t.Join("log");
    StepRunner runner;
    PartitionLogOptions options = TestLogOptions(16 << 10);
    if (background) options.background = &runner;
    auto log = Unwrap(PartitionLog::Open(t.fs(), dir, options, nullptr));

    int64_t synced = 0;
    const int steps = 20 + static_cast<int>(rng() % 40);
    for (int step = 0; step < steps; ++step) {
      REQUIRE_OK(AppendRecords(*log, 1 + static_cast<int64_t>(rng() % 60), rng, 20));
      switch (rng() % 8) {
        case 0:
          REQUIRE_OK(log->Sync());
          synced = log->end_offset();
          break;
        case 1:
          runner.Run(rng() % (runner.pending() + 1));
          break;
        case 2:
          REQUIRE_OK(log->Roll());
          break;
      }
    }
    REQUIRE_OK(AppendRecords(*log, static_cast<int64_t>(rng() % 100), rng, 20));
    const int64_t appended = log->end_offset();

    auto copy = t.mem()->CrashCopy(mode, seed);
    const auto before = LogFiles(*copy, dir);
    RecoveryReport report;
    options.background = nullptr;
    auto reopened = Unwrap(PartitionLog::Open(*copy, dir, options, &report));
    const int64_t end = reopened->end_offset();
    CHECK(end >= synced);
    CHECK(end <= appended);
    // Every record there is the one appended at its offset: none lost
    // before the end, none made up.
    REQUIRE_OK(VerifyLog(*reopened, 0, end));
    CheckDropped(report, before, LogFiles(*copy, dir));
    if (mode == CrashMode::kDropUnsynced) {
      // Only whole synced batches survive: nothing to cut.
      CHECK(report.bytes_dropped == 0);
      if (!background) CHECK(end == synced);
    }

    // The log goes on: appends, a clean close, a clean open.
    REQUIRE_OK(AppendRecords(*reopened, 100, rng));
    REQUIRE_OK(reopened->Close());
    RecoveryReport clean;
    reopened = Unwrap(PartitionLog::Open(*copy, dir, options, &clean));
    CHECK(clean.partitions_recovered == 0);
    REQUIRE_OK(VerifyLog(*reopened, 0, end + 100));
  }
}

// Abandon(log): drops `log` as a crash would, without closing it, so its
// files stay as they are. The object itself is kept, reachable and never
// destroyed (so leak checkers stay quiet), with its files mapped until the
// process exits.
void Abandon(std::unique_ptr<PartitionLog> log) {
  static auto* const abandoned = new std::vector<std::unique_ptr<PartitionLog>>;
  abandoned->push_back(std::move(log));
}

// Where a batch lies in its segment's .log file.
struct BatchPlace {
  std::string path;
  uint64_t position;
  uint64_t size;
  int64_t base_offset;
};

BatchPlace PlaceOf(const PartitionLog& log, int64_t offset) {
  const ReadResult read = Unwrap(log.Read(offset, 1));
  BatchHeader h;
  REQUIRE_OK(CheckBatchHeader(read.batches, &h));
  return BatchPlace{read.segment->path(),
                    static_cast<uint64_t>(read.batches.data() - read.segment->data()), h.size(),
                    h.base_offset};
}

void WriteAt(FileSystem& fs, const std::string& path, uint64_t offset, std::string_view bytes) {
  REQUIRE_OK(Unwrap(fs.OpenFile(path, OpenMode::kReadWrite))->WriteAt(offset, bytes));
}

// FlipBits(fs, path, offset, mask): XORs the byte at `offset` of `path` with
// `mask`.
void FlipBits(FileSystem& fs, const std::string& path, uint64_t offset, char mask) {
  auto file = Unwrap(fs.OpenFile(path, OpenMode::kReadWrite));
  std::string byte(1, '\0');
  REQUIRE(Unwrap(file->ReadAt(offset, 1, byte.data())) == 1);
  byte[0] ^= mask;
  REQUIRE_OK(file->WriteAt(offset, byte));
}

// A log on disk of several segments, ending with a batch whose last record
// has no headers, so that its last byte is 0 -- as most batches' are.
std::unique_ptr<PartitionLog> WriteLog(TestFs& t, std::mt19937_64& rng) {
  auto log = Unwrap(PartitionLog::Open(t.fs(), t.Join("log"), TestLogOptions(32 << 10), nullptr));
  REQUIRE_OK(AppendRecords(*log, 1500, rng));
  int64_t n = 3;
  while ((log->end_offset() + n - 1) % 4 == 0 || (log->end_offset() + n - 1) % 31 == 3) ++n;
  REQUIRE_OK(AppendRecords(*log, n, rng, static_cast<int>(n)));
  REQUIRE(log->segment_count() >= 3);
  return log;
}

std::unique_ptr<PartitionLog> Reopen(TestFs& t, RecoveryReport* report) {
  return Unwrap(PartitionLog::Open(t.fs(), t.Join("log"), TestLogOptions(32 << 10), report));
}

TEST_CASE("Recovery cuts garbage written past the last batch, and counts it exactly",
          "[recovery]") {
  TestFs t(FsKind::kPosix);
  const bool closed = GENERATE(true, false);
  INFO((closed ? "closed first" : "abandoned without Close"));
  std::mt19937_64 rng(closed ? 1 : 2);
  auto log = WriteLog(t, rng);
  const int64_t end = log->end_offset();
  const BatchPlace last = PlaceOf(*log, end - 1);
  if (closed) {
    REQUIRE_OK(log->Close());
  } else {
    Abandon(std::move(log));
  }
  // Not a batch (wrong magic), and ending in a non-zero byte, so that every
  // byte of it counts.
  std::string garbage = testing::RandomBytes(rng, 100 + rng() % 5000);
  garbage[batch::kMagicPos] = 0x55;
  garbage.back() = 0x7f;
  WriteAt(t.fs(), last.path, last.position + last.size, garbage);

  RecoveryReport report;
  log = Reopen(t, &report);
  CHECK(report.partitions_recovered == 1);
  CHECK(report.bytes_dropped == garbage.size());
  CHECK(report.batches_dropped == 0);
  CHECK(report.segments_dropped == 0);
  REQUIRE(report.details.size() == 1);
  CHECK_THAT(report.details[0], Catch::Matchers::Contains(last.path));
  REQUIRE_OK(VerifyLog(*log, 0, end));
  CHECK(Unwrap(t.fs().Stat(last.path)).size == last.position + last.size);
  REQUIRE_OK(AppendRecords(*log, 100, rng));
  REQUIRE_OK(VerifyLog(*log, 0, end + 100));
}

TEST_CASE("Recovery drops a last batch with one flipped byte, and counts it exactly",
          "[recovery]") {
  TestFs t(FsKind::kPosix);
  const std::string where = GENERATE(as<std::string>{}, "crc", "timestamp", "records");
  INFO("byte flipped in the " << where);
  std::mt19937_64 rng(where.size());
  auto log = WriteLog(t, rng);
  const BatchPlace last = PlaceOf(*log, log->end_offset() - 1);
  Abandon(std::move(log));
  // A byte that only the CRC covers: the header still reads as a batch.
  const uint64_t at = where == "crc" ? batch::kCrcPos + 1
                      : where == "timestamp"
                          ? batch::kMaxTimestampPos + 7
                          : batch::kRecordsPos + rng() % (last.size - batch::kRecordsPos);
  FlipBits(t.fs(), last.path, last.position + at, 0x10);

  RecoveryReport report;
  log = Reopen(t, &report);
  CHECK(report.partitions_recovered == 1);
  CHECK(report.batches_dropped == 1);
  CHECK(report.bytes_dropped == last.size);
  REQUIRE(report.details.size() == 1);
  CHECK_THAT(report.details[0], Catch::Matchers::Contains("CRC"));
  REQUIRE_OK(VerifyLog(*log, 0, last.base_offset));
  REQUIRE_OK(AppendRecords(*log, 100, rng));
  REQUIRE_OK(VerifyLog(*log, 0, last.base_offset + 100));
}

TEST_CASE("A byte flipped in a log closed cleanly is found when read", "[recovery]") {
  TestFs t(FsKind::kPosix);
  std::mt19937_64 rng(3);
  auto log = WriteLog(t, rng);
  const int64_t end = log->end_offset();
  const BatchPlace last = PlaceOf(*log, end - 1);
  REQUIRE_OK(log->Close());
  FlipBits(t.fs(), last.path, last.position + batch::kRecordsPos, 0x01);

  // Below the recovery point, batches are trusted at open (as Kafka trusts
  // a clean shutdown) and checked when first read.
  RecoveryReport report;
  log = Reopen(t, &report);
  CHECK(report.partitions_recovered == 0);
  REQUIRE_OK(VerifyLog(*log, 0, last.base_offset, {.at_end = false}));
  const absl::Status damaged = log->Read(last.base_offset, 1).status();
  CHECK(damaged.code() == absl::StatusCode::kDataLoss);
  CHECK_THAT(std::string(damaged.message()), Catch::Matchers::Contains(last.path));
}

TEST_CASE("A damaged batch length in a log closed cleanly is cut at open, never followed",
          "[recovery]") {
  TestFs t(FsKind::kPosix);
  std::mt19937_64 rng(5);
  auto log = WriteLog(t, rng);
  const int64_t end = log->end_offset();
  const BatchPlace last = PlaceOf(*log, end - 1);
  const BatchPlace before = PlaceOf(*log, last.base_offset - 1);
  REQUIRE(before.path == last.path);
  REQUIRE_OK(log->Close());
  // The batch before the last has a byte flipped: a CRC failure, which is
  // for reads to report, not for the open to cut.
  FlipBits(t.fs(), before.path, before.position + batch::kRecordsPos, 0x01);
  // The last batch now claims to run 1 GiB past the end of its file.
  char length[4];
  StoreBigEndian(length, uint32_t{1} << 30);
  WriteAt(t.fs(), last.path, last.position + batch::kBatchLengthPos, {length, 4});

  // Opening walks the headers after the last index entry, meets it, and
  // recovers the segment: that batch is cut, the rest kept.
  RecoveryReport report;
  log = Reopen(t, &report);
  CHECK(report.partitions_recovered == 1);
  CHECK(report.batches_dropped == 1);
  REQUIRE(report.details.size() == 2);
  CHECK_THAT(report.details[0], Catch::Matchers::Contains("a batch header is damaged"));
  CHECK_THAT(report.details[0], Catch::Matchers::Contains(last.path));
  CHECK(log->end_offset() == last.base_offset);
  REQUIRE_OK(VerifyLog(*log, 0, before.base_offset, {.at_end = false}));
  CHECK(log->Read(before.base_offset, 1).status().code() == absl::StatusCode::kDataLoss);
}

TEST_CASE("Missing index files are rebuilt as they were", "[recovery]") {
  TestFs t(FsKind::kPosix);
  std::mt19937_64 rng(4);
  auto log = WriteLog(t, rng);
  const int64_t end = log->end_offset();
  REQUIRE_OK(log->Close());
  std::map<std::string, std::string> indexes;
  for (const std::string& name : Unwrap(t.fs().ListDir(t.Join("log")))) {
    if (name.ends_with(segment::kIndexSuffix) || name.ends_with(segment::kTimeIndexSuffix)) {
      const std::string path = JoinPath(t.Join("log"), name);
      indexes[name] = Unwrap(ReadFileToString(t.fs(), path));
      REQUIRE_OK(t.fs().RemoveFile(path));
    }
  }
  REQUIRE(indexes.size() >= 6);

  log = Reopen(t, nullptr);
  REQUIRE_OK(VerifyLog(*log, 0, end));
  for (int64_t o = 0; o < end; o += 41) {
    const int64_t ts = testing::RecordAt(o).timestamp;
    CHECK(Unwrap(log->OffsetForTimestamp(ts)) == testing::ExpectedOffsetForTimestamp(0, end, ts));
  }
  REQUIRE_OK(log->Close());
  for (const auto& [name, bytes] : indexes) {
    INFO(name);
    CHECK(Unwrap(ReadFileToString(t.fs(), JoinPath(t.Join("log"), name))) == bytes);
  }
}

TEST_CASE("A damaged recovery point means checking everything, not failing", "[recovery]") {
  TestFs t(FsKind::kPosix);
  const std::string damage = GENERATE(as<std::string>{}, "garbage", "flipped", "empty");
  INFO(damage);
  std::mt19937_64 rng(5);
  auto log = WriteLog(t, rng);
  const int64_t end = log->end_offset();
  const uint64_t bytes = log->size_bytes();
  const int segments = log->segment_count();
  REQUIRE_OK(log->Close());

  const std::string path = JoinPath(t.Join("log"), std::string(segment::kRecoveryPointFile));
  std::string point = Unwrap(ReadFileToString(t.fs(), path));
  if (damage == "garbage") point = testing::RandomBytes(rng, point.size());
  if (damage == "flipped") point[10] ^= 0x04;
  if (damage == "empty") point.clear();
  REQUIRE_OK(Unwrap(t.fs().OpenFile(path, OpenMode::kTruncate))->WriteAt(0, point));

  RecoveryReport report;
  log = Reopen(t, &report);
  CHECK(report.partitions_recovered == 1);
  CHECK(report.segments_checked == segments);
  CHECK(report.bytes_checked == bytes);
  CHECK_FALSE(report.dropped_anything());
  REQUIRE_OK(VerifyLog(*log, 0, end));
}

TEST_CASE("A trusted segment found cut short is data loss from the cut on", "[recovery]") {
  TestFs t(FsKind::kPosix);
  std::mt19937_64 rng(6);
  auto log = WriteLog(t, rng);
  const int64_t end = log->end_offset();
  const int64_t second = Unwrap(log->Read(0, 1)).segment->next_offset();
  const BatchPlace middle = PlaceOf(*log, second / 2);
  REQUIRE_OK(log->Close());
  // Cut inside a batch of the first segment.
  REQUIRE_OK(Unwrap(t.fs().OpenFile(middle.path, OpenMode::kReadWrite))
                 ->Truncate(middle.position + middle.size / 2));

  log = Reopen(t, nullptr);  // Old segments are opened on first read.
  // The batches before the cut read as written; from the cut batch to the
  // segment's end, reads are data loss, never skipped to the next segment.
  REQUIRE_OK(VerifyLog(*log, 0, middle.base_offset, {.at_end = false}));
  for (const int64_t offset : {middle.base_offset, second - 1}) {
    INFO("reading offset " << offset);
    const absl::Status s = log->Read(offset, 1).status();
    CHECK(s.code() == absl::StatusCode::kDataLoss);
    CHECK_THAT(std::string(s.message()), Catch::Matchers::Contains(middle.path));
  }
  // The later segments are unharmed.
  REQUIRE_OK(VerifyLog(*log, second, end));
}

}  // namespace
}  // namespace rill
