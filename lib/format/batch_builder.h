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
};

class BatchBuilder {
 public:
  explicit BatchBuilder(const BatchBuilderOptions& options = {});

  // Add(record, timestamp): appends one record with offset delta equal to the
  // number of records added so far. `timestamp` is used when the record has
  // none. The record's bytes are copied; nothing of `record` is kept.
  void Add(const Record& record, int64_t timestamp);

  // AddWithOffsetDelta: as Add, with an explicit offset delta that must be
  // greater than the last one (compaction leaves gaps).
  void AddWithOffsetDelta(const Record& record, int64_t timestamp, int32_t offset_delta);

  // EncodedRecordSize(record, timestamp_delta, offset_delta): bytes one
  // record takes in a batch, its length prefix included.
  static size_t EncodedRecordSize(const Record& record, int64_t timestamp_delta,
                                  int32_t offset_delta);

  // Finish(): completes the batch -- header, compressed records, CRC -- and
  // returns its bytes, valid until the next call on this builder. baseOffset
  // is 0: the log sets it when it appends. Fails with kInvalidArgument when
  // there are no records or the codec is not one rill writes.
  absl::StatusOr<std::span<const char>> Finish();

  // Reset(): forgets the records; keeps the options and the buffers.
  void Reset();

  int32_t record_count() const { return count_; }
  bool empty() const { return count_ == 0; }
  // Bytes of the batch so far, uncompressed, header included: an upper bound
  // (give or take a codec's framing) of what Finish() returns.
  size_t uncompressed_size() const { return records_.size(); }
  const BatchBuilderOptions& options() const { return options_; }

 private:
  BatchBuilderOptions options_;
  Buffer records_;  // batch::kHeaderSize bytes of header space, then records.
  Buffer compressed_;
  Compressor compressor_;
  int32_t count_ = 0;
  int32_t last_offset_delta_ = -1;
  int64_t base_timestamp_ = 0;
  int64_t max_timestamp_ = 0;
};

}  // namespace rill

#endif  // RILL_LIB_FORMAT_BATCH_BUILDER_H_
