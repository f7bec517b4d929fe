// Power loss, simulated through the file-system seam: a whole Log runs over a
// MemFileSystem that tracks what was synced; producers of every durability
// send for a while; then a crash copy -- what a loss of power at that instant
// would leave, in each CrashMode -- is opened as a log again. Every record
// acknowledged at kPowerLoss (or before a Log::Sync that returned OK) must
// be there, intact; any other record found must be one that was sent,
// intact, at the offset it was given; the log must accept appends.
#include <cstdint>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/core_util.h"
#include "core/log_factory.h"
#include "storage/mem_file_system.h"
#include "testutil/batch_util.h"
#include "torture/torture_util.h"

namespace rill {
namespace {

using testing::Ack;
using testing::AckLog;
using testing::ByMode;

const LogSink kQuiet = [](LogSeverity, std::string_view) {};

constexpr Durability kDurabilities[] = {Durability::kPowerLoss, Durability::kProcessCrash,
                                        Durability::kMemory};

// What one crash copy showed; the counts add up over the test.
struct Totals {
  int64_t trials = 0;
  int64_t durable_acks = 0;
  int64_t lost = 0;
  int64_t wrong = 0;
  int64_t failed_reopens = 0;
  int64_t unsynced_lost = 0;  // Acknowledged below kPowerLoss, and gone: allowed.
  std::vector<std::string> problems;

  void Problem(std::string text) {
    if (problems.size() < 20) problems.push_back(std::move(text));
  }
};

// The sender's state for one trial.
struct Trial {
  uint64_t seed = 0;
  int32_t partitions = 1;
  std::set<uint64_t> sent;  // Every seq handed to a producer.
  std::vector<Ack> acks;    // Acknowledged before the crash.
  size_t synced_acks = 0;   // acks[0, synced_acks) preceded an OK Log::Sync.
};

// Checks the log a crash copy holds against what was acknowledged.
// With `killed`, the process died but the machine did not: every
// acknowledged record must be there, whatever its durability.
void CheckCopy(MemFileSystem& copy, const Trial& trial, const std::string& what, bool killed,
               Totals* totals) {
  ++totals->trials;
  absl::StatusOr<std::unique_ptr<Log>> log =
      core::LogFactory::Open(&copy, "/log", {.log_sink = kQuiet, .background_threads = 0});
  if (!log.ok()) {
    ++totals->failed_reopens;
    totals->Problem(absl::StrCat(what, ": reopening failed: ", log.status().ToString()));
    return;
  }
  const testing::LogCheck check = testing::CheckLog(
      **log, "t", trial.partitions, trial.sent, trial.acks,
      [&](size_t i) { return killed || trial.acks[i].power || i < trial.synced_acks; });
  for (const std::string& p : check.problems) totals->Problem(absl::StrCat(what, ": ", p));
  totals->lost += check.lost;
  totals->unsynced_lost += check.unsynced_lost;
  totals->wrong += check.wrong;
  for (size_t i = 0; i < trial.acks.size(); ++i) {
    totals->durable_acks += killed || trial.acks[i].power || i < trial.synced_acks ? 1 : 0;
  }
  std::map<int32_t, int64_t> ends = check.ends;
  // The log goes on from its end, and closes and reopens cleanly.
  {
    Producer producer(**log);
    for (int32_t p = 0; p < trial.partitions; ++p) {
      const testing::OwnedRecord record = testing::SeqRecord(trial.seed << 32 | 0xfffff000u | p);
      Record r = record.view();
      r.partition = p;
      absl::StatusOr<RecordPosition> pos = producer.Send("t", r);
      if (!pos.ok() || pos->offset != ends[p]) {
        ++totals->failed_reopens;
        totals->Problem(absl::StrCat(what, ": an append to partition ", p, " after reopening: ",
                                     pos.ok()
                                         ? absl::StrCat("offset ", pos->offset, " not ", ends[p])
                                         : pos.status().ToString()));
      }
    }
  }
  if (absl::Status s = (*log)->Close(); !s.ok()) {
    ++totals->failed_reopens;
    totals->Problem(absl::StrCat(what, ": closing: ", s.ToString()));
    return;
  }
  log->reset();
  log = core::LogFactory::Open(&copy, "/log", {.log_sink = kQuiet, .background_threads = 0});
  if (!log.ok() || (*log)->recovery_report().partitions_recovered != 0) {
    ++totals->failed_reopens;
    totals->Problem(absl::StrCat(what, ": the clean reopen ",
                                 log.ok() ? "recovered partitions" : log.status().ToString()));
    return;
  }
  for (int32_t p = 0; p < trial.partitions; ++p) {
    absl::StatusOr<int64_t> end = (*log)->EndOffset({"t", p});
    if (!end.ok() || *end != ends[p] + 1) {
      ++totals->lost;
      totals->Problem(absl::StrCat(what, ": partition ", p, " lost its last append"));
    }
  }
}

// RunTrial(seed): sends a random mix, then checks a crash copy in each mode.
void RunTrial(uint64_t seed, Totals* totals) {
  std::mt19937_64 rng(seed);
  MemFileSystem fs({.track_durability = true});
  Trial trial;
  trial.seed = seed;
  trial.partitions = 1 + static_cast<int32_t>(rng() % 3);
  const int background_threads = static_cast<int>(rng() % 2);
  absl::StatusOr<std::unique_ptr<Log>> log = core::LogFactory::Open(
      &fs, "/log", {.log_sink = kQuiet, .background_threads = background_threads});
  REQUIRE_OK(log);
  REQUIRE_OK(
      (*log)->CreateTopic("t", {.partitions = trial.partitions,
                                .retention = {.ms = -1},
                                .segment_bytes = static_cast<int64_t>(8 << 10) << (rng() % 4),
                                .index_interval_bytes = 512}));
  AckLog acks;
  std::vector<std::unique_ptr<Producer>> producers;
  for (Durability d : kDurabilities) {
    producers.push_back(std::make_unique<Producer>(
        **log, ProducerOptions{.durability = d,
                               .compression = testing::kWrittenCodecs[rng() % 3],
                               .batch_bytes = static_cast<int32_t>(1024 + rng() % 8192),
                               // Batches fill, or wait for a Send or a Flush:
                               // no timer thread writes while the crash copy
                               // below reads the files.
                               .linger = absl::Hours(1)}));
  }
  const int ops = 1 + static_cast<int>(rng() % 300);
  for (int op = 0; op < ops; ++op) {
    const size_t which = rng() % producers.size();
    const bool power = kDurabilities[which] == Durability::kPowerLoss;
    const uint64_t seq = seed << 32 | static_cast<uint64_t>(op);
    const testing::OwnedRecord record = testing::SeqRecord(seq);
    Record r = record.view();
    if (rng() % 4 == 0) r.partition = static_cast<int32_t>(rng() % trial.partitions);
    trial.sent.insert(seq);
    if (rng() % 2 == 0) {
      absl::StatusOr<RecordPosition> pos = producers[which]->Send("t", r);
      REQUIRE_OK(pos);
      acks.Add({pos->partition, pos->offset, seq, power});
    } else {
      REQUIRE_OK(producers[which]->SendAsync(
          "t", r, [&acks, seq, power](const absl::StatusOr<RecordPosition>& pos) {
            if (pos.ok()) acks.Add({pos->partition, pos->offset, seq, power});
          }));
    }
    switch (rng() % 40) {
      case 0: {
        const size_t before = acks.Copy().size();
        REQUIRE_OK((*log)->Sync());
        trial.synced_acks = before;
        break;
      }
      case 1:
        REQUIRE_OK(producers[rng() % producers.size()]->Flush());
        break;
      case 2:
        (*log)->RunMaintenance();
        break;
    }
  }
  // What was acknowledged before the crash; then the crash, in each mode,
  // from the same instant.
  trial.acks = acks.Copy();
  std::vector<std::unique_ptr<MemFileSystem>> copies;
  for (int mode = 0; mode < 4; ++mode) {
    copies.push_back(fs.CrashCopy(static_cast<CrashMode>(mode), seed * 4 + mode));
  }
  producers.clear();
  log->reset();
  for (int mode = 0; mode < 4; ++mode) {
    CheckCopy(*copies[mode], trial,
              absl::StrCat("trial ", seed, " (", ops, " sends, crash mode ", mode, ")"),
              /*killed=*/false, totals);
  }
}

TEST_CASE("power loss: what was acknowledged at kPowerLoss survives every crash mode",
          "[torture][power_loss]") {
  const int logs = ByMode(25, 250);
  Totals totals;
  for (int i = 0; i < logs; ++i) RunTrial(static_cast<uint64_t>(i) + 1, &totals);
  testing::PrintSummary("power_loss", {{"trials", totals.trials},
                                       {"durable_acks", totals.durable_acks},
                                       {"lost", totals.lost},
                                       {"wrong", totals.wrong},
                                       {"failed_reopens", totals.failed_reopens}});
  INFO(absl::StrJoin(totals.problems, "\n"));
  CHECK(totals.trials == logs * 4);
  CHECK(totals.lost == 0);
  CHECK(totals.wrong == 0);
  CHECK(totals.failed_reopens == 0);
  // The trials did acknowledge records at kPowerLoss, and the crashes did
  // take records that were acknowledged only at kProcessCrash or kMemory.
  CHECK(totals.durable_acks > logs);
  CHECK(totals.unsynced_lost > 0);
}

// --- A crash at every operation of a log's first moments ---------------------

// CrashAt(at, totals): runs a log's first moments -- opening a new log,
// creating a topic, sends of every durability, a Sync, a Close -- and stops
// it dead at operation `at`: from there on every operation fails, as if the
// process were gone. Then the log must open, both as the process left it
// and as a loss of power would, holding what was acknowledged. Returns the
// number of operations the run attempted.
int64_t CrashAt(int64_t at, Totals* totals) {
  MemFileSystem fs({.track_durability = true});
  Trial trial;
  trial.seed = static_cast<uint64_t>(at) + 1000;
  trial.partitions = 2;
  const TopicConfig config = {.partitions = 2, .retention = {.ms = -1}, .segment_bytes = 4 << 10};
  fs.InjectFault(kMemFsAll, at, absl::UnavailableError("the process is gone"));
  bool topic = false;
  {
    absl::StatusOr<std::unique_ptr<Log>> log =
        core::LogFactory::Open(&fs, "/log", {.log_sink = kQuiet, .background_threads = 0});
    if (log.ok()) {
      topic = (*log)->CreateTopic("t", config).ok();
      for (int i = 0; i < 24 && topic; ++i) {
        const Durability d = kDurabilities[i % 3];
        Producer producer(**log, {.durability = d});
        const uint64_t seq = trial.seed << 32 | static_cast<uint64_t>(i);
        const testing::OwnedRecord record = testing::SeqRecord(seq);
        Record r = record.view();
        r.partition = i % 2;
        trial.sent.insert(seq);
        absl::StatusOr<RecordPosition> pos = producer.Send("t", r);
        if (pos.ok()) {
          trial.acks.push_back({pos->partition, pos->offset, seq, d == Durability::kPowerLoss});
        }
        if (i == 12 && (*log)->Sync().ok()) trial.synced_acks = trial.acks.size();
      }
      (void)(*log)->Close();
    }
  }
  const int64_t operations = fs.OperationCount(kMemFsAll);
  // What a loss of power leaves, in each mode; then what the process left.
  std::vector<std::unique_ptr<MemFileSystem>> copies;
  for (int mode = 0; mode < 4; ++mode) {
    copies.push_back(fs.CrashCopy(static_cast<CrashMode>(mode), trial.seed * 4 + mode));
  }
  fs.ClearFaults();
  for (int mode = 0; mode <= 4; ++mode) {
    const bool killed = mode == 4;
    MemFileSystem& copy = killed ? fs : *copies[mode];
    const std::string what =
        absl::StrCat("stopped at operation ", at,
                     killed ? ", process killed" : absl::StrCat(", power lost, crash mode ", mode));
    {
      absl::StatusOr<std::unique_ptr<Log>> log =
          core::LogFactory::Open(&copy, "/log", {.log_sink = kQuiet, .background_threads = 0});
      if (!log.ok()) {
        ++totals->trials;
        ++totals->failed_reopens;
        totals->Problem(absl::StrCat(what, ": reopening failed: ", log.status().ToString()));
        continue;
      }
      if ((*log)->ListTopics().empty()) {
        // Only a topic whose creation failed may be missing.
        if (topic) {
          ++totals->lost;
          totals->Problem(absl::StrCat(what, ": the topic created is gone"));
        }
        REQUIRE_OK((*log)->CreateTopic("t", config));
      }
    }
    CheckCopy(copy, trial, what, killed, totals);
  }
  return operations;
}

TEST_CASE("power loss or a crash at every operation of a new log's first moments",
          "[torture][power_loss]") {
  Totals totals;
  // A run that nothing stops counts the operations.
  const int64_t operations = CrashAt(int64_t{1} << 40, &totals);
  REQUIRE(operations > 50);
  for (int64_t at = 0; at < operations; ++at) CrashAt(at, &totals);
  testing::PrintSummary("power_loss_points", {{"trials", totals.trials},
                                              {"durable_acks", totals.durable_acks},
                                              {"lost", totals.lost},
                                              {"wrong", totals.wrong},
                                              {"failed_reopens", totals.failed_reopens}});
  INFO(absl::StrJoin(totals.problems, "\n"));
  CHECK(totals.lost == 0);
  CHECK(totals.wrong == 0);
  CHECK(totals.failed_reopens == 0);
}

}  // namespace
}  // namespace rill
