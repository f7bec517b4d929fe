// BatchHeader: the decoded fixed header of a RecordBatch v2, and the checks
// that decide whether a run of bytes is a whole, intact batch.
#ifndef RILL_LIB_FORMAT_BATCH_HEADER_H_
#define RILL_LIB_FORMAT_BATCH_HEADER_H_

#include <cstddef>
#include <cstdint>
#include <span>

#include "absl/status/status.h"
#include "format/batch_format.h"
#include "rill/compression.h"
#include "util/endian.h"

namespace rill {

struct BatchHeader {
  int64_t base_offset = 0;
  int32_t batch_length = 0;
  int32_t partition_leader_epoch = -1;
  int8_t magic = batch::kMagic;
  uint32_t crc = 0;
  int16_t attributes = 0;
  int32_t last_offset_delta = 0;
  int64_t base_timestamp = 0;
  int64_t max_timestamp = 0;
  int64_t producer_id = -1;
  int16_t producer_epoch = -1;
  int32_t base_sequence = -1;
  int32_t records_count = 0;

  // Total bytes of the batch, header included.
  size_t size() const { return static_cast<size_t>(batch_length) + batch::kLogOverhead; }
  int64_t last_offset() const { return base_offset + last_offset_delta; }
  Compression compression() const {
    return static_cast<Compression>(attributes & batch::kAttrCompressionMask);
  }
  bool log_append_time() const { return (attributes & batch::kAttrLogAppendTime) != 0; }
  bool transactional() const { return (attributes & batch::kAttrTransactional) != 0; }
  bool control() const { return (attributes & batch::kAttrControl) != 0; }
};

// DecodeBatchHeader(p): the fields of the header at p, which must hold
// batch::kHeaderSize readable bytes. Checks nothing.
BatchHeader DecodeBatchHeader(const char* p);

// BatchExtent: what a walk from batch to batch needs of a header.
struct BatchExtent {
  uint64_t size = 0;        // Total bytes of the batch, header included.
  int64_t last_offset = 0;  // baseOffset + lastOffsetDelta.
};

// DecodeBatchExtent(p): the extent of the batch whose header is at p, which
// must hold batch::kHeaderSize readable bytes -- four fields, not the whole
// header. Checks nothing: for batches already checked.
inline BatchExtent DecodeBatchExtent(const char* p) {
  return {
      .size = uint64_t{LoadBigEndian<uint32_t>(p + batch::kBatchLengthPos)} + batch::kLogOverhead,
      .last_offset = LoadBigEndian<int64_t>(p + batch::kBaseOffsetPos) +
                     LoadBigEndian<int32_t>(p + batch::kLastOffsetDeltaPos)};
}

// TakeBatch(&bytes, &h): the first batch of `bytes`, which must hold whole,
// checked batches (as PartitionLog::Read returns them), with its header in
// *h; `bytes` moves past it.
inline std::span<const char> TakeBatch(std::span<const char>* bytes, BatchHeader* h) {
  *h = DecodeBatchHeader(bytes->data());
  const std::span<const char> batch = bytes->first(h->size());
  *bytes = bytes->subspan(h->size());
  return batch;
}

// CheckBatchHeader(bytes, &h): decodes the batch starting at bytes[0] into
// `h` and checks its header alone: that the header is present, magic is 2,
// batchLength covers at least the header and fits in `bytes`, baseOffset,
// lastOffsetDelta and recordsCount are plausible (the batch's last offset
// fits in an int64). Returns OK, or kDataLoss with a message
// naming the field, or kOutOfRange when the header is sound but `bytes` ends
// before the batch does (a torn tail, or a caller that passed too little).
absl::Status CheckBatchHeader(std::span<const char> bytes, BatchHeader* h);

// CheckBatch(bytes, &h): CheckBatchHeader, then the CRC-32C of the whole
// batch. Same error codes; a CRC mismatch is kDataLoss.
absl::Status CheckBatch(std::span<const char> bytes, BatchHeader* h);

// ComputeBatchCrc(batch): the CRC-32C a batch's crc field should hold.
uint32_t ComputeBatchCrc(std::span<const char> batch);

// SetBaseOffset(batch, offset): rewrites baseOffset in place. It lies outside
// the CRC, so the batch stays valid.
void SetBaseOffset(char* batch, int64_t base_offset);

// SetLogAppendTime(batch, size, time): marks the batch as stamped with the
// log's append time `time` (attribute bit 3, maxTimestamp) and recomputes its
// CRC, as a Kafka broker does for topics with LogAppendTime.
void SetLogAppendTime(char* batch, size_t size, int64_t time);

// CopyStampedHeader(batch, base_offset, append_time, header): copies the
// batch::kHeaderSize bytes of `batch`'s header into `header` with
// SetBaseOffset applied and, if append_time >= 0, SetLogAppendTime: the
// copy's CRC then covers the records that stay in `batch`. The copy followed
// by the rest of `batch` is the batch a log stores.
void CopyStampedHeader(std::span<const char> batch, int64_t base_offset, int64_t append_time,
                       char* header);

}  // namespace rill

#endif  // RILL_LIB_FORMAT_BATCH_HEADER_H_
