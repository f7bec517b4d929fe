// PartitionLog when the file system fails: a full device, failing syncs.
// Each failure must leave the log as it was. After a full device the log
// goes on once there is room; after a failed sync, once reopened.
#include <random>
#include <span>
#include <utility>

#include <catch2/catch.hpp>

#include "absl/strings/match.h"
#include "absl/strings/str_join.h"

#include "format/batch_builder.h"
#include "storage/mem_file_system.h"
#include "storage/partition_log.h"
#include "storage/segment_format.h"
#include "testutil/log_records.h"
#include "testutil/status.h"
#include "testutil/test_fs.h"
#include "util/task_runner.h"

namespace rill {
namespace {

using testing::AppendRecords;
using testing::FsKind;
using testing::TestFs;
using testing::TestLogOptions;
using testing::Unwrap;
using testing::VerifyLog;

TEST_CASE("PartitionLog: a full device refuses appends, and they resume once there is room",
          "[partition_log]") {
  TestFs t(FsKind::kMem);
  MemFileSystem& fs = *t.mem();
  const PartitionLogOptions options = TestLogOptions(64 << 10);
  std::mt19937_64 rng(1);
  auto log = Unwrap(PartitionLog::Open(fs, t.Join("log"), options, nullptr));
  REQUIRE_OK(AppendRecords(*log, 500, rng, 10));
  fs.SetSpaceLimit(fs.UsedBytes());  // Full: whatever needs more space fails.

  // Room is left in space allocated earlier; then batches are refused, each
  // leaving the log as it was.
  BatchBuilder builder;
  absl::Status status;
  int refused = 0;
  for (int i = 0; i < 5000 && refused < 5; ++i) {
    const int64_t end = log->end_offset();
    const std::span<const char> batch =
        Unwrap(testing::BuildBatch(builder, end, 1 + static_cast<int>(rng() % 10)));
    status = log->Append(batch).status();
    if (!status.ok()) {
      ++refused;
      CHECK(status.code() == absl::StatusCode::kResourceExhausted);
      CHECK(log->end_offset() == end);
    }
  }
  CHECK(refused == 5);
  const int64_t end = log->end_offset();
  REQUIRE_OK(VerifyLog(*log, 0, end));

  fs.SetSpaceLimit(0);
  REQUIRE_OK(AppendRecords(*log, 300, rng, 10));
  REQUIRE_OK(VerifyLog(*log, 0, end + 300));
  REQUIRE_OK(log->Close());
  log = Unwrap(PartitionLog::Open(fs, t.Join("log"), options, nullptr));
  REQUIRE_OK(VerifyLog(*log, 0, end + 300));
}

TEST_CASE("PartitionLog: a failed Sync stops the log, which promises nothing more until reopened",
          "[partition_log]") {
  TestFs t(FsKind::kMem, {.track_durability = true});
  MemFileSystem& fs = *t.mem();
  const PartitionLogOptions options = TestLogOptions(16 << 10);
  // The first sync, a later one (a sealed segment's, say), or the
  // directory's.
  const auto [ops, countdown] = GENERATE(
      std::pair<uint32_t, int64_t>{kMemFsSync, 0}, std::pair<uint32_t, int64_t>{kMemFsSync, 2},
      std::pair<uint32_t, int64_t>{kMemFsSync, 7}, std::pair<uint32_t, int64_t>{kMemFsSyncDir, 0});
  INFO("failing ops " << ops << " after " << countdown);
  std::mt19937_64 rng(2);
  auto log = Unwrap(PartitionLog::Open(fs, t.Join("log"), options, nullptr));
  REQUIRE_OK(AppendRecords(*log, 300, rng, 3));
  REQUIRE_OK(log->Sync());
  const int64_t synced = log->end_offset();
  REQUIRE_OK(AppendRecords(*log, 600, rng, 3));  // Several rolls: sealed segments to sync.
  REQUIRE(log->segment_count() > 3);
  const int64_t end = log->end_offset();

  fs.InjectFault(ops, countdown, absl::UnavailableError("injected"));
  CHECK(log->Sync().code() == absl::StatusCode::kUnavailable);
  CHECK(log->failed());
  fs.ClearFaults();
  // The failure is noted in the directory, for the next open.
  const std::string marker = t.Join("log/" + std::string(segment::kSyncFailedFile));
  CHECK_THAT(Unwrap(ReadFileToString(fs, marker)), Catch::Contains("injected"));

  // The device works again, but a second sync is not tried: on Linux it
  // could succeed without writing what the first could not. Every later
  // Sync, Append and Roll names the failure, and changes nothing.
  const int64_t syncs = fs.OperationCount(kMemFsSync | kMemFsSyncDir);
  const absl::Status again = log->Sync();
  CHECK(again.code() == absl::StatusCode::kFailedPrecondition);
  CHECK_THAT(std::string(again.message()), Catch::Contains("injected"));
  BatchBuilder builder;
  const absl::Status append = log->Append(Unwrap(testing::BuildBatch(builder, end, 2))).status();
  CHECK(append.code() == absl::StatusCode::kFailedPrecondition);
  CHECK(log->Roll().code() == absl::StatusCode::kFailedPrecondition);
  CHECK(log->end_offset() == end);
  CHECK(fs.OperationCount(kMemFsSync | kMemFsSyncDir) == syncs);
  // Readers go on.
  REQUIRE_OK(VerifyLog(*log, 0, end));
  // Only what the earlier Sync promised survives a power loss.
  {
    auto copy = fs.CrashCopy(CrashMode::kDropUnsynced, 1);
    auto reopened = Unwrap(PartitionLog::Open(*copy, t.Join("log"), options, nullptr));
    CHECK(reopened->end_offset() >= synced);
    REQUIRE_OK(VerifyLog(*reopened, 0, reopened->end_offset()));
  }

  // Close syncs nothing and records no clean recovery point, so the next
  // open checks the tail.
  CHECK(log->Close().code() == absl::StatusCode::kFailedPrecondition);
  CHECK(fs.OperationCount(kMemFsSync | kMemFsSyncDir) == syncs);
  log.reset();
  // Reopened in the same boot: the pages the failed sync could not write
  // are clean in the page cache (as MemFileSystem models Linux), so a sync
  // alone would not send them. The open rewrites the tail past the
  // recovery point, syncs it, and removes the note.
  RecoveryReport report;
  log = Unwrap(PartitionLog::Open(fs, t.Join("log"), options, &report));
  CHECK(report.partitions_recovered == 1);
  CHECK_THAT(absl::StrJoin(report.details, "\n"), Catch::Contains("rewrote"));
  CHECK(absl::IsNotFound(fs.Stat(marker).status()));
  CHECK_FALSE(log->failed());
  REQUIRE_OK(VerifyLog(*log, 0, end));
  {
    auto copy = fs.CrashCopy(CrashMode::kDropUnsynced, 2);
    auto reopened = Unwrap(PartitionLog::Open(*copy, t.Join("log"), options, nullptr));
    REQUIRE_OK(VerifyLog(*reopened, 0, end));
  }
  // It takes appends and syncs again.
  REQUIRE_OK(AppendRecords(*log, 100, rng, 3));
  REQUIRE_OK(log->Sync());
  auto copy = fs.CrashCopy(CrashMode::kDropUnsynced, 3);
  auto reopened = Unwrap(PartitionLog::Open(*copy, t.Join("log"), options, nullptr));
  REQUIRE_OK(VerifyLog(*reopened, 0, log->end_offset()));
}

// Failed(s): the error of a log that a failed sync stopped.
bool Failed(const absl::Status& s) {
  return s.code() == absl::StatusCode::kFailedPrecondition &&
         absl::StrContains(s.message(), "takes no more writes");
}

// ExpectRewrittenOnReopen(fs, dir, options, end): reopening in the same
// boot writes the tail again, so that after the next power loss every
// record before `end` is there.
void ExpectRewrittenOnReopen(MemFileSystem& fs, const std::string& dir,
                             const PartitionLogOptions& options, int64_t end) {
  RecoveryReport report;
  auto log = Unwrap(PartitionLog::Open(fs, dir, options, &report));
  CHECK(report.partitions_recovered == 1);
  CHECK_THAT(absl::StrJoin(report.details, "\n"), Catch::Contains("rewrote"));
  CHECK(absl::IsNotFound(fs.Stat(dir + "/" + std::string(segment::kSyncFailedFile)).status()));
  REQUIRE_OK(VerifyLog(*log, 0, end));
  auto copy = fs.CrashCopy(CrashMode::kDropUnsynced, 9);
  auto crashed = Unwrap(PartitionLog::Open(*copy, dir, options, nullptr));
  REQUIRE_OK(VerifyLog(*crashed, 0, end));
}

TEST_CASE("PartitionLog: a sealed segment's background sync that fails stops the log",
          "[partition_log]") {
  TestFs t(FsKind::kMem, {.track_durability = true});
  MemFileSystem& fs = *t.mem();
  ManualTaskRunner background;
  PartitionLogOptions options = TestLogOptions(16 << 10);
  options.background = &background;
  std::mt19937_64 rng(3);
  auto log = Unwrap(PartitionLog::Open(fs, t.Join("log"), options, nullptr));
  REQUIRE_OK(AppendRecords(*log, 600, rng, 3));
  REQUIRE(log->segment_count() > 3);
  const int64_t end = log->end_offset();

  // Only the background tasks sync here: the first of them fails.
  fs.InjectFault(kMemFsSync, 0, absl::DataLossError("injected"), /*once=*/true);
  background.RunPending();
  CHECK(log->failed());
  // Nothing tries again: not Sync, not maintenance, not Close.
  const int64_t syncs = fs.OperationCount(kMemFsSync | kMemFsSyncDir);
  CHECK(Failed(log->Sync()));
  CHECK(Failed(log->RollIf([](const SegmentInfo&) { return true; }).status()));
  CHECK(Failed(log->DeleteOldestSegments(1, RemovalReason::kRetention).status()));
  background.RunPending();
  CHECK(Failed(log->Close()));
  CHECK(fs.OperationCount(kMemFsSync | kMemFsSyncDir) == syncs);
  log.reset();
  ExpectRewrittenOnReopen(fs, t.Join("log"), options, end);
}

TEST_CASE("PartitionLog: a sync that fails in Close leaves the tail to be rewritten",
          "[partition_log]") {
  TestFs t(FsKind::kMem, {.track_durability = true});
  MemFileSystem& fs = *t.mem();
  const PartitionLogOptions options = TestLogOptions(16 << 10);
  std::mt19937_64 rng(4);
  auto log = Unwrap(PartitionLog::Open(fs, t.Join("log"), options, nullptr));
  REQUIRE_OK(AppendRecords(*log, 600, rng, 3));
  const int64_t end = log->end_offset();
  fs.InjectFault(kMemFsSync, 0, absl::DataLossError("injected"), /*once=*/true);
  const absl::Status closed = log->Close();
  CHECK(closed.code() == absl::StatusCode::kDataLoss);
  log.reset();
  ExpectRewrittenOnReopen(fs, t.Join("log"), options, end);
}

}  // namespace
}  // namespace rill
