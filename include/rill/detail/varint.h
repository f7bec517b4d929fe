// Varint decoding used by the inline record iteration of <rill/record.h>.
// Not part of rill's API: names in rill::detail may change in any release.
//
// Kafka's records use the varint of Protocol Buffers (7 bits per byte, least
// significant group first, high bit set on every byte but the last) and, for
// signed fields, zigzag encoding: 0, -1, 1, -2 ... map to 0, 1, 2, 3 ...
#ifndef RILL_DETAIL_VARINT_H_
#define RILL_DETAIL_VARINT_H_

#include <cstdint>

namespace rill::detail {

inline constexpr int kMaxVarint32Bytes = 5;
inline constexpr int kMaxVarint64Bytes = 10;

inline constexpr uint32_t ZigZagEncode32(int32_t v) {
  return (static_cast<uint32_t>(v) << 1) ^ static_cast<uint32_t>(v >> 31);
}
inline constexpr uint64_t ZigZagEncode64(int64_t v) {
  return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63);
}
inline constexpr int32_t ZigZagDecode32(uint32_t v) {
  return static_cast<int32_t>((v >> 1) ^ (~(v & 1) + 1));
}
inline constexpr int64_t ZigZagDecode64(uint64_t v) {
  return static_cast<int64_t>((v >> 1) ^ (~(v & 1) + 1));
}

// DecodeShortUnsignedVarint(p, limit, &v): decodes the varint at [p, limit)
// when it is one or two bytes long (below 16384), the usual length or delta
// in a record. Returns the byte after it, or nullptr for a longer varint and
// for one that runs past `limit`. Never reads at or beyond `limit`.
inline const char* DecodeShortUnsignedVarint(const char* p, const char* limit, uint32_t* v) {
  if (limit - p < 1) return nullptr;
  const uint32_t b0 = static_cast<uint8_t>(p[0]);
  if (b0 < 0x80) {
    *v = b0;
    return p + 1;
  }
  if (limit - p < 2) return nullptr;
  const uint32_t b1 = static_cast<uint8_t>(p[1]);
  if (b1 >= 0x80) return nullptr;
  *v = (b0 & 0x7f) | (b1 << 7);
  return p + 2;
}

// DecodeUnsignedVarint(p, limit, max_bytes, &v): decodes the varint at
// [p, limit) of at most `max_bytes` (at most 10) bytes. Returns the byte after
// it, or nullptr when the varint runs past `limit`, is longer than
// `max_bytes`, or carries bits beyond the 64th. Never reads at or beyond
// `limit`.
inline const char* DecodeUnsignedVarint(const char* p, const char* limit, int max_bytes,
                                        uint64_t* v) {
  uint32_t short_value;
  if (const char* next = DecodeShortUnsignedVarint(p, limit, &short_value); next != nullptr) {
    *v = short_value;
    return next;
  }
  uint64_t result = 0;
  for (int shift = 0, i = 0; i < max_bytes && p < limit; ++i, shift += 7) {
    const uint8_t byte = static_cast<uint8_t>(*p++);
    // The tenth byte holds bit 63 alone; anything more would be shifted out.
    if (shift > 57 && ((byte & 0x7f) >> (64 - shift)) != 0) return nullptr;
    result |= static_cast<uint64_t>(byte & 0x7f) << shift;
    if (byte < 0x80) {
      *v = result;
      return p;
    }
  }
  return nullptr;
}

// DecodeShortVarint32(p, limit, &v): DecodeVarint32 for a varint of one or
// two bytes (-8192 to 8191). Returns nullptr for a longer varint, as for one
// past `limit`: the caller then decodes it the long way.
inline const char* DecodeShortVarint32(const char* p, const char* limit, int32_t* v) {
  uint32_t u;
  p = DecodeShortUnsignedVarint(p, limit, &u);
  if (p == nullptr) return nullptr;
  *v = ZigZagDecode32(u);
  return p;
}

// DecodeVarint32 / DecodeVarint64: a zigzag-encoded signed varint, as Kafka's
// record fields use. Same contract as DecodeUnsignedVarint.
inline const char* DecodeVarint32(const char* p, const char* limit, int32_t* v) {
  uint64_t u;
  p = DecodeUnsignedVarint(p, limit, kMaxVarint32Bytes, &u);
  if (p == nullptr || u > 0xffffffffu) return nullptr;
  *v = ZigZagDecode32(static_cast<uint32_t>(u));
  return p;
}
inline const char* DecodeVarint64(const char* p, const char* limit, int64_t* v) {
  uint64_t u;
  p = DecodeUnsignedVarint(p, limit, kMaxVarint64Bytes, &u);
  if (p == nullptr) return nullptr;
  *v = ZigZagDecode64(u);
  return p;
}

}  // namespace rill::detail

#endif  // RILL_DETAIL_VARINT_H_
