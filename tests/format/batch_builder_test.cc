// Round trips through BatchBuilder and back through CheckBatch, BatchReader
// and the RecordDecoder, for every codec rill writes and every kind of field
// Kafka allows.
#include "format/batch_builder.h"

#include <algorithm>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "format/batch_format.h"
#include "format/batch_header.h"
#include "format/batch_reader.h"
#include "testutil/batch_util.h"
#include "testutil/random_records.h"

namespace rill {
namespace {

using testing::DecodedBatch;
using testing::kWrittenCodecs;
using testing::Matches;
using testing::OwnedRecord;
using testing::RandomRecord;
using testing::RandomRecordOptions;
using testing::ReadBatch;

// Build(builder, records): adds `records` in order (offset deltas 0, 1, ...)
// and returns a copy of the finished batch.
std::string Build(BatchBuilder* builder, const std::vector<OwnedRecord>& records) {
  for (const OwnedRecord& r : records) builder->Add(r.view(), /*timestamp=*/-1);
  absl::StatusOr<std::span<const char>> batch = builder->Finish();
  REQUIRE(batch.ok());
  return std::string(batch->data(), batch->size());
}

// CheckRoundTrip(batch, records, c): `batch` decodes into exactly `records`,
// at offsets 0, 1, ..., with the header Kafka's layout calls for.
void CheckRoundTrip(const std::string& batch, const std::vector<OwnedRecord>& records,
                    Compression c) {
  BatchReader reader;
  DecodedBatch b;
  const absl::Status s = ReadBatch(batch, &reader, &b);
  REQUIRE(s.ok());
  CHECK(b.header.compression() == c);
  CHECK(b.header.records_count == static_cast<int32_t>(records.size()));
  CHECK(b.header.last_offset_delta == static_cast<int32_t>(records.size()) - 1);
  CHECK(b.header.base_timestamp == records.front().timestamp);
  int64_t max_timestamp = records.front().timestamp;
  for (const OwnedRecord& r : records) max_timestamp = std::max(max_timestamp, r.timestamp);
  CHECK(b.header.max_timestamp == max_timestamp);
  REQUIRE(b.records.size() == records.size());
  for (size_t i = 0; i < records.size(); ++i) {
    if (b.records[i].offset() != static_cast<int64_t>(i) || !Matches(b.records[i], records[i])) {
      FAIL("record " << i << " differs from what was added");
    }
  }
}

std::vector<OwnedRecord> RandomRecords(std::mt19937_64& rng, size_t n,
                                       const RandomRecordOptions& options = {}) {
  std::vector<OwnedRecord> records;
  for (size_t i = 0; i < n; ++i) records.push_back(RandomRecord(rng, options));
  return records;
}

TEST_CASE("Random batches of 1 to 5000 records round trip with every codec", "[batch_builder]") {
  std::mt19937_64 rng(1);
  const RandomRecordOptions options{.max_headers = 4, .null_probability = 0.2};
  for (Compression c : kWrittenCodecs) {
    for (size_t n : {1, 2, 17, 5000}) {
      CAPTURE(CompressionName(c), n);
      const std::vector<OwnedRecord> records = RandomRecords(rng, n, options);
      BatchBuilder builder({.compression = c});
      CheckRoundTrip(Build(&builder, records), records, c);
    }
  }
}

TEST_CASE("Null and empty keys values and headers stay distinct", "[batch_builder]") {
  std::vector<OwnedRecord> records(6);
  records[0].key = "";
  records[0].value = "";
  records[1].key.reset();
  records[1].value.reset();
  records[2].key = "k";
  records[2].value.reset();
  records[3].key.reset();
  records[3].value = "";
  // Repeated header keys, null and empty header values, an empty header key.
  records[4].key = "k";
  records[4].value = "v";
  records[4].headers = {{"a", std::nullopt}, {"a", ""}, {"a", "1"}, {"", "x"}, {"", std::nullopt}};
  records[5].headers = {{"trace", std::string(300, 't')}};
  for (size_t i = 0; i < records.size(); ++i) records[i].timestamp = 1000 + i;
  for (Compression c : kWrittenCodecs) {
    CAPTURE(CompressionName(c));
    BatchBuilder builder({.compression = c});
    CheckRoundTrip(Build(&builder, records), records, c);
  }
}

TEST_CASE("Timestamps out of order give negative deltas and the right max", "[batch_builder]") {
  std::vector<OwnedRecord> records(5);
  const int64_t timestamps[] = {1'700'000'000'000, 1'600'000'000'000, 1'700'000'000'500, 0, -5};
  for (size_t i = 0; i < records.size(); ++i) {
    records[i].value.emplace("v");  // Not `= "v"`: g++ 12 -O3 warns falsely (-Wrestrict).
    records[i].timestamp = timestamps[i];
  }
  for (Compression c : kWrittenCodecs) {
    CAPTURE(CompressionName(c));
    BatchBuilder builder({.compression = c});
    CheckRoundTrip(Build(&builder, records), records, c);
  }
}

TEST_CASE("A record without a timestamp takes the one given to Add", "[batch_builder]") {
  BatchBuilder builder;
  builder.Add({.value = "a"}, 500);
  builder.Add({.value = "b", .timestamp = 400}, 9999);
  builder.Add({.value = "c"}, 600);
  absl::StatusOr<std::span<const char>> batch = builder.Finish();
  REQUIRE(batch.ok());
  BatchReader reader;
  DecodedBatch b;
  REQUIRE(ReadBatch(*batch, &reader, &b).ok());
  REQUIRE(b.records.size() == 3);
  CHECK(b.records[0].timestamp() == 500);
  CHECK(b.records[1].timestamp() == 400);
  CHECK(b.records[2].timestamp() == 600);
  CHECK(b.header.base_timestamp == 500);
  CHECK(b.header.max_timestamp == 600);
}

TEST_CASE("Empty values and 1 MiB values round trip with every codec", "[batch_builder]") {
  std::mt19937_64 rng(2);
  std::vector<OwnedRecord> empty =
      RandomRecords(rng, 3000, {.max_key_size = 0, .max_value_size = 0, .max_headers = 0});
  for (OwnedRecord& r : empty) r.value = "";
  std::vector<OwnedRecord> large(3);
  large[0].value = testing::RandomBytes(rng, 1 << 20);
  large[1].value = std::string(1 << 20, 'z');
  large[2].key = testing::RandomBytes(rng, 1 << 20);
  large[2].value = "";
  for (Compression c : kWrittenCodecs) {
    CAPTURE(CompressionName(c));
    BatchBuilder builder({.compression = c});
    CheckRoundTrip(Build(&builder, empty), empty, c);
    builder.Reset();
    CheckRoundTrip(Build(&builder, large), large, c);
  }
}

TEST_CASE("AddWithOffsetDelta leaves gaps that the decoder reports", "[batch_builder]") {
  const int32_t deltas[] = {2, 3, 10, 1000, 70000};
  for (Compression c : kWrittenCodecs) {
    CAPTURE(CompressionName(c));
    BatchBuilder builder({.compression = c});
    for (int32_t d : deltas) {
      builder.AddWithOffsetDelta({.value = std::to_string(d)}, 42, d);
    }
    absl::StatusOr<std::span<const char>> batch = builder.Finish();
    REQUIRE(batch.ok());
    BatchReader reader;
    DecodedBatch b;
    REQUIRE(ReadBatch(*batch, &reader, &b).ok());
    CHECK(b.header.last_offset_delta == 70000);
    CHECK(b.header.records_count == 5);
    REQUIRE(b.records.size() == 5);
    for (size_t i = 0; i < 5; ++i) {
      CHECK(b.records[i].offset() == deltas[i]);
      CHECK(b.records[i].value() == std::to_string(deltas[i]));
    }
    // Add continues after the last explicit delta.
    builder.Add({.value = "next"}, 42);
    batch = builder.Finish();
    REQUIRE(batch.ok());
    REQUIRE(ReadBatch(*batch, &reader, &b).ok());
    REQUIRE(b.records.size() == 6);
    CHECK(b.records[5].offset() == 70001);
  }
}

TEST_CASE("One builder reset many times writes the same bytes as a fresh one", "[batch_builder]") {
  std::mt19937_64 rng(3);
  BatchBuilder reused[] = {BatchBuilder({.compression = Compression::kNone}),
                           BatchBuilder({.compression = Compression::kLz4}),
                           BatchBuilder({.compression = Compression::kZstd})};
  for (int round = 0; round < 300; ++round) {
    const size_t codec = rng() % 3;
    // Alternate small and large batches so buffers shrink in use but not in size.
    const size_t n = 1 + rng() % (round % 2 == 0 ? 4 : 200);
    const std::vector<OwnedRecord> records = RandomRecords(rng, n);
    BatchBuilder& builder = reused[codec];
    builder.Reset();
    CHECK(builder.empty());
    const std::string batch = Build(&builder, records);
    BatchBuilder fresh(builder.options());
    const std::string expected = Build(&fresh, records);
    CAPTURE(round, codec, n);
    REQUIRE(batch == expected);
    CheckRoundTrip(batch, records, kWrittenCodecs[codec]);
  }
}

TEST_CASE("Finish on an empty builder fails with kInvalidArgument", "[batch_builder]") {
  for (Compression c : kWrittenCodecs) {
    BatchBuilder builder({.compression = c});
    CHECK(builder.Finish().status().code() == absl::StatusCode::kInvalidArgument);
    builder.Add({.value = "v"}, 1);
    REQUIRE(builder.Finish().ok());
    builder.Reset();
    CHECK(builder.record_count() == 0);
    CHECK(builder.Finish().status().code() == absl::StatusCode::kInvalidArgument);
  }
}

TEST_CASE("gzip and snappy are refused with an error that names them", "[batch_builder]") {
  for (Compression c : {Compression::kGzip, Compression::kSnappy}) {
    CAPTURE(CompressionName(c));
    BatchBuilder builder({.compression = c});
    builder.Add({.value = "v"}, 1);
    const absl::Status s = builder.Finish().status();
    CHECK(s.code() == absl::StatusCode::kInvalidArgument);
    CHECK_THAT(std::string(s.message()), Catch::Contains(std::string(CompressionName(c))) &&
                                             Catch::Contains("does not write"));
  }
}

TEST_CASE("EncodedRecordSize is what Add appends", "[batch_builder]") {
  std::mt19937_64 rng(4);
  BatchBuilder builder;
  int64_t base_timestamp = 0;
  for (int i = 0; i < 500; ++i) {
    const OwnedRecord r = RandomRecord(rng, {.max_value_size = 400});
    if (i == 0) base_timestamp = r.timestamp;
    const size_t before = builder.uncompressed_size();
    builder.Add(r.view(), 0);
    CHECK(builder.uncompressed_size() - before ==
          BatchBuilder::EncodedRecordSize(r.view(), r.timestamp - base_timestamp, i));
  }
  absl::StatusOr<std::span<const char>> batch = builder.Finish();
  REQUIRE(batch.ok());
  CHECK(batch->size() == builder.uncompressed_size());
}

TEST_CASE("A delete horizon replaces baseTimestamp and keeps record timestamps",
          "[batch_builder]") {
  std::mt19937_64 rng(5);
  for (Compression c : kWrittenCodecs) {
    CAPTURE(CompressionName(c));
    std::vector<OwnedRecord> records;
    for (int i = 0; i < 50; ++i) records.push_back(RandomRecord(rng));
    constexpr int64_t kHorizon = 1'800'000'000'000;
    BatchBuilder builder({.compression = c, .delete_horizon_ms = kHorizon});
    for (int i = 0; i < 50; ++i) builder.AddWithOffsetDelta(records[i].view(), -1, 3 * i + 1);
    builder.set_last_offset_delta(200);
    absl::StatusOr<std::span<const char>> batch = builder.Finish();
    REQUIRE(batch.ok());
    BatchReader reader;
    DecodedBatch b;
    REQUIRE(ReadBatch(*batch, &reader, &b).ok());
    CHECK((b.header.attributes & batch::kAttrDeleteHorizon) != 0);
    CHECK(b.header.base_timestamp == kHorizon);
    CHECK(b.header.last_offset_delta == 200);
    CHECK(b.header.records_count == 50);
    REQUIRE(b.records.size() == 50);
    for (int i = 0; i < 50; ++i) {
      CHECK(b.records[i].offset() == 3 * i + 1);
      CHECK(Matches(b.records[i], records[i]));
    }
    // A reset keeps the horizon but forgets the explicit lastOffsetDelta.
    builder.Reset();
    builder.Add(records[0].view(), -1);
    batch = builder.Finish();
    REQUIRE(batch.ok());
    const BatchHeader h = DecodeBatchHeader(batch->data());
    CHECK(h.last_offset_delta == 0);
    CHECK(h.base_timestamp == kHorizon);
  }
}

TEST_CASE("An empty batch spans its offsets and passes every check", "[batch_builder]") {
  BatchBuilder builder({.compression = Compression::kZstd,
                        .producer_id = 7,
                        .producer_epoch = 1,
                        .base_sequence = 3});
  const std::span<const char> batch = builder.FinishEmpty(41, 1'700'000'000'123);
  BatchReader reader;
  DecodedBatch b;
  REQUIRE(ReadBatch(batch, &reader, &b).ok());
  CHECK(b.records.empty());
  CHECK(b.header.records_count == 0);
  CHECK(b.header.last_offset_delta == 41);
  CHECK(b.header.compression() == Compression::kNone);
  CHECK(b.header.base_timestamp == 1'700'000'000'123);
  CHECK(b.header.max_timestamp == 1'700'000'000'123);
  CHECK(b.header.producer_id == 7);
  CHECK(batch.size() == batch::kHeaderSize);
}

TEST_CASE("A log-append time given to the builder stamps the batch", "[batch_builder]") {
  BatchBuilder builder({.log_append_time_ms = 1'700'000'000'999});
  builder.Add({.value = "v", .timestamp = 5}, 0);
  absl::StatusOr<std::span<const char>> batch = builder.Finish();
  REQUIRE(batch.ok());
  BatchReader reader;
  DecodedBatch b;
  REQUIRE(ReadBatch(*batch, &reader, &b).ok());
  CHECK(b.header.log_append_time());
  REQUIRE(b.records.size() == 1);
  CHECK(b.records[0].timestamp() == 1'700'000'000'999);
}

}  // namespace
}  // namespace rill
