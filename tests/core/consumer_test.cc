// The Consumer: what it reads (subscriptions, assignments), where it starts
// and moves (auto_offset_reset, seeks, positions, max_poll_records), how
// long its views live, and how it waits (woken by appends, new topics and
// Wakeup, without spinning unless asked to). Each case that touches data
// runs over an in-memory log and one on disk.
#include "rill/consumer.h"

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <map>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include "absl/synchronization/notification.h"
#include "core/core_util.h"
#include "rill/rill.h"

namespace rill {
namespace {

using testing::LogKind;
using testing::Received;
using testing::SendResults;
using testing::TestLog;

using Partitions = std::vector<TopicPartition>;

// Send(producer, topic, partition, n): sends n records "0", "1", ... there.
void Send(Producer& producer, const std::string& topic, int32_t partition, int n) {
  for (int i = 0; i < n; ++i) {
    REQUIRE_OK(producer.Send(topic, {.value = std::to_string(i), .partition = partition}));
  }
}

TEST_CASE("Subscribe, Assign and Unsubscribe choose what is read", "[consumer]") {
  const LogKind kind = GENERATE(LogKind::kInMemory, LogKind::kOnDisk, LogKind::kOnDiskByWrite);
  INFO(testing::LogKindName(kind));
  TestLog log(kind);
  REQUIRE_OK(log->CreateTopic("a", {.partitions = 2}));
  REQUIRE_OK(log->CreateTopic("b", {.partitions = 3}));
  Producer producer(*log);
  for (int32_t p = 0; p < 2; ++p) Send(producer, "a", p, 1);
  for (int32_t p = 0; p < 3; ++p) Send(producer, "b", p, 1);

  Consumer consumer(*log, {.auto_offset_reset = OffsetReset::kEarliest});
  CHECK(consumer.Assignment().empty());
  REQUIRE_OK(consumer.Subscribe({"b", "a", "b"}));
  CHECK(consumer.Assignment() == Partitions{{"a", 0}, {"a", 1}, {"b", 0}, {"b", 1}, {"b", 2}});
  REQUIRE_OK(consumer.Assign({{"b", 1}, {"a", 0}, {"b", 1}}));
  CHECK(consumer.Assignment() == Partitions{{"a", 0}, {"b", 1}});
  CHECK_CODE(consumer.Assign({{"zz", 0}}), kNotFound);
  CHECK_CODE(consumer.Assign({{"a", 2}}), kOutOfRange);

  std::vector<Received> got = testing::Drain(consumer);
  std::vector<std::pair<std::string, int32_t>> from;
  for (const Received& r : got) from.emplace_back(r.topic, r.partition);
  std::sort(from.begin(), from.end());
  CHECK(from == std::vector<std::pair<std::string, int32_t>>{{"a", 0}, {"b", 1}});

  consumer.Unsubscribe();
  CHECK(consumer.Assignment().empty());
  absl::StatusOr<ConsumerRecords> none = consumer.Poll(absl::Milliseconds(10));
  REQUIRE_OK(none);
  CHECK(none->empty());

  REQUIRE_OK(consumer.Subscribe({"b"}));
  got = testing::Drain(consumer);
  CHECK(got.size() == 3);
  for (const Received& r : got) CHECK(r.topic == "b");
}

TEST_CASE("auto_offset_reset: earliest, latest, none", "[consumer]") {
  const LogKind kind = GENERATE(LogKind::kInMemory, LogKind::kOnDisk, LogKind::kOnDiskByWrite);
  INFO(testing::LogKindName(kind));
  TestLog log(kind);
  REQUIRE_OK(log->CreateTopic("t"));
  Producer producer(*log);
  Send(producer, "t", 0, 5);

  Consumer earliest(*log, {.auto_offset_reset = OffsetReset::kEarliest});
  REQUIRE_OK(earliest.Subscribe({"t"}));
  std::vector<Received> got = testing::Drain(earliest);
  REQUIRE(got.size() == 5);
  for (int i = 0; i < 5; ++i) CHECK(got[i].offset == i);

  Consumer latest(*log, {.auto_offset_reset = OffsetReset::kLatest});
  REQUIRE_OK(latest.Subscribe({"t"}));
  CHECK(testing::Drain(latest).empty());
  CHECK(*latest.Position({"t", 0}) == 5);
  Send(producer, "t", 0, 2);
  got = testing::PollUntil(latest, 2);
  REQUIRE(got.size() == 2);
  CHECK(got[0].offset == 5);
  CHECK(got[1].offset == 6);

  Consumer none(*log, {.auto_offset_reset = OffsetReset::kNone});
  REQUIRE_OK(none.Subscribe({"t"}));
  CHECK_CODE(none.Poll(absl::Milliseconds(10)), kFailedPrecondition);
  CHECK_CODE(none.Position({"t", 0}), kFailedPrecondition);
  REQUIRE_OK(none.Seek({"t", 0}, 3));
  got = testing::Drain(none);
  REQUIRE(got.size() == 4);
  CHECK(got[0].offset == 3);
  // A position past the end is reset as auto_offset_reset says.
  REQUIRE_OK(none.Seek({"t", 0}, 100));
  CHECK_CODE(none.Poll(absl::Milliseconds(10)), kFailedPrecondition);
  REQUIRE_OK(earliest.Seek({"t", 0}, 100));
  got = testing::Drain(earliest);
  REQUIRE(got.size() == 7);
  CHECK(got[0].offset == 0);
}

TEST_CASE("Poll returns exactly max_poll_records while more are there", "[consumer]") {
  const LogKind kind = GENERATE(LogKind::kInMemory, LogKind::kOnDisk, LogKind::kOnDiskByWrite);
  INFO(testing::LogKindName(kind));
  TestLog log(kind);
  REQUIRE_OK(log->CreateTopic("t", {.partitions = 3}));
  Producer producer(*log, {.batch_bytes = 2000});
  std::mt19937_64 rng(6);
  constexpr int kRecords = 1000;
  for (int i = 0; i < kRecords; ++i) {
    REQUIRE_OK(producer.SendAsync(
        "t", {.value = std::to_string(i), .partition = static_cast<int32_t>(rng() % 3)}));
  }
  REQUIRE_OK(producer.Flush());
  for (int32_t max : {1, 7, 64, 500, 5000}) {
    INFO("max_poll_records " << max);
    Consumer consumer(*log, {.auto_offset_reset = OffsetReset::kEarliest, .max_poll_records = max});
    REQUIRE_OK(consumer.Subscribe({"t"}));
    std::map<int32_t, int64_t> next;
    int total = 0;
    while (total < kRecords) {
      absl::StatusOr<ConsumerRecords> records = consumer.Poll(absl::Seconds(5));
      REQUIRE_OK(records);
      const size_t expected = std::min<size_t>(static_cast<size_t>(max), kRecords - total);
      REQUIRE(records->size() == expected);
      size_t iterated = 0;
      for (const RecordView& r : *records) {
        REQUIRE(r.offset() == next[r.partition()]++);
        ++iterated;
      }
      REQUIRE(iterated == expected);
      total += static_cast<int>(iterated);
    }
    absl::StatusOr<ConsumerRecords> records = consumer.Poll(absl::Milliseconds(10));
    REQUIRE_OK(records);
    CHECK(records->empty());
  }
}

TEST_CASE("Seek, SeekToBeginning, SeekToEnd and Position", "[consumer]") {
  const LogKind kind = GENERATE(LogKind::kInMemory, LogKind::kOnDisk, LogKind::kOnDiskByWrite);
  INFO(testing::LogKindName(kind));
  TestLog log(kind);
  REQUIRE_OK(log->CreateTopic("t", {.partitions = 2}));
  REQUIRE_OK(log->CreateTopic("other"));
  Producer producer(*log);
  Send(producer, "t", 0, 100);
  Send(producer, "t", 1, 50);
  const TopicPartition p0 = {"t", 0};
  const TopicPartition p1 = {"t", 1};

  Consumer consumer(*log, {.auto_offset_reset = OffsetReset::kEarliest});
  REQUIRE_OK(consumer.Assign({p0, p1}));
  CHECK(*consumer.Position(p0) == 0);
  REQUIRE_OK(consumer.Seek(p0, 40));
  CHECK(*consumer.Position(p0) == 40);
  REQUIRE_OK(consumer.Assign({p0}));
  std::vector<Received> got = testing::Drain(consumer);
  REQUIRE(got.size() == 60);
  CHECK(got.front().offset == 40);
  CHECK(got.front().record.value == "40");
  CHECK(*consumer.Position(p0) == 100);
  CHECK_CODE(consumer.Seek({"other", 0}, 0), kFailedPrecondition);
  CHECK_CODE(consumer.Position({"other", 0}), kFailedPrecondition);
  CHECK_CODE(consumer.SeekToBeginning({{"other", 0}}), kFailedPrecondition);

  REQUIRE_OK(consumer.Assign({p0, p1}));
  REQUIRE_OK(consumer.SeekToEnd());
  CHECK(*consumer.Position(p0) == 100);
  CHECK(*consumer.Position(p1) == 50);
  CHECK(testing::Drain(consumer).empty());
  Send(producer, "t", 1, 1);
  got = testing::PollUntil(consumer, 1);
  REQUIRE(got.size() == 1);
  CHECK(got[0].partition == 1);
  CHECK(got[0].offset == 50);

  REQUIRE_OK(consumer.SeekToBeginning({p1}));
  CHECK(*consumer.Position(p0) == 100);
  CHECK(*consumer.Position(p1) == 0);
  got = testing::Drain(consumer);
  CHECK(got.size() == 51);
  REQUIRE_OK(consumer.SeekToBeginning());
  CHECK(*consumer.Position(p0) == 0);
  REQUIRE_OK(consumer.SeekToEnd({p0}));
  CHECK(*consumer.Position(p0) == 100);
  CHECK(*consumer.Position(p1) == 0);
}

TEST_CASE("SeekToTime finds the first offset at or after a time", "[consumer]") {
  const LogKind kind = GENERATE(LogKind::kInMemory, LogKind::kOnDisk, LogKind::kOnDiskByWrite);
  INFO(testing::LogKindName(kind));
  TestLog log(kind);
  // Small segments and a dense time index, so that the search crosses both.
  REQUIRE_OK(log->CreateTopic(
      "t", {.partitions = 2, .segment_bytes = 16 << 10, .index_interval_bytes = 256}));
  Producer producer(*log, {.batch_bytes = 1500});
  std::mt19937_64 rng(7);
  constexpr int kRecords = 4000;
  const int64_t base = 1'700'000'000'000;
  SendResults results(kRecords);
  const std::string value(20, 'v');
  std::vector<int64_t> timestamps;
  for (int i = 0; i < kRecords; ++i) {
    // Mostly rising, with records (and whole runs) out of order.
    int64_t ts = base + i * 10 + static_cast<int64_t>(rng() % 2001) - 1000;
    if (i % 500 < 20) ts -= 20000;
    timestamps.push_back(ts);
    const Record r = {
        .value = value, .timestamp = ts, .partition = static_cast<int32_t>(rng() % 2)};
    if (i % 9 == 0) {
      REQUIRE_OK(producer.Send("t", r));  // Its position is found below.
      REQUIRE_OK(producer.Flush());
    }
    if (i % 9 != 0) REQUIRE_OK(producer.SendAsync("t", r, results.Callback(i)));
  }
  REQUIRE_OK(producer.Flush());
  // What is in each partition, in offset order, read back.
  Consumer reader(*log, {.auto_offset_reset = OffsetReset::kEarliest});
  REQUIRE_OK(reader.Subscribe({"t"}));
  std::map<int32_t, std::vector<int64_t>> stamps;  // partition -> ts by offset
  for (const Received& r : testing::PollUntil(reader, kRecords)) {
    REQUIRE(r.offset == static_cast<int64_t>(stamps[r.partition].size()));
    stamps[r.partition].push_back(r.record.timestamp);
  }
  REQUIRE(stamps[0].size() + stamps[1].size() == kRecords);
  REQUIRE(testing::BatchHeaders(*log, {"t", 0}).size() > 20);
  REQUIRE(log->DescribeTopic("t")->partitions[0].segments > 3);

  std::vector<int64_t> targets = {base - 100000, base + kRecords * 10 + 100000};
  for (int i = 0; i < 150; ++i) {
    targets.push_back(i % 2 == 0 ? timestamps[rng() % kRecords]
                                 : base - 25000 + static_cast<int64_t>(rng() % 70000));
  }
  Consumer consumer(*log);
  REQUIRE_OK(consumer.Subscribe({"t"}));
  for (int64_t t : targets) {
    INFO("time " << t);
    REQUIRE_OK(consumer.SeekToTime(t));
    for (int32_t p = 0; p < 2; ++p) {
      const std::vector<int64_t>& ts = stamps[p];
      const auto it = std::find_if(ts.begin(), ts.end(), [t](int64_t x) { return x >= t; });
      const int64_t expected = it - ts.begin();
      INFO("partition " << p);
      CHECK(*consumer.Position({"t", p}) == expected);
      CHECK(*log->OffsetForTime({"t", p}, t) == expected);
    }
  }
  // Then Poll reads from there.
  const int64_t t = timestamps[kRecords / 2];
  REQUIRE_OK(consumer.SeekToTime(t, {{"t", 0}}));
  REQUIRE_OK(consumer.SeekToEnd({{"t", 1}}));
  const std::vector<Received> got = testing::PollUntil(consumer, 1);
  REQUIRE_FALSE(got.empty());
  CHECK(got[0].partition == 0);
  CHECK(got[0].record.timestamp >= t);
  for (int64_t o = 0; o < got[0].offset; ++o) CHECK(stamps[0][o] < t);
}

TEST_CASE("a poll's views stay valid until the next poll", "[consumer]") {
  const LogKind kind = GENERATE(LogKind::kInMemory, LogKind::kOnDisk, LogKind::kOnDiskByWrite);
  INFO(testing::LogKindName(kind));
  TestLog log(kind);
  REQUIRE_OK(log->CreateTopic("t", {.segment_bytes = 4096}));
  Producer producer(*log);
  std::mt19937_64 rng(8);
  std::vector<std::string> values;
  for (int i = 0; i < 30; ++i) {
    values.push_back(testing::RandomBytes(rng, 100));
    REQUIRE_OK(producer.Send("t", {.key = std::to_string(i), .value = values.back()}));
  }
  Consumer consumer(*log, {.auto_offset_reset = OffsetReset::kEarliest});
  REQUIRE_OK(consumer.Subscribe({"t"}));
  absl::StatusOr<ConsumerRecords> records = consumer.Poll(absl::Seconds(5));
  REQUIRE_OK(records);
  // A poll reads one segment at most: about 4096 / 130 records.
  const int polled = static_cast<int>(records->size());
  REQUIRE(polled > 20);
  // Appends roll many segments, then the topic goes: none of it may take
  // the memory the views point into.
  for (int i = 0; i < 300; ++i) REQUIRE_OK(producer.Send("t", {.value = std::string(100, 'x')}));
  REQUIRE(log->DescribeTopic("t")->partitions[0].segments > 5);
  REQUIRE_OK(log->DeleteTopic("t"));
  int i = 0;
  for (const RecordView& r : *records) {
    CHECK(r.topic() == "t");
    CHECK(r.key() == std::to_string(i));
    CHECK(r.value() == values[i]);
    ++i;
  }
  CHECK(i == polled);
  absl::StatusOr<ConsumerRecords> next = consumer.Poll(absl::Milliseconds(10));
  REQUIRE_OK(next);
  CHECK(next->empty());
}

TEST_CASE("max_poll_bytes bounds a poll, one batch at least", "[consumer]") {
  const LogKind kind = GENERATE(LogKind::kInMemory, LogKind::kOnDisk, LogKind::kOnDiskByWrite);
  INFO(testing::LogKindName(kind));
  TestLog log(kind, {.background_threads = 0});
  REQUIRE_OK(log->CreateTopic("t"));
  Producer producer(*log, {.batch_bytes = 1000, .linger = absl::Hours(1)});
  constexpr int kRecords = 200;
  for (int i = 0; i < kRecords; ++i) {
    REQUIRE_OK(producer.SendAsync("t", {.value = std::string(50, 'b') + std::to_string(i)}));
  }
  REQUIRE_OK(producer.Flush());
  const std::vector<BatchHeader> batches = testing::BatchHeaders(*log, {"t", 0});
  REQUIRE(batches.size() > 5);
  Consumer consumer(*log, {.auto_offset_reset = OffsetReset::kEarliest, .max_poll_bytes = 1});
  REQUIRE_OK(consumer.Subscribe({"t"}));
  // Each poll returns exactly the next batch.
  for (const BatchHeader& h : batches) {
    absl::StatusOr<ConsumerRecords> records = consumer.Poll(absl::Seconds(5));
    REQUIRE_OK(records);
    REQUIRE(records->size() == static_cast<size_t>(h.records_count));
    CHECK(records->begin()->offset() == h.base_offset);
  }
  CHECK(testing::Drain(consumer).empty());
}

}  // namespace
}  // namespace rill
