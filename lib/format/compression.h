// Compressor and Decompressor: the codecs of a batch's records. Each holds
// its codec contexts so that encoding many batches allocates nothing after
// the first. Not thread-safe: one per thread (a producer, a consumer).
#ifndef RILL_LIB_FORMAT_COMPRESSION_H_
#define RILL_LIB_FORMAT_COMPRESSION_H_

#include <cstddef>
#include <string_view>

#include "absl/status/status.h"
#include "rill/compression.h"
#include "util/buffer.h"

namespace rill {

// CompressionSupported(c): whether rill can write and read codec `c` (none,
// lz4 and zstd; not Kafka's gzip or snappy).
bool CompressionSupported(Compression c);

class Compressor {
 public:
  Compressor();
  ~Compressor();
  Compressor(const Compressor&) = delete;
  Compressor& operator=(const Compressor&) = delete;

  // Compress(c, in, level, out): appends `in` compressed with `c` to `out`.
  // `level` 0 picks the codec's default (zstd 3, as Kafka; lz4 fast).
  // Returns kInvalidArgument for a codec rill does not write, kInternal if
  // the codec library fails.
  absl::Status Compress(Compression c, std::string_view in, int level, Buffer* out);

 private:
  struct Contexts;
  Contexts* contexts_;
};

class Decompressor {
 public:
  Decompressor();
  ~Decompressor();
  Decompressor(const Decompressor&) = delete;
  Decompressor& operator=(const Decompressor&) = delete;

  // Decompress(c, in, max_size, out): appends the decompressed `in` to
  // `out`. Returns kDataLoss when `in` is not a valid stream of codec `c` or
  // would expand past `max_size` bytes (a stream of exactly `max_size` bytes
  // is fine), kUnimplemented for gzip and snappy. On failure `out` keeps its
  // former size.
  absl::Status Decompress(Compression c, std::string_view in, size_t max_size, Buffer* out);

 private:
  absl::Status DecompressAppend(Compression c, std::string_view in, size_t max_size, Buffer* out);

  struct Contexts;
  Contexts* contexts_;
};

}  // namespace rill

#endif  // RILL_LIB_FORMAT_COMPRESSION_H_
