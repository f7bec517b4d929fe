// DiskUsage: a running count of the bytes a group of files occupies on the
// device, kept up to date as the files grow, shrink and are deleted, so that
// a disk budget can be checked on the append path without a system call.
//
// Counts nest: a partition's DiskUsage has its topic's as parent, which has
// the log's. A change is added to the node and to every ancestor, so each
// node always holds the total of its subtree. The count follows what rill
// itself does to its files (allocations rounded up to whole blocks, trims,
// deletions); it is corrected from the file system's own figures (st_blocks)
// when the owner measures the files again (Correct()).
//
// Thread-safety: every method may be called from any thread.
#ifndef RILL_LIB_STORAGE_DISK_USAGE_H_
#define RILL_LIB_STORAGE_DISK_USAGE_H_

#include <atomic>
#include <cstdint>
#include <memory>

#include "util/align.h"

namespace rill {

class DiskUsage {
 public:
  // Space is allocated in blocks of this size: a file of n bytes is counted
  // as RoundUp(n) bytes.
  static constexpr uint64_t kBlock = 4096;
  static constexpr uint64_t RoundUp(uint64_t n) { return rill::RoundUp(n, kBlock); }

  explicit DiskUsage(std::shared_ptr<DiskUsage> parent = nullptr) : parent_(std::move(parent)) {}
  DiskUsage(const DiskUsage&) = delete;
  DiskUsage& operator=(const DiskUsage&) = delete;

  // Add(delta): the subtree grew by `delta` bytes (shrank, if negative).
  void Add(int64_t delta) {
    for (DiskUsage* u = this; u != nullptr; u = u->parent_.get()) {
      u->bytes_.fetch_add(delta, std::memory_order_relaxed);
    }
  }

  // Resize(old_size, new_size): a file went from old_size to new_size bytes.
  void Resize(uint64_t old_size, uint64_t new_size) {
    Add(static_cast<int64_t>(RoundUp(new_size)) - static_cast<int64_t>(RoundUp(old_size)));
  }

  // Correct(counted_before, measured): the owner read bytes() as
  // `counted_before`, then measured its files at `measured` bytes. Changes
  // counted meanwhile are kept, so the count errs on the high side when a
  // file changed during the measurement.
  void Correct(int64_t counted_before, int64_t measured) { Add(measured - counted_before); }

  // bytes(): bytes of the subtree, as counted.
  int64_t bytes() const { return bytes_.load(std::memory_order_relaxed); }

 private:
  const std::shared_ptr<DiskUsage> parent_;
  std::atomic<int64_t> bytes_{0};
};

}  // namespace rill

#endif  // RILL_LIB_STORAGE_DISK_USAGE_H_
