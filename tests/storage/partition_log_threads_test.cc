// PartitionLog with threads: group commit, readers alongside the writer,
// and the background tasks (prefaulting, syncing sealed segments).
#include <atomic>
#include <chrono>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include "absl/strings/str_cat.h"

#include "storage/partition_log.h"
#include "storage/recovery_point.h"
#include "storage/segment_format.h"
#include "testutil/log_records.h"
#include "testutil/status.h"
#include "testutil/test_fs.h"

namespace rill {
namespace {

using testing::AppendRecords;
using testing::FsKind;
using testing::TestFs;
using testing::TestLogOptions;
using testing::Unwrap;
using testing::VerifyLog;

std::unique_ptr<PartitionLog> OpenLog(TestFs& t, const PartitionLogOptions& options,
                                      RecoveryReport* report = nullptr) {
  return Unwrap(PartitionLog::Open(t.fs(), t.Join("log"), options, report));
}

TEST_CASE("PartitionLog: Sync from many threads at once makes everything durable",
          "[partition_log]") {
  TestFs t(GENERATE(FsKind::kMem, FsKind::kPosix), {.track_durability = true});
  INFO(t.name());
  const PartitionLogOptions options = TestLogOptions(16 << 10);
  const int rounds = t.mem() != nullptr ? 25 : 10;  // Each sync is real on disk.
  auto log = OpenLog(t, options);
  Mutex append_mu;  // Content follows offsets: build and append as one step.
  std::vector<std::thread> threads;
  std::vector<absl::Status> failures;
  Mutex failures_mu;
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&, i] {
      std::mt19937_64 rng(100 + i);
      for (int round = 0; round < rounds; ++round) {
        absl::Status s;
        {
          MutexLock lock(&append_mu);
          s = AppendRecords(*log, 1 + static_cast<int64_t>(rng() % 30), rng, 10);
        }
        if (s.ok()) s = log->Sync();
        if (!s.ok()) {
          MutexLock lock(&failures_mu);
          failures.push_back(s);
        }
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  for (const absl::Status& s : failures) CHECK_OK(s);
  const int64_t end = log->end_offset();
  REQUIRE(log->segment_count() > 3);
  REQUIRE_OK(VerifyLog(*log, 0, end));

  if (t.mem() != nullptr) {
    // Every Sync returned after its thread's last append: all of it survives
    // a power loss.
    auto copy = t.mem()->CrashCopy(CrashMode::kDropUnsynced, 1);
    auto reopened = Unwrap(PartitionLog::Open(*copy, t.Join("log"), options, nullptr));
    REQUIRE_OK(VerifyLog(*reopened, 0, end));
  }
}

TEST_CASE("PartitionLog: each Sync returns only once its caller's appends are durable",
          "[partition_log]") {
  // Group commit lets one caller sync for others: a caller that returns must
  // find its own appends in what a power loss at that moment would leave,
  // whoever synced them.
  TestFs t(FsKind::kMem, {.track_durability = true});
  const PartitionLogOptions options = TestLogOptions(64 << 10);
  auto log = OpenLog(t, options);
  Mutex append_mu;
  Mutex check_mu;  // One crash copy at a time.
  std::atomic<int> checks{0};
  std::vector<std::thread> threads;
  std::vector<std::string> failures;
  for (int i = 0; i < 6; ++i) {
    threads.emplace_back([&, i] {
      std::mt19937_64 rng(200 + i);
      for (int round = 0; round < 12; ++round) {
        int64_t mine = 0;
        absl::Status s;
        {
          MutexLock lock(&append_mu);
          s = AppendRecords(*log, 1 + static_cast<int64_t>(rng() % 5), rng, 10);
          mine = log->end_offset();
        }
        if (s.ok()) s = log->Sync();
        MutexLock lock(&check_mu);
        if (!s.ok()) {
          failures.push_back(std::string(s.message()));
          continue;
        }
        std::unique_ptr<MemFileSystem> copy;
        {
          // No append in flight while the copy is taken: it reads the files.
          MutexLock append_lock(&append_mu);
          copy = t.mem()->CrashCopy(CrashMode::kDropUnsynced, round);
        }
        auto reopened = PartitionLog::Open(*copy, t.Join("log"), options, nullptr);
        if (!reopened.ok()) {
          failures.push_back(std::string(reopened.status().message()));
        } else if ((*reopened)->end_offset() < mine) {
          failures.push_back(absl::StrCat("thread ", i, " synced up to ", mine,
                                          ", a power loss keeps ", (*reopened)->end_offset()));
        }
        ++checks;
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  for (const std::string& f : failures) UNSCOPED_INFO(f);
  CHECK(failures.empty());
  CHECK(checks.load() == 6 * 12);
}

TEST_CASE("PartitionLog: Close waits for a sync in flight, and records nothing if it fails",
          "[partition_log]") {
  // A leader takes the sealed segments it syncs out of the log's list. If
  // Close() ran meanwhile it would find none to sync, record a recovery
  // point past them and tell waiters they were durable; and if that sync
  // then failed, a power loss would take them. Once it has failed, Close
  // must not sync them again either (see PartitionLog::Sync).
  TestFs t(FsKind::kMem, {.track_durability = true});
  const PartitionLogOptions options = TestLogOptions(16 << 10);
  auto log = OpenLog(t, options);
  std::mt19937_64 rng(7);
  REQUIRE_OK(AppendRecords(*log, 400, rng, 10));
  REQUIRE(log->segment_count() > 2);  // Sealed segments await a sync.
  const int64_t end = log->end_offset();

  // The first sync operation of the leader blocks until released, then fails.
  Mutex mu;
  CondVar changed;
  bool held = false;
  bool release = false;
  t.mem()->SetOperationHook(kMemFsSync, [&](uint32_t) {
    MutexLock lock(&mu);
    if (held) return absl::OkStatus();  // Only the first one.
    held = true;
    changed.SignalAll();
    while (!release) changed.Wait(&mu);
    return absl::DataLossError("injected: the device lost the write");
  });
  absl::Status sync_status;
  std::thread leader([&] { sync_status = log->Sync(); });
  {
    MutexLock lock(&mu);
    while (!held) changed.Wait(&mu);
  }
  std::atomic<bool> closed{false};
  absl::Status close_status;
  std::thread closer([&] {
    close_status = log->Close();
    closed = true;
  });
  // Close must wait for the sync in flight.
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  CHECK_FALSE(closed.load());
  {
    MutexLock lock(&mu);
    release = true;
    changed.SignalAll();
  }
  leader.join();
  closer.join();
  t.mem()->SetOperationHook(0, nullptr);
  CHECK(absl::IsDataLoss(sync_status));
  CHECK(close_status.code() == absl::StatusCode::kFailedPrecondition);
  CHECK_THAT(std::string(close_status.message()), Catch::Contains("lost the write"));

  // What a power loss leaves opens intact.
  auto copy = t.mem()->CrashCopy(CrashMode::kDropUnsynced, 1);
  auto reopened = Unwrap(PartitionLog::Open(*copy, t.Join("log"), options, nullptr));
  REQUIRE_OK(VerifyLog(*reopened, 0, reopened->end_offset()));
  // Without one, everything is there, and checked: Close recorded no clean
  // recovery point.
  RecoveryReport report;
  auto live = Unwrap(PartitionLog::Open(*t.mem(), t.Join("log"), options, &report));
  CHECK(report.partitions_recovered == 1);
  REQUIRE_OK(VerifyLog(*live, 0, end));
}

TEST_CASE("PartitionLog: readers run alongside the writer", "[partition_log]") {
  TestFs t(GENERATE(FsKind::kMem, FsKind::kPosix));
  INFO(t.name());
  ThreadTaskRunner background(2);
  // Fewer, larger segments on disk, where each sealed one is synced.
  PartitionLogOptions options = TestLogOptions(t.mem() != nullptr ? 32 << 10 : 128 << 10);
  options.background = &background;
  options.segment.populate_ahead = 64 << 10;
  auto log = OpenLog(t, options);
  std::atomic<bool> done{false};
  std::vector<std::thread> readers;
  std::atomic<int64_t> reads{0};
  std::vector<std::string> errors(3);
  for (int i = 0; i < 3; ++i) {
    readers.emplace_back([&, i] {
      std::mt19937_64 rng(i);
      while (!done.load()) {
        const int64_t end = log->end_offset();
        if (end == 0) continue;
        const int64_t from = static_cast<int64_t>(rng() % end);
        // Everything before the end it saw is there and intact while the
        // writer goes on.
        const absl::Status s = VerifyLog(*log, from, end, {.at_end = false});
        if (!s.ok() && errors[i].empty()) errors[i] = s.ToString();
        ++reads;
      }
    });
  }
  std::mt19937_64 rng(8);
  REQUIRE_OK(AppendRecords(*log, 20000, rng));
  while (reads.load() < 10) std::this_thread::yield();
  done = true;
  for (std::thread& reader : readers) reader.join();
  for (const std::string& e : errors) CHECK(e == "");
  REQUIRE_OK(VerifyLog(*log, 0, 20000));
}

// Size of the .log file of the segment at `base`.
uint64_t LogFileSize(TestFs& t, int64_t base) {
  return Unwrap(t.fs().Stat(JoinPath(t.Join("log"), segment::FileName(base, segment::kLogSuffix))))
      .size;
}

TEST_CASE("PartitionLog: a prefault task that runs late leaves a trimmed segment alone",
          "[partition_log]") {
  TestFs t(GENERATE(FsKind::kMem, FsKind::kPosix));
  INFO(t.name());
  ManualTaskRunner background;
  PartitionLogOptions options = TestLogOptions(1 << 20);
  options.background = &background;
  options.segment.populate_ahead = 256 << 10;
  std::mt19937_64 rng(10);
  auto log = OpenLog(t, options);
  REQUIRE_OK(AppendRecords(*log, 200, rng));  // Schedules prefaulting.
  const uint64_t first_size = Unwrap(log->Read(0, 1)).segment->size();
  REQUIRE_OK(log->Roll());  // Trims the first segment...
  background.RunPending();  // ...before the prefault task gets to run.
  CHECK(LogFileSize(t, 0) == first_size);

  REQUIRE_OK(AppendRecords(*log, 200, rng));
  const int64_t end = log->end_offset();
  const uint64_t second_size = Unwrap(log->Read(end - 1, 1)).segment->size();
  REQUIRE_OK(log->Close());
  background.RunPending();
  CHECK(LogFileSize(t, 200) == second_size);
  // So the next open finds the log as Close left it: clean.
  RecoveryReport report;
  log = OpenLog(t, options, &report);
  CHECK(report.partitions_recovered == 0);
  REQUIRE_OK(VerifyLog(*log, 0, end));
}

TEST_CASE("PartitionLog: sealed segments are synced in the background", "[partition_log]") {
  TestFs t(FsKind::kMem, {.track_durability = true});
  ManualTaskRunner background;
  PartitionLogOptions options = TestLogOptions(16 << 10);
  options.background = &background;
  std::mt19937_64 rng(11);
  auto log = OpenLog(t, options);
  REQUIRE_OK(AppendRecords(*log, 1000, rng));
  REQUIRE(log->segment_count() > 3);
  const int64_t active_base = Unwrap(log->Read(log->end_offset() - 1, 1)).segment->base_offset();
  CHECK(background.RunPending() > 0);
  // The recovery point moved to the active segment: all before it is durable.
  const std::optional<RecoveryPoint> point = ReadRecoveryPoint(t.fs(), t.Join("log"));
  REQUIRE(point.has_value());
  CHECK(point->segment_base == active_base);
  CHECK(point->position == 0);

  // Though Sync was never called, a power loss keeps every sealed segment.
  auto copy = t.mem()->CrashCopy(CrashMode::kDropUnsynced, 1);
  RecoveryReport report;
  auto reopened = Unwrap(PartitionLog::Open(*copy, t.Join("log"), options, &report));
  CHECK(reopened->end_offset() == active_base);
  REQUIRE_OK(VerifyLog(*reopened, 0, active_base));
  CHECK(report.segments_checked <= 1);  // At most the active one: the rest are trusted.
}

TEST_CASE("PartitionLog: with prefaulting on its own thread, as deployed", "[partition_log]") {
  TestFs t(FsKind::kPosix);
  ThreadTaskRunner background;
  PartitionLogOptions options = TestLogOptions(256 << 10);
  options.background = &background;
  options.segment.populate_ahead = 128 << 10;
  options.segment.allocation_chunk = 64 << 10;
  std::mt19937_64 rng(12);
  auto log = OpenLog(t, options);
  for (int i = 0; i < 10; ++i) {
    REQUIRE_OK(AppendRecords(*log, 2000, rng));
    REQUIRE_OK(log->Sync());
  }
  REQUIRE(log->segment_count() > 5);
  REQUIRE_OK(VerifyLog(*log, 0, 20000));
  REQUIRE_OK(log->Close());
  RecoveryReport report;
  log = OpenLog(t, options, &report);
  REQUIRE_OK(VerifyLog(*log, 0, 20000));
}

}  // namespace
}  // namespace rill
