// Compression codecs for record batches, numbered as Kafka numbers them in
// the batch attributes (bits 0-2).
//
// Persistent format: these values are written to disk; never renumber.
#ifndef RILL_COMPRESSION_H_
#define RILL_COMPRESSION_H_

#include <cstdint>
#include <string_view>

namespace rill {

enum class Compression : uint8_t {
  kNone = 0,
  kGzip = 1,    // Kafka's; rill reads and writes neither gzip nor snappy.
  kSnappy = 2,  //
  kLz4 = 3,     // LZ4 frame format, 64 KiB independent blocks, as Kafka writes.
  kZstd = 4,    // A standard zstd frame.
};

// CompressionName(c): "none", "gzip", "snappy", "lz4", "zstd", or "unknown".
constexpr std::string_view CompressionName(Compression c) {
  switch (c) {
    case Compression::kNone: return "none";
    case Compression::kGzip: return "gzip";
    case Compression::kSnappy: return "snappy";
    case Compression::kLz4: return "lz4";
    case Compression::kZstd: return "zstd";
  }
  return "unknown";
}

}  // namespace rill

#endif  // RILL_COMPRESSION_H_
