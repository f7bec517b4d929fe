#include "format/batch_header.h"

#include <cinttypes>
#include <cstring>
#include <limits>

#include "absl/strings/str_format.h"
#include "format/crc32c.h"
#include "util/endian.h"

namespace rill {

using batch::kHeaderSize;
using batch::kLogOverhead;

BatchHeader DecodeBatchHeader(const char* p) {
  BatchHeader h;
  h.base_offset = LoadBigEndian<int64_t>(p + batch::kBaseOffsetPos);
  h.batch_length = LoadBigEndian<int32_t>(p + batch::kBatchLengthPos);
  h.partition_leader_epoch = LoadBigEndian<int32_t>(p + batch::kPartitionLeaderEpochPos);
  h.magic = static_cast<int8_t>(p[batch::kMagicPos]);
  h.crc = LoadBigEndian<uint32_t>(p + batch::kCrcPos);
  h.attributes = LoadBigEndian<int16_t>(p + batch::kAttributesPos);
  h.last_offset_delta = LoadBigEndian<int32_t>(p + batch::kLastOffsetDeltaPos);
  h.base_timestamp = LoadBigEndian<int64_t>(p + batch::kBaseTimestampPos);
  h.max_timestamp = LoadBigEndian<int64_t>(p + batch::kMaxTimestampPos);
  h.producer_id = LoadBigEndian<int64_t>(p + batch::kProducerIdPos);
  h.producer_epoch = LoadBigEndian<int16_t>(p + batch::kProducerEpochPos);
  h.base_sequence = LoadBigEndian<int32_t>(p + batch::kBaseSequencePos);
  h.records_count = LoadBigEndian<int32_t>(p + batch::kRecordsCountPos);
  return h;
}

absl::Status CheckBatchHeader(std::span<const char> bytes, BatchHeader* h) {
  if (bytes.size() < kHeaderSize) {
    // Too short to tell a torn header from garbage; report it as torn only if
    // what is there could start a batch.
    if (bytes.size() > batch::kMagicPos && bytes[batch::kMagicPos] != batch::kMagic) {
      return absl::DataLossError(absl::StrFormat("batch magic is %d, expected 2",
                                                 static_cast<int>(bytes[batch::kMagicPos])));
    }
    return absl::OutOfRangeError(absl::StrFormat(
        "batch header truncated: %d of %d bytes present", bytes.size(), kHeaderSize));
  }
  *h = DecodeBatchHeader(bytes.data());
  if (h->magic != batch::kMagic) {
    return absl::DataLossError(
        absl::StrFormat("batch magic is %d, expected 2", static_cast<int>(h->magic)));
  }
  if (h->batch_length < static_cast<int32_t>(kHeaderSize - kLogOverhead)) {
    return absl::DataLossError(absl::StrFormat(
        "batchLength %d is smaller than the %d-byte header", h->batch_length,
        kHeaderSize - kLogOverhead));
  }
  if ((h->attributes & batch::kAttrCompressionMask) > static_cast<int16_t>(Compression::kZstd)) {
    return absl::DataLossError(absl::StrFormat("unknown compression codec %d in attributes",
                                               h->attributes & batch::kAttrCompressionMask));
  }
  if (h->base_offset < 0) {
    return absl::DataLossError(absl::StrFormat("baseOffset %d is negative", h->base_offset));
  }
  if (h->last_offset_delta < 0) {
    return absl::DataLossError(
        absl::StrFormat("lastOffsetDelta %d is negative", h->last_offset_delta));
  }
  // The offset after the batch must fit too: readers and recovery go on from it.
  if (h->base_offset >= std::numeric_limits<int64_t>::max() - h->last_offset_delta) {
    return absl::DataLossError(
        absl::StrFormat("baseOffset %d + lastOffsetDelta %d overflows (with the next offset)",
                        h->base_offset, h->last_offset_delta));
  }
  if (h->records_count < 0 ||
      static_cast<int64_t>(h->records_count) > static_cast<int64_t>(h->last_offset_delta) + 1) {
    return absl::DataLossError(absl::StrFormat("recordsCount %d does not fit lastOffsetDelta %d",
                                               h->records_count, h->last_offset_delta));
  }
  if (h->compression() == Compression::kNone &&
      static_cast<uint64_t>(h->records_count) * batch::kMinRecordSize >
          h->size() - kHeaderSize) {
    return absl::DataLossError(absl::StrFormat(
        "recordsCount %d cannot fit in %d bytes of records", h->records_count,
        h->size() - kHeaderSize));
  }
  if (h->size() > bytes.size()) {
    return absl::OutOfRangeError(absl::StrFormat("batch truncated: %d of %d bytes present",
                                                 bytes.size(), h->size()));
  }
  return absl::OkStatus();
}

uint32_t ComputeBatchCrc(std::span<const char> batch) {
  return crc32c::Value(batch.data() + batch::kCrcCoveredFrom,
                       batch.size() - batch::kCrcCoveredFrom);
}

absl::Status CheckBatch(std::span<const char> bytes, BatchHeader* h) {
  if (absl::Status s = CheckBatchHeader(bytes, h); !s.ok()) return s;
  const uint32_t actual = ComputeBatchCrc(bytes.first(h->size()));
  if (actual != h->crc) {
    return absl::DataLossError(absl::StrFormat(
        "batch CRC-32C mismatch: stored 0x%08x, computed 0x%08x", h->crc, actual));
  }
  return absl::OkStatus();
}

void SetBaseOffset(char* batch, int64_t base_offset) {
  StoreBigEndian(batch + batch::kBaseOffsetPos, base_offset);
}

namespace {

void MarkLogAppendTime(char* batch, int64_t time) {
  const int16_t attributes = LoadBigEndian<int16_t>(batch + batch::kAttributesPos);
  StoreBigEndian(batch + batch::kAttributesPos,
                 static_cast<int16_t>(attributes | batch::kAttrLogAppendTime));
  StoreBigEndian(batch + batch::kMaxTimestampPos, time);
}

}  // namespace

void SetLogAppendTime(char* batch, size_t size, int64_t time) {
  MarkLogAppendTime(batch, time);
  StoreBigEndian(batch + batch::kCrcPos, ComputeBatchCrc({batch, size}));
}

void CopyStampedHeader(std::span<const char> batch, int64_t base_offset, int64_t append_time,
                       char* header) {
  std::memcpy(header, batch.data(), batch::kHeaderSize);
  SetBaseOffset(header, base_offset);
  if (append_time < 0) return;
  MarkLogAppendTime(header, append_time);
  const uint32_t head =
      crc32c::Value(header + batch::kCrcCoveredFrom, batch::kHeaderSize - batch::kCrcCoveredFrom);
  StoreBigEndian(header + batch::kCrcPos, crc32c::Extend(head, batch.data() + batch::kHeaderSize,
                                                         batch.size() - batch::kHeaderSize));
}

}  // namespace rill
