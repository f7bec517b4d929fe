#include "retention/batch_rewriter.h"

#include "format/batch_format.h"
#include "util/status_macros.h"

namespace rill::retention {

absl::StatusOr<RewrittenBatch> BatchRewriter::Rewrite(std::span<const char> batch,
                                                      const BatchHeader& header, const KeepFn& keep,
                                                      int64_t now_ms, int64_t delete_retention_ms,
                                                      bool keep_empty) {
  RewrittenBatch out;
  out.records_in = header.records_count;
  const bool has_horizon = (header.attributes & batch::kAttrDeleteHorizon) != 0;
  out.delete_horizon_ms = has_horizon ? header.base_timestamp : -1;
  if (header.control()) {
    // Kafka's transaction markers: rill writes none; kept as they are.
    out.bytes = batch;
    out.unchanged = true;
    out.records_kept = header.records_count;
    return out;
  }
  reader_.Clear();
  ASSIGN_OR_RETURN(std::span<const char> records, reader_.Records(batch, header));
  detail::RecordDecoder decoder(records.data(), records.data() + records.size(),
                                DecoderInfo(header));
  kept_.clear();
  RecordView r;
  while (decoder.Next(&r)) {
    if (!keep(r)) continue;
    if (!r.has_value()) {
      // A tombstone: gone once its batch's horizon has passed.
      if (has_horizon && header.base_timestamp <= now_ms) continue;
      out.keeps_tombstone = true;
    }
    kept_.push_back(r);
  }
  if (decoder.error() != nullptr) return RecordError(decoder, header);
  out.records_kept = static_cast<int32_t>(kept_.size());
  const bool needs_horizon = out.keeps_tombstone && !has_horizon;
  if (out.records_kept == out.records_in && !needs_horizon) {
    out.bytes = batch;
    out.unchanged = true;
    return out;
  }
  if (needs_horizon) out.delete_horizon_ms = now_ms + delete_retention_ms;
  BatchBuilderOptions options{
      .compression = header.compression(),
      .transactional = header.transactional(),
      .control = false,
      .producer_id = header.producer_id,
      .producer_epoch = header.producer_epoch,
      .base_sequence = header.base_sequence,
      .delete_horizon_ms = out.delete_horizon_ms,
      .log_append_time_ms = header.log_append_time() ? header.max_timestamp : -1,
  };
  builder_.Reset(options);
  if (kept_.empty()) {
    if (keep_empty)
      out.bytes = builder_.FinishEmpty(header.last_offset_delta, header.max_timestamp);
    return out;
  }
  for (const RecordView& k : kept_) {
    headers_.assign(k.headers().begin(), k.headers().end());
    Record record{.headers = headers_, .timestamp = k.timestamp()};
    if (k.has_key()) record.key = k.key();
    if (k.has_value()) record.value = k.value();
    builder_.AddWithOffsetDelta(record, k.timestamp(),
                                static_cast<int32_t>(k.offset() - header.base_offset));
  }
  builder_.set_last_offset_delta(header.last_offset_delta);
  ASSIGN_OR_RETURN(out.bytes, builder_.Finish());
  return out;
}

}  // namespace rill::retention
