// BatchBuilder: encodes records into one Kafka RecordBatch v2. It keeps its
// buffers between batches, so a producer that reuses one builder allocates
// nothing once the buffers have grown to its batch size. Not thread-safe.
//
//   BatchBuilder builder({.compression = Compression::kLz4});
//   builder.Add({.key = "k", .value = "v"}, now_ms);
//   ASSIGN_OR_RETURN(std::span<const char> batch, builder.Finish());
//   ... append `batch`; the log assigns baseOffset ...
//   builder.Reset();
#ifndef RILL_LIB_FORMAT_BATCH_BUILDER_H_
#define RILL_LIB_FORMAT_BATCH_BUILDER_H_

#include <cstddef>
#include <cstdint>
#include <span>

#include "absl/status/statusor.h"
#include "format/compression.h"
#include "rill/compression.h"
#include "rill/record.h"
#include "util/buffer.h"

namespace rill {

struct BatchBuilderOptions {
  // Codec for the batch's records: kNone, kLz4 or kZstd.
  Compression compression = Compression::kNone;
  // Codec level; 0 is the codec's default.
  int compression_level = 0;
  // Attribute bits written as given (Kafka's transactional and control).
  bool transactional = false;
  bool control = false;
  // Idempotent-producer fields; -1 means none.
  int64_t producer_id = -1;
  int16_t producer_epoch = -1;
  int32_t base_sequence = -1;
  // Kafka's delete horizon, set by the log cleaner on a batch that keeps
  // tombstones: when >= 0, attribute bit 6 is set and baseTimestamp holds
  // this time (ms) instead of the first record's; record timestamps are
  // stored relative to it and read back unchanged.
  int64_t delete_horizon_ms = -1;
  // When >= 0, the batch is stamped with this log-append time: attribute
  // bit 3 set, maxTimestamp = this time (as SetLogAppendTime does).
  int64_t log_append_time_ms = -1;
};

class BatchBuilder {
 public:
  explicit BatchBuilder(const BatchBuilderOptions& options = {});

  // Add(record, timestamp): appends one record with offset delta equal to the
  // number of records added so far. `timestamp` is used when the record has
  // none. The record's bytes are copied; nothing of `record` is kept.
  void Add(const Record& record, int64_t timestamp);
  // Add(record, timestamp, payload_size): the same, for a caller that has
  // already measured PayloadSize(record).
  void Add(const Record& record, int64_t timestamp, size_t payload_size);

  // AddWithOffsetDelta: as Add, with an explicit offset delta that must be
  // greater than the last one (compaction leaves gaps).
  void AddWithOffsetDelta(const Record& record, int64_t timestamp, int32_t offset_delta);

  // EncodedRecordSize(record, timestamp_delta, offset_delta): bytes one
  // record takes in a batch, its length prefix included.
  static size_t EncodedRecordSize(const Record& record, int64_t timestamp_delta,
                                  int32_t offset_delta);
  // PayloadSize(record): the bytes of the record's key, value and headers,
  // with their length fields: all of its encoding but the deltas.
  static size_t PayloadSize(const Record& record);
  // EncodedRecordSize(payload_size, timestamp_delta, offset_delta): as
  // above, from PayloadSize(record).
  static size_t EncodedRecordSize(size_t payload_size, int64_t timestamp_delta,
                                  int32_t offset_delta);

  // Finish(): completes the batch -- header, compressed records, CRC -- and
  // returns its bytes, valid until the next call on this builder. baseOffset
  // is 0: the log sets it when it appends. Fails with kInvalidArgument when
  // there are no records or the codec is not one rill writes.
  absl::StatusOr<std::span<const char>> Finish();

  // Reset(): forgets the records; keeps the options and the buffers.
  void Reset();
  // Reset(options): forgets the records and adopts new options; keeps the
  // buffers.
  void Reset(const BatchBuilderOptions& options);

  // set_last_offset_delta(delta): Finish() writes `delta` as lastOffsetDelta
  // instead of the last record's offset delta, which must not exceed it: a
  // batch rebuilt by the log cleaner keeps the offset range of the batch it
  // replaces, as Kafka's cleaner does. Reset() forgets it.
  void set_last_offset_delta(int32_t delta) { explicit_last_offset_delta_ = delta; }

  // FinishEmpty(last_offset_delta, max_timestamp): a batch of no records
  // (recordsCount 0, no codec) spanning offsets [0, last_offset_delta]
  // relative to its base, with baseTimestamp and maxTimestamp set to
  // max_timestamp (baseTimestamp to the delete horizon, if one is set).
  // Kafka's cleaner leaves such batches where every record was removed but
  // the offsets must stay accounted for. Valid until the next call.
  std::span<const char> FinishEmpty(int32_t last_offset_delta, int64_t max_timestamp);

  int32_t record_count() const { return count_; }
  bool empty() const { return count_ == 0; }
  // Bytes of the batch so far, uncompressed, header included: an upper bound
  // (give or take a codec's framing) of what Finish() returns.
  size_t uncompressed_size() const { return records_.size(); }
  const BatchBuilderOptions& options() const { return options_; }

 private:
  void AddSized(const Record& record, int64_t timestamp, int32_t offset_delta,
                size_t payload_size);
  BatchBuilderOptions options_;
  Buffer records_;  // batch::kHeaderSize bytes of header space, then records.
  Buffer compressed_;
  Compressor compressor_;
  // WriteHeader(out, attributes, ...): fills in the header at out->data().
  void WriteHeader(Buffer* out, int16_t attributes, int32_t last_offset_delta,
                   int64_t base_timestamp, int64_t max_timestamp, int32_t count);

  int32_t count_ = 0;
  int32_t last_offset_delta_ = -1;
  int32_t explicit_last_offset_delta_ = -1;
  int64_t base_timestamp_ = 0;
  int64_t max_timestamp_ = 0;
};

}  // namespace rill

#endif  // RILL_LIB_FORMAT_BATCH_BUILDER_H_
