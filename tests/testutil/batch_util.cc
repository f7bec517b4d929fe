#include "testutil/batch_util.h"

#include <cstring>

#include "format/batch_format.h"
#include "util/endian.h"

namespace rill::testing {

absl::Status ReadBatch(std::span<const char> bytes, BatchReader* reader, DecodedBatch* out) {
  out->records.clear();
  if (absl::Status s = CheckBatch(bytes, &out->header); !s.ok()) return s;
  detail::RecordDecoder decoder;
  if (absl::Status s = reader->Open(bytes, out->header, &decoder); !s.ok()) return s;
  RecordView record;
  while (decoder.Next(&record)) out->records.push_back(record);
  if (decoder.error() != nullptr) return RecordError(decoder, out->header);
  return absl::OkStatus();
}

void RewriteCrc(std::span<char> batch) {
  StoreBigEndian<uint32_t>(batch.data() + batch::kCrcPos, ComputeBatchCrc(batch));
}

ExactBytes::ExactBytes(std::string_view bytes)
    : data_(new char[bytes.size()]), size_(bytes.size()) {
  if (size_ > 0) std::memcpy(data_.get(), bytes.data(), size_);
}

}  // namespace rill::testing
