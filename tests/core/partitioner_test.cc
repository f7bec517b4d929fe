// Kafka's default partitioner: the murmur2 hash against known vectors and
// against a reference written here from the algorithm's description, and
// where a Producer places records with keys, without keys, and with an
// explicit partition.
#include "rill/partitioner.h"

#include <cstdint>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "core/core_util.h"
#include "rill/rill.h"

namespace rill {
namespace {

using testing::LogKind;
using testing::TestLog;

// JavaMurmur2(data): Kafka's Utils.murmur2, written from the algorithm with
// Java's semantics spelled out: bytes are signed and masked with 0xff, ints
// are 32-bit two's complement that wrap on * and <<, and >>> shifts in
// zeros. The wrapping is done on uint32_t, where C++ defines it.
int32_t JavaMul(int32_t a, int32_t b) {
  return static_cast<int32_t>(static_cast<uint32_t>(a) * static_cast<uint32_t>(b));
}
int32_t JavaShl(int32_t a, int n) { return static_cast<int32_t>(static_cast<uint32_t>(a) << n); }
int32_t JavaUshr(int32_t a, int n) { return static_cast<int32_t>(static_cast<uint32_t>(a) >> n); }
int32_t JavaByte(const std::string& data, size_t i) {
  const int8_t b = static_cast<int8_t>(data[i]);  // Java's byte is signed.
  return static_cast<int32_t>(b) & 0xff;
}

int32_t JavaMurmur2(const std::string& data) {
  const int32_t length = static_cast<int32_t>(data.size());
  const int32_t seed = static_cast<int32_t>(0x9747b28cu);
  const int32_t m = 0x5bd1e995;
  const int r = 24;
  int32_t h = seed ^ length;
  const int32_t length4 = length / 4;
  for (int32_t i = 0; i < length4; ++i) {
    const size_t i4 = static_cast<size_t>(i) * 4;
    int32_t k = JavaByte(data, i4) + JavaShl(JavaByte(data, i4 + 1), 8) +
                JavaShl(JavaByte(data, i4 + 2), 16) + JavaShl(JavaByte(data, i4 + 3), 24);
    k = JavaMul(k, m);
    k ^= JavaUshr(k, r);
    k = JavaMul(k, m);
    h = JavaMul(h, m);
    h ^= k;
  }
  const size_t tail = static_cast<size_t>(length & ~3);
  const int32_t rest = length % 4;
  if (rest == 3) h ^= JavaShl(JavaByte(data, tail + 2), 16);
  if (rest >= 2) h ^= JavaShl(JavaByte(data, tail + 1), 8);
  if (rest >= 1) {
    h ^= JavaByte(data, tail);
    h = JavaMul(h, m);
  }
  h ^= JavaUshr(h, 13);
  h = JavaMul(h, m);
  h ^= JavaUshr(h, 15);
  return h;
}

// Kafka's partition for a key: Utils.toPositive(murmur2(key)) % n.
int32_t JavaPartition(const std::string& key, int32_t n) {
  return (JavaMurmur2(key) & 0x7fffffff) % n;
}

TEST_CASE("Murmur2 matches Kafka's test vectors", "[partitioner]") {
  CHECK(Murmur2("kafka") == 0xd067cf64u);
  CHECK(Murmur2("") == 0x106e08d9u);
  // Computed by hand from the algorithm (one per tail length, bytes >= 0x80),
  // and agreeing with Kafka's UtilsTest where it has the same input.
  CHECK(Murmur2("a") == 0xa2d0b27cu);
  CHECK(Murmur2("ab") == 0x12d8262au);
  CHECK(Murmur2("abc") == 0x1c94221bu);  // 479470107 in Kafka's UtilsTest.
  CHECK(Murmur2("abcd") == 0xb11ab5f4u);
  CHECK(Murmur2("abcde") == 0x1b897eddu);
  CHECK(Murmur2("21") == static_cast<uint32_t>(-973932308));
  CHECK(Murmur2("foobar") == static_cast<uint32_t>(-790332482));
  CHECK(Murmur2(std::string("\xff\xfe\xfd", 3)) == 0x3b85fe24u);
  CHECK(Murmur2(std::string("\x80\x00\x00\xff\x7f", 5)) == 0x9fff91f3u);

  CHECK(KafkaPartition("kafka", 12) == 4);
  CHECK(KafkaPartition("", 12) == 9);
  CHECK(KafkaPartition(std::string("\x80\x00\x00\xff\x7f", 5), 12) == 11);
}

TEST_CASE("the reference murmur2 agrees with the vectors", "[partitioner]") {
  // The reference is only a check if it is right itself.
  CHECK(static_cast<uint32_t>(JavaMurmur2("kafka")) == 0xd067cf64u);
  CHECK(static_cast<uint32_t>(JavaMurmur2("")) == 0x106e08d9u);
  CHECK(JavaMurmur2("21") == -973932308);
  CHECK(JavaMurmur2("abc") == 479470107);
  CHECK(JavaMurmur2("a-little-bit-long-string") == -985981536);
  CHECK(JavaMurmur2("a-little-bit-longer-string") == -1486304829);
}

TEST_CASE("KafkaPartition equals Kafka's partition for random keys", "[partitioner]") {
  std::mt19937_64 rng(20240607);
  const int32_t counts[] = {1, 2, 3, 7, 12, 100, 1000, 100000};
  for (int i = 0; i < 1000; ++i) {
    const std::string key = testing::RandomBytes(rng, rng() % 65);
    INFO("key #" << i << " of " << key.size() << " bytes");
    REQUIRE(Murmur2(key) == static_cast<uint32_t>(JavaMurmur2(key)));
    for (int32_t n : counts) REQUIRE(KafkaPartition(key, n) == JavaPartition(key, n));
  }
}

TEST_CASE("records with keys land in KafkaPartition(key, n)", "[partitioner]") {
  const LogKind kind = GENERATE(LogKind::kInMemory, LogKind::kOnDisk, LogKind::kOnDiskByWrite);
  INFO(testing::LogKindName(kind));
  TestLog log(kind);
  constexpr int32_t kPartitions = 7;
  REQUIRE_OK(log->CreateTopic("keys", {.partitions = kPartitions}));
  Producer producer(*log);
  std::mt19937_64 rng(7);
  constexpr int kRecords = 300;
  std::vector<std::string> keys;
  testing::SendResults async(kRecords);
  std::vector<absl::StatusOr<RecordPosition>> sync(kRecords);
  for (int i = 0; i < kRecords; ++i) {
    keys.push_back(testing::RandomBytes(rng, rng() % 40));
    const Record record = {.key = keys.back(), .value = "v"};
    if (i % 2 == 0) {
      sync[i] = producer.Send("keys", record);
    } else {
      REQUIRE_OK(producer.SendAsync("keys", record, async.Callback(i)));
    }
  }
  REQUIRE_OK(producer.Flush());
  std::map<std::pair<int32_t, int64_t>, std::string> sent;  // (partition, offset) -> key
  for (int i = 0; i < kRecords; ++i) {
    INFO("record " << i);
    if (i % 2 == 1) REQUIRE(async.calls(i) == 1);
    const absl::StatusOr<RecordPosition> pos = i % 2 == 0 ? sync[i] : async.result(i);
    REQUIRE_OK(pos);
    CHECK(pos->partition == JavaPartition(keys[i], kPartitions));
    sent[{pos->partition, pos->offset}] = keys[i];
  }
  REQUIRE(sent.size() == kRecords);

  // The consumer finds each key where the producer said it put it.
  Consumer consumer(*log, {.auto_offset_reset = OffsetReset::kEarliest});
  REQUIRE_OK(consumer.Subscribe({"keys"}));
  const std::vector<testing::Received> got = testing::PollUntil(consumer, kRecords);
  REQUIRE(got.size() == kRecords);
  for (const testing::Received& r : got) {
    REQUIRE(r.record.key.has_value());
    CHECK(r.partition == JavaPartition(*r.record.key, kPartitions));
    CHECK(sent.at({r.partition, r.offset}) == *r.record.key);
  }
}

// What SendAsync did with one null-key record.
struct Placed {
  int32_t partition = -1;
  int64_t offset = -1;
  // Whether its batch was still pending once the next record had been added.
  bool pending_after_next = false;
};

TEST_CASE("null keys stick to one partition until its batch is appended", "[partitioner]") {
  // No background threads: batches are appended only when full (or flushed),
  // so the moments they go out are known.
  TestLog log(LogKind::kInMemory, {.background_threads = 0});
  constexpr int32_t kPartitions = 4;
  REQUIRE_OK(log->CreateTopic("sticky", {.partitions = kPartitions}));
  Producer producer(*log, {.batch_bytes = 2000, .linger = absl::Hours(1)});
  constexpr int kRecords = 3000;
  std::vector<Placed> placed(kRecords);
  std::vector<int> calls(kRecords, 0);
  const std::string value(100, 'x');
  for (int i = 0; i < kRecords; ++i) {
    REQUIRE_OK(producer.SendAsync("sticky", {.value = value},
                                  [&, i](const absl::StatusOr<RecordPosition>& pos) {
                                    ++calls[i];
                                    REQUIRE_OK(pos);
                                    placed[i].partition = pos->partition;
                                    placed[i].offset = pos->offset;
                                  }));
    if (i > 0) placed[i - 1].pending_after_next = calls[i - 1] == 0;
  }
  REQUIRE_OK(producer.Flush());

  std::set<int32_t> used;
  int changes = 0;
  int batches = 0;
  for (int i = 0; i < kRecords; ++i) {
    REQUIRE(calls[i] == 1);
    used.insert(placed[i].partition);
    if (i == 0) continue;
    const bool same_batch = placed[i - 1].pending_after_next;
    if (same_batch) {
      // While a batch is pending, the next null-key record joins it.
      REQUIRE(placed[i].partition == placed[i - 1].partition);
      REQUIRE(placed[i].offset == placed[i - 1].offset + 1);
    } else {
      ++batches;
      if (placed[i].partition != placed[i - 1].partition) ++changes;
    }
  }
  // About 2000 / 100 records per batch: well over 100 batches, which move
  // between partitions and use every one of them.
  CHECK(batches > 100);
  CHECK(changes > batches / 4);
  CHECK(used.size() == kPartitions);
}

TEST_CASE("Send with null keys spreads records over every partition", "[partitioner]") {
  TestLog log(LogKind::kInMemory);
  REQUIRE_OK(log->CreateTopic("spread", {.partitions = 5}));
  Producer producer(*log);
  std::set<int32_t> used;
  for (int i = 0; i < 500; ++i) {
    absl::StatusOr<RecordPosition> pos = producer.Send("spread", {.value = "v"});
    REQUIRE_OK(pos);
    used.insert(pos->partition);
  }
  CHECK(used.size() == 5);
}

TEST_CASE("an explicit partition is honoured, and checked", "[partitioner]") {
  const LogKind kind = GENERATE(LogKind::kInMemory, LogKind::kOnDisk, LogKind::kOnDiskByWrite);
  INFO(testing::LogKindName(kind));
  TestLog log(kind);
  REQUIRE_OK(log->CreateTopic("explicit", {.partitions = 3}));
  Producer producer(*log);
  // "kafka" hashes to partition 0 of 3; null keys go anywhere.
  REQUIRE(KafkaPartition("kafka", 3) != 2);
  absl::StatusOr<RecordPosition> pos =
      producer.Send("explicit", {.key = "kafka", .value = "v", .partition = 2});
  REQUIRE_OK(pos);
  CHECK(pos->partition == 2);
  CHECK(pos->offset == 0);
  testing::SendResults async(2);
  REQUIRE_OK(producer.SendAsync("explicit", {.value = "v", .partition = 1}, async.Callback(0)));
  REQUIRE_OK(producer.Flush());
  REQUIRE_OK(async.result(0));
  CHECK(async.result(0)->partition == 1);

  for (int32_t bad : {3, -1, 1000}) {
    INFO("partition " << bad);
    CHECK_CODE(producer.Send("explicit", {.key = "k", .value = "v", .partition = bad}),
               kOutOfRange);
    CHECK_CODE(producer.SendAsync("explicit", {.value = "v", .partition = bad}, async.Callback(1)),
               kOutOfRange);
    REQUIRE_OK(producer.Flush());
    CHECK(async.calls(1) == 0);
  }
  // Nothing was appended by the refused sends.
  for (int32_t p = 0; p < 3; ++p) {
    absl::StatusOr<int64_t> end = log->EndOffset({"explicit", p});
    REQUIRE_OK(end);
    CHECK(*end == (p == 0 ? 0 : 1));
  }
}

}  // namespace
}  // namespace rill
