#include "format/batch_reader.h"

#include <string_view>

#include "absl/strings/str_format.h"
#include "format/batch_format.h"

namespace rill {

detail::RecordDecoder::BatchInfo DecoderInfo(const BatchHeader& header) {
  return detail::RecordDecoder::BatchInfo{
      .base_offset = header.base_offset,
      .base_timestamp = header.base_timestamp,
      .max_timestamp = header.max_timestamp,
      .last_offset_delta = header.last_offset_delta,
      .record_count = header.records_count,
      .log_append_time = header.log_append_time(),
  };
}

absl::Status BatchReader::Open(std::span<const char> batch, const BatchHeader& header,
                               detail::RecordDecoder* decoder) {
  absl::StatusOr<std::span<const char>> records = Records(batch, header);
  if (!records.ok()) return records.status();
  *decoder = detail::RecordDecoder(records->data(), records->data() + records->size(),
                                   DecoderInfo(header));
  return absl::OkStatus();
}

absl::StatusOr<std::span<const char>> BatchReader::Records(std::span<const char> batch,
                                                           const BatchHeader& header) {
  const char* records = batch.data() + batch::kRecordsPos;
  const size_t records_size = header.size() - batch::kRecordsPos;
  if (header.compression() == Compression::kNone) {
    return std::span<const char>(records, records_size);
  }
  if (used_ == buffers_.size()) buffers_.push_back(std::make_unique<Buffer>());
  Buffer* out = buffers_[used_].get();
  out->clear();
  absl::Status s = decompressor_.Decompress(
      header.compression(), std::string_view(records, records_size), max_decompressed_size_, out);
  if (!s.ok()) {
    return absl::Status(s.code(), absl::StrFormat("batch at offset %d: %s", header.base_offset,
                                                  s.message()));
  }
  ++used_;
  return std::span<const char>(out->data(), out->size());
}

absl::Status RecordError(const detail::RecordDecoder& decoder, const BatchHeader& header) {
  return absl::DataLossError(absl::StrFormat(
      "batch at offset %d: record %d (byte %d of the records): %s", header.base_offset,
      decoder.decoded(), decoder.error_position(), decoder.error()));
}

}  // namespace rill
