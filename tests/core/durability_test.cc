// What survives: a clean close and reopen (every record, at its offset), a
// SIGKILL of the writing process at random moments (every acknowledged
// record, nothing invented, offsets go on), and kPowerLoss sends from many
// threads (group commit).
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <cstring>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include "absl/strings/numbers.h"
#include "core/core_util.h"
#include "core/log_factory.h"
#include "rill/rill.h"
#include "storage/mem_file_system.h"
#include "testutil/batch_util.h"

namespace rill {
namespace {

using testing::LogKind;
using testing::OwnedRecord;
using testing::Received;
using testing::TempDir;
using testing::TestLog;

TEST_CASE("a log closed cleanly reopens with every record at its offset", "[durability]") {
  const bool explicit_close = GENERATE(true, false);
  INFO((explicit_close ? "Log::Close" : "the destructor"));
  TempDir dir;
  std::map<std::pair<int32_t, int64_t>, OwnedRecord> sent;
  std::map<int32_t, int64_t> ends;
  {
    absl::StatusOr<std::unique_ptr<Log>> log = Log::Open(dir.path());
    REQUIRE_OK(log);
    REQUIRE_OK((*log)->CreateTopic("t", {.partitions = 3, .segment_bytes = 32 << 10}));
    std::mt19937_64 rng(9);
    std::vector<OwnedRecord> records;
    for (int i = 0; i < 3000; ++i) records.push_back(testing::RandomRecord(rng));
    testing::SendResults results(records.size());
    for (size_t c = 0; c < std::size(testing::kWrittenCodecs); ++c) {
      Producer producer(**log, {.compression = testing::kWrittenCodecs[c]});
      for (size_t i = 0; i < records.size(); ++i) {
        if (i % 3 != c) continue;  // A third each.
        if (i % 5 == 0) {
          absl::StatusOr<RecordPosition> pos = producer.Send("t", records[i].view());
          REQUIRE_OK(pos);
          sent[{pos->partition, pos->offset}] = records[i];
        } else {
          REQUIRE_OK(producer.SendAsync("t", records[i].view(), results.Callback(i)));
        }
      }
      REQUIRE_OK(producer.Flush());
    }
    for (size_t i = 0; i < records.size(); ++i) {
      if (results.calls(i) == 0) continue;  // Sent with Send.
      REQUIRE_OK(results.result(i));
      sent[{results.result(i)->partition, results.result(i)->offset}] = records[i];
    }
    REQUIRE(sent.size() == records.size());
    for (int32_t p = 0; p < 3; ++p) ends[p] = *(*log)->EndOffset({"t", p});
    REQUIRE((*log)->DescribeTopic("t")->partitions[0].segments > 2);
    if (explicit_close) REQUIRE_OK((*log)->Close());
  }

  absl::StatusOr<std::unique_ptr<Log>> log = Log::Open(dir.path());
  REQUIRE_OK(log);
  const RecoveryReport& report = (*log)->recovery_report();
  CHECK(report.partitions_recovered == 0);
  CHECK_FALSE(report.dropped_anything());
  for (int32_t p = 0; p < 3; ++p) CHECK(*(*log)->EndOffset({"t", p}) == ends[p]);
  Consumer consumer(**log, {.auto_offset_reset = OffsetReset::kEarliest});
  REQUIRE_OK(consumer.Subscribe({"t"}));
  const std::vector<Received> got = testing::PollUntil(consumer, sent.size());
  REQUIRE(got.size() == sent.size());
  for (const Received& r : got) {
    INFO("partition " << r.partition << " offset " << r.offset);
    REQUIRE(testing::SameRecord(r.record, sent.at({r.partition, r.offset})));
  }
  // And the offsets go on from there.
  Producer producer(**log);
  for (int32_t p = 0; p < 3; ++p) {
    absl::StatusOr<RecordPosition> pos = producer.Send("t", {.value = "next", .partition = p});
    REQUIRE_OK(pos);
    CHECK(pos->offset == ends[p]);
  }
}

// --- SIGKILL at random moments ---------------------------------------------

constexpr int32_t kCrashPartitions = 2;
constexpr int kMaxAcks = 1 << 20;

// Shared between the test and the child it kills: the child's
// acknowledged records. An entry counts once `valid` is set.
struct Acks {
  struct Entry {
    std::atomic<int> valid;
    int64_t seq;
    int32_t partition;
    int64_t offset;
  };
  std::atomic<int> opened;
  std::atomic<int> error;  // A status code the child met, or 0.
  std::atomic<int64_t> reserved;
  Entry entries[kMaxAcks];

  void Add(int64_t seq, const RecordPosition& pos) {
    const int64_t i = reserved.fetch_add(1);
    if (i >= kMaxAcks) return;
    entries[i].seq = seq;
    entries[i].partition = pos.partition;
    entries[i].offset = pos.offset;
    entries[i].valid.store(1, std::memory_order_release);
  }
};

// Next(&state): splitmix64, a cheap generator seeded with anything.
uint64_t Next(uint64_t* state) {
  uint64_t z = (*state += 0x9e3779b97f4a7c15u);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
  return z ^ (z >> 31);
}

// The record numbered `seq`: its content follows from the number alone.
struct SeqRecord {
  std::optional<std::string> key;
  std::string value;
  std::string header_value;
  Header header;

  explicit SeqRecord(int64_t seq) {
    uint64_t state = static_cast<uint64_t>(seq);
    if (seq % 7 != 0) key = "key-" + std::to_string(Next(&state) % 1000);
    value = "seq=" + std::to_string(seq) + ";";
    for (uint64_t n = Next(&state) % 200; n > 0; --n) value += static_cast<char>(Next(&state));
    header_value = std::to_string(seq);
    header = {.key = "seq", .value = header_value};
  }
  Record view() const { return {.key = key, .value = value, .headers = {&header, 1}}; }
  bool Matches(const Received& r) const {
    return r.record.key == key && r.record.value == value && r.record.headers.size() == 1 &&
           r.record.headers[0].first == "seq" && r.record.headers[0].second == header_value;
  }
};

// SeqOf(r): the number a record says it has, or -1.
int64_t SeqOf(const Received& r) {
  if (r.record.headers.size() != 1 || !r.record.headers[0].second) return -1;
  int64_t seq = -1;
  if (!absl::SimpleAtoi(*r.record.headers[0].second, &seq)) return -1;
  return seq;
}

// The child: opens the log and sends until it is killed, acknowledging in
// `acks` each record whose Send returned OK or whose callback reported OK.
[[noreturn]] void SendUntilKilled(const std::string& dir, int64_t first_seq, Acks* acks) {
  absl::StatusOr<std::unique_ptr<Log>> log = Log::Open(dir);
  if (!log.ok()) {
    acks->error.store(static_cast<int>(log.status().code()));
    _exit(2);
  }
  acks->opened.store(1);
  Producer producer(**log, {.durability = Durability::kProcessCrash});
  for (int64_t seq = first_seq;; ++seq) {
    const SeqRecord record(seq);
    if (seq % 4 == 0) {
      absl::Status s = producer.SendAsync(
          "crash", record.view(), [acks, seq](const absl::StatusOr<RecordPosition>& pos) {
            if (pos.ok()) {
              acks->Add(seq, *pos);
            } else {
              acks->error.store(static_cast<int>(pos.status().code()));
            }
          });
      if (!s.ok()) acks->error.store(static_cast<int>(s.code()));
    } else {
      absl::StatusOr<RecordPosition> pos = producer.Send("crash", record.view());
      if (pos.ok()) {
        acks->Add(seq, *pos);
      } else {
        acks->error.store(static_cast<int>(pos.status().code()));
      }
    }
  }
}

TEST_CASE("records acknowledged before a SIGKILL survive it", "[durability]") {
  TempDir dir;
  {
    absl::StatusOr<std::unique_ptr<Log>> log = Log::Open(dir.path());
    REQUIRE_OK(log);
    REQUIRE_OK(
        (*log)->CreateTopic("crash", {.partitions = kCrashPartitions, .segment_bytes = 256 << 10}));
  }
  void* memory =
      mmap(nullptr, sizeof(Acks), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  REQUIRE(memory != MAP_FAILED);
  Acks* acks = new (memory) Acks();
  std::mt19937_64 rng(10);
  std::map<std::pair<int32_t, int64_t>, int64_t> acked;  // (partition, offset) -> seq
  std::map<std::pair<int32_t, int64_t>, int64_t> mine;   // Sent by the test itself.
  constexpr int kCycles = 20;
  int64_t recovered_bytes = 0;
  for (int cycle = 0; cycle < kCycles; ++cycle) {
    INFO("cycle " << cycle);
    const int64_t first_seq = int64_t{cycle} * 10'000'000;
    acks->opened.store(0);
    const pid_t child = fork();
    REQUIRE(child >= 0);
    if (child == 0) SendUntilKilled(dir.path(), first_seq, acks);
    // Mostly while it sends; sometimes while it opens (and recovers).
    if (rng() % 4 != 0) {
      const absl::Time deadline = absl::Now() + absl::Seconds(30);
      while (acks->opened.load() == 0 && absl::Now() < deadline) {
        absl::SleepFor(absl::Microseconds(200));
      }
      absl::SleepFor(absl::Microseconds(1000 + rng() % 30000));
    } else {
      absl::SleepFor(absl::Microseconds(rng() % 5000));
    }
    REQUIRE(kill(child, SIGKILL) == 0);
    int wstatus = 0;
    REQUIRE(waitpid(child, &wstatus, 0) == child);
    REQUIRE(acks->error.load() == 0);
    // A child that finished on its own failed to open the log.
    REQUIRE(WIFSIGNALED(wstatus));

    const int64_t reserved = std::min<int64_t>(acks->reserved.load(), kMaxAcks);
    for (int64_t i = 0; i < reserved; ++i) {
      Acks::Entry& e = acks->entries[i];
      if (e.valid.load(std::memory_order_acquire) == 0) continue;
      acked[{e.partition, e.offset}] = e.seq;
      e.valid.store(0);
    }
    acks->reserved.store(0);

    absl::StatusOr<std::unique_ptr<Log>> log = Log::Open(dir.path());
    REQUIRE_OK(log);
    recovered_bytes += static_cast<int64_t>((*log)->recovery_report().bytes_dropped);
    // Every record there is one that was sent, intact, in order.
    Consumer consumer(**log, {.auto_offset_reset = OffsetReset::kEarliest});
    REQUIRE_OK(consumer.Subscribe({"crash"}));
    std::map<int32_t, int64_t> end;
    int64_t total = 0;
    for (int32_t p = 0; p < kCrashPartitions; ++p) {
      end[p] = *(*log)->EndOffset({"crash", p});
      total += end[p];
    }
    const std::vector<Received> got = testing::PollUntil(consumer, static_cast<size_t>(total));
    REQUIRE(got.size() == static_cast<size_t>(total));
    std::map<int32_t, int64_t> last_seq;
    std::map<std::pair<int32_t, int64_t>, int64_t> found;
    for (const Received& r : got) {
      const int64_t seq = SeqOf(r);
      auto [it, first] = last_seq.try_emplace(r.partition, seq);
      if (seq < 0 || !SeqRecord(seq).Matches(r) || (!first && seq <= it->second)) {
        FAIL("partition " << r.partition << " offset " << r.offset << ": seq " << seq
                          << (seq < 0 ? " is no record sent" : " is damaged or out of order"));
      }
      it->second = seq;
      found[{r.partition, r.offset}] = seq;
    }
    for (const auto& [where, seq] : acked) {
      const auto it = found.find(where);
      if (it == found.end() || it->second != seq) {
        FAIL("acknowledged seq " << seq << " at " << where.first << "/" << where.second
                                 << " is missing");
      }
    }
    for (const auto& [where, seq] : mine) REQUIRE(found[where] == seq);
    // New sends go on from the end.
    Producer producer(**log);
    for (int32_t p = 0; p < kCrashPartitions; ++p) {
      const int64_t seq = first_seq + 9'000'000 + p;
      const SeqRecord record(seq);
      Record r = record.view();
      r.partition = p;
      absl::StatusOr<RecordPosition> pos = producer.Send("crash", r);
      REQUIRE_OK(pos);
      REQUIRE(pos->offset == end[p]);
      mine[{p, pos->offset}] = seq;
    }
  }
  // The runs did kill the child mid-work: it acknowledged records in most.
  CHECK(acked.size() > 20);
  INFO("bytes cut off by recovery, in all: " << recovered_bytes);
  acks->~Acks();
  munmap(memory, sizeof(Acks));
}

// --- kPowerLoss ---------------------------------------------------------------

TEST_CASE("kPowerLoss Sends from 8 threads at once all succeed, durably", "[durability]") {
  const LogKind kind = GENERATE(LogKind::kInMemory, LogKind::kOnDisk, LogKind::kOnDiskByWrite);
  const int threads = 8;
  INFO(testing::LogKindName(kind));
  TestLog log(kind);
  REQUIRE_OK(log->CreateTopic("t", {.partitions = 2}));
  constexpr int kPerThread = 40;
  std::vector<std::vector<absl::StatusOr<RecordPosition>>> results(threads);
  std::vector<std::thread> senders;
  std::atomic<int> ready{0};
  for (int t = 0; t < threads; ++t) {
    senders.emplace_back([&, t] {
      Producer producer(*log, {.durability = Durability::kPowerLoss});
      ready.fetch_add(1);
      while (ready.load() < threads) std::this_thread::yield();
      for (int i = 0; i < kPerThread; ++i) {
        const std::string value = std::to_string(t) + "/" + std::to_string(i);
        results[t].push_back(producer.Send("t", {.value = value, .partition = i % 2}));
      }
    });
  }
  for (std::thread& t : senders) t.join();
  std::map<std::pair<int32_t, int64_t>, std::string> sent;
  for (int t = 0; t < threads; ++t) {
    for (int i = 0; i < kPerThread; ++i) {
      REQUIRE_OK(results[t][i]);
      sent[{results[t][i]->partition, results[t][i]->offset}] =
          std::to_string(t) + "/" + std::to_string(i);
    }
  }
  REQUIRE(sent.size() == threads * kPerThread);
  if (IsOnDisk(kind)) log.Reopen();
  Consumer consumer(*log, {.auto_offset_reset = OffsetReset::kEarliest});
  REQUIRE_OK(consumer.Subscribe({"t"}));
  const std::vector<Received> got = testing::PollUntil(consumer, sent.size());
  REQUIRE(got.size() == sent.size());
  for (const Received& r : got) CHECK(r.record.value == sent.at({r.partition, r.offset}));
}

TEST_CASE("kPowerLoss SendAsync callbacks report OK, and Flush waits for them", "[durability]") {
  const LogKind kind = GENERATE(LogKind::kInMemory, LogKind::kOnDisk, LogKind::kOnDiskByWrite);
  const int background_threads = GENERATE(1, 0);
  INFO(testing::LogKindName(kind) << ", background_threads " << background_threads);
  TestLog log(kind, {.background_threads = background_threads});
  REQUIRE_OK(log->CreateTopic("t", {.partitions = 2}));
  Producer producer(*log, {.durability = Durability::kPowerLoss, .batch_bytes = 2048});
  constexpr int kRecords = 600;
  testing::SendResults results(kRecords);
  for (int i = 0; i < kRecords; ++i) {
    REQUIRE_OK(producer.SendAsync("t", {.value = std::string(50, 'p') + std::to_string(i)},
                                  results.Callback(i)));
  }
  REQUIRE_OK(producer.Flush());
  std::map<std::pair<int32_t, int64_t>, int> index;
  for (int i = 0; i < kRecords; ++i) {
    INFO("record " << i);
    REQUIRE(results.calls(i) == 1);
    REQUIRE_OK(results.result(i));
    index[{results.result(i)->partition, results.result(i)->offset}] = i;
  }
  REQUIRE(index.size() == kRecords);
  if (IsOnDisk(kind)) log.Reopen();
  Consumer consumer(*log, {.auto_offset_reset = OffsetReset::kEarliest});
  REQUIRE_OK(consumer.Subscribe({"t"}));
  const std::vector<Received> got = testing::PollUntil(consumer, kRecords);
  REQUIRE(got.size() == kRecords);
  for (const Received& r : got) {
    CHECK(r.record.value ==
          std::string(50, 'p') + std::to_string(index.at({r.partition, r.offset})));
  }
}

TEST_CASE("a partition a failed sync stopped does not keep Log::Sync from the others",
          "[durability]") {
  MemFileSystem fs({.track_durability = true});
  const LogSink quiet = [](LogSeverity, std::string_view) {};
  absl::StatusOr<std::unique_ptr<Log>> opened =
      core::LogFactory::Open(&fs, "/log", {.log_sink = quiet, .background_threads = 0});
  REQUIRE_OK(opened);
  Log& log = **opened;
  REQUIRE_OK(log.CreateTopic("a", {.partitions = 1}));
  REQUIRE_OK(log.CreateTopic("b", {.partitions = 1}));
  REQUIRE_OK(log.Sync());
  Producer producer(log, {.durability = Durability::kProcessCrash});
  std::mt19937_64 rng(5);
  for (int i = 0; i < 50; ++i) {
    for (const char* topic : {"a", "b"}) {
      REQUIRE_OK(producer.Send(topic, testing::RandomRecord(rng).view()));
    }
  }

  // The first partition's sync fails; the other's, after it, succeeds.
  fs.InjectFault(kMemFsSync, 0, absl::DataLossError("injected"), /*once=*/true);
  CHECK(log.Sync().code() == absl::StatusCode::kDataLoss);
  std::map<std::string, absl::StatusCode> sent;
  for (const char* topic : {"a", "b"}) {
    sent[topic] = producer.Send(topic, testing::RandomRecord(rng).view()).status().code();
  }
  INFO("a: " << absl::StatusCodeToString(sent["a"])
             << ", b: " << absl::StatusCodeToString(sent["b"]));
  // One partition stopped, the other did not.
  CHECK(((sent["a"] == absl::StatusCode::kFailedPrecondition) !=
         (sent["b"] == absl::StatusCode::kFailedPrecondition)));
  const std::string healthy = sent["a"] == absl::StatusCode::kOk ? "a" : "b";
  CHECK(sent[healthy] == absl::StatusCode::kOk);
  // Log::Sync keeps reporting the stopped partition, and goes on syncing the
  // other: all 51 of its records survive a loss of power.
  CHECK(log.Sync().code() == absl::StatusCode::kFailedPrecondition);
  std::unique_ptr<MemFileSystem> copy = fs.CrashCopy(CrashMode::kDropUnsynced, 1);
  absl::StatusOr<std::unique_ptr<Log>> crashed =
      core::LogFactory::Open(copy.get(), "/log", {.log_sink = quiet, .background_threads = 0});
  REQUIRE_OK(crashed);
  absl::StatusOr<TopicDescription> described = (*crashed)->DescribeTopic(healthy);
  REQUIRE_OK(described);
  CHECK(described->partitions[0].end_offset == 51);
}

}  // namespace
}  // namespace rill
