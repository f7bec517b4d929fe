#include "storage/index_file.h"

#include <algorithm>
#include <cstring>

#include "util/status_macros.h"

namespace rill {

absl::StatusOr<std::unique_ptr<IndexFile>> IndexFile::Open(FileSystem& fs, const std::string& path,
                                                           size_t entry_size, uint64_t max_bytes,
                                                           bool writable, bool create,
                                                           uint64_t grow_chunk,
                                                           std::shared_ptr<DiskUsage> usage) {
  const OpenMode mode = !writable ? OpenMode::kRead : create ? OpenMode::kCreate : OpenMode::kReadWrite;
  max_bytes -= max_bytes % entry_size;
  ASSIGN_OR_RETURN(std::unique_ptr<MappedFile> file,
                   MappedFile::Open(fs, path, mode, max_bytes, writable, std::move(usage)));
  const size_t entries = static_cast<size_t>(file->allocated() / entry_size);
  return std::unique_ptr<IndexFile>(new IndexFile(std::move(file), entry_size, entries,
                                                  std::max<uint64_t>(grow_chunk, entry_size)));
}

absl::Status IndexFile::Append(const char* entry) {
  const size_t n = size();
  const uint64_t end = (n + 1) * entry_size_;
  RETURN_IF_ERROR(file_->EnsureAllocated(end, grow_chunk_));
  std::memcpy(file_->data() + n * entry_size_, entry, entry_size_);
  entries_.store(n + 1, std::memory_order_release);
  return absl::OkStatus();
}

}  // namespace rill
