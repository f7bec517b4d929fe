// FastWriters: which of a log's segment writers have been appending flat
// out just now, so that each can tell whether a core is spare to fault
// pages in ahead of it (Populator::kByRate).
//
// A background prefault only pays while a core would otherwise idle: with
// as many flat-out writers as cores it takes CPU from them, and their
// batches written with pwritev past the faulted edge cost less than the
// faults would.
//
// Thread-safety: every method may be called from any thread.
#ifndef RILL_LIB_STORAGE_FAST_WRITERS_H_
#define RILL_LIB_STORAGE_FAST_WRITERS_H_

#include <cstdint>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "util/mutex.h"

namespace rill {

class FastWriters {
 public:
  // A writer counts as fast for this long after it last reported.
  static constexpr int64_t kRecentMillis = 50;

  // `cores`: the CPUs the process may run on.
  explicit FastWriters(int cores) : cores_(cores) {}
  FastWriters(const FastWriters&) = delete;
  FastWriters& operator=(const FastWriters&) = delete;

  // Report(writer, now_ms): `writer` (any address that names it) appended
  // flat out up to now_ms. Returns whether a core is spare for faulting
  // pages in ahead of it: fewer writers than cores, this one included,
  // reported within kRecentMillis of now_ms.
  bool Report(const void* writer, int64_t now_ms);

  // The number of CPUs this process may run on (at least 1).
  static int AvailableCores();

 private:
  const int cores_;
  Mutex mu_;
  std::vector<std::pair<const void*, int64_t>> recent_ ABSL_GUARDED_BY(mu_);
};

}  // namespace rill

#endif  // RILL_LIB_STORAGE_FAST_WRITERS_H_
