// CRC-32C with the SSE4.2 crc32 instruction. The instruction has a latency of
// three cycles and a throughput of one per cycle, so long inputs are cut into
// three blocks whose CRCs are computed in parallel and then combined: the CRC
// register is linear, so crc(A||B) = Shift(crc(A), |B|) ^ crc0(B), where
// Shift(x, n) is the register after n zero bytes from state x and crc0 starts
// from zero. Shift for a fixed n is a 32x32 bit matrix, applied here as four
// byte-indexed tables.
#include "format/crc32c.h"

#include <cstring>

#if defined(__x86_64__)
#include <nmmintrin.h>
#endif

namespace rill::crc32c {

#if defined(__x86_64__)
namespace {

constexpr size_t kLong = 8192;  // Bytes per stream in the long 3-way loop.
constexpr size_t kShort = 256;  // Bytes per stream in the short 3-way loop.

struct ShiftTable {
  uint32_t t[4][256];
};

__attribute__((target("sse4.2"))) uint32_t ShiftByZeros(uint32_t state, size_t n) {
  uint64_t c = state;
  for (size_t i = 0; i < n / 8; ++i) c = _mm_crc32_u64(c, 0);
  return static_cast<uint32_t>(c);
}

__attribute__((target("sse4.2"))) ShiftTable MakeShiftTable(size_t n) {
  uint32_t basis[32];
  for (int i = 0; i < 32; ++i) basis[i] = ShiftByZeros(1u << i, n);
  ShiftTable table;
  for (int k = 0; k < 4; ++k) {
    for (uint32_t b = 0; b < 256; ++b) {
      uint32_t v = 0;
      for (int bit = 0; bit < 8; ++bit) {
        if (b & (1u << bit)) v ^= basis[8 * k + bit];
      }
      table.t[k][b] = v;
    }
  }
  return table;
}

inline uint32_t Shift(const ShiftTable& table, uint32_t c) {
  return table.t[0][c & 0xff] ^ table.t[1][(c >> 8) & 0xff] ^ table.t[2][(c >> 16) & 0xff] ^
         table.t[3][c >> 24];
}

inline uint64_t Load64(const uint8_t* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}

// Runs the 3-way loop over as many 3*block chunks as `n` holds.
__attribute__((target("sse4.2"))) inline uint32_t ThreeWay(uint32_t c, const uint8_t*& p,
                                                           size_t& n, size_t block,
                                                           const ShiftTable& shift) {
  while (n >= 3 * block) {
    uint64_t c0 = c;
    uint64_t c1 = 0;
    uint64_t c2 = 0;
    const uint8_t* const end = p + block;
    do {
      c0 = _mm_crc32_u64(c0, Load64(p));
      c1 = _mm_crc32_u64(c1, Load64(p + block));
      c2 = _mm_crc32_u64(c2, Load64(p + 2 * block));
      p += 8;
    } while (p < end);
    c = Shift(shift, static_cast<uint32_t>(c0)) ^ static_cast<uint32_t>(c1);
    c = Shift(shift, c) ^ static_cast<uint32_t>(c2);
    p += 2 * block;
    n -= 3 * block;
  }
  return c;
}

}  // namespace

bool HardwareAvailable() {
  static const bool available = __builtin_cpu_supports("sse4.2");
  return available;
}

__attribute__((target("sse4.2"))) uint32_t ExtendHardware(uint32_t crc, const void* data,
                                                          size_t n) {
  static const ShiftTable kLongShift = MakeShiftTable(kLong);
  static const ShiftTable kShortShift = MakeShiftTable(kShort);
  const auto* p = static_cast<const uint8_t*>(data);
  uint32_t c = ~crc;
  while (n > 0 && (reinterpret_cast<uintptr_t>(p) & 7) != 0) {
    c = _mm_crc32_u8(c, *p++);
    --n;
  }
  c = ThreeWay(c, p, n, kLong, kLongShift);
  c = ThreeWay(c, p, n, kShort, kShortShift);
  uint64_t c64 = c;
  while (n >= 8) {
    c64 = _mm_crc32_u64(c64, Load64(p));
    p += 8;
    n -= 8;
  }
  c = static_cast<uint32_t>(c64);
  while (n > 0) {
    c = _mm_crc32_u8(c, *p++);
    --n;
  }
  return ~c;
}

#else  // No hardware CRC-32C support is compiled for this architecture.

bool HardwareAvailable() { return false; }
uint32_t ExtendHardware(uint32_t crc, const void* data, size_t n) {
  return ExtendPortable(crc, data, n);
}

#endif

}  // namespace rill::crc32c
