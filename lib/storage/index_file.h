// IndexFile: an append-only array of fixed-size entries in a memory-mapped
// file -- what the offset and time indexes of a segment have in common.
//
// Thread-safety: one writer (Append, Truncate, Trim) and any number of
// readers (size, entry) at once; a reader sees every entry counted by a
// size() it loaded.
#ifndef RILL_LIB_STORAGE_INDEX_FILE_H_
#define RILL_LIB_STORAGE_INDEX_FILE_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "storage/mapped_file.h"

namespace rill {

class IndexFile {
 public:
  // Open(fs, path, entry_size, max_bytes, writable, create): maps the index
  // file at `path`. Its entry count is its size / entry_size (a partial
  // last entry is ignored). With `create`, a missing file is created empty.
  // The file grows `grow_chunk` bytes at a time; its growth is counted in
  // `usage` (may be null).
  static absl::StatusOr<std::unique_ptr<IndexFile>> Open(
      FileSystem& fs, const std::string& path, size_t entry_size, uint64_t max_bytes, bool writable,
      bool create, uint64_t grow_chunk = kDefaultGrowChunk,
      std::shared_ptr<DiskUsage> usage = nullptr);

  static constexpr uint64_t kDefaultGrowChunk = 64 << 10;

  size_t size() const { return entries_.load(std::memory_order_acquire); }
  size_t capacity() const { return static_cast<size_t>(file_->max_length() / entry_size_); }
  bool full() const { return size() >= capacity(); }
  // allocated(): the file's size, entries and space allocated ahead.
  uint64_t allocated() const { return file_->allocated(); }
  const char* entry(size_t i) const { return file_->data() + i * entry_size_; }

  // Append(entry): adds one entry of entry_size bytes. kResourceExhausted
  // when the device is full, kOutOfRange when the index is full.
  absl::Status Append(const char* entry);
  // Truncate(n): keeps the first n entries.
  void Truncate(size_t n) { entries_.store(n, std::memory_order_release); }
  // Trim(): cuts the file to its entries, releasing preallocated space.
  absl::Status Trim() { return file_->Trim(size() * entry_size_); }
  absl::Status Sync() { return file_->SyncAll(); }

 private:
  IndexFile(std::unique_ptr<MappedFile> file, size_t entry_size, size_t entries,
            uint64_t grow_chunk)
      : file_(std::move(file)),
        entry_size_(entry_size),
        grow_chunk_(grow_chunk),
        entries_(entries) {}

  std::unique_ptr<MappedFile> file_;
  const size_t entry_size_;
  const uint64_t grow_chunk_;
  std::atomic<size_t> entries_;
};

}  // namespace rill

#endif  // RILL_LIB_STORAGE_INDEX_FILE_H_
