// The byte layout of Kafka's RecordBatch v2 (magic 2), as rill stores it on
// disk and as Kafka serves it. docs/FORMAT.md gives the grammar; this file
// gives the constants; batch_builder.cc encodes and batch_header.cc decodes.
//
// All integers of the batch header are big-endian.
//
//   offset  size  field
//   0       8     baseOffset            first offset of the batch
//   8       4     batchLength           bytes after this field (total - 12)
//   12      4     partitionLeaderEpoch  -1 in rill
//   16      1     magic                 2
//   17      4     crc                   CRC-32C of bytes [21, end)
//   21      2     attributes            see kAttr* below
//   23      4     lastOffsetDelta       last record's offset - baseOffset
//   27      8     baseTimestamp         first record's timestamp (ms)
//   35      8     maxTimestamp          greatest timestamp in the batch
//   43      8     producerId            -1 when none
//   51      2     producerEpoch         -1 when none
//   53      4     baseSequence          -1 when none
//   57      4     recordsCount
//   61      ...   records, compressed as one stream if the codec says so
#ifndef RILL_LIB_FORMAT_BATCH_FORMAT_H_
#define RILL_LIB_FORMAT_BATCH_FORMAT_H_

#include <cstddef>
#include <cstdint>

namespace rill::batch {

inline constexpr size_t kBaseOffsetPos = 0;
inline constexpr size_t kBatchLengthPos = 8;
inline constexpr size_t kPartitionLeaderEpochPos = 12;
inline constexpr size_t kMagicPos = 16;
inline constexpr size_t kCrcPos = 17;
inline constexpr size_t kAttributesPos = 21;
inline constexpr size_t kLastOffsetDeltaPos = 23;
inline constexpr size_t kBaseTimestampPos = 27;
inline constexpr size_t kMaxTimestampPos = 35;
inline constexpr size_t kProducerIdPos = 43;
inline constexpr size_t kProducerEpochPos = 51;
inline constexpr size_t kBaseSequencePos = 53;
inline constexpr size_t kRecordsCountPos = 57;
inline constexpr size_t kRecordsPos = 61;

// Bytes before batchLength's count starts: baseOffset and batchLength itself.
inline constexpr size_t kLogOverhead = 12;
// Size of the fixed header; the smallest possible batch (no records).
inline constexpr size_t kHeaderSize = kRecordsPos;
// The CRC covers [kCrcCoveredFrom, end).
inline constexpr size_t kCrcCoveredFrom = kAttributesPos;

inline constexpr int8_t kMagic = 2;

// Attribute bits. Persistent format: never renumber.
inline constexpr int16_t kAttrCompressionMask = 0x07;
inline constexpr int16_t kAttrLogAppendTime = 0x08;
inline constexpr int16_t kAttrTransactional = 0x10;
inline constexpr int16_t kAttrControl = 0x20;
inline constexpr int16_t kAttrDeleteHorizon = 0x40;

// Smallest encoding of one record: length, attributes, timestampDelta,
// offsetDelta, keyLength, valueLength, headerCount, one byte each.
inline constexpr size_t kMinRecordSize = 7;

}  // namespace rill::batch

#endif  // RILL_LIB_FORMAT_BATCH_FORMAT_H_
