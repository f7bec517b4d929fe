// Helpers for tests of record batches: reading a batch back the way a
// consumer does, and copies sized so that AddressSanitizer sees any read
// past the end.
#ifndef RILL_TESTS_TESTUTIL_BATCH_UTIL_H_
#define RILL_TESTS_TESTUTIL_BATCH_UTIL_H_

#include <cstddef>
#include <memory>
#include <span>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "format/batch_header.h"
#include "format/batch_reader.h"
#include "rill/compression.h"
#include "rill/record.h"

namespace rill::testing {

// The codecs rill writes and reads.
inline constexpr Compression kWrittenCodecs[] = {Compression::kNone, Compression::kLz4,
                                                 Compression::kZstd};

// DecodedBatch: a batch's header and its records, as ReadBatch found them.
struct DecodedBatch {
  BatchHeader header;
  std::vector<RecordView> records;
};

// ReadBatch(bytes, reader, &out): CheckBatch on the batch at the start of
// `bytes`, BatchReader::Open, then every record through the RecordDecoder.
// Returns the first error -- CheckBatch's, Open's, or RecordError() for a
// malformed record -- with the records decoded before it left in `out`.
// The records view `bytes` or `reader`'s buffers.
absl::Status ReadBatch(std::span<const char> bytes, BatchReader* reader, DecodedBatch* out);

// RewriteCrc(batch): stores the CRC-32C that the batch's bytes now call for,
// as a corrupter that knows the format would.
void RewriteCrc(std::span<char> batch);

// ExactBytes: a heap copy of exactly size() bytes (no slack), so that a read
// at or past the end is a heap overflow AddressSanitizer reports.
class ExactBytes {
 public:
  explicit ExactBytes(std::string_view bytes);

  char* data() { return data_.get(); }
  size_t size() const { return size_; }
  std::span<char> span() { return {data_.get(), size_}; }
  std::span<const char> span() const { return {data_.get(), size_}; }

 private:
  std::unique_ptr<char[]> data_;
  size_t size_;
};

}  // namespace rill::testing

#endif  // RILL_TESTS_TESTUTIL_BATCH_UTIL_H_
