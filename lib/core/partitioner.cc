// Murmur2 as Kafka's Java client computes it. Java reads the 4-byte blocks
// little-endian and does its arithmetic on signed ints with wrapping; the
// same bits come out of unsigned arithmetic here.
#include "rill/partitioner.h"

namespace rill {

uint32_t Murmur2(std::string_view data) {
  constexpr uint32_t kSeed = 0x9747b28c;
  constexpr uint32_t kM = 0x5bd1e995;
  constexpr int kR = 24;
  const size_t length = data.size();
  const auto* bytes = reinterpret_cast<const unsigned char*>(data.data());
  uint32_t h = kSeed ^ static_cast<uint32_t>(length);
  const size_t blocks = length / 4;
  for (size_t i = 0; i < blocks; ++i) {
    const size_t j = i * 4;
    uint32_t k = static_cast<uint32_t>(bytes[j]) | static_cast<uint32_t>(bytes[j + 1]) << 8 |
                 static_cast<uint32_t>(bytes[j + 2]) << 16 | static_cast<uint32_t>(bytes[j + 3]) << 24;
    k *= kM;
    k ^= k >> kR;
    k *= kM;
    h *= kM;
    h ^= k;
  }
  const size_t tail = blocks * 4;
  switch (length % 4) {
    case 3:
      h ^= static_cast<uint32_t>(bytes[tail + 2]) << 16;
      [[fallthrough]];
    case 2:
      h ^= static_cast<uint32_t>(bytes[tail + 1]) << 8;
      [[fallthrough]];
    case 1:
      h ^= static_cast<uint32_t>(bytes[tail]);
      h *= kM;
  }
  h ^= h >> 13;
  h *= kM;
  h ^= h >> 15;
  return h;
}

}  // namespace rill
