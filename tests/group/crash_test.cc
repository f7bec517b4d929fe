// Committed offsets survive a SIGKILL: a child process consumes and
// commits, reads on without committing, and is killed; reopened, the group
// resumes exactly at the offsets committed -- not where the child had read
// to. Then children killed at random moments: what survives is always one
// whole commit (each commit is one batch), never a mix.
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <map>
#include <random>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "group/group_util.h"

namespace rill {
namespace {

using testing::TempDir;

constexpr int32_t kPartitions = 3;
constexpr int kRecords = 400;  // Per partition.

// Shared with the child.
struct Shared {
  std::atomic<int> ready;  // The child committed what `committed` says.
  std::atomic<int> error;  // A status code the child met, or 0.
  // Commits: `pending` is written before a commit, `done` after it returns.
  std::atomic<int64_t> pending[kPartitions];
  std::atomic<int64_t> done[kPartitions];
  std::atomic<int> commits;
};

Shared* MapShared() {
  void* memory =
      mmap(nullptr, sizeof(Shared), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  REQUIRE(memory != MAP_FAILED);
  return new (memory) Shared();
}

void Setup(const std::string& dir) {
  absl::StatusOr<std::unique_ptr<Log>> log = Log::Open(dir);
  REQUIRE_OK(log);
  REQUIRE_OK((*log)->CreateTopic("t", {.partitions = kPartitions}));
  for (int32_t p = 0; p < kPartitions; ++p) testing::Produce(**log, "t", p, kRecords);
}

ConsumerOptions ChildOptions(Durability durability) {
  return {.group = "g",
          .enable_auto_commit = false,
          .commit_durability = durability,
          .auto_offset_reset = OffsetReset::kEarliest,
          .max_poll_records = 7};
}

// Child(dir, shared, durability, commit_rounds): polls and commits
// `commit_rounds` times (forever if negative), then polls on without
// committing, says it is ready, and waits to be killed.
[[noreturn]] void Child(const std::string& dir, Shared* shared, Durability durability,
                        int commit_rounds) {
  absl::StatusOr<std::unique_ptr<Log>> log = Log::Open(dir);
  if (!log.ok()) {
    shared->error.store(static_cast<int>(log.status().code()));
    _exit(2);
  }
  Consumer consumer(**log, ChildOptions(durability));
  if (!consumer.Subscribe({"t"}).ok()) _exit(3);
  for (int round = 0; commit_rounds < 0 || round < commit_rounds; ++round) {
    absl::StatusOr<ConsumerRecords> records = consumer.Poll(absl::Milliseconds(100));
    if (!records.ok()) {
      shared->error.store(static_cast<int>(records.status().code()));
      _exit(4);
    }
    for (int32_t p = 0; p < kPartitions; ++p) {
      absl::StatusOr<int64_t> position = consumer.Position({"t", p});
      shared->pending[p].store(position.ok() ? *position : -1);
    }
    if (absl::Status s = consumer.Commit(); !s.ok()) {
      shared->error.store(static_cast<int>(s.code()));
      _exit(5);
    }
    for (int32_t p = 0; p < kPartitions; ++p) shared->done[p].store(shared->pending[p].load());
    shared->commits.fetch_add(1);
  }
  // Read on, committing nothing.
  for (int i = 0; i < 5; ++i) (void)consumer.Poll(absl::Milliseconds(10));
  shared->ready.store(1);
  for (;;) pause();
}

// Resume(dir): reopens the log and joins the group; returns where each
// partition starts (its position when assigned) and the committed offsets.
struct Resumed {
  std::map<int32_t, int64_t> start;
  std::map<int32_t, int64_t> committed;
  std::map<int32_t, int64_t> first_read;
};
Resumed Resume(const std::string& dir) {
  absl::StatusOr<std::unique_ptr<Log>> log = Log::Open(dir);
  REQUIRE_OK(log);
  Resumed out;
  absl::StatusOr<GroupDescription> d = (*log)->DescribeGroup("g");
  if (d.ok()) {
    for (const GroupPartition& p : d->partitions) {
      out.committed[p.partition.partition] = p.committed_offset;
    }
  }
  Consumer* self = nullptr;
  ConsumerOptions options = ChildOptions(Durability::kProcessCrash);
  options.on_assigned = [&](const testing::Partitions& partitions) {
    for (const TopicPartition& tp : partitions) out.start[tp.partition] = *self->Position(tp);
  };
  Consumer consumer(**log, options);
  self = &consumer;
  REQUIRE_OK(consumer.Subscribe({"t"}));
  const absl::Time deadline = absl::Now() + absl::Seconds(20);
  while (out.first_read.size() < static_cast<size_t>(kPartitions) && absl::Now() < deadline) {
    absl::StatusOr<ConsumerRecords> records = consumer.Poll(absl::Milliseconds(10));
    REQUIRE_OK(records);
    for (const RecordView& r : *records) out.first_read.try_emplace(r.partition(), r.offset());
    // Partitions read to the end have nothing more to show.
    for (int32_t p = 0; p < kPartitions; ++p) {
      if (out.start.count(p) > 0 && out.start[p] == kRecords)
        out.first_read.try_emplace(p, kRecords);
    }
  }
  return out;
}

TEST_CASE("after a SIGKILL the group resumes exactly at its committed offsets", "[group][crash]") {
  const Durability durability = GENERATE(Durability::kProcessCrash, Durability::kPowerLoss);
  TempDir dir;
  Setup(dir.path());
  Shared* shared = MapShared();
  const pid_t child = fork();
  REQUIRE(child >= 0);
  if (child == 0) Child(dir.path(), shared, durability, 10);
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  while (shared->ready.load() == 0 && shared->error.load() == 0 && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(1));
  }
  REQUIRE(kill(child, SIGKILL) == 0);
  int wstatus = 0;
  REQUIRE(waitpid(child, &wstatus, 0) == child);
  REQUIRE(shared->error.load() == 0);
  REQUIRE(shared->ready.load() == 1);
  REQUIRE(WIFSIGNALED(wstatus));

  const Resumed resumed = Resume(dir.path());
  int64_t committed_total = 0;
  for (int32_t p = 0; p < kPartitions; ++p) {
    INFO("partition " << p);
    const int64_t committed = shared->done[p].load();
    committed_total += committed;
    CHECK(resumed.committed.at(p) == committed);
    CHECK(resumed.start.at(p) == committed);
    CHECK(resumed.first_read.at(p) == committed);
  }
  CHECK(committed_total == 10 * 7);  // Ten polls of seven records.
  shared->~Shared();
  munmap(shared, sizeof(Shared));
}

TEST_CASE("a SIGKILL at any moment leaves one whole commit", "[group][crash]") {
  TempDir dir;
  Setup(dir.path());
  Shared* shared = MapShared();
  std::mt19937 rng(5);
  std::map<int32_t, int64_t> before;  // What the last cycle found committed.
  for (int32_t p = 0; p < kPartitions; ++p) before[p] = 0;
  const int cycles = testing::kSanitized ? 4 : 8;
  for (int cycle = 0; cycle < cycles; ++cycle) {
    INFO("cycle " << cycle);
    for (int32_t p = 0; p < kPartitions; ++p) {
      shared->pending[p].store(before[p]);
      shared->done[p].store(before[p]);
    }
    shared->commits.store(0);
    const pid_t child = fork();
    REQUIRE(child >= 0);
    if (child == 0) Child(dir.path(), shared, Durability::kProcessCrash, -1);
    const absl::Time deadline = absl::Now() + absl::Seconds(30);
    while (shared->commits.load() == 0 && shared->error.load() == 0 && absl::Now() < deadline) {
      absl::SleepFor(absl::Microseconds(100));
    }
    absl::SleepFor(absl::Microseconds(rng() % 1000));
    REQUIRE(kill(child, SIGKILL) == 0);
    int wstatus = 0;
    REQUIRE(waitpid(child, &wstatus, 0) == child);
    REQUIRE(shared->error.load() == 0);
    REQUIRE(WIFSIGNALED(wstatus));

    const Resumed resumed = Resume(dir.path());
    bool is_pending = true, is_done = true;
    for (int32_t p = 0; p < kPartitions; ++p) {
      const int64_t committed = resumed.committed.count(p) > 0 ? resumed.committed.at(p) : 0;
      is_pending = is_pending && committed == shared->pending[p].load();
      is_done = is_done && committed == shared->done[p].load();
      CHECK(resumed.start.at(p) == committed);
      before[p] = committed;
    }
    CHECK((is_pending || is_done));
  }
  shared->~Shared();
  munmap(shared, sizeof(Shared));
}

}  // namespace
}  // namespace rill
