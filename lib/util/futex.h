// Futex: sleep on a 32-bit word until another thread changes it and wakes
// the sleepers (Linux futex(2), private to the process).
//
// Thread-safety: any thread may wait or wake.
#ifndef RILL_LIB_UTIL_FUTEX_H_
#define RILL_LIB_UTIL_FUTEX_H_

#include <time.h>

#include <atomic>
#include <cstdint>

namespace rill {

// FutexWait(word, expected, timeout): sleeps while *word == expected, until
// woken, interrupted or `timeout` (relative; null: none) passes. Returns at
// once if *word != expected. May return spuriously: re-check the condition.
void FutexWait(std::atomic<uint32_t>* word, uint32_t expected, const timespec* timeout = nullptr);

// FutexWakeAll(word): wakes every thread sleeping on `word`.
void FutexWakeAll(std::atomic<uint32_t>* word);

}  // namespace rill

#endif  // RILL_LIB_UTIL_FUTEX_H_
