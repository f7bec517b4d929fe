// BatchRewriter: rebuilds one record batch without the records the cleaner
// removes, keeping it a valid Kafka batch, as Kafka's cleaner does:
//
//  - the base offset and the offset range (lastOffsetDelta) stay: surviving
//    records keep their offsets, and the batch still ends where it did;
//  - the codec, producer id/epoch/sequence, transactional bit and timestamp
//    type stay; record timestamps, keys, values and headers are unchanged;
//  - a batch that keeps a tombstone gets a delete horizon (attribute bit 6,
//    baseTimestamp = the horizon) the first time it is rewritten; the
//    tombstone goes at a cleaning after that time;
//  - a batch left with no record is dropped, or, when the caller must keep
//    its offsets accounted for, becomes an empty batch (recordsCount 0) of
//    the same offset range;
//  - a batch that loses nothing and needs no horizon is kept byte for byte.
//
// Not thread-safe: one per cleaning thread.
#ifndef RILL_LIB_RETENTION_BATCH_REWRITER_H_
#define RILL_LIB_RETENTION_BATCH_REWRITER_H_

#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "absl/status/statusor.h"
#include "format/batch_builder.h"
#include "format/batch_header.h"
#include "format/batch_reader.h"
#include "rill/record.h"

namespace rill::retention {

struct RewrittenBatch {
  // The batch to write, or empty when nothing of it is left. Valid until the
  // next Rewrite.
  std::span<const char> bytes;
  // Whether `bytes` is the input, unchanged.
  bool unchanged = false;
  int32_t records_in = 0;
  int32_t records_kept = 0;
  // The batch's delete horizon (-1: none) and whether it keeps a tombstone,
  // so the caller knows when cleaning is next due.
  int64_t delete_horizon_ms = -1;
  bool keeps_tombstone = false;
};

class BatchRewriter {
 public:
  // keep(record): whether the cleaner keeps `record` -- tombstones
  // included; the horizon is applied here, after `keep`.
  using KeepFn = std::function<bool(const RecordView&)>;

  // Rewrite(batch, header, keep, now_ms, delete_retention_ms, keep_empty):
  // `batch` is one whole, checked batch whose header is `header`. A kept
  // tombstone whose batch has a delete horizon at or before now_ms is
  // removed; one in a batch without a horizon gets now_ms +
  // delete_retention_ms. With keep_empty, a batch left with no record
  // becomes an empty one. kDataLoss when the records cannot be decoded.
  absl::StatusOr<RewrittenBatch> Rewrite(std::span<const char> batch, const BatchHeader& header,
                                         const KeepFn& keep, int64_t now_ms,
                                         int64_t delete_retention_ms, bool keep_empty);

 private:
  BatchReader reader_;
  BatchBuilder builder_;
  std::vector<RecordView> kept_;
  std::vector<Header> headers_;
};

}  // namespace rill::retention

#endif  // RILL_LIB_RETENTION_BATCH_REWRITER_H_
