// PartitionLog's maintenance primitives: deleting segments from the front,
// rolling on demand, and swapping segments for a copy -- each checked on
// both file systems, across reopens, and across crashes at every file
// operation.
#include <random>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "retention/disk_account.h"
#include "retention/retention_util.h"
#include "storage/disk_usage.h"
#include "storage/partition_log.h"
#include "storage/segment_format.h"
#include "testutil/log_records.h"
#include "testutil/status.h"
#include "testutil/test_fs.h"

namespace rill {
namespace {

using testing::FsKind;
using testing::TestFs;
using testing::Unwrap;

PartitionLogOptions Options(std::shared_ptr<DiskUsage> usage = nullptr) {
  PartitionLogOptions o = testing::TestLogOptions(32 << 10);
  o.segment.usage = std::move(usage);
  return o;
}

std::unique_ptr<PartitionLog> OpenLog(FileSystem& fs, const std::string& dir,
                                      const PartitionLogOptions& options,
                                      RecoveryReport* report = nullptr) {
  return Unwrap(PartitionLog::Open(fs, dir, options, report));
}

// MergeVerbatim(log, count): swaps the first `count` segments for one copy
// holding the same batches.
absl::Status MergeVerbatim(PartitionLog& log, size_t count) {
  absl::StatusOr<std::vector<SegmentInfo>> segments = log.ListSegments();
  if (!segments.ok()) return segments.status();
  uint64_t bytes = 0;
  std::vector<int64_t> bases;
  for (size_t i = 0; i < count; ++i) {
    bytes += (*segments)[i].bytes;
    bases.push_back((*segments)[i].base_offset);
  }
  absl::StatusOr<std::shared_ptr<Segment>> copy = log.NewCleanedSegment(bases[0], bytes);
  if (!copy.ok()) return copy.status();
  for (size_t i = 0; i < count; ++i) {
    const Segment& s = *(*segments)[i].segment;
    for (uint64_t p = 0; p < s.size();) {
      BatchHeader h;
      if (absl::Status st = CheckBatchHeader({s.data() + p, s.size() - p}, &h); !st.ok()) return st;
      PopulateRequest populate;
      if (absl::Status st = (*copy)->Append({s.data() + p, h.size()}, h, -1, 0, &populate);
          !st.ok()) {
        return st;
      }
      p += h.size();
    }
  }
  if (absl::Status st = (*copy)->Seal(); !st.ok()) return st;
  if (absl::Status st = (*copy)->SyncData(); !st.ok()) return st;
  return log.ReplaceSegments(bases, *std::move(copy), 0);
}

TEST_CASE("DeleteOldestSegments moves the start and never takes the active segment",
          "[retention][segments]") {
  TestFs t(GENERATE(FsKind::kMem, FsKind::kPosix));
  INFO(t.name());
  const std::string dir = t.Join("p");
  auto usage = std::make_shared<DiskUsage>();
  auto log = OpenLog(t.fs(), dir, Options(usage));
  usage->Add(static_cast<int64_t>(Unwrap(retention::MeasureTree(t.fs(), dir))));
  std::mt19937_64 rng(1);
  REQUIRE_OK(testing::AppendRecords(*log, 3000, rng));
  const int64_t end = log->end_offset();
  std::vector<SegmentInfo> before = Unwrap(log->ListSegments());
  REQUIRE(before.size() > 6);

  const DeletedSegments d = Unwrap(log->DeleteOldestSegments(3, RemovalReason::kRetention));
  CHECK(d.segments == 3);
  CHECK(d.records == before[3].base_offset);  // Dense offsets: one record each.
  CHECK(d.bytes == before[0].bytes + before[1].bytes + before[2].bytes);
  CHECK(log->start_offset() == before[3].base_offset);
  CHECK(absl::IsOutOfRange(log->Read(before[3].base_offset - 1, 100).status()));
  REQUIRE_OK(testing::VerifyLog(*log, log->start_offset(), end));
  for (int i = 0; i < 3; ++i) {
    for (std::string_view suffix :
         {segment::kLogSuffix, segment::kIndexSuffix, segment::kTimeIndexSuffix}) {
      CHECK(absl::IsNotFound(
          t.fs().Stat(JoinPath(dir, segment::FileName(before[i].base_offset, suffix))).status()));
    }
  }
  const RemovalCounts stats = log->removal_stats();
  CHECK(stats.expired_segments == 3);
  CHECK(stats.expired_records == d.records);
  CHECK(stats.expired_bytes == d.bytes);
  CHECK(stats.dropped_segments == 0);

  // Everything but the active segment; the count follows the files.
  const DeletedSegments rest = Unwrap(log->DeleteOldestSegments(1000, RemovalReason::kDiskLimit));
  CHECK(rest.segments == static_cast<int64_t>(before.size()) - 4);
  CHECK(log->segment_count() == 1);
  CHECK(log->start_offset() == before.back().base_offset);
  CHECK(log->removal_stats().dropped_records == before.back().base_offset - before[3].base_offset);
  const int64_t measured = static_cast<int64_t>(Unwrap(retention::MeasureTree(t.fs(), dir)));
  // rill counts what it allocates, trims and deletes; a recovery point
  // written meanwhile (a block) is left to the next measurement.
  CHECK(std::abs(usage->bytes() - measured) <= 2 * 4096);

  // Gone for good: a reopen starts where the deletions left it.
  REQUIRE_OK(log->Close());
  RecoveryReport report;
  log = OpenLog(t.fs(), dir, Options(), &report);
  CHECK(log->start_offset() == before.back().base_offset);
  CHECK_FALSE(report.dropped_anything());
  REQUIRE_OK(testing::VerifyLog(*log, log->start_offset(), end));
}

TEST_CASE("A reader's view of a deleted segment stays valid", "[retention][segments]") {
  TestFs t(GENERATE(FsKind::kMem, FsKind::kPosix));
  INFO(t.name());
  auto log = OpenLog(t.fs(), t.Join("p"), Options());
  std::mt19937_64 rng(2);
  REQUIRE_OK(testing::AppendRecords(*log, 2000, rng));
  const ReadResult held = Unwrap(log->Read(0, 8 << 10));
  const std::string copy(held.batches.data(), held.batches.size());
  REQUIRE(Unwrap(log->DeleteOldestSegments(1000, RemovalReason::kRetention)).segments > 0);
  CHECK(std::string(held.batches.data(), held.batches.size()) == copy);
  BatchHeader h;
  CHECK_OK(CheckBatch(held.batches, &h));
  CHECK(absl::IsOutOfRange(log->Read(0, 100).status()));
}

TEST_CASE("RollIf seals the active segment when asked, and only if it holds batches",
          "[retention][segments]") {
  TestFs t(FsKind::kMem);
  auto log = OpenLog(t.fs(), t.Join("p"), Options());
  CHECK_FALSE(Unwrap(log->RollIf([](const SegmentInfo&) { return true; })));
  std::mt19937_64 rng(3);
  REQUIRE_OK(testing::AppendRecords(*log, 10, rng));
  CHECK_FALSE(Unwrap(log->RollIf([](const SegmentInfo&) { return false; })));
  const int before = log->segment_count();
  int64_t seen_first_append = -1;
  CHECK(Unwrap(log->RollIf([&](const SegmentInfo& s) {
    seen_first_append = s.first_append_ms;
    return s.active && s.next_offset == 10;
  })));
  CHECK(seen_first_append >= 0);
  CHECK(log->segment_count() == before + 1);
  REQUIRE_OK(testing::VerifyLog(*log, 0, 10));
}

TEST_CASE("Deleting segments never leaves a hole, whatever operation a crash interrupts",
          "[retention][segments][crash]") {
  for (int64_t countdown = 0;; ++countdown) {
    INFO("fault after " << countdown << " operations");
    TestFs t(FsKind::kMem, {.track_durability = true});
    const std::string dir = t.Join("p");
    auto log = OpenLog(t.fs(), dir, Options());
    std::mt19937_64 rng(4);
    REQUIRE_OK(testing::AppendRecords(*log, 1500, rng));
    REQUIRE_OK(log->Sync());
    const int64_t end = log->end_offset();
    t.mem()->InjectFault(kMemFsRemove | kMemFsSyncDir | kMemFsRename | kMemFsSync, countdown,
                         absl::InternalError("injected"));
    const bool failed = !log->DeleteOldestSegments(4, RemovalReason::kRetention).ok();
    t.mem()->ClearFaults();
    for (CrashMode mode : {CrashMode::kDropUnsynced, CrashMode::kCutUnsynced}) {
      auto crashed = t.mem()->CrashCopy(mode, static_cast<uint64_t>(countdown));
      RecoveryReport report;
      auto reopened = OpenLog(*crashed, dir, Options(), &report);
      CHECK(report.segments_dropped == 0);
      CHECK(reopened->end_offset() == end);
      CHECK_OK(testing::VerifyLog(*reopened, reopened->start_offset(), end));
    }
    if (!failed) break;
  }
}

TEST_CASE("A swap of segments for a copy is all or nothing across crashes",
          "[retention][segments][crash]") {
  int64_t countdown = 0;
  for (;; ++countdown) {
    INFO("fault after " << countdown << " operations");
    TestFs t(FsKind::kMem, {.track_durability = true});
    const std::string dir = t.Join("p");
    auto log = OpenLog(t.fs(), dir, Options());
    std::mt19937_64 rng(5);
    REQUIRE_OK(testing::AppendRecords(*log, 1500, rng));
    REQUIRE_OK(log->Sync());
    const int64_t end = log->end_offset();
    const int segments = log->segment_count();
    t.mem()->InjectFault(kMemFsAll & ~kMemFsRead, countdown, absl::InternalError("injected"));
    const bool failed = !MergeVerbatim(*log, 3).ok();
    t.mem()->ClearFaults();
    // Readers see the old segments or the copy: the same records.
    CHECK_OK(testing::VerifyLog(*log, 0, end));
    for (CrashMode mode : {CrashMode::kDropUnsynced, CrashMode::kGarbageUnsynced}) {
      auto crashed = t.mem()->CrashCopy(mode, static_cast<uint64_t>(countdown));
      RecoveryReport report;
      auto reopened = OpenLog(*crashed, dir, Options(), &report);
      CHECK(report.segments_dropped == 0);
      CHECK(reopened->end_offset() == end);
      CHECK_OK(testing::VerifyLog(*reopened, 0, end));
      const int n = reopened->segment_count();
      CHECK((n == segments || n == segments - 2));
      // No copy is left lying about.
      for (const std::string& name : Unwrap(crashed->ListDir(dir))) {
        CHECK_FALSE(name.ends_with(segment::kCleanedSuffix));
        CHECK_FALSE(name.ends_with(segment::kSwapSuffix));
      }
    }
    if (!failed) {
      CHECK(log->segment_count() == segments - 2);
      break;
    }
  }
  CHECK(countdown > 10);  // The swap was interrupted at many points.
}

}  // namespace
}  // namespace rill
