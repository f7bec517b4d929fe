#include "format/batch_reader.h"

#include <string_view>

#include "absl/strings/str_format.h"
#include "format/batch_format.h"

namespace rill {

absl::Status BatchReader::Open(std::span<const char> batch, const BatchHeader& header,
                               detail::RecordDecoder* decoder) {
  const detail::RecordDecoder::BatchInfo info{
      .base_offset = header.base_offset,
      .base_timestamp = header.base_timestamp,
      .max_timestamp = header.max_timestamp,
      .last_offset_delta = header.last_offset_delta,
      .record_count = header.records_count,
      .log_append_time = header.log_append_time(),
  };
  const char* records = batch.data() + batch::kRecordsPos;
  const size_t records_size = header.size() - batch::kRecordsPos;
  if (header.compression() == Compression::kNone) {
    *decoder = detail::RecordDecoder(records, records + records_size, info);
    return absl::OkStatus();
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
  *decoder = detail::RecordDecoder(out->data(), out->data() + out->size(), info);
  return absl::OkStatus();
}

absl::Status RecordError(const detail::RecordDecoder& decoder, const BatchHeader& header) {
  return absl::DataLossError(absl::StrFormat(
      "batch at offset %d: record %d (byte %d of the records): %s", header.base_offset,
      decoder.decoded(), decoder.error_position(), decoder.error()));
}

}  // namespace rill
