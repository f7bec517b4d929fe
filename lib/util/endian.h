// Big-endian loads and stores, the byte order of every integer Kafka's formats
// put on disk. Unaligned access is fine: they go through memcpy.
#ifndef RILL_LIB_UTIL_ENDIAN_H_
#define RILL_LIB_UTIL_ENDIAN_H_

#include <bit>
#include <cstdint>
#include <cstring>

namespace rill {

template <typename T>
inline T ByteSwapIfLittle(T v) {
  if constexpr (std::endian::native == std::endian::big || sizeof(T) == 1) {
    return v;
  } else if constexpr (sizeof(T) == 2) {
    return static_cast<T>(__builtin_bswap16(static_cast<uint16_t>(v)));
  } else if constexpr (sizeof(T) == 4) {
    return static_cast<T>(__builtin_bswap32(static_cast<uint32_t>(v)));
  } else {
    static_assert(sizeof(T) == 8);
    return static_cast<T>(__builtin_bswap64(static_cast<uint64_t>(v)));
  }
}

// LoadBigEndian<T>(p): the big-endian integer of sizeof(T) bytes at `p`.
template <typename T>
inline T LoadBigEndian(const void* p) {
  T v;
  std::memcpy(&v, p, sizeof(T));
  return ByteSwapIfLittle(v);
}

// StoreBigEndian(p, v): writes `v` at `p` as sizeof(T) big-endian bytes.
template <typename T>
inline void StoreBigEndian(void* p, T v) {
  v = ByteSwapIfLittle(v);
  std::memcpy(p, &v, sizeof(T));
}

}  // namespace rill

#endif  // RILL_LIB_UTIL_ENDIAN_H_
