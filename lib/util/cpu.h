// CpuRelax(): tells the CPU the thread is spinning (x86 pause, Arm yield),
// which saves power and lets a sibling hyperthread run.
#ifndef RILL_LIB_UTIL_CPU_H_
#define RILL_LIB_UTIL_CPU_H_

namespace rill {

inline void CpuRelax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__) || defined(__arm__)
  asm volatile("yield" ::: "memory");
#endif
}

}  // namespace rill

#endif  // RILL_LIB_UTIL_CPU_H_
