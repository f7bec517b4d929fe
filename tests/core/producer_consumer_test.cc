// The Producer, seen through what consumers read back: offsets, callbacks,
// lingering and flushing, batch sizes, codecs, timestamps and size limits.
// Each case runs over an in-memory log and one on disk.
#include "rill/producer.h"

#include <atomic>
#include <cstdint>
#include <map>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include "core/core_util.h"
#include "rill/rill.h"

namespace rill {
namespace {

using testing::LogKind;
using testing::OwnedRecord;
using testing::Received;
using testing::SendResults;
using testing::TestLog;

// WaitFor(done, timeout): waits until done() holds or `timeout` passes.
template <typename F>
bool WaitFor(F done, absl::Duration timeout = absl::Seconds(20)) {
  const absl::Time deadline = absl::Now() + timeout;
  while (!done()) {
    if (absl::Now() >= deadline) return false;
    absl::SleepFor(absl::Milliseconds(1));
  }
  return true;
}

TEST_CASE("Send returns consecutive offsets per partition", "[producer]") {
  const LogKind kind = GENERATE(LogKind::kInMemory, LogKind::kOnDisk, LogKind::kOnDiskByWrite);
  INFO(testing::LogKindName(kind));
  TestLog log(kind);
  REQUIRE_OK(log->CreateTopic("t", {.partitions = 3}));
  Producer producer(*log);
  std::mt19937_64 rng(1);
  std::map<int32_t, int64_t> next;
  for (int i = 0; i < 600; ++i) {
    const int32_t partition = static_cast<int32_t>(rng() % 3);
    absl::StatusOr<RecordPosition> pos =
        producer.Send("t", {.value = std::to_string(i), .partition = partition});
    REQUIRE_OK(pos);
    CHECK(pos->topic == "t");
    CHECK(pos->partition == partition);
    REQUIRE(pos->offset == next[partition]++);
  }
  for (int32_t p = 0; p < 3; ++p) CHECK(*log->EndOffset({"t", p}) == next[p]);
}

TEST_CASE("SendAsync callbacks report each record's position, once", "[producer]") {
  const LogKind kind = GENERATE(LogKind::kInMemory, LogKind::kOnDisk, LogKind::kOnDiskByWrite);
  INFO(testing::LogKindName(kind));
  TestLog log(kind);
  constexpr int32_t kPartitions = 4;
  REQUIRE_OK(log->CreateTopic("t", {.partitions = kPartitions}));
  Producer producer(*log, {.batch_bytes = 4096});
  std::mt19937_64 rng(2);
  constexpr int kRecords = 3000;
  std::vector<OwnedRecord> records;
  SendResults async(kRecords);
  std::vector<absl::StatusOr<RecordPosition>> sync(kRecords);
  for (int i = 0; i < kRecords; ++i) {
    records.push_back(testing::RandomRecord(rng));
    if (i % 10 == 0) {
      sync[i] = producer.Send("t", records.back().view());
    } else {
      REQUIRE_OK(producer.SendAsync("t", records.back().view(), async.Callback(i)));
    }
  }
  REQUIRE_OK(producer.Flush());

  // In each partition, records took consecutive offsets in the order sent.
  std::map<int32_t, int64_t> next;
  std::map<std::pair<int32_t, int64_t>, int> index;
  for (int i = 0; i < kRecords; ++i) {
    INFO("record " << i);
    if (i % 10 != 0) REQUIRE(async.calls(i) == 1);
    const absl::StatusOr<RecordPosition> pos = i % 10 == 0 ? sync[i] : async.result(i);
    REQUIRE_OK(pos);
    CHECK(pos->topic == "t");
    REQUIRE(pos->offset == next[pos->partition]++);
    CHECK(pos->timestamp == records[i].timestamp);
    index[{pos->partition, pos->offset}] = i;
  }
  Consumer consumer(*log, {.auto_offset_reset = OffsetReset::kEarliest});
  REQUIRE_OK(consumer.Subscribe({"t"}));
  const std::vector<Received> got = testing::PollUntil(consumer, kRecords);
  REQUIRE(got.size() == kRecords);
  for (const Received& r : got) {
    const int i = index.at({r.partition, r.offset});
    INFO("record " << i);
    CHECK(testing::SameRecord(r.record, records[i]));
  }
}

TEST_CASE("a lingering batch is appended by the background thread", "[producer]") {
  const LogKind kind = GENERATE(LogKind::kInMemory, LogKind::kOnDisk, LogKind::kOnDiskByWrite);
  INFO(testing::LogKindName(kind));
  TestLog log(kind);
  REQUIRE_OK(log->CreateTopic("t"));
  Producer quick(*log, {.linger = absl::Milliseconds(10)});
  SendResults results(2);
  REQUIRE_OK(quick.SendAsync("t", {.value = "a"}, results.Callback(0)));
  // No Flush: the linger timer appends it.
  REQUIRE(WaitFor([&] { return results.calls(0) == 1; }));
  CHECK_OK(results.result(0));
  CHECK(*log->EndOffset({"t", 0}) == 1);

  // A long linger keeps a batch back until Flush.
  Producer slow(*log, {.linger = absl::Hours(1)});
  REQUIRE_OK(slow.SendAsync("t", {.value = "b"}, results.Callback(1)));
  absl::SleepFor(absl::Milliseconds(100));
  CHECK(results.calls(1) == 0);
  CHECK(*log->EndOffset({"t", 0}) == 1);
  REQUIRE_OK(slow.Flush());
  CHECK(results.calls(1) == 1);
  CHECK(results.result(1)->offset == 1);
  CHECK(*log->EndOffset({"t", 0}) == 2);
}

TEST_CASE("with no background threads, batches wait for Flush", "[producer]") {
  const LogKind kind = GENERATE(LogKind::kInMemory, LogKind::kOnDisk, LogKind::kOnDiskByWrite);
  INFO(testing::LogKindName(kind));
  TestLog log(kind, {.background_threads = 0});
  REQUIRE_OK(log->CreateTopic("t"));
  Producer producer(*log, {.linger = absl::Milliseconds(1)});
  SendResults results(3);
  for (int i = 0; i < 3; ++i) {
    REQUIRE_OK(producer.SendAsync("t", {.value = std::to_string(i)}, results.Callback(i)));
  }
  absl::SleepFor(absl::Milliseconds(50));
  log->RunMaintenance();
  CHECK(results.calls(0) == 0);
  CHECK(*log->EndOffset({"t", 0}) == 0);
  REQUIRE_OK(producer.Flush());
  for (int i = 0; i < 3; ++i) {
    REQUIRE(results.calls(i) == 1);
    CHECK(results.result(i)->offset == i);
  }
  CHECK(*log->EndOffset({"t", 0}) == 3);
}

TEST_CASE("Flush waits for callbacks that a background thread runs", "[producer]") {
  TestLog log(LogKind::kInMemory);
  REQUIRE_OK(log->CreateTopic("t"));
  Producer producer(*log, {.linger = absl::Milliseconds(1)});
  std::atomic<bool> finished{false};
  REQUIRE_OK(producer.SendAsync("t", {.value = "v"}, [&](const absl::StatusOr<RecordPosition>&) {
    absl::SleepFor(absl::Milliseconds(300));
    finished.store(true);
  }));
  // By now the timer has most likely taken the batch and sits in the
  // callback; Flush must wait for it either way.
  absl::SleepFor(absl::Milliseconds(50));
  REQUIRE_OK(producer.Flush());
  CHECK(finished.load());
}

TEST_CASE("SendAsync batches hold at most batch_bytes", "[producer]") {
  const LogKind kind = GENERATE(LogKind::kInMemory, LogKind::kOnDisk, LogKind::kOnDiskByWrite);
  INFO(testing::LogKindName(kind));
  TestLog log(kind, {.background_threads = 0});
  REQUIRE_OK(log->CreateTopic("t"));
  constexpr int32_t kBatchBytes = 1000;
  Producer producer(*log, {.batch_bytes = kBatchBytes, .linger = absl::Hours(1)});
  std::mt19937_64 rng(3);
  std::vector<std::string> values;
  for (int i = 0; i < 300; ++i) values.push_back(testing::RandomBytes(rng, 40 + rng() % 60));
  for (const std::string& v : values) REQUIRE_OK(producer.SendAsync("t", {.value = v}));
  REQUIRE_OK(producer.Flush());
  const std::vector<BatchHeader> batches = testing::BatchHeaders(*log, {"t", 0});
  REQUIRE(batches.size() > 10);
  int64_t records = 0;
  for (size_t i = 0; i < batches.size(); ++i) {
    INFO("batch " << i << " of " << batches.size());
    CHECK(batches[i].size() <= static_cast<size_t>(kBatchBytes));
    // Full, but for the last one: the next record (at most ~120 bytes in
    // the batch) would not have fitted.
    if (i + 1 < batches.size()) CHECK(batches[i].size() > kBatchBytes - 150);
    records += batches[i].records_count;
  }
  CHECK(records == 300);
}

TEST_CASE("every codec round trips every kind of field", "[producer]") {
  const LogKind kind = GENERATE(LogKind::kInMemory, LogKind::kOnDisk, LogKind::kOnDiskByWrite);
  const Compression codec = GENERATE(Compression::kNone, Compression::kLz4, Compression::kZstd);
  INFO(testing::LogKindName(kind) << ", " << CompressionName(codec));
  TestLog log(kind);
  REQUIRE_OK(log->CreateTopic("t", {.partitions = 2}));
  Producer producer(*log, {.compression = codec, .batch_bytes = 16 << 10});
  std::mt19937_64 rng(4);
  constexpr int kRecords = 2000;
  std::vector<OwnedRecord> records;
  for (int i = 0; i < kRecords; ++i) {
    records.push_back(testing::RandomRecord(rng, {.null_probability = 0.2}));
    // Compressible values too, so that the codecs have work to do.
    if (i % 3 == 0 && records.back().value) records.back().value->append(300, 'z');
  }
  records[0].key.reset();
  records[0].value.reset();
  records[1].key = "";
  records[1].value = "";
  records[2].headers = {{"h", std::nullopt}, {"", ""}, {"h", "repeated key"}};
  std::map<std::pair<int32_t, int64_t>, int> index;
  SendResults async(kRecords);
  for (int i = 0; i < kRecords; ++i) {
    Record r = records[i].view();
    r.partition = i % 2;
    if (i % 7 == 0) {
      absl::StatusOr<RecordPosition> pos = producer.Send("t", r);
      REQUIRE_OK(pos);
      index[{pos->partition, pos->offset}] = i;
    } else {
      REQUIRE_OK(producer.SendAsync("t", r, async.Callback(i)));
    }
  }
  REQUIRE_OK(producer.Flush());
  for (int i = 0; i < kRecords; ++i) {
    if (i % 7 == 0) continue;
    REQUIRE_OK(async.result(i));
    index[{async.result(i)->partition, async.result(i)->offset}] = i;
  }
  REQUIRE(index.size() == kRecords);

  Consumer consumer(*log, {.auto_offset_reset = OffsetReset::kEarliest});
  REQUIRE_OK(consumer.Subscribe({"t"}));
  const std::vector<Received> got = testing::PollUntil(consumer, kRecords);
  REQUIRE(got.size() == kRecords);
  for (const Received& r : got) {
    const int i = index.at({r.partition, r.offset});
    INFO("record " << i);
    REQUIRE(testing::SameRecord(r.record, records[i]));
  }
  // The batches are written with the codec.
  for (int32_t p = 0; p < 2; ++p) {
    for (const BatchHeader& h : testing::BatchHeaders(*log, {"t", p})) {
      REQUIRE(h.compression() == codec);
    }
  }
}

TEST_CASE("a LogAppendTime topic stamps records with the log's clock", "[producer]") {
  const LogKind kind = GENERATE(LogKind::kInMemory, LogKind::kOnDisk, LogKind::kOnDiskByWrite);
  INFO(testing::LogKindName(kind));
  testing::FakeClock clock(1'600'000'000'000);
  TestLog log(kind, {.clock = &clock});
  REQUIRE_OK(log->CreateTopic("append", {.timestamp_type = TimestampType::kLogAppendTime}));
  REQUIRE_OK(log->CreateTopic("create"));
  Producer producer(*log);

  absl::StatusOr<RecordPosition> pos = producer.Send("append", {.value = "a", .timestamp = 42});
  REQUIRE_OK(pos);
  CHECK(pos->timestamp == 1'600'000'000'000);
  clock.Set(1'600'000'000'500);
  SendResults results(3);
  REQUIRE_OK(producer.SendAsync("append", {.value = "b", .timestamp = 43}, results.Callback(0)));
  REQUIRE_OK(producer.SendAsync("append", {.value = "c"}, results.Callback(1)));
  // A CreateTime topic keeps the producer's time, or takes the clock's.
  REQUIRE_OK(producer.SendAsync("create", {.value = "d", .timestamp = 44}, results.Callback(2)));
  pos = producer.Send("create", {.value = "e"});
  REQUIRE_OK(pos);
  CHECK(pos->timestamp == 1'600'000'000'500);
  REQUIRE_OK(producer.Flush());
  CHECK(results.result(0)->timestamp == 1'600'000'000'500);
  CHECK(results.result(1)->timestamp == 1'600'000'000'500);
  CHECK(results.result(2)->timestamp == 44);

  Consumer consumer(*log, {.auto_offset_reset = OffsetReset::kEarliest});
  REQUIRE_OK(consumer.Subscribe({"append", "create"}));
  std::map<std::string, int64_t> stamped;
  for (const Received& r : testing::PollUntil(consumer, 5))
    stamped[*r.record.value] = r.record.timestamp;
  CHECK(stamped == std::map<std::string, int64_t>{{"a", 1'600'000'000'000},
                                                  {"b", 1'600'000'000'500},
                                                  {"c", 1'600'000'000'500},
                                                  {"d", 44},
                                                  {"e", 1'600'000'000'500}});
}

TEST_CASE("a record larger than max.message.bytes is refused whole", "[producer]") {
  const LogKind kind = GENERATE(LogKind::kInMemory, LogKind::kOnDisk, LogKind::kOnDiskByWrite);
  INFO(testing::LogKindName(kind));
  TestLog log(kind);
  REQUIRE_OK(log->CreateTopic("t", {.max_message_bytes = 1000}));
  Producer producer(*log);
  const std::string big(1000, 'b');
  CHECK_CODE(producer.Send("t", {.value = big}), kInvalidArgument);
  SendResults results(2);
  CHECK_CODE(producer.SendAsync("t", {.value = big}, results.Callback(0)), kInvalidArgument);
  CHECK_CODE(producer.Send("t", {.key = big}), kInvalidArgument);
  const Header header = {.key = "h", .value = big};
  CHECK_CODE(producer.Send("t", {.headers = {&header, 1}}), kInvalidArgument);
  REQUIRE_OK(producer.SendAsync("t", {.value = std::string(800, 's')}, results.Callback(1)));
  REQUIRE_OK(producer.Flush());
  CHECK(results.calls(0) == 0);
  CHECK(results.calls(1) == 1);
  CHECK(*log->EndOffset({"t", 0}) == 1);
}

TEST_CASE("compressed batches of incompressible records fit max.message.bytes", "[producer]") {
  const Compression codec = GENERATE(Compression::kLz4, Compression::kZstd);
  INFO(CompressionName(codec));
  TestLog log(LogKind::kInMemory);
  REQUIRE_OK(log->CreateTopic("t", {.max_message_bytes = 10000}));
  // batch.size above max.message.bytes: batches are capped by the topic.
  Producer producer(*log, {.compression = codec, .batch_bytes = 1 << 20});
  std::mt19937_64 rng(5);
  constexpr int kRecords = 5000;
  SendResults results(kRecords);
  for (int i = 0; i < kRecords; ++i) {
    REQUIRE_OK(producer.SendAsync("t", {.value = testing::RandomBytes(rng, 1 + rng() % 200)},
                                  results.Callback(i)));
  }
  CHECK_OK(producer.Flush());
  for (int i = 0; i < kRecords; ++i) {
    INFO("record " << i);
    REQUIRE(results.calls(i) == 1);
    CHECK_OK(results.result(i));
  }
  CHECK(*log->EndOffset({"t", 0}) == kRecords);
}

}  // namespace
}  // namespace rill
