// Crashes during compaction: a child process compacting a log on disk is
// killed (SIGKILL) again and again, and a cleaning on the in-memory file
// system is cut short at every file operation and "powered off"
// (CrashCopy). Every time, the log reopens with the latest record of every
// key, valid batches, and no duplicate or missing offsets.
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <random>
#include <string>
#include <thread>

#include <catch2/catch.hpp>

#include "absl/strings/str_cat.h"
#include "core/log_state.h"
#include "format/batch_builder.h"
#include "retention/cleaner.h"
#include "retention/retention_util.h"
#include "rill/rill.h"
#include "storage/segment_format.h"
#include "testutil/log_records.h"
#include "testutil/status.h"
#include "testutil/temp_dir.h"
#include "testutil/test_fs.h"

namespace rill {
namespace {

using testing::OpAt;
using testing::Unwrap;

constexpr int kKeys = 500;
constexpr uint64_t kSeed = 77;

// What the child tells the parent, in memory both share.
struct Shared {
  std::atomic<int> state;           // kStarting, kRunning or kFailed.
  std::atomic<int> in_maintenance;  // 1 while RunMaintenance runs.
  std::atomic<int64_t> passes;
  char error[512];
};
constexpr int kStarting = 0;
constexpr int kRunning = 1;
constexpr int kFailed = 2;

LogOptions Quiet() {
  return {.log_sink = [](LogSeverity, std::string_view) {}, .background_threads = 0};
}

TopicConfig CompactConfig() {
  TopicConfig c{.segment_bytes = 32 << 10};
  c.cleanup_policy = CleanupPolicy::kCompact;
  c.min_cleanable_dirty_ratio = 0;  // Every pass rewrites every segment.
  return c;
}

const PartitionLog& PartitionOf(Log& log) {
  return Unwrap(log.state()->FindPartition({.topic = "t", .partition = 0}))->log();
}

absl::Status SendOps(Log& log, Producer& producer, int n) {
  const PartitionLog& p = Unwrap(log.state()->FindPartition({.topic = "t", .partition = 0}))->log();
  for (int i = 0; i < n; ++i) {
    const int64_t offset = p.end_offset();
    const testing::KeyedOp op = OpAt(offset, kKeys, kSeed);
    Record r{.key = op.key};
    if (op.value) r.value = *op.value;
    absl::StatusOr<RecordPosition> pos = producer.Send("t", r);
    if (!pos.ok()) return pos.status();
    if (pos->offset != offset) return absl::InternalError("offsets skipped");
  }
  return absl::OkStatus();
}

[[noreturn]] void Fail(Shared* shared, const absl::Status& status) {
  const std::string message = status.ToString();
  std::strncpy(shared->error, message.c_str(), sizeof(shared->error) - 1);
  shared->state.store(kFailed);
  _exit(1);
}

// The child: appends and compacts until it is killed. Never returns.
[[noreturn]] void CompactUntilKilled(const std::string& dir, Shared* shared) {
  absl::StatusOr<std::unique_ptr<Log>> log = Log::Open(dir, Quiet());
  if (!log.ok()) Fail(shared, log.status());
  Producer producer(**log);
  shared->state.store(kRunning);
  for (;;) {
    if (absl::Status s = SendOps(**log, producer, 300); !s.ok()) Fail(shared, s);
    shared->in_maintenance.store(1);
    const MaintenanceReport report = (*log)->RunMaintenance();
    shared->in_maintenance.store(0);
    if (!report.errors.empty()) Fail(shared, absl::InternalError(report.errors.front()));
    shared->passes.fetch_add(1);
  }
}

class ChildGuard {
 public:
  explicit ChildGuard(pid_t pid) : pid_(pid) {}
  ~ChildGuard() { Kill(); }
  void Kill() {
    if (pid_ <= 0) return;
    kill(pid_, SIGKILL);
    int status;
    waitpid(pid_, &status, 0);
    pid_ = -1;
  }
  bool Exited() {
    int status;
    return pid_ > 0 && waitpid(pid_, &status, WNOHANG) == pid_ && (pid_ = -1, true);
  }

 private:
  pid_t pid_;
};

TEST_CASE("A cleaning killed at random points always reopens to a correct log",
          "[retention][compaction][crash]") {
  testing::TempDir tmp;
  const std::string dir = tmp.Join("log");
  {
    auto log = Unwrap(Log::Open(dir, Quiet()));
    REQUIRE_OK(log->CreateTopic("t", CompactConfig()));
    Producer producer(*log);
    REQUIRE_OK(SendOps(*log, producer, 4000));
  }
  void* memory =
      mmap(nullptr, sizeof(Shared), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  REQUIRE(memory != MAP_FAILED);
  Shared* shared = new (memory) Shared{};
  std::mt19937_64 rng(31);
  int kills_while_cleaning = 0;
  int copies_being_written = 0;  // Files of each kind found after kills.
  int copies_committed = 0;
  int cycle = 0;
  for (; cycle < 120 && kills_while_cleaning < 30; ++cycle) {
    INFO("cycle " << cycle);
    shared->state.store(kStarting);
    shared->in_maintenance.store(0);
    std::fflush(nullptr);
    const pid_t pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) CompactUntilKilled(dir, shared);
    ChildGuard child(pid);
    while (shared->in_maintenance.load() == 0 && shared->state.load() != kFailed &&
           !child.Exited()) {
      std::this_thread::sleep_for(std::chrono::microseconds(50));
    }
    // Kill soon after the pass starts, or anywhere in it.
    const uint64_t window = rng() % 2 == 0 ? 10000 : 80000;
    std::this_thread::sleep_for(std::chrono::microseconds(rng() % window));
    if (shared->in_maintenance.load() == 1) ++kills_while_cleaning;
    child.Kill();
    INFO("child said: " << shared->error);
    REQUIRE(shared->state.load() == kRunning);

    for (const std::string& name : Unwrap(FileSystem::Default()->ListDir(JoinPath(dir, "t-0")))) {
      if (name.ends_with(segment::kCleanedSuffix)) ++copies_being_written;
      if (name.ends_with(segment::kSwapSuffix)) ++copies_committed;
    }
    auto log = Unwrap(Log::Open(dir, Quiet()));
    REQUIRE_OK(testing::CheckKeyedLog(PartitionOf(*log), kKeys, kSeed, /*exact=*/false));
    for (const std::string& name : Unwrap(FileSystem::Default()->ListDir(JoinPath(dir, "t-0")))) {
      CHECK_FALSE(name.ends_with(segment::kCleanedSuffix));
      CHECK_FALSE(name.ends_with(segment::kSwapSuffix));
    }
    REQUIRE_OK(log->Close());
  }
  INFO(".cleaned files found after kills: " << copies_being_written
                                            << "; .swap files: " << copies_committed);
  CHECK(kills_while_cleaning >= 30);
  munmap(memory, sizeof(Shared));

  // The log goes on: a last pass over everything leaves one record per key.
  auto log = Unwrap(Log::Open(dir, Quiet()));
  REQUIRE_OK(log->SetTopicConfig("t", "segment.ms", "1"));
  std::this_thread::sleep_for(std::chrono::milliseconds(2));
  CHECK(log->RunMaintenance().errors.empty());
  REQUIRE_OK(testing::CheckKeyedLog(PartitionOf(*log), kKeys, kSeed, /*exact=*/true));
}

// Writes `n` records of the keyed workload to `log` in batches of 1 to 5.
void AppendKeyed(PartitionLog& log, int64_t n, int keys, uint64_t seed) {
  BatchBuilder builder;
  std::mt19937_64 rng(seed);
  for (int64_t o = log.end_offset(), end = o + n; o < end;) {
    const int64_t count = std::min<int64_t>(end - o, 1 + static_cast<int64_t>(rng() % 5));
    builder.Reset();
    for (int64_t i = o; i < o + count; ++i) {
      const testing::KeyedOp op = OpAt(i, keys, seed);
      Record r{.key = op.key};
      if (op.value) r.value = *op.value;
      builder.Add(r, 1'700'000'000'000 + i);
    }
    REQUIRE_OK(log.Append(Unwrap(builder.Finish())));
    o += count;
  }
}

TEST_CASE("A cleaning cut short at any file operation recovers after a power loss",
          "[retention][compaction][crash]") {
  constexpr int kFewKeys = 40;
  const TopicConfig config = CompactConfig();
  int64_t countdown = 0;
  for (;; ++countdown) {
    INFO("fault after " << countdown << " operations");
    testing::TestFs t(testing::FsKind::kMem, {.track_durability = true});
    const std::string dir = t.Join("p");
    PartitionLogOptions options = testing::TestLogOptions(16 << 10);
    auto log = Unwrap(PartitionLog::Open(t.fs(), dir, options, nullptr));
    AppendKeyed(*log, 500, kFewKeys, kSeed);
    REQUIRE_OK(log->Roll());
    REQUIRE_OK(log->Sync());
    retention::CleanState state;
    t.mem()->InjectFault(kMemFsAll & ~kMemFsRead, countdown, absl::InternalError("injected"));
    bool failed = false;
    {
      retention::CleaningJob job(log.get(), config, 1'800'000'000'000, &state);
      for (;;) {
        absl::StatusOr<bool> done = job.Step(64 << 10);
        if (!done.ok()) failed = true;
        if (!done.ok() || *done) break;
      }
    }
    t.mem()->ClearFaults();
    // What readers of the live log see is right too.
    CHECK_OK(testing::CheckKeyedLog(*log, kFewKeys, kSeed, /*exact=*/false));
    // Each crash mode in turn.
    constexpr CrashMode kModes[] = {CrashMode::kDropUnsynced, CrashMode::kCutUnsynced,
                                    CrashMode::kRandomPages, CrashMode::kGarbageUnsynced};
    {
      const CrashMode mode = kModes[countdown % 4];
      auto crashed = t.mem()->CrashCopy(mode, static_cast<uint64_t>(countdown));
      RecoveryReport report;
      auto reopened = Unwrap(PartitionLog::Open(*crashed, dir, options, &report));
      CHECK(report.segments_dropped == 0);
      CHECK(reopened->end_offset() == 500);
      CHECK_OK(testing::CheckKeyedLog(*reopened, kFewKeys, kSeed, /*exact=*/false));
    }
    if (!failed) {
      CHECK_OK(testing::CheckKeyedLog(*log, kFewKeys, kSeed, /*exact=*/true));
      break;
    }
  }
  CAPTURE(countdown);
  CHECK(countdown > 30);
}

TEST_CASE("A compacted partition whose recovery point is lost is checked whole and kept whole",
          "[retention][compaction][crash]") {
  testing::TestFs t(GENERATE(testing::FsKind::kMem, testing::FsKind::kPosix));
  INFO(t.name());
  const std::string dir = t.Join("p");
  const PartitionLogOptions options = testing::TestLogOptions(32 << 10);
  {
    auto log = Unwrap(PartitionLog::Open(t.fs(), dir, options, nullptr));
    AppendKeyed(*log, 1500, 40, kSeed);
    REQUIRE_OK(log->Roll());
    retention::CleanState state;
    retention::CleaningJob job(log.get(), CompactConfig(), 1'800'000'000'000, &state);
    while (!Unwrap(job.Step(1 << 20))) {
    }
    REQUIRE(job.result().records_removed > 1000);
    REQUIRE_OK(log->Close());
  }
  // Every segment is recovered now -- each compacted one ends short of its
  // records' last offsets but where the next segment begins, so none is
  // taken for a cut.
  REQUIRE_OK(t.fs().RemoveFile(JoinPath(dir, std::string(segment::kRecoveryPointFile))));
  RecoveryReport report;
  auto log = Unwrap(PartitionLog::Open(t.fs(), dir, options, &report));
  CHECK(report.segments_checked > 1);
  CHECK_FALSE(report.dropped_anything());
  CHECK(log->end_offset() == 1500);
  CHECK_OK(testing::CheckKeyedLog(*log, 40, kSeed, /*exact=*/true));
}

}  // namespace
}  // namespace rill
