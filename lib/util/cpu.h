// CpuRelax(): tells the CPU the thread is spinning (x86 pause, Arm yield),
// which saves power and lets a sibling hyperthread run. kCacheLine: the
// size to align fields to that one thread writes and another reads, so
// that they share no cache line with fields the other thread writes.
#ifndef RILL_LIB_UTIL_CPU_H_
#define RILL_LIB_UTIL_CPU_H_

#include <cstddef>

namespace rill {

// 64 bytes on x86-64 and most Arm cores (std::hardware_destructive_
// interference_size is not stable across compiler flags, so not used).
inline constexpr std::size_t kCacheLine = 64;

inline void CpuRelax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__) || defined(__arm__)
  asm volatile("yield" ::: "memory");
#endif
}

}  // namespace rill

#endif  // RILL_LIB_UTIL_CPU_H_
