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
#include "util/mutex.h"

namespace rill {
namespace {

using testing::ByMode;
using testing::PartitionRead;
using testing::ReadBack;

const LogSink kQuiet = [](LogSeverity, std::string_view) {};

// An acknowledged record: Send returned it, or its callback reported it.
struct Ack {
  int32_t partition = 0;
  int64_t offset = 0;
  uint64_t seq = 0;
  bool power = false;  // Sent at kPowerLoss.
};

class AckLog {
 public:
  void Add(const Ack& ack) {
    MutexLock lock(&mu_);
    acks_.push_back(ack);
  }
  std::vector<Ack> Copy() const {
    MutexLock lock(&mu_);
    return acks_;
  }

 private:
  mutable Mutex mu_;
  std::vector<Ack> acks_ ABSL_GUARDED_BY(mu_);
};

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
void CheckCopy(MemFileSystem& copy, const Trial& trial, const std::string& what, Totals* totals) {
  ++totals->trials;
  absl::StatusOr<std::unique_ptr<Log>> log =
      core::LogFactory::Open(&copy, "/log", {.log_sink = kQuiet, .background_threads = 0});
  if (!log.ok()) {
    ++totals->failed_reopens;
    totals->Problem(absl::StrCat(what, ": reopening failed: ", log.status().ToString()));
    return;
  }
  std::map<std::pair<int32_t, int64_t>, uint64_t> found;
  std::set<uint64_t> seen;
  std::map<int32_t, int64_t> ends;
  for (int32_t p = 0; p < trial.partitions; ++p) {
    const PartitionRead read = testing::ReadPartition(**log, {"t", p}, 0);
    ends[p] = read.end;
    for (const std::string& w : read.wrong) totals->Problem(absl::StrCat(what, ": ", w));
    totals->wrong += static_cast<int64_t>(read.wrong.size());
    if (!read.error.empty()) {
      ++totals->wrong;
      totals->Problem(absl::StrCat(what, ": partition ", p, ": ", read.error));
    }
    for (const ReadBack& r : read.records) {
      if (trial.sent.count(r.seq) == 0 || !seen.insert(r.seq).second) {
        ++totals->wrong;
        totals->Problem(absl::StrCat(what, ": record ", r.seq, " at ", p, "/", r.offset,
                                     " was never sent, or is there twice"));
      }
      found[{p, r.offset}] = r.seq;
    }
  }
  for (size_t i = 0; i < trial.acks.size(); ++i) {
    const Ack& ack = trial.acks[i];
    const bool durable = ack.power || i < trial.synced_acks;
    totals->durable_acks += durable ? 1 : 0;
    auto it = found.find({ack.partition, ack.offset});
    if (it == found.end()) {
      totals->unsynced_lost += durable ? 0 : 1;
      if (durable) {
        ++totals->lost;
        totals->Problem(absl::StrCat(what, ": record ", ack.seq, " acknowledged at ", ack.partition,
                                     "/", ack.offset, " is gone"));
      }
    } else if (it->second != ack.seq) {
      ++totals->wrong;
      totals->Problem(absl::StrCat(what, ": ", ack.partition, "/", ack.offset, " holds record ",
                                   it->second, ", not the acknowledged ", ack.seq));
    }
  }
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
                                .segment_bytes = static_cast<int64_t>(8 << 10) << (rng() % 4),
                                .index_interval_bytes = 512}));
  AckLog acks;
  std::vector<std::unique_ptr<Producer>> producers;
  for (Durability d : kDurabilities) {
    producers.push_back(std::make_unique<Producer>(
        **log, ProducerOptions{.durability = d,
                               .compression = testing::kWrittenCodecs[rng() % 3],
                               .batch_bytes = static_cast<int32_t>(1024 + rng() % 8192),
                               .linger = absl::Milliseconds(1)}));
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
              absl::StrCat("trial ", seed, " (", ops, " sends, crash mode ", mode, ")"), totals);
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

}  // namespace
}  // namespace rill
