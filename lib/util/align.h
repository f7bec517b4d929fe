// Rounding byte counts and offsets to whole units: pages, disk blocks,
// allocation chunks.
#ifndef RILL_LIB_UTIL_ALIGN_H_
#define RILL_LIB_UTIL_ALIGN_H_

#include <cstdint>

namespace rill {

// RoundDown(n, unit): the largest multiple of `unit` (> 0) that is <= n.
constexpr uint64_t RoundDown(uint64_t n, uint64_t unit) { return n / unit * unit; }

// RoundUp(n, unit): the smallest multiple of `unit` (> 0) that is >= n.
// `n + unit - 1` must not overflow.
constexpr uint64_t RoundUp(uint64_t n, uint64_t unit) { return RoundDown(n + unit - 1, unit); }

}  // namespace rill

#endif  // RILL_LIB_UTIL_ALIGN_H_
