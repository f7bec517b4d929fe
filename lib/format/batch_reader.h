// BatchReader: turns a checked batch into a RecordDecoder over its records,
// decompressing into buffers it owns. Records of every batch opened since the
// last Clear() stay valid together, which is what a consumer's poll needs.
// Not thread-safe: one per reading thread.
#ifndef RILL_LIB_FORMAT_BATCH_READER_H_
#define RILL_LIB_FORMAT_BATCH_READER_H_

#include <cstddef>
#include <memory>
#include <span>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "format/batch_header.h"
#include "format/compression.h"
#include "rill/record.h"
#include "util/buffer.h"

namespace rill {

class BatchReader {
 public:
  // Decompressed records larger than this are taken for corruption.
  static constexpr size_t kDefaultMaxDecompressedSize = 256u << 20;

  explicit BatchReader(size_t max_decompressed_size = kDefaultMaxDecompressedSize)
      : max_decompressed_size_(max_decompressed_size) {}

  // Open(batch, header, &decoder): points `decoder` at the records of
  // `batch`, whose header `header` is (CheckBatch passed on it). Compressed
  // records are decompressed into a buffer that lives until Clear(). Returns
  // kDataLoss if the records cannot be decompressed, kUnimplemented for a
  // codec rill does not read. The decoder reports malformed records itself.
  absl::Status Open(std::span<const char> batch, const BatchHeader& header,
                    detail::RecordDecoder* decoder);

  // Records(batch, header): the batch's records, uncompressed: a view into
  // `batch`, or into a buffer that lives until Clear(). Same errors as Open.
  absl::StatusOr<std::span<const char>> Records(std::span<const char> batch,
                                                const BatchHeader& header);

  // Clear(): releases (for reuse) every buffer handed out since the last
  // Clear(); records decoded from compressed batches become invalid.
  void Clear() { used_ = 0; }

 private:
  size_t max_decompressed_size_;
  Decompressor decompressor_;
  std::vector<std::unique_ptr<Buffer>> buffers_;
  size_t used_ = 0;
};

// DecoderInfo(header): what a RecordDecoder needs to know of a batch.
detail::RecordDecoder::BatchInfo DecoderInfo(const BatchHeader& header);

// RecordError(decoder, header): the kDataLoss status for a decoder that
// stopped on a malformed record of the batch `header` describes.
absl::Status RecordError(const detail::RecordDecoder& decoder, const BatchHeader& header);

}  // namespace rill

#endif  // RILL_LIB_FORMAT_BATCH_READER_H_
