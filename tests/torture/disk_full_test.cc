// A full disk: ENOSPC injected through the file-system seam at every
// operation that can meet it -- each in turn, for a log producing at each
// durability -- and a device of limited size. The producer must get a clear
// error (kResourceExhausted), nothing written before may be damaged, and
// appends must succeed again once there is room -- at once, or, where a
// sync failed (which stops the log: PartitionLog::Sync), after a reopen.
#include <cstdint>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include <cstdio>
#include <cstdlib>
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/core_util.h"
#include "core/log_factory.h"
#include "format/batch_header.h"
#include "storage/mem_file_system.h"
#include "testutil/batch_util.h"
#include "torture/torture_util.h"

namespace rill {
namespace {
void DumpLog(MemFileSystem& fs, const std::string& dir) {
  auto names = fs.ListDir(dir);
  if (!names.ok()) return;
  for (auto& name : *names) {
    auto d = ReadFileToString(fs, dir + "/" + name);
    if (!d.ok()) continue;
    std::string data = *d;
    std::printf("%s: %zu bytes\n", name.c_str(), data.size());
    if (!name.ends_with(".log")) continue;
    uint64_t p = 0;
    while (p + 61 <= data.size()) {
      BatchHeader h;
      absl::Status s = CheckBatchHeader({data.data() + p, data.size() - p}, &h);
      if (!s.ok()) {
        std::printf("  at %lu: %s\n", p, std::string(s.message()).c_str());
        break;
      }
      std::printf("  at %lu: base %ld last %ld size %lu crc %s\n", p, h.base_offset,
                  h.last_offset(), h.size(),
                  CheckBatch({data.data() + p, h.size()}, &h).ok() ? "ok" : "BAD");
      p += h.size();
    }
  }
}

using testing::Ack;
using testing::AckLog;

const LogSink kQuiet = [](LogSeverity, std::string_view) {};

// StoppedBySync(s): the error of a log that a failed sync stopped.
bool StoppedBySync(const absl::Status& s) {
  return absl::IsFailedPrecondition(s) &&
         absl::StrContains(s.message(), "takes no more writes; reopen it");
}
constexpr int32_t kPartitions = 2;

// Every kind of operation that can fail with ENOSPC on a real device.
constexpr uint32_t kSpaceOps = kMemFsOpen | kMemFsWrite | kMemFsAllocate | kMemFsTruncate |
                               kMemFsSync | kMemFsSyncDir | kMemFsRename | kMemFsCreateDir;

const char* Name(Durability d) {
  switch (d) {
    case Durability::kMemory:
      return "kMemory";
    case Durability::kProcessCrash:
      return "kProcessCrash";
    case Durability::kPowerLoss:
      return "kPowerLoss";
  }
  return "?";
}

// Counts over a test, and the first few problems, described.
struct Totals {
  int64_t points = 0;   // Faults injected (or space limits set).
  int64_t refused = 0;  // Calls that failed with kResourceExhausted.
  int64_t stopped = 0;  // Calls refused by a log that a failed sync stopped.
  int64_t bad_errors = 0;
  int64_t lost = 0;
  int64_t wrong = 0;
  int64_t failed_appends = 0;  // Appends that failed once there was room.
  int64_t reopened = 0;        // Logs reopened after a failed sync.
  std::vector<std::string> problems;

  void Problem(std::string text) {
    if (problems.size() < 20) problems.push_back(std::move(text));
  }
  // Expect(s, what): OK, or the clear error a full device must give.
  bool Expect(const absl::Status& s, const std::string& what) {
    if (s.ok()) return true;
    if (absl::IsResourceExhausted(s)) {
      ++refused;
      return false;
    }
    if (StoppedBySync(s)) {
      ++stopped;
      return false;
    }
    ++bad_errors;
    Problem(absl::StrCat(what, ": ", s.ToString()));
    return false;
  }
};

// The workload, in two phases: sending while the fault may strike, then
// sending once the device has room again.
class Workload {
 public:
  Workload(MemFileSystem& fs, Durability durability, uint64_t seed, std::string what,
           Totals* totals)
      : fs_(fs), durability_(durability), rng_(seed), what_(std::move(what)), totals_(totals) {}

  // Opens the log and creates the topic, with the device full or not.
  // Returns false if the device was full (nothing else to do then).
  bool Start() {
    absl::StatusOr<std::unique_ptr<Log>> log =
        core::LogFactory::Open(&fs_, "/log", {.log_sink = kQuiet, .background_threads = 0});
    if (!totals_->Expect(log.status(), what_ + ": Log::Open")) return false;
    log_ = *std::move(log);
    if (!totals_->Expect(log_->CreateTopic("t", {.partitions = kPartitions,
                                                 .retention = {.ms = -1},
                                                 .segment_bytes = 6 << 10,
                                                 .index_interval_bytes = 256}),
                         what_ + ": CreateTopic")) {
      return false;
    }
    topic_ = true;
    return true;
  }

  // Sends `n` records; with `room` (the device has space) every send must
  // succeed.
  void Send(int n, bool room) {
    if (log_ == nullptr) return;
    Producer producer(*log_, {.durability = durability_,
                              .compression = testing::kWrittenCodecs[rng_() % 3],
                              .batch_bytes = 1500});
    for (int i = 0; i < n; ++i) {
      const uint64_t seq = next_seq_++;
      const testing::OwnedRecord record = testing::SeqRecord(seq);
      sent_.insert(seq);
      const std::string what = absl::StrCat(what_, ": record ", seq);
      // An explicit partition: a null key would go to a random one, and the
      // operations a run makes must not vary.
      Record r = record.view();
      r.partition = static_cast<int32_t>(rng_() % kPartitions);
      if (rng_() % 2 == 0) {
        absl::StatusOr<RecordPosition> pos = producer.Send("t", r);
        if (Check(pos.status(), what, room)) acks_.Add({pos->partition, pos->offset, seq});
      } else {
        absl::Status s = producer.SendAsync(
            "t", r, [this, seq, what, room](const absl::StatusOr<RecordPosition>& pos) {
              if (Check(pos.status(), what, room)) acks_.Add({pos->partition, pos->offset, seq});
            });
        Check(s, what, room);
      }
    }
    Check(producer.Flush(), what_ + ": Flush", room);
    Check(log_->Sync(), what_ + ": Log::Sync", room);
    log_->RunMaintenance();
    if (std::getenv("DBG") != nullptr && what_.find(std::getenv("DBG")) != std::string::npos) {
      std::printf("---- after send %d\n", n);
      DumpLog(fs_, "/log/t-1");
    }
  }

  // Once there is room: the log opens (if it had not), the topic exists,
  // appends succeed, and everything acknowledged is there and intact, also
  // after a clean close and reopen.
  void Finish() {
    if (log_ == nullptr) {
      absl::StatusOr<std::unique_ptr<Log>> log =
          core::LogFactory::Open(&fs_, "/log", {.log_sink = kQuiet, .background_threads = 0});
      if (!log.ok()) {
        ++totals_->failed_appends;
        totals_->Problem(absl::StrCat(what_, ": Log::Open with room: ", log.status().ToString()));
        return;
      }
      log_ = *std::move(log);
    }
    if (!topic_) {
      if (absl::Status s = log_->CreateTopic(
              "t",
              {.partitions = kPartitions,
               .retention = {.ms = -1},
               .segment_bytes = 6 << 10,
               .index_interval_bytes = 256});
          !s.ok()) {
        ++totals_->failed_appends;
        totals_->Problem(absl::StrCat(what_, ": CreateTopic with room: ", s.ToString()));
        return;
      }
    }
    const bool dbg =
        std::getenv("DBG") != nullptr && what_.find(std::getenv("DBG")) != std::string::npos;
    if (StoppedBySync(log_->Sync())) {
      // A failed sync stopped a partition: reopening recovers it. Close
      // reports that failure again.
      if (!StoppedBySync(log_->Close())) {
        ++totals_->failed_appends;
        totals_->Problem(absl::StrCat(what_, ": Close did not report the failed sync"));
      }
      log_.reset();
      absl::StatusOr<std::unique_ptr<Log>> log =
          core::LogFactory::Open(&fs_, "/log", {.log_sink = kQuiet, .background_threads = 0});
      if (!log.ok()) {
        ++totals_->failed_appends;
        totals_->Problem(
            absl::StrCat(what_, ": reopening after a failed sync: ", log.status().ToString()));
        return;
      }
      log_ = *std::move(log);
      ++totals_->reopened;
    }
    if (dbg) {
      std::printf("---- before room sends\n");
      DumpLog(fs_, "/log/t-1");
    }
    Send(30, /*room=*/true);
    if (dbg) {
      std::printf("---- after room sends\n");
      DumpLog(fs_, "/log/t-1");
    }
    Verify("after the fault");
    if (absl::Status s = log_->Close(); !s.ok()) {
      ++totals_->failed_appends;
      totals_->Problem(absl::StrCat(what_, ": Close: ", s.ToString()));
    }
    log_.reset();
    if (dbg) {
      std::printf("---- closed\n");
      DumpLog(fs_, "/log/t-1");
    }
    absl::StatusOr<std::unique_ptr<Log>> log =
        core::LogFactory::Open(&fs_, "/log", {.log_sink = kQuiet, .background_threads = 0});
    if (!log.ok()) {
      ++totals_->failed_appends;
      totals_->Problem(absl::StrCat(what_, ": reopening: ", log.status().ToString()));
      return;
    }
    log_ = *std::move(log);
    Verify("after reopening");
  }

 private:
  // Check(s, what, room): counts `s`; true if OK.
  bool Check(const absl::Status& s, const std::string& what, bool room) {
    if (!room) return totals_->Expect(s, what);
    if (s.ok()) return true;
    ++totals_->failed_appends;
    totals_->Problem(absl::StrCat(what, " with room again: ", s.ToString()));
    return false;
  }

  void Verify(const std::string& when) {
    const std::vector<Ack> acks = acks_.Copy();
    const testing::LogCheck check =
        testing::CheckLog(*log_, "t", kPartitions, sent_, acks, [](size_t) { return true; });
    totals_->lost += check.lost;
    totals_->wrong += check.wrong;
    for (const std::string& p : check.problems) {
      totals_->Problem(absl::StrCat(what_, " ", when, ": ", p));
    }
  }

  MemFileSystem& fs_;
  const Durability durability_;
  std::mt19937_64 rng_;
  const std::string what_;
  Totals* const totals_;
  std::unique_ptr<Log> log_;
  bool topic_ = false;
  uint64_t next_seq_ = 0;
  std::set<uint64_t> sent_;
  AckLog acks_;
};

void Report(const char* test, const Totals& totals) {
  testing::PrintSummary(test, {{"points", totals.points},
                               {"refused", totals.refused},
                               {"stopped", totals.stopped},
                               {"reopened", totals.reopened},
                               {"bad_errors", totals.bad_errors},
                               {"lost", totals.lost},
                               {"wrong", totals.wrong},
                               {"failed_appends", totals.failed_appends}});
}

TEST_CASE("disk full: ENOSPC at every operation in turn, at each durability",
          "[torture][disk_full]") {
  const int records = testing::ByMode(120, 400);
  Totals totals;
  for (Durability d : {Durability::kMemory, Durability::kProcessCrash, Durability::kPowerLoss}) {
    // A run with room all along counts the operations a fault could strike.
    int64_t operations = 0;
    {
      MemFileSystem fs;
      Workload w(fs, d, 1, Name(d), &totals);
      REQUIRE(w.Start());
      w.Send(records, /*room=*/false);
      operations = fs.OperationCount(kSpaceOps);
      w.Finish();
    }
    REQUIRE(operations > 50);
    for (int64_t at = 0; at < operations; ++at) {
      ++totals.points;
      MemFileSystem fs;
      fs.InjectFault(kSpaceOps, at, absl::ResourceExhaustedError("injected ENOSPC"));
      Workload w(fs, d, 1, absl::StrCat(Name(d), ", ENOSPC from operation ", at), &totals);
      if (w.Start()) w.Send(records, /*room=*/false);
      fs.ClearFaults();
      w.Finish();
    }
  }
  Report("disk_full_points", totals);
  INFO(absl::StrJoin(totals.problems, "\n"));
  CHECK(totals.bad_errors == 0);
  CHECK(totals.lost == 0);
  CHECK(totals.wrong == 0);
  CHECK(totals.failed_appends == 0);
  CHECK(totals.refused >= totals.points);  // Every fault was met, and reported.
}

TEST_CASE("disk full: a device of limited size fills, then gets room", "[torture][disk_full]") {
  const int rounds = testing::ByMode(30, 300);
  Totals totals;
  std::mt19937_64 rng(7);
  for (int round = 0; round < rounds; ++round) {
    const Durability d = static_cast<Durability>(round % 3);
    ++totals.points;
    MemFileSystem fs;
    Workload w(fs, d, round, absl::StrCat(Name(d), ", space limit, round ", round), &totals);
    REQUIRE(w.Start());
    w.Send(static_cast<int>(rng() % 40), /*room=*/false);
    // Room for a little more, then none.
    fs.SetSpaceLimit(fs.UsedBytes() + rng() % (64 << 10));
    const int64_t refused = totals.refused;
    w.Send(200, /*room=*/false);
    CHECK(totals.refused > refused);
    fs.SetSpaceLimit(0);
    w.Finish();
  }
  Report("disk_full_limit", totals);
  INFO(absl::StrJoin(totals.problems, "\n"));
  CHECK(totals.bad_errors == 0);
  CHECK(totals.lost == 0);
  CHECK(totals.wrong == 0);
  CHECK(totals.failed_appends == 0);
}

}  // namespace
}  // namespace rill
