// Crash torture: a child process opens a log on disk and produces into it
// from several threads -- at every durability, with Send and SendAsync,
// into several partitions -- while a consumer in it reads along; the parent
// kills it with SIGKILL at a random moment, again and again on the same
// directory. After a kill the parent reopens the log (or, now and then,
// leaves that to the next child, which may be killed while recovering):
// every record acknowledged is there and intact, every record there is one
// the child built, offsets go on without gaps, what the consumer read is
// still there, and the log takes appends.
//
// 50 kills by default; RILL_TEST_MODE=long makes it 1000.
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <cstring>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/core_util.h"
#include "testutil/batch_util.h"
#include "torture/kill_shared.h"
#include "torture/torture_util.h"

namespace rill {
namespace {

using testing::Ack;
using testing::BatchId;
using testing::ReadBack;

// --- The child ---------------------------------------------------------------

// Produces records numbered (cycle, producer, 0, 1, ...) until killed,
// acknowledging each that Send or its callback reports OK.
void ProduceUntilKilled(Log& log, int cycle, int producer, uint64_t seed, Shared* shared) {
  std::mt19937_64 rng(seed);
  Producer p(log, {.durability = kDurabilities[(producer + cycle) % 3],
                   .compression = testing::kWrittenCodecs[(producer + cycle / 3) % 3],
                   .batch_bytes = static_cast<int32_t>(1024 + rng() % 16384),
                   .linger = absl::Microseconds(200 + rng() % 2000)});
  for (uint64_t counter = 0;; ++counter) {
    const uint64_t seq = Seq(cycle, producer, counter);
    const testing::OwnedRecord record = testing::SeqRecord(seq);
    Record r = record.view();
    if (rng() % 3 == 0) r.partition = static_cast<int32_t>(rng() % kPartitions);
    const uint32_t checksum = testing::Checksum(record);
    shared->attempted[producer].store(static_cast<int64_t>(counter), std::memory_order_release);
    if (rng() % 3 == 0) {
      absl::StatusOr<RecordPosition> pos = p.Send("t", r);
      if (!pos.ok()) shared->Fail("Send: " + pos.status().ToString());
      shared->AddAck(pos->partition, pos->offset, seq, checksum);
    } else {
      absl::Status s =
          p.SendAsync("t", r, [shared, seq, checksum](const absl::StatusOr<RecordPosition>& pos) {
            if (!pos.ok()) shared->Fail("SendAsync callback: " + pos.status().ToString());
            shared->AddAck(pos->partition, pos->offset, seq, checksum);
          });
      if (!s.ok()) shared->Fail("SendAsync: " + s.ToString());
    }
    // Bursts and pauses, so the log grows at a pace a long run can check.
    if (rng() % 16 == 0) std::this_thread::sleep_for(std::chrono::microseconds(rng() % 2000));
  }
}

// Reads every partition from where it ended when the child opened the log,
// checking every record, and publishes what it read.
void ConsumeUntilKilled(Consumer& consumer, const ConsumerProgress& start, Shared* shared) {
  ConsumerProgress progress = start;
  for (;;) {
    absl::StatusOr<ConsumerRecords> records = consumer.Poll(absl::Milliseconds(20));
    if (!records.ok()) shared->Fail("Poll: " + records.status().ToString());
    for (const RecordView& r : *records) {
      const int32_t p = r.partition();
      const std::optional<uint64_t> seq = testing::SeqOf(r);
      if (r.offset() != progress.position[p] || !seq || !Matches(r, testing::SeqRecord(*seq))) {
        shared->Fail(absl::StrCat("the consumer read a wrong record at ", p, "/", r.offset()));
      }
      progress.Add(p, r.offset(), *seq, testing::Checksum(r));
    }
    OnPolled(consumer, progress, shared);
  }
}

[[noreturn]] void RunChild(const std::string& dir, int cycle, uint64_t seed, Shared* shared) {
  absl::StatusOr<std::unique_ptr<Log>> log = Log::Open(dir);
  if (!log.ok()) shared->Fail("Log::Open: " + log.status().ToString());
  Consumer consumer(**log, {.auto_offset_reset = OffsetReset::kNone});
  ConsumerProgress start;
  std::vector<TopicPartition> all;
  for (int32_t p = 0; p < kPartitions; ++p) all.push_back({"t", p});
  if (!consumer.Assign(all).ok()) shared->Fail("Assign");
  for (int32_t p = 0; p < kPartitions; ++p) {
    start.start[p] = start.position[p] = *(*log)->EndOffset({"t", p});
    if (!consumer.Seek({"t", p}, start.position[p]).ok()) shared->Fail("Seek");
  }
  shared->Publish(start);
  shared->state.store(kRunning, std::memory_order_release);
  std::vector<std::thread> threads;
  threads.emplace_back([&] { ConsumeUntilKilled(consumer, start, shared); });
  for (int producer = 0; producer < kProducers; ++producer) {
    threads.emplace_back(
        [&, producer] { ProduceUntilKilled(**log, cycle, producer, seed + producer, shared); });
  }
  for (std::thread& t : threads) t.join();
  _exit(3);  // Never reached: the threads run until the parent kills us.
}

// --- The parent --------------------------------------------------------------

// What the parent knows of the log: what it checked, and what the children
// acknowledged since.
struct Known {
  std::map<int32_t, std::vector<BatchId>> batches;  // Checked, per partition.
  std::map<int32_t, int64_t> end;                   // Where the checked part ends.
  std::vector<Ack> acks;                            // Acknowledged, not yet checked.
  std::vector<uint32_t> checksums;                  // Of acks[i]'s record.
  std::vector<ConsumerProgress> consumers;          // The children's consumers, not yet checked.
  std::map<int, std::vector<int64_t>> attempted;    // Per cycle: per producer, the last counter.
};

struct Counts {
  int64_t kills = 0;
  int64_t reopens = 0;
  int64_t acks = 0;
  int64_t consumed = 0;
  int64_t lost = 0;
  int64_t wrong = 0;
  int64_t failed_reopens = 0;
  int64_t bytes_cut = 0;
  std::vector<std::string> problems;
  void Problem(std::string text) {
    if (problems.size() < 20) problems.push_back(std::move(text));
  }
};

// Reopens the log after a kill and checks it against `known`, then appends
// and closes it. Returns false if the log could not be opened.
bool CheckAfterKill(const std::string& dir, int cycle, Known* known, Counts* counts) {
  ++counts->reopens;
  absl::StatusOr<std::unique_ptr<Log>> log = Log::Open(dir, {.background_threads = 0});
  if (!log.ok()) {
    ++counts->failed_reopens;
    counts->Problem(absl::StrCat("cycle ", cycle, ": reopening: ", log.status().ToString()));
    return false;
  }
  const RecoveryReport& report = (*log)->recovery_report();
  counts->bytes_cut += static_cast<int64_t>(report.bytes_dropped);
  if (report.segments_dropped != 0) {  // A kill leaves only a torn tail.
    ++counts->lost;
    counts->Problem(absl::StrCat("cycle ", cycle, ": recovery dropped whole segments: ",
                                 absl::StrJoin(report.details, "; ")));
  }
  std::map<std::pair<int32_t, int64_t>, ReadBack> found;
  for (int32_t p = 0; p < kPartitions; ++p) {
    const TopicPartition tp{"t", p};
    const std::string where = absl::StrCat("cycle ", cycle, ", partition ", p, ": ");
    // What was checked before is there, unchanged, batch for batch.
    absl::StatusOr<std::vector<BatchId>> old = testing::Batches(**log, tp, known->end[p]);
    if (!old.ok() || *old != known->batches[p]) {
      ++counts->wrong;
      counts->Problem(where + "the part checked before changed: " +
                      (old.ok() ? "other batches" : old.status().ToString()));
    }
    // Everything after it is what a child built, in order, without gaps.
    const testing::PartitionRead read = testing::ReadPartition(**log, tp, known->end[p]);
    if (read.end < known->end[p]) {
      ++counts->lost;
      counts->Problem(where + "the end went back");
    }
    counts->wrong += static_cast<int64_t>(read.wrong.size()) + (read.error.empty() ? 0 : 1);
    for (const std::string& w : read.wrong) counts->Problem(where + w);
    if (!read.error.empty()) counts->Problem(where + read.error);
    std::map<int64_t, int64_t> last_counter;  // Per (cycle, producer).
    for (const ReadBack& r : read.records) {
      const int c = static_cast<int>(r.seq >> 40);
      const int producer = static_cast<int>((r.seq >> 36) & 0xf);
      const int64_t counter = static_cast<int64_t>(r.seq & ((uint64_t{1} << 36) - 1));
      const auto attempted = known->attempted.find(c);
      const int64_t key = int64_t{c} << 4 | producer;
      auto [it, first] = last_counter.try_emplace(key, counter);
      if (attempted == known->attempted.end() || producer >= kProducers ||
          counter > attempted->second[producer] || (!first && counter <= it->second)) {
        ++counts->wrong;
        counts->Problem(where + absl::StrCat("record ", r.seq, " at ", r.offset,
                                             " was never sent, or is out of order"));
      }
      it->second = counter;
      found[{p, r.offset}] = r;
    }
    known->end[p] = read.end;
  }
  // Every acknowledged record is there, intact.
  counts->acks += static_cast<int64_t>(known->acks.size());
  for (size_t i = 0; i < known->acks.size(); ++i) {
    const Ack& ack = known->acks[i];
    auto it = found.find({ack.partition, ack.offset});
    if (it == found.end()) {
      ++counts->lost;
      counts->Problem(absl::StrCat("cycle ", cycle, ": record ", ack.seq, " acknowledged at ",
                                   ack.partition, "/", ack.offset, " is gone"));
    } else if (it->second.seq != ack.seq || it->second.checksum != known->checksums[i]) {
      ++counts->wrong;
      counts->Problem(absl::StrCat("cycle ", cycle, ": ", ack.partition, "/", ack.offset,
                                   " holds record ", it->second.seq, ", acknowledged as ",
                                   ack.seq));
    }
  }
  for (const ConsumerProgress& progress : known->consumers) {
    counts->consumed += CheckConsumer(progress, found, known->end, cycle, &counts->lost,
                                      &counts->wrong, &counts->problems);
  }
  known->acks.clear();
  known->checksums.clear();
  known->consumers.clear();
  // The log goes on from its end.
  {
    Producer producer(**log);
    for (int32_t p = 0; p < kPartitions; ++p) {
      const testing::OwnedRecord record = testing::SeqRecord(Seq(cycle, kParentProducer, p));
      Record r = record.view();
      r.partition = p;
      absl::StatusOr<RecordPosition> pos = producer.Send("t", r);
      if (!pos.ok() || pos->offset != known->end[p]) {
        ++counts->failed_reopens;
        counts->Problem(absl::StrCat("cycle ", cycle, ": an append to partition ", p, " failed"));
      }
    }
  }
  for (int32_t p = 0; p < kPartitions; ++p) {
    known->end[p] = *(*log)->EndOffset({"t", p});
    absl::StatusOr<std::vector<BatchId>> all = testing::Batches(**log, {"t", p}, known->end[p]);
    if (all.ok()) known->batches[p] = *std::move(all);
  }
  if (absl::Status s = (*log)->Close(); !s.ok()) {
    ++counts->failed_reopens;
    counts->Problem(absl::StrCat("cycle ", cycle, ": closing: ", s.ToString()));
  }
  return true;
}

TEST_CASE("crash torture: SIGKILL at random moments loses nothing acknowledged",
          "[torture][kill]") {
  const int cycles = testing::ByMode(50, 1000);
  testing::TempDir tmp;
  const std::string dir = tmp.Join("log");
  {
    absl::StatusOr<std::unique_ptr<Log>> log = Log::Open(dir);
    REQUIRE_OK(log);
    REQUIRE_OK((*log)->CreateTopic(
        "t",
        {.partitions = kPartitions,
         .retention = {.ms = -1},
         .segment_bytes = 256 << 10, .index_interval_bytes = 1024}));
  }
  SharedMemory memory;
  Shared* shared = memory.get();
  REQUIRE(shared != nullptr);
  Known known;
  Counts counts;
  std::mt19937_64 rng(20);
  for (int cycle = 0; cycle < cycles; ++cycle) {
    shared->Reset();
    const uint64_t seed = rng();
    std::fflush(nullptr);  // Nothing buffered for the child to write twice.
    const pid_t child = fork();
    REQUIRE(child >= 0);
    if (child == 0) RunChild(dir, cycle, seed, shared);
    // Mostly while it produces; sometimes while it opens and recovers.
    if (rng() % 4 == 0) {
      std::this_thread::sleep_for(std::chrono::microseconds(rng() % 5000));
    } else {
      for (int i = 0; i < 100000 && shared->state.load() == kStarting; ++i) {
        std::this_thread::sleep_for(std::chrono::microseconds(100));
      }
      std::this_thread::sleep_for(std::chrono::microseconds(rng() % 30000));
    }
    REQUIRE(kill(child, SIGKILL) == 0);
    int status = 0;
    REQUIRE(waitpid(child, &status, 0) == child);
    ++counts.kills;
    INFO("cycle " << cycle << ": the child said: " << shared->error);
    REQUIRE(shared->state.load() != kFailed);
    REQUIRE(WIFSIGNALED(status));
    shared->Collect(&known.acks, &known.checksums);
    if (std::optional<ConsumerProgress> progress = shared->Progress()) {
      known.consumers.push_back(*progress);
    }
    known.attempted[cycle] = shared->Attempted();
    // Now and then the next child recovers the log instead.
    if (rng() % 4 == 0 && cycle + 1 < cycles) continue;
    if (!CheckAfterKill(dir, cycle, &known, &counts)) break;
  }
  testing::PrintSummary("torture", {{"kills", counts.kills},
                                    {"reopens", counts.reopens},
                                    {"acks", counts.acks},
                                    {"consumed", counts.consumed},
                                    {"lost", counts.lost},
                                    {"wrong", counts.wrong},
                                    {"failed_reopens", counts.failed_reopens},
                                    {"bytes_cut", counts.bytes_cut}});
  INFO(absl::StrJoin(counts.problems, "\n"));
  CHECK(counts.kills == cycles);
  CHECK(counts.lost == 0);
  CHECK(counts.wrong == 0);
  CHECK(counts.failed_reopens == 0);
  // The kills did land while records were being acknowledged.
  CHECK(counts.acks > cycles);
}

}  // namespace
}  // namespace rill
