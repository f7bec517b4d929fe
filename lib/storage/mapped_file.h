// MappedFile: a file mapped once at its largest possible length and grown by
// allocation (fallocate) in chunks as data is appended, so that the mapping
// never moves and a write through it never lands on unallocated space (which
// would raise SIGBUS on a full disk instead of returning an error).
//
// Thread-safety: EnsureAllocated, Populate and allocated() may be called
// from any thread; Trim must not race with the others.
#ifndef RILL_LIB_STORAGE_MAPPED_FILE_H_
#define RILL_LIB_STORAGE_MAPPED_FILE_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "storage/disk_usage.h"
#include "storage/file_system.h"
#include "util/mutex.h"

namespace rill {

class MappedFile {
 public:
  // Open(fs, path, mode, max_length, writable, usage, map_writable): opens
  // (or creates, per mode) the file and maps max_length bytes of it, or the
  // file's size if that is larger. A read-only file is mapped at its current
  // size. A writable one is mapped for writing unless `map_writable` is
  // false: then it is written with File::WritevAt only, and the mapping
  // only reads. Growth and trims from then on are counted in `usage` (may
  // be null); the size the file had when opened is not: its owner counted
  // it when it measured it.
  static absl::StatusOr<std::unique_ptr<MappedFile>> Open(
      FileSystem& fs, const std::string& path, OpenMode mode, uint64_t max_length, bool writable,
      std::shared_ptr<DiskUsage> usage = nullptr, bool map_writable = true);

  char* data() const { return mapping_->data(); }
  uint64_t max_length() const { return max_length_; }
  const std::string& path() const { return file_->path(); }
  File& file() { return *file_; }

  // allocated(): the file's size. Bytes [0, allocated()) may be touched.
  uint64_t allocated() const { return allocated_.load(std::memory_order_acquire); }

  // EnsureAllocated(end, chunk): grows the file to at least `end` bytes,
  // rounding up to a multiple of `chunk`, capped at max_length(). Returns
  // kResourceExhausted when the device is full (the file keeps its size),
  // kOutOfRange when `end` exceeds max_length().
  absl::Status EnsureAllocated(uint64_t end, uint64_t chunk);

  // Populate(from, to): prefaults [from, to), which must be allocated.
  void Populate(uint64_t from, uint64_t to) { mapping_->Populate(from, to - from); }
  // PopulateRead(from, to): maps [from, to), which must lie within the
  // file, for reading (Mapping::PopulateRead).
  void PopulateRead(uint64_t from, uint64_t to) { mapping_->PopulateRead(from, to - from); }

  // Trim(size): truncates the file to `size` bytes, releasing the space
  // allocated past it.
  absl::Status Trim(uint64_t size);

  // Sync(offset, n): makes bytes [offset, offset+n) durable. SyncAll(): the
  // whole file, size included.
  absl::Status Sync(uint64_t offset, uint64_t n) { return mapping_->Sync(offset, n); }
  absl::Status SyncAll() { return file_->Sync(); }

  // DiscardWritable(): for a file that will not be written again, before it
  // is synced: swaps the writable mapping's page-table entries for clean,
  // read-only ones (Mapping::Discard, then PopulateRead), so that writeback
  // has none to write-protect and readers still find the pages mapped. The
  // bytes stay. A no-op when the mapping is read-only.
  void DiscardWritable() {
    if (!map_writable_) return;
    const uint64_t n = allocated();
    mapping_->Discard(0, n);
    mapping_->PopulateRead(0, n);
  }

 private:
  MappedFile(std::unique_ptr<File> file, std::unique_ptr<Mapping> mapping, uint64_t max_length,
             uint64_t size, bool map_writable, std::shared_ptr<DiskUsage> usage);

  std::unique_ptr<File> file_;
  const std::shared_ptr<DiskUsage> usage_;
  std::unique_ptr<Mapping> mapping_;
  const uint64_t max_length_;
  const bool map_writable_;
  Mutex grow_mu_;
  std::atomic<uint64_t> allocated_;
};

}  // namespace rill

#endif  // RILL_LIB_STORAGE_MAPPED_FILE_H_
