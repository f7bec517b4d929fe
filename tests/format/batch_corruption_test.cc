// The decoder of record batches is safe on any input: torn batches, flipped
// bits, batches whose CRC is right but whose records lie, and random
// mutations. Run under AddressSanitizer, these prove no read leaves the
// batch: every batch is copied to an allocation of its exact size.
#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "format/batch_builder.h"
#include "format/batch_format.h"
#include "format/batch_header.h"
#include "format/batch_reader.h"
#include "format/compression.h"
#include "format/varint.h"
#include "testutil/batch_util.h"
#include "testutil/random_records.h"
#include "util/endian.h"

namespace rill {
namespace {

using testing::DecodedBatch;
using testing::ExactBytes;
using testing::kWrittenCodecs;
using testing::OwnedRecord;
using testing::ReadBatch;

constexpr int64_t kT0 = 1'700'000'000'000;

// Records for the flip and truncation tests: few and small, so every bit of
// every batch can be flipped quickly.
std::vector<OwnedRecord> SmallRecords() {
  std::mt19937_64 rng(99);
  std::vector<OwnedRecord> records;
  for (int i = 0; i < 6; ++i) {
    records.push_back(testing::RandomRecord(rng, {.max_key_size = 8, .max_value_size = 40}));
  }
  return records;
}

std::string BuildBatch(Compression c, const std::vector<OwnedRecord>& records) {
  BatchBuilder builder({.compression = c});
  for (const OwnedRecord& r : records) builder.Add(r.view(), 0);
  absl::StatusOr<std::span<const char>> batch = builder.Finish();
  REQUIRE(batch.ok());
  return std::string(batch->data(), batch->size());
}

// V(v): v as a zigzag varint, the encoding of every record field.
std::string V(int64_t v) {
  char buf[kMaxVarint64Bytes];
  return std::string(buf, EncodeVarint64(buf, v));
}

// Bytes(v): the length-prefixed field `v`.
std::string Bytes(std::string_view v) { return V(static_cast<int64_t>(v.size())) + std::string(v); }

// Body(...): a record's body -- attributes, timestampDelta, offsetDelta,
// key, value, headerCount and `headers` (already encoded).
std::string Body(int32_t offset_delta, std::string_view value, int64_t timestamp_delta = 0,
                 int headers = 0, std::string_view header_bytes = "") {
  return std::string(1, '\0') + V(timestamp_delta) + V(offset_delta) + Bytes("key") + Bytes(value) +
         V(headers) + std::string(header_bytes);
}

// Rec(body): a record: its body's length, then the body.
std::string Rec(const std::string& body) { return V(static_cast<int64_t>(body.size())) + body; }

// A well-formed record at `offset_delta`.
std::string Good(int32_t offset_delta) { return Rec(Body(offset_delta, "value-value")); }

struct BatchFields {
  int32_t records_count;
  int32_t last_offset_delta;
  int64_t base_offset = 0;
  int64_t base_timestamp = kT0;
};

// WrapRecords(records, fields, c): a batch around raw `records`, compressed
// with `c`, with a correct CRC -- as a writer that lies consistently makes.
std::string WrapRecords(std::string_view records, const BatchFields& f, Compression c) {
  Buffer out;
  out.Resize(batch::kHeaderSize);
  Compressor compressor;
  REQUIRE(compressor.Compress(c, records, 0, &out).ok());
  char* h = out.data();
  StoreBigEndian<int64_t>(h + batch::kBaseOffsetPos, f.base_offset);
  StoreBigEndian<int32_t>(h + batch::kBatchLengthPos,
                          static_cast<int32_t>(out.size() - batch::kLogOverhead));
  StoreBigEndian<int32_t>(h + batch::kPartitionLeaderEpochPos, -1);
  h[batch::kMagicPos] = batch::kMagic;
  StoreBigEndian<int16_t>(h + batch::kAttributesPos, static_cast<int16_t>(c));
  StoreBigEndian<int32_t>(h + batch::kLastOffsetDeltaPos, f.last_offset_delta);
  StoreBigEndian<int64_t>(h + batch::kBaseTimestampPos, f.base_timestamp);
  StoreBigEndian<int64_t>(h + batch::kMaxTimestampPos, f.base_timestamp);
  StoreBigEndian<int64_t>(h + batch::kProducerIdPos, -1);
  StoreBigEndian<int16_t>(h + batch::kProducerEpochPos, -1);
  StoreBigEndian<int32_t>(h + batch::kBaseSequencePos, -1);
  StoreBigEndian<int32_t>(h + batch::kRecordsCountPos, f.records_count);
  std::string batch(out.view());
  testing::RewriteCrc({batch.data(), batch.size()});
  return batch;
}

TEST_CASE("Every truncation of a batch is refused as torn", "[batch_corruption]") {
  const std::vector<OwnedRecord> records = SmallRecords();
  for (Compression c : kWrittenCodecs) {
    const std::string batch = BuildBatch(c, records);
    BatchHeader h;
    for (size_t cut = 0; cut < batch.size(); ++cut) {
      CAPTURE(CompressionName(c), cut);
      ExactBytes torn(std::string_view(batch).substr(0, cut));
      REQUIRE(CheckBatch(torn.span(), &h).code() == absl::StatusCode::kOutOfRange);
      // Relabelled as a batch of the length that is left, it fails the CRC.
      if (cut >= batch::kHeaderSize) {
        StoreBigEndian<int32_t>(torn.data() + batch::kBatchLengthPos,
                                static_cast<int32_t>(cut - batch::kLogOverhead));
        REQUIRE(CheckBatch(torn.span(), &h).code() == absl::StatusCode::kDataLoss);
      }
    }
    ExactBytes whole(batch);
    REQUIRE(CheckBatch(whole.span(), &h).ok());
  }
}

TEST_CASE("A truncated batch with a bad magic byte is data loss", "[batch_corruption]") {
  std::string batch = BuildBatch(Compression::kNone, SmallRecords());
  batch[batch::kMagicPos] = 1;
  BatchHeader h;
  for (size_t cut = 0; cut <= batch.size(); ++cut) {
    CAPTURE(cut);
    ExactBytes torn(std::string_view(batch).substr(0, cut));
    // Before the magic byte, a torn header cannot be told from a bad one.
    REQUIRE(
        CheckBatch(torn.span(), &h).code() ==
        (cut <= batch::kMagicPos ? absl::StatusCode::kOutOfRange : absl::StatusCode::kDataLoss));
  }
}

TEST_CASE("Every single bit flip is detected or lands outside the CRC", "[batch_corruption]") {
  const std::vector<OwnedRecord> records = SmallRecords();
  for (Compression c : kWrittenCodecs) {
    const std::string batch = BuildBatch(c, records);
    BatchReader reader;
    DecodedBatch b;
    for (size_t pos = 0; pos < batch.size(); ++pos) {
      for (int bit = 0; bit < 8; ++bit) {
        CAPTURE(CompressionName(c), pos, bit);
        ExactBytes flipped(batch);
        flipped.data()[pos] ^= static_cast<char>(1 << bit);
        reader.Clear();
        const absl::Status s = ReadBatch(flipped.span(), &reader, &b);
        if (pos < batch::kBatchLengthPos) {
          // baseOffset lies outside the CRC by design: the flipped value is
          // served, unless it is negative.
          const int64_t base = LoadBigEndian<int64_t>(flipped.data());
          if (base < 0) {
            REQUIRE(s.code() == absl::StatusCode::kDataLoss);
            continue;
          }
          REQUIRE(s.ok());
          REQUIRE(b.header.base_offset == base);
        } else if (pos < batch::kPartitionLeaderEpochPos) {
          // batchLength: the batch now runs past the bytes given, or the CRC
          // covers the wrong bytes.
          REQUIRE_FALSE(s.ok());
          REQUIRE((s.code() == absl::StatusCode::kOutOfRange ||
                   s.code() == absl::StatusCode::kDataLoss));
          continue;
        } else if (pos < batch::kMagicPos) {
          // partitionLeaderEpoch lies outside the CRC by design.
          REQUIRE(s.ok());
          REQUIRE(b.header.partition_leader_epoch ==
                  LoadBigEndian<int32_t>(flipped.data() + batch::kPartitionLeaderEpochPos));
        } else {
          BatchHeader h;
          REQUIRE(CheckBatch(flipped.span(), &h).code() == absl::StatusCode::kDataLoss);
          continue;
        }
        REQUIRE(b.records.size() == records.size());
        for (size_t i = 0; i < records.size(); ++i) {
          REQUIRE(b.records[i].offset() == b.header.base_offset + static_cast<int64_t>(i));
          REQUIRE(testing::Matches(b.records[i], records[i]));
        }
      }
    }
  }
}

TEST_CASE("Header fields that cannot be right are refused even with a valid CRC",
          "[batch_corruption]") {
  const std::string good = WrapRecords(Good(0) + Good(1), {2, 1}, Compression::kNone);
  struct Case {
    const char* what;
    size_t pos;
    int size;
    int64_t value;
  };
  const Case cases[] = {
      {"batch magic is 1", batch::kMagicPos, 1, 1},
      {"batch magic is 3", batch::kMagicPos, 1, 3},
      {"batchLength 48 is smaller", batch::kBatchLengthPos, 4, 48},
      {"unknown compression codec 5", batch::kAttributesPos, 2, 5},
      {"unknown compression codec 7", batch::kAttributesPos, 2, 7},
      {"baseOffset -1 is negative", batch::kBaseOffsetPos, 8, -1},
      {"lastOffsetDelta -1 is negative", batch::kLastOffsetDeltaPos, 4, -1},
      {"recordsCount -1 does not fit", batch::kRecordsCountPos, 4, -1},
      {"recordsCount 3 does not fit lastOffsetDelta 1", batch::kRecordsCountPos, 4, 3},
      {"overflows", batch::kBaseOffsetPos, 8, std::numeric_limits<int64_t>::max()},
  };
  for (const Case& c : cases) {
    CAPTURE(c.what);
    std::string bad = good;
    char* p = bad.data() + c.pos;
    if (c.size == 1) *p = static_cast<char>(c.value);
    if (c.size == 2) StoreBigEndian(p, static_cast<int16_t>(c.value));
    if (c.size == 4) StoreBigEndian(p, static_cast<int32_t>(c.value));
    if (c.size == 8) StoreBigEndian(p, c.value);
    testing::RewriteCrc({bad.data(), bad.size()});
    ExactBytes exact(bad);
    BatchHeader h;
    const absl::Status s = CheckBatch(exact.span(), &h);
    CHECK(s.code() == absl::StatusCode::kDataLoss);
    CHECK_THAT(std::string(s.message()), Catch::Contains(c.what));
  }
}

TEST_CASE("A gzip or snappy batch with a valid CRC is not readable", "[batch_corruption]") {
  for (Compression c : {Compression::kGzip, Compression::kSnappy}) {
    std::string batch = WrapRecords(Good(0), {1, 0}, Compression::kNone);
    StoreBigEndian(batch.data() + batch::kAttributesPos, static_cast<int16_t>(c));
    testing::RewriteCrc({batch.data(), batch.size()});
    BatchReader reader;
    DecodedBatch b;
    CHECK(ReadBatch(batch, &reader, &b).code() == absl::StatusCode::kUnimplemented);
  }
}

// A batch whose CRC is right but whose records are not: `prefix` holds
// well-formed records, `rest` the malformed one, which must be reported as
// record number `prefix_records`, starting at byte prefix.size().
struct BadRecords {
  const char* name;
  std::string prefix;
  int prefix_records;
  std::string rest;
  BatchFields fields;
  const char* error;
};

std::vector<BadRecords> BadRecordCases() {
  const std::string two = Good(0) + Good(1);
  const std::string over_long32 = "\x80\x80\x80\x80\x80\x01";  // Six bytes.
  const std::string over_long64 = "\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80\x01";
  const std::string a = std::string(1, '\0');  // Record attributes.
  const std::string header = Bytes("h") + Bytes("v");
  const std::string value = "value-value";
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
  // clang-format off
  return {
    // Cut after its timestampDelta: a decoder that trusted the length would
    // read on past the batch, which AddressSanitizer reports.
    {"length past the end", Good(0), 1, V(100) + a + V(0), {2, 1},
     "record length runs past the end of the records"},
    {"negative length", Good(0), 1, V(-1) + Body(1, value), {2, 1}, "record length is negative"},
    {"length -2", "", 0, V(-2) + Body(0, value), {1, 0}, "record length is negative"},
    {"empty record", "", 0, V(0) + Good(0), {2, 1}, "no room for its attributes"},
    {"length over-long", Good(0), 1, over_long32 + Body(1, value), {2, 1},
     "record length is not a valid varint"},
    {"timestampDelta over-long", "", 0, Rec(a + over_long64 + V(0) + Bytes("k") + Bytes(value)),
     {1, 0}, "record timestampDelta is not a valid varint"},
    {"offsetDelta over-long", "", 0, Rec(a + V(0) + over_long32 + Bytes("k") + Bytes(value)),
     {1, 0}, "record offsetDelta is not a valid varint"},
    {"key length over-long", "", 0, Rec(a + V(0) + V(0) + over_long32 + Bytes(value)), {1, 0},
     "record key length is not a valid varint"},
    {"negative offsetDelta", "", 0, Rec(Body(-1, value)), {1, 0}, "record offsetDelta is negative"},
    {"offsetDelta repeated", Good(0), 1, Good(0), {2, 1},
     "record offsetDelta is not above the previous record's"},
    {"offsetDelta going back", Good(1), 1, Good(0), {2, 1},
     "record offsetDelta is not above the previous record's"},
    {"offsetDelta past lastOffsetDelta", Good(0), 1, Good(5), {2, 4},
     "record offsetDelta is past lastOffsetDelta"},
    {"key length -2", "", 0, Rec(a + V(0) + V(0) + V(-2) + Bytes(value) + V(0)), {1, 0},
     "record key length is below -1"},
    {"key past the record", "", 0, Rec(a + V(0) + V(0) + V(20) + "key" + Bytes("v") + V(0)) +
     std::string(20, 'x'), {1, 0}, "record key runs past the end of its record"},
    {"value length -3", "", 0, Rec(a + V(0) + V(0) + Bytes("k") + V(-3) + value + V(0)), {1, 0},
     "record value length is below -1"},
    {"value past the record", Good(0), 1, Rec(a + V(0) + V(1) + Bytes("k") + V(9) + "v" + V(0)) +
     Good(2), {3, 2}, "record value runs past the end of its record"},
    {"negative header count", "", 0, Rec(Body(0, value, 0, -1)), {1, 0},
     "record header count is negative"},
    {"header count too high", two, 2, Rec(Body(2, value, 0, 3, header)), {3, 2},
     "record has fewer headers than its header count"},
    {"header count too low", "", 0, Rec(Body(0, value, 0, 1, header + header)), {1, 0},
     "record has bytes left over after its headers"},
    {"null header key", "", 0, Rec(Body(0, value, 0, 1, V(-1) + Bytes("v"))), {1, 0},
     "header key is null"},
    {"header key past the record", "", 0, Rec(Body(0, value, 0, 1, V(40) + "h" + Bytes("v"))),
     {1, 0}, "header key runs past the end of its record"},
    {"header value length -2", "", 0, Rec(Body(0, value, 0, 1, Bytes("h") + V(-2) + "v")), {1, 0},
     "header value length is below -1"},
    {"header value past the record", "", 0, Rec(Body(0, value, 0, 1, Bytes("h") + V(40) + "v")),
     {1, 0}, "header value runs past the end of its record"},
    {"recordsCount too high", two, 2, "", {3, 2}, "the records end before recordsCount records"},
    {"recordsCount too low", Good(0), 1, Good(1), {1, 1}, "bytes left over after the last record"},
    {"timestamp overflow", "", 0, Rec(Body(0, value, 2)), {1, 0, 0, kMax - 1},
     "record timestamp overflows"},
    {"timestamp underflow", "", 0, Rec(Body(0, value, -2)), {1, 0, 0, kMin + 1},
     "record timestamp overflows"},
  };
  // clang-format on
}

TEST_CASE("Malformed records under a valid CRC are refused with a precise error",
          "[batch_corruption]") {
  for (const BadRecords& bad : BadRecordCases()) {
    for (Compression c : kWrittenCodecs) {
      CAPTURE(bad.name, CompressionName(c));
      ExactBytes batch(WrapRecords(bad.prefix + bad.rest, bad.fields, c));
      BatchHeader h;
      // The header is plausible and the CRC right: only the records can tell.
      REQUIRE(CheckBatch(batch.span(), &h).ok());
      BatchReader reader;
      DecodedBatch b;
      const absl::Status s = ReadBatch(batch.span(), &reader, &b);
      CHECK(s.code() == absl::StatusCode::kDataLoss);
      CHECK_THAT(std::string(s.message()), Catch::Contains(bad.error));
      CHECK_THAT(std::string(s.message()),
                 Catch::Contains("record " + std::to_string(bad.prefix_records) + " (byte " +
                                 std::to_string(bad.prefix.size()) + " of the records)"));
      CHECK(b.records.size() == static_cast<size_t>(bad.prefix_records));
    }
  }
}

// Mutate(rng, batch): one to four random changes, then, as often as not, a
// batchLength and a CRC that agree with the result, so that the damage
// reaches the decompressors and the record decoder.
void Mutate(std::mt19937_64& rng, std::string* batch) {
  const int changes = 1 + static_cast<int>(rng() % 4);
  for (int i = 0; i < changes && !batch->empty(); ++i) {
    char& byte = (*batch)[rng() % batch->size()];
    switch (rng() % 6) {
      case 0:
      case 1:
        byte ^= static_cast<char>(1 << (rng() % 8));
        break;
      case 2:
        byte = static_cast<char>(rng());
        break;
      case 3: {
        constexpr char kEdges[] = {0x00, 0x01, 0x7f, static_cast<char>(0x80),
                                   static_cast<char>(0xff)};
        byte = kEdges[rng() % 5];
        break;
      }
      case 4:
        batch->resize(rng() % (batch->size() + 1));
        break;
      case 5:
        batch->insert(rng() % (batch->size() + 1), V(static_cast<int32_t>(rng())));
        break;
    }
  }
  if (rng() % 2 == 0 && batch->size() >= batch::kLogOverhead) {
    StoreBigEndian<int32_t>(batch->data() + batch::kBatchLengthPos,
                            static_cast<int32_t>(batch->size() - batch::kLogOverhead));
  }
  if (rng() % 4 != 0 && batch->size() >= batch::kHeaderSize) {
    testing::RewriteCrc({batch->data(), batch->size()});
  }
}

TEST_CASE("Random mutations of valid batches are refused or decode consistently",
          "[batch_corruption]") {
  std::mt19937_64 rng(20240601);
  std::vector<std::string> batches;
  for (Compression c : kWrittenCodecs) batches.push_back(BuildBatch(c, SmallRecords()));
  BatchReader reader(/*max_decompressed_size=*/1 << 20);
  int refused = 0, record_errors = 0, decoded = 0;
  uint64_t touched = 0;  // Every byte of every record read, so ASan sees the reads.
  for (int i = 0; i < 200000; ++i) {
    std::string mutated = batches[i % batches.size()];
    Mutate(rng, &mutated);
    ExactBytes bytes(mutated);
    BatchHeader h;
    detail::RecordDecoder decoder;
    reader.Clear();
    if (!CheckBatch(bytes.span(), &h).ok() || !reader.Open(bytes.span(), h, &decoder).ok()) {
      ++refused;
      continue;
    }
    RecordView r;
    int64_t last = -1;
    int32_t n = 0;
    while (decoder.Next(&r)) {
      if (r.offset() <= last || r.offset() < h.base_offset || r.offset() > h.last_offset()) {
        FAIL("iteration " << i << ": offset " << r.offset() << " after " << last
                          << " in a batch of offsets " << h.base_offset << ".." << h.last_offset());
      }
      last = r.offset();
      ++n;
      for (char c : r.key()) touched += static_cast<uint8_t>(c);
      for (char c : r.value()) touched += static_cast<uint8_t>(c);
      int32_t headers = 0;
      for (const Header& header : r.headers()) {
        ++headers;
        for (char c : header.key) touched += static_cast<uint8_t>(c);
        if (header.value) touched += header.value->size();
      }
      if (headers != r.headers().size()) FAIL("iteration " << i << ": headers cut short");
    }
    if (decoder.error() != nullptr) {
      ++record_errors;
      if (RecordError(decoder, h).code() != absl::StatusCode::kDataLoss) FAIL("not kDataLoss");
    } else {
      ++decoded;
      if (n != h.records_count)
        FAIL("iteration " << i << ": recordsCount " << h.records_count << " but " << n
                          << " records");
    }
  }
  // Each outcome must be common, or the loop tested less than it claims.
  CAPTURE(refused, record_errors, decoded, touched);
  CHECK(refused > 20000);
  CHECK(record_errors > 5000);
  CHECK(decoded > 5000);
}

}  // namespace
}  // namespace rill
