// Tests that rill's batches are Kafka's RecordBatch v2 byte for byte: a batch
// from BatchBuilder against bytes spelled out field by field from Kafka's
// layout, and batches spelled out by hand decoded back into their fields.
#include <cstdint>
#include <cstdio>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include <catch2/catch.hpp>

#include "format/batch_builder.h"
#include "format/batch_header.h"
#include "format/batch_reader.h"
#include "format/crc32c.h"
#include "testutil/batch_util.h"
#include "util/endian.h"

namespace rill {
namespace {

using testing::DecodedBatch;
using testing::ReadBatch;

constexpr int64_t kT0 = 1'700'000'000'000;  // 0x0000018BCFE56800

// clang-format off

// Two records as BatchBuilder must write them: key "k", value "v" and header
// h=x at kT0; then a null key and value "w" at kT0 + 100.
constexpr uint8_t kTwoRecords[] = {
  0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,  // baseOffset 0
  0x00, 0x00, 0x00, 0x47,                          // batchLength 83 - 12 = 71
  0xFF, 0xFF, 0xFF, 0xFF,                          // partitionLeaderEpoch -1
  0x02,                                            // magic 2
  0x25, 0x28, 0x38, 0x4F,                          // crc of bytes [21, 83)
  0x00, 0x00,                                      // attributes: none, CreateTime
  0x00, 0x00, 0x00, 0x01,                          // lastOffsetDelta 1
  0x00, 0x00, 0x01, 0x8B, 0xCF, 0xE5, 0x68, 0x00,  // baseTimestamp kT0
  0x00, 0x00, 0x01, 0x8B, 0xCF, 0xE5, 0x68, 0x64,  // maxTimestamp kT0 + 100
  0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,  // producerId -1
  0xFF, 0xFF,                                      // producerEpoch -1
  0xFF, 0xFF, 0xFF, 0xFF,                          // baseSequence -1
  0x00, 0x00, 0x00, 0x02,                          // recordsCount 2
  // Record 0: length 12, attributes 0, timestampDelta 0, offsetDelta 0,
  // key "k", value "v", 1 header: "h" = "x". Varints are zigzag: 1 is 02.
  0x18, 0x00, 0x00, 0x00, 0x02, 'k', 0x02, 'v', 0x02, 0x02, 'h', 0x02, 'x',
  // Record 1: length 8, attributes 0, timestampDelta 100 (zigzag 200 is
  // C8 01), offsetDelta 1, key null (-1 is 01), value "w", 0 headers.
  0x10, 0x00, 0xC8, 0x01, 0x02, 0x01, 0x02, 'w', 0x00,
};

// Three records of an idempotent producer (id 1234, epoch 5, sequence 7),
// stored at offset 1000 in leader epoch 3, with offsets 1000, 1002, 1005 (a
// compacted batch: lastOffsetDelta 5, recordsCount 3).
constexpr uint8_t kCreateTime[] = {
  0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0xE8,  // baseOffset 1000
  0x00, 0x00, 0x00, 0x59,                          // batchLength 101 - 12 = 89
  0x00, 0x00, 0x00, 0x03,                          // partitionLeaderEpoch 3
  0x02,                                            // magic
  0x7B, 0x41, 0x35, 0xFB,                          // crc
  0x00, 0x00,                                      // attributes: none, CreateTime
  0x00, 0x00, 0x00, 0x05,                          // lastOffsetDelta 5
  0x00, 0x00, 0x01, 0x8B, 0xCF, 0xE5, 0x68, 0x00,  // baseTimestamp kT0
  0x00, 0x00, 0x01, 0x8B, 0xCF, 0xE5, 0x69, 0x2C,  // maxTimestamp kT0 + 300
  0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x04, 0xD2,  // producerId 1234
  0x00, 0x05,                                      // producerEpoch 5
  0x00, 0x00, 0x00, 0x07,                          // baseSequence 7
  0x00, 0x00, 0x00, 0x03,                          // recordsCount 3
  // Record 0 (length 18): offsetDelta 0, key "" (empty, not null), value
  // "hello", 2 headers with the same key: "a" = null, "a" = "1".
  0x24, 0x00, 0x00, 0x00, 0x00, 0x0A, 'h', 'e', 'l', 'l', 'o',
  0x04, 0x02, 'a', 0x01, 0x02, 'a', 0x02, '1',
  // Record 1 (length 6): timestampDelta -5 (zigzag 9), offsetDelta 2, key
  // null, value null (a tombstone), 0 headers.
  0x0C, 0x00, 0x09, 0x04, 0x01, 0x01, 0x00,
  // Record 2 (length 13): timestampDelta 300 (zigzag 600 is D8 04),
  // offsetDelta 5, key "key", value "" (empty), 1 header: "h" = "".
  0x1A, 0x00, 0xD8, 0x04, 0x0A, 0x06, 'k', 'e', 'y', 0x00, 0x02, 0x02, 'h', 0x00,
};

// kCreateTime as a broker stamps it for a LogAppendTime topic at kT0 + 9999:
// attribute bit 3 set, maxTimestamp replaced, CRC recomputed.
constexpr uint8_t kAppendTime[] = {
  0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0xE8,
  0x00, 0x00, 0x00, 0x59,
  0x00, 0x00, 0x00, 0x03,
  0x02,
  0xB0, 0x8A, 0xFF, 0x93,                          // crc
  0x00, 0x08,                                      // attributes: LogAppendTime
  0x00, 0x00, 0x00, 0x05,
  0x00, 0x00, 0x01, 0x8B, 0xCF, 0xE5, 0x68, 0x00,  // baseTimestamp kT0 (kept)
  0x00, 0x00, 0x01, 0x8B, 0xCF, 0xE5, 0x8F, 0x0F,  // maxTimestamp kT0 + 9999
  0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x04, 0xD2,
  0x00, 0x05,
  0x00, 0x00, 0x00, 0x07,
  0x00, 0x00, 0x00, 0x03,
  0x24, 0x00, 0x00, 0x00, 0x00, 0x0A, 'h', 'e', 'l', 'l', 'o',
  0x04, 0x02, 'a', 0x01, 0x02, 'a', 0x02, '1',
  0x0C, 0x00, 0x09, 0x04, 0x01, 0x01, 0x00,
  0x1A, 0x00, 0xD8, 0x04, 0x0A, 0x06, 'k', 'e', 'y', 0x00, 0x02, 0x02, 'h', 0x00,
};

// A transaction's commit marker at offset 42: a control batch (attributes
// transactional | control) of one record whose key is (version 0, type 1 =
// commit) and whose value is (version 0, coordinatorEpoch 5).
constexpr uint8_t kCommitMarker[] = {
  0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x2A,  // baseOffset 42
  0x00, 0x00, 0x00, 0x42,                          // batchLength 78 - 12 = 66
  0x00, 0x00, 0x00, 0x03,                          // partitionLeaderEpoch 3
  0x02,
  0xE6, 0x59, 0x17, 0x6C,                          // crc
  0x00, 0x30,                                      // attributes: transactional, control
  0x00, 0x00, 0x00, 0x00,                          // lastOffsetDelta 0
  0x00, 0x00, 0x01, 0x8B, 0xCF, 0xE5, 0x68, 0x00,  // baseTimestamp kT0
  0x00, 0x00, 0x01, 0x8B, 0xCF, 0xE5, 0x68, 0x00,  // maxTimestamp kT0
  0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x04, 0xD2,  // producerId 1234
  0x00, 0x05,                                      // producerEpoch 5
  0xFF, 0xFF, 0xFF, 0xFF,                          // baseSequence -1
  0x00, 0x00, 0x00, 0x01,                          // recordsCount 1
  // Record 0 (length 16): key of 4 bytes, value of 6 bytes, 0 headers.
  0x20, 0x00, 0x00, 0x00, 0x08, 0x00, 0x00, 0x00, 0x01,
  0x0C, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05, 0x00,
};

// clang-format on

template <size_t N>
std::span<const char> Chars(const uint8_t (&bytes)[N]) {
  return {reinterpret_cast<const char*>(bytes), N};
}

// Hex(bytes): 16 bytes a line, so that a failed comparison shows where.
std::string Hex(std::span<const char> bytes) {
  std::string s;
  for (size_t i = 0; i < bytes.size(); ++i) {
    char b[4];
    std::snprintf(b, sizeof(b), "%02X", static_cast<uint8_t>(bytes[i]));
    if (i > 0) s += i % 16 == 0 ? '\n' : ' ';
    s += b;
  }
  return s;
}

using Headers = std::vector<std::pair<std::string, std::optional<std::string>>>;

Headers HeadersOf(const RecordView& r) {
  Headers out;
  for (const Header& h : r.headers()) {
    out.emplace_back(std::string(h.key),
                     h.value ? std::optional<std::string>(std::string(*h.value)) : std::nullopt);
  }
  return out;
}

// Checks the records of kCreateTime, whatever the batch's offset and
// timestamp type; `timestamps` are the three records' expected timestamps.
void CheckCreateTimeRecords(const DecodedBatch& b, int64_t base_offset,
                            const std::vector<int64_t>& timestamps) {
  REQUIRE(b.records.size() == 3);
  const RecordView& r0 = b.records[0];
  CHECK(r0.offset() == base_offset);
  CHECK(r0.timestamp() == timestamps[0]);
  CHECK(r0.has_key());
  CHECK(r0.key().empty());
  CHECK(r0.value() == "hello");
  CHECK(HeadersOf(r0) == Headers{{"a", std::nullopt}, {"a", "1"}});
  const RecordView& r1 = b.records[1];
  CHECK(r1.offset() == base_offset + 2);
  CHECK(r1.timestamp() == timestamps[1]);
  CHECK_FALSE(r1.has_key());
  CHECK_FALSE(r1.has_value());
  CHECK(r1.headers().empty());
  const RecordView& r2 = b.records[2];
  CHECK(r2.offset() == base_offset + 5);
  CHECK(r2.timestamp() == timestamps[2]);
  CHECK(r2.key() == "key");
  CHECK(r2.has_value());
  CHECK(r2.value().empty());
  CHECK(HeadersOf(r2) == Headers{{"h", ""}});
}

TEST_CASE("BatchBuilder writes Kafka's RecordBatch v2 byte for byte", "[batch_layout]") {
  BatchBuilder builder;
  const Header h[] = {{.key = "h", .value = "x"}};
  builder.Add({.key = "k", .value = "v", .headers = h}, kT0);
  builder.Add({.value = "w", .timestamp = kT0 + 100}, kT0 + 7);
  absl::StatusOr<std::span<const char>> batch = builder.Finish();
  REQUIRE(batch.ok());
  CHECK(Hex(*batch) == Hex(Chars(kTwoRecords)));
}

TEST_CASE("The batch CRC is CRC-32C of bytes 21 to the end", "[batch_layout]") {
  const std::span<const char> b = Chars(kTwoRecords);
  const uint32_t crc = crc32c::Value(b.data() + 21, b.size() - 21);
  CHECK(crc == 0x2528384Fu);
  CHECK(LoadBigEndian<uint32_t>(b.data() + 17) == crc);
  CHECK(ComputeBatchCrc(b) == crc);
  const std::span<const char> c = Chars(kCreateTime);
  CHECK(crc32c::Value(c.data() + 21, c.size() - 21) == LoadBigEndian<uint32_t>(c.data() + 17));
  const std::span<const char> m = Chars(kCommitMarker);
  CHECK(crc32c::Value(m.data() + 21, m.size() - 21) == LoadBigEndian<uint32_t>(m.data() + 17));
}

TEST_CASE("Header fields decode from Kafka's offsets", "[batch_layout]") {
  BatchHeader h;
  REQUIRE(CheckBatch(Chars(kCreateTime), &h).ok());
  CHECK(h.base_offset == 1000);
  CHECK(h.batch_length == 89);
  CHECK(h.size() == sizeof(kCreateTime));
  CHECK(h.partition_leader_epoch == 3);
  CHECK(h.magic == 2);
  CHECK(h.crc == 0x7B4135FBu);
  CHECK(h.attributes == 0);
  CHECK(h.compression() == Compression::kNone);
  CHECK_FALSE(h.log_append_time());
  CHECK(h.last_offset_delta == 5);
  CHECK(h.last_offset() == 1005);
  CHECK(h.base_timestamp == kT0);
  CHECK(h.max_timestamp == kT0 + 300);
  CHECK(h.producer_id == 1234);
  CHECK(h.producer_epoch == 5);
  CHECK(h.base_sequence == 7);
  CHECK(h.records_count == 3);
}

TEST_CASE("A hand-built batch decodes into its records", "[batch_layout]") {
  BatchReader reader;
  DecodedBatch b;
  REQUIRE(ReadBatch(Chars(kCreateTime), &reader, &b).ok());
  CheckCreateTimeRecords(b, 1000, {kT0, kT0 - 5, kT0 + 300});
}

TEST_CASE("LogAppendTime gives every record the batch's maxTimestamp", "[batch_layout]") {
  BatchReader reader;
  DecodedBatch b;
  REQUIRE(ReadBatch(Chars(kAppendTime), &reader, &b).ok());
  CHECK(b.header.log_append_time());
  CHECK(b.header.base_timestamp == kT0);
  CHECK(b.header.max_timestamp == kT0 + 9999);
  CheckCreateTimeRecords(b, 1000, {kT0 + 9999, kT0 + 9999, kT0 + 9999});
}

TEST_CASE("Transactional and control bits survive decoding", "[batch_layout]") {
  BatchReader reader;
  DecodedBatch b;
  REQUIRE(ReadBatch(Chars(kCommitMarker), &reader, &b).ok());
  CHECK(b.header.transactional());
  CHECK(b.header.control());
  CHECK_FALSE(b.header.log_append_time());
  CHECK(b.header.compression() == Compression::kNone);
  CHECK(b.header.producer_id == 1234);
  CHECK(b.header.producer_epoch == 5);
  CHECK(b.header.base_sequence == -1);
  REQUIRE(b.records.size() == 1);
  CHECK(b.records[0].offset() == 42);
  CHECK(b.records[0].key() == std::string_view("\0\0\0\1", 4));
  CHECK(b.records[0].value() == std::string_view("\0\0\0\0\0\5", 6));
}

TEST_CASE("BatchBuilder writes the transactional and control bits and producer fields",
          "[batch_layout]") {
  BatchBuilder builder({.transactional = true,
                        .control = true,
                        .producer_id = 1234,
                        .producer_epoch = 5,
                        .base_sequence = 7});
  builder.Add({.key = "k", .value = "v"}, kT0);
  absl::StatusOr<std::span<const char>> batch = builder.Finish();
  REQUIRE(batch.ok());
  const char* p = batch->data();
  CHECK(LoadBigEndian<int16_t>(p + 21) == 0x30);
  CHECK(LoadBigEndian<int64_t>(p + 43) == 1234);
  CHECK(LoadBigEndian<int16_t>(p + 51) == 5);
  CHECK(LoadBigEndian<int32_t>(p + 53) == 7);
  BatchHeader h;
  REQUIRE(CheckBatch(*batch, &h).ok());
  CHECK(h.transactional());
  CHECK(h.control());
}

TEST_CASE("SetBaseOffset rewrites baseOffset alone and the batch stays valid", "[batch_layout]") {
  std::vector<char> batch(Chars(kCreateTime).begin(), Chars(kCreateTime).end());
  SetBaseOffset(batch.data(), 5'000'000'000);
  // 5'000'000'000 is 0x12A05F200.
  CHECK(Hex({batch.data(), 8}) == "00 00 00 01 2A 05 F2 00");
  CHECK(Hex({batch.data() + 8, batch.size() - 8}) == Hex(Chars(kCreateTime).subspan(8)));
  BatchReader reader;
  DecodedBatch b;
  REQUIRE(ReadBatch(batch, &reader, &b).ok());
  CHECK(b.header.last_offset() == 5'000'000'005);
  CheckCreateTimeRecords(b, 5'000'000'000, {kT0, kT0 - 5, kT0 + 300});
}

TEST_CASE("SetLogAppendTime sets bit 3 and maxTimestamp and recomputes the CRC", "[batch_layout]") {
  std::vector<char> batch(Chars(kCreateTime).begin(), Chars(kCreateTime).end());
  SetLogAppendTime(batch.data(), batch.size(), kT0 + 9999);
  CHECK(Hex(batch) == Hex(Chars(kAppendTime)));
  BatchReader reader;
  DecodedBatch b;
  REQUIRE(ReadBatch(batch, &reader, &b).ok());
  CheckCreateTimeRecords(b, 1000, {kT0 + 9999, kT0 + 9999, kT0 + 9999});
}

TEST_CASE("SetLogAppendTime stamps compressed batches too", "[batch_layout]") {
  for (Compression c : testing::kWrittenCodecs) {
    CAPTURE(CompressionName(c));
    BatchBuilder builder({.compression = c});
    for (int i = 0; i < 10; ++i) builder.Add({.value = "v"}, kT0 - i);
    absl::StatusOr<std::span<const char>> finished = builder.Finish();
    REQUIRE(finished.ok());
    std::vector<char> batch(finished->begin(), finished->end());
    SetLogAppendTime(batch.data(), batch.size(), kT0 + 1);
    BatchReader reader;
    DecodedBatch b;
    REQUIRE(ReadBatch(batch, &reader, &b).ok());
    CHECK(b.header.compression() == c);
    REQUIRE(b.records.size() == 10);
    for (const RecordView& r : b.records) CHECK(r.timestamp() == kT0 + 1);
  }
}

TEST_CASE("CopyStampedHeader: the copy and the rest of the batch are the stamped batch",
          "[batch_layout]") {
  const std::span<const char> original = Chars(kCreateTime);
  for (int64_t append_time : {int64_t{-1}, kT0 + 9999}) {
    CAPTURE(append_time);
    char header[batch::kHeaderSize];
    CopyStampedHeader(original, 77, append_time, header);
    std::vector<char> joined(header, header + sizeof(header));
    joined.insert(joined.end(), original.begin() + sizeof(header), original.end());

    std::vector<char> expected(original.begin(), original.end());
    SetBaseOffset(expected.data(), 77);
    if (append_time >= 0) SetLogAppendTime(expected.data(), expected.size(), append_time);
    CHECK(Hex(joined) == Hex(expected));
    BatchHeader h;
    REQUIRE(CheckBatch(joined, &h).ok());
    CHECK(h.base_offset == 77);
    CHECK(h.log_append_time() == (append_time >= 0));
  }
}

}  // namespace
}  // namespace rill
