// Encoder of RecordBatch v2. The record grammar (docs/FORMAT.md, "Record"):
//
//   record      := length:varint body          length = bytes of body
//   body        := attributes:int8(0) timestampDelta:varlong offsetDelta:varint
//                  keyLength:varint key valueLength:varint value
//                  headerCount:varint header*
//   header      := keyLength:varint key valueLength:varint value
//
// Every varint is zigzag-encoded; a length of -1 means null. timestampDelta
// is relative to the batch's baseTimestamp, the first record's timestamp.
#include "format/batch_builder.h"

#include <algorithm>

#include "format/batch_format.h"
#include "format/batch_header.h"
#include "format/varint.h"
#include "util/endian.h"

namespace rill {
namespace {

int LengthFieldSize(const std::optional<std::string_view>& bytes) {
  return bytes ? VarintLength32(static_cast<int32_t>(bytes->size())) : 1;
}
size_t NullableSize(const std::optional<std::string_view>& bytes) {
  return LengthFieldSize(bytes) + (bytes ? bytes->size() : 0);
}

size_t BodySize(size_t payload_size, int64_t timestamp_delta, int32_t offset_delta) {
  return 1 + VarintLength64(timestamp_delta) + VarintLength32(offset_delta) + payload_size;
}

char* PutNullable(char* p, const std::optional<std::string_view>& bytes) {
  if (!bytes) return EncodeVarint32(p, -1);
  p = EncodeVarint32(p, static_cast<int32_t>(bytes->size()));
  if (!bytes->empty()) std::memcpy(p, bytes->data(), bytes->size());
  return p + bytes->size();
}

}  // namespace

BatchBuilder::BatchBuilder(const BatchBuilderOptions& options) : options_(options) { Reset(); }

void BatchBuilder::Reset() {
  records_.clear();
  records_.Resize(batch::kHeaderSize);
  count_ = 0;
  last_offset_delta_ = -1;
  explicit_last_offset_delta_ = -1;
  base_timestamp_ = std::max<int64_t>(options_.delete_horizon_ms, 0);
  max_timestamp_ = 0;
}

void BatchBuilder::Reset(const BatchBuilderOptions& options) {
  options_ = options;
  Reset();
}

size_t BatchBuilder::PayloadSize(const Record& record) {
  size_t size = NullableSize(record.key) + NullableSize(record.value) +
                VarintLength32(static_cast<int32_t>(record.headers.size()));
  for (const Header& h : record.headers) {
    size +=
        VarintLength32(static_cast<int32_t>(h.key.size())) + h.key.size() + NullableSize(h.value);
  }
  return size;
}

size_t BatchBuilder::EncodedRecordSize(size_t payload_size, int64_t timestamp_delta,
                                       int32_t offset_delta) {
  const size_t body = BodySize(payload_size, timestamp_delta, offset_delta);
  return UnsignedVarintLength(ZigZagEncode32(static_cast<int32_t>(body))) + body;
}

size_t BatchBuilder::EncodedRecordSize(const Record& record, int64_t timestamp_delta,
                                       int32_t offset_delta) {
  return EncodedRecordSize(PayloadSize(record), timestamp_delta, offset_delta);
}

void BatchBuilder::Add(const Record& record, int64_t timestamp) {
  AddSized(record, timestamp, last_offset_delta_ + 1, PayloadSize(record));
}

void BatchBuilder::Add(const Record& record, int64_t timestamp, size_t payload_size) {
  AddSized(record, timestamp, last_offset_delta_ + 1, payload_size);
}

void BatchBuilder::AddWithOffsetDelta(const Record& record, int64_t timestamp,
                                      int32_t offset_delta) {
  AddSized(record, timestamp, offset_delta, PayloadSize(record));
}

void BatchBuilder::AddSized(const Record& record, int64_t timestamp, int32_t offset_delta,
                            size_t payload_size) {
  const int64_t ts = record.timestamp.value_or(timestamp);
  if (count_ == 0) {
    // With a delete horizon, baseTimestamp is the horizon (set by Reset).
    if (options_.delete_horizon_ms < 0) base_timestamp_ = ts;
    max_timestamp_ = ts;
  }
  max_timestamp_ = std::max(max_timestamp_, ts);
  const int64_t timestamp_delta = ts - base_timestamp_;
  const size_t body = BodySize(payload_size, timestamp_delta, offset_delta);

  char* const start = records_.Reserve(kMaxVarint32Bytes + body);
  char* p = EncodeVarint32(start, static_cast<int32_t>(body));
  *p++ = 0;  // Record attributes: unused.
  p = EncodeVarint64(p, timestamp_delta);
  p = EncodeVarint32(p, offset_delta);
  p = PutNullable(p, record.key);
  p = PutNullable(p, record.value);
  p = EncodeVarint32(p, static_cast<int32_t>(record.headers.size()));
  for (const Header& h : record.headers) {
    p = PutNullable(p, h.key);
    p = PutNullable(p, h.value);
  }
  records_.Commit(static_cast<size_t>(p - start));
  ++count_;
  last_offset_delta_ = offset_delta;
}

absl::StatusOr<std::span<const char>> BatchBuilder::Finish() {
  if (count_ == 0) return absl::InvalidArgumentError("a batch needs at least one record");
  Buffer* out = &records_;
  if (options_.compression != Compression::kNone) {
    compressed_.clear();
    compressed_.Resize(batch::kHeaderSize);
    const std::string_view raw(records_.data() + batch::kHeaderSize,
                               records_.size() - batch::kHeaderSize);
    if (absl::Status s = compressor_.Compress(options_.compression, raw, options_.compression_level,
                                              &compressed_);
        !s.ok()) {
      return s;
    }
    out = &compressed_;
  }
  int16_t attributes = static_cast<int16_t>(options_.compression);
  if (options_.log_append_time_ms >= 0) attributes |= batch::kAttrLogAppendTime;
  const int32_t last_offset_delta = std::max(explicit_last_offset_delta_, last_offset_delta_);
  const int64_t max_timestamp =
      options_.log_append_time_ms >= 0 ? options_.log_append_time_ms : max_timestamp_;
  WriteHeader(out, attributes, last_offset_delta, base_timestamp_, max_timestamp, count_);
  return out->span();
}

std::span<const char> BatchBuilder::FinishEmpty(int32_t last_offset_delta, int64_t max_timestamp) {
  Reset();
  int16_t attributes = 0;  // No codec: there is nothing to compress.
  if (options_.log_append_time_ms >= 0) attributes |= batch::kAttrLogAppendTime;
  const int64_t base_timestamp =
      options_.delete_horizon_ms >= 0 ? options_.delete_horizon_ms : max_timestamp;
  WriteHeader(&records_, attributes, last_offset_delta, base_timestamp, max_timestamp, 0);
  return records_.span();
}

void BatchBuilder::WriteHeader(Buffer* out, int16_t attributes, int32_t last_offset_delta,
                               int64_t base_timestamp, int64_t max_timestamp, int32_t count) {
  char* h = out->data();
  if (options_.transactional) attributes |= batch::kAttrTransactional;
  if (options_.control) attributes |= batch::kAttrControl;
  if (options_.delete_horizon_ms >= 0) attributes |= batch::kAttrDeleteHorizon;
  StoreBigEndian<int64_t>(h + batch::kBaseOffsetPos, 0);
  StoreBigEndian<int32_t>(h + batch::kBatchLengthPos,
                          static_cast<int32_t>(out->size() - batch::kLogOverhead));
  StoreBigEndian<int32_t>(h + batch::kPartitionLeaderEpochPos, -1);
  h[batch::kMagicPos] = batch::kMagic;
  StoreBigEndian<int16_t>(h + batch::kAttributesPos, attributes);
  StoreBigEndian<int32_t>(h + batch::kLastOffsetDeltaPos, last_offset_delta);
  StoreBigEndian<int64_t>(h + batch::kBaseTimestampPos, base_timestamp);
  StoreBigEndian<int64_t>(h + batch::kMaxTimestampPos, max_timestamp);
  StoreBigEndian<int64_t>(h + batch::kProducerIdPos, options_.producer_id);
  StoreBigEndian<int16_t>(h + batch::kProducerEpochPos, options_.producer_epoch);
  StoreBigEndian<int32_t>(h + batch::kBaseSequencePos, options_.base_sequence);
  StoreBigEndian<int32_t>(h + batch::kRecordsCountPos, count);
  StoreBigEndian<uint32_t>(h + batch::kCrcPos, ComputeBatchCrc(out->span()));
}

}  // namespace rill
