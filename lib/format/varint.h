// Varint encoding for Kafka's record fields. Decoding lives in
// <rill/detail/varint.h> because the inline record iteration of the public
// API needs it; both halves are documented in docs/FORMAT.md.
#ifndef RILL_LIB_FORMAT_VARINT_H_
#define RILL_LIB_FORMAT_VARINT_H_

#include <bit>
#include <cstddef>
#include <cstdint>

#include "rill/detail/varint.h"

namespace rill {

using detail::DecodeUnsignedVarint;
using detail::DecodeVarint32;
using detail::DecodeVarint64;
using detail::kMaxVarint32Bytes;
using detail::kMaxVarint64Bytes;
using detail::ZigZagDecode32;
using detail::ZigZagDecode64;
using detail::ZigZagEncode32;
using detail::ZigZagEncode64;

// UnsignedVarintLength(v): how many bytes EncodeUnsignedVarint writes for v.
// Branch-free: 7 bits per byte, from the position of the highest set bit.
inline constexpr int UnsignedVarintLength(uint64_t v) {
  const int high_bit = 63 - std::countl_zero(v | 1);
  return (high_bit * 9 + 73) / 64;
}
inline constexpr int VarintLength32(int32_t v) { return UnsignedVarintLength(ZigZagEncode32(v)); }
inline constexpr int VarintLength64(int64_t v) { return UnsignedVarintLength(ZigZagEncode64(v)); }

// EncodeUnsignedVarint(dst, v): writes v at dst, which must have room for
// UnsignedVarintLength(v) bytes; returns the byte after it.
inline char* EncodeUnsignedVarint(char* dst, uint64_t v) {
  while (v >= 0x80) {
    *dst++ = static_cast<char>(v | 0x80);
    v >>= 7;
  }
  *dst++ = static_cast<char>(v);
  return dst;
}
// EncodeVarint32 / EncodeVarint64: zigzag, then EncodeUnsignedVarint.
inline char* EncodeVarint32(char* dst, int32_t v) { return EncodeUnsignedVarint(dst, ZigZagEncode32(v)); }
inline char* EncodeVarint64(char* dst, int64_t v) { return EncodeUnsignedVarint(dst, ZigZagEncode64(v)); }

}  // namespace rill

#endif  // RILL_LIB_FORMAT_VARINT_H_
