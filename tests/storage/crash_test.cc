// Crashes for real: a child process appends to a log on disk and is killed
// (SIGKILL) at a random moment, again and again on the same directory; after
// each kill the parent reopens the log and checks it.
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <functional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include "format/batch_builder.h"
#include "format/batch_header.h"
#include "storage/partition_log.h"
#include "testutil/log_records.h"
#include "testutil/status.h"
#include "testutil/temp_dir.h"

namespace rill {
namespace {

using testing::Unwrap;

constexpr int kCycles = 60;

// What the child tells the parent, in memory both share.
struct Shared {
  std::atomic<int64_t> acked;  // End offset after the last append that returned OK.
  std::atomic<int> state;      // kStarting, kAppending or kFailed.
  char error[512];
};
constexpr int kStarting = 0;
constexpr int kAppending = 1;
constexpr int kFailed = 2;
static_assert(std::atomic<int64_t>::is_always_lock_free);

PartitionLogOptions CrashLogOptions(TaskRunner* background) {
  PartitionLogOptions options = testing::TestLogOptions(512 << 10);
  options.segment.allocation_chunk = 128 << 10;
  options.segment.populate_ahead = background != nullptr ? 256 << 10 : 0;
  options.background = background;
  return options;
}

[[noreturn]] void Fail(Shared* shared, const absl::Status& status) {
  const std::string message = status.ToString();
  std::strncpy(shared->error, message.c_str(), sizeof(shared->error) - 1);
  shared->state.store(kFailed);
  _exit(1);
}

// The child: opens the log as deployed (prefaulting on a background
// thread) and appends batches of 1..20 records, publishing each
// acknowledged end offset, until it is killed. Never returns.
[[noreturn]] void AppendUntilKilled(const std::string& dir, Shared* shared, uint64_t seed) {
  ThreadTaskRunner background;
  auto log = PartitionLog::Open(*FileSystem::Default(), dir, CrashLogOptions(&background), nullptr);
  if (!log.ok()) Fail(shared, log.status());
  std::mt19937_64 rng(seed);
  BatchBuilder builder;
  shared->acked.store((*log)->end_offset());
  shared->state.store(kAppending);
  for (;;) {
    const int64_t next = (*log)->end_offset();
    const auto batch = testing::BuildBatch(builder, next, 1 + static_cast<int>(rng() % 20));
    if (!batch.ok()) Fail(shared, batch.status());
    const auto appended = (*log)->Append(*batch);
    if (!appended.ok()) Fail(shared, appended.status());
    if (appended->base_offset != next) Fail(shared, absl::InternalError("offsets skipped"));
    shared->acked.store(appended->last_offset + 1);
  }
}

// A batch the parent has checked, to recognise it on later cycles without
// decoding it again: the CRC covers all of it but the base offset.
struct KnownBatch {
  int64_t base_offset;
  int64_t last_offset;
  uint32_t crc;
};

// Walks the batches of [from, to), calling `on_batch` for each.
void ForEachBatch(const PartitionLog& log, int64_t from, int64_t to,
                  const std::function<void(const BatchHeader&)>& on_batch) {
  for (int64_t next = from; next < to;) {
    const ReadResult read = Unwrap(log.Read(next, 1 << 20));
    REQUIRE(!read.batches.empty());
    for (std::span<const char> rest = read.batches; !rest.empty() && next < to;) {
      BatchHeader h;
      REQUIRE_OK(CheckBatch(rest, &h));
      on_batch(h);
      next = h.last_offset() + 1;
      rest = rest.subspan(h.size());
    }
  }
}

// Kills and reaps the child when the test leaves, whatever happens.
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

TEST_CASE("A log killed while appending keeps every acknowledged record", "[crash]") {
  testing::TempDir tmp;
  const std::string dir = tmp.Join("log");
  void* memory =
      mmap(nullptr, sizeof(Shared), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  REQUIRE(memory != MAP_FAILED);
  Shared* shared = new (memory) Shared{};
  std::mt19937_64 rng(20);
  std::vector<KnownBatch> known;  // Every batch checked so far, in order.
  int64_t known_end = 0;

  for (int cycle = 0; cycle < kCycles; ++cycle) {
    INFO("cycle " << cycle);
    shared->acked.store(-1);
    shared->state.store(kStarting);
    const uint64_t seed = rng();
    std::fflush(nullptr);  // Nothing buffered for the child to write twice.
    const pid_t pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) AppendUntilKilled(dir, shared, seed);
    ChildGuard child(pid);
    while (shared->state.load() == kStarting && !child.Exited()) {
      std::this_thread::sleep_for(std::chrono::microseconds(100));
    }
    std::this_thread::sleep_for(std::chrono::microseconds(rng() % 4000));
    child.Kill();
    INFO("child said: " << shared->error);
    REQUIRE(shared->state.load() == kAppending);
    const int64_t acked = shared->acked.load();
    REQUIRE(acked >= known_end);

    RecoveryReport report;
    auto log =
        Unwrap(PartitionLog::Open(*FileSystem::Default(), dir, CrashLogOptions(nullptr), &report));
    const int64_t end = log->end_offset();
    INFO("acknowledged " << acked << ", reopened with end " << end);
    CHECK(end >= acked);
    CHECK(report.segments_dropped == 0);  // Only the tail can be torn.
    // What earlier cycles checked is still there, unchanged...
    size_t i = 0;
    ForEachBatch(*log, 0, known_end, [&](const BatchHeader& h) {
      REQUIRE(i < known.size());
      CHECK(h.base_offset == known[i].base_offset);
      CHECK(h.last_offset() == known[i].last_offset);
      CHECK(h.crc == known[i].crc);
      ++i;
    });
    CHECK(i == known.size());
    // ...and everything after it, acknowledged or not, is what was appended.
    REQUIRE_OK(testing::VerifyLog(*log, known_end, end));

    // The log goes on.
    REQUIRE_OK(testing::AppendRecords(*log, 1 + static_cast<int64_t>(rng() % 100), rng));
    REQUIRE_OK(testing::VerifyLog(*log, end, log->end_offset()));
    ForEachBatch(*log, known_end, log->end_offset(), [&](const BatchHeader& h) {
      known.push_back({h.base_offset, h.last_offset(), h.crc});
    });
    known_end = log->end_offset();
    REQUIRE_OK(log->Close());
  }
  munmap(memory, sizeof(Shared));
}

}  // namespace
}  // namespace rill
