#include "storage/mapped_file.h"

#include <algorithm>

#include "absl/strings/str_format.h"
#include "util/align.h"
#include "util/status_macros.h"

namespace rill {

MappedFile::MappedFile(std::unique_ptr<File> file, std::unique_ptr<Mapping> mapping,
                       uint64_t max_length, uint64_t size, bool map_writable,
                       std::shared_ptr<DiskUsage> usage)
    : file_(std::move(file)),
      usage_(std::move(usage)),
      mapping_(std::move(mapping)),
      max_length_(max_length),
      map_writable_(map_writable),
      allocated_(size) {}

absl::StatusOr<std::unique_ptr<MappedFile>> MappedFile::Open(FileSystem& fs,
                                                             const std::string& path, OpenMode mode,
                                                             uint64_t max_length, bool writable,
                                                             std::shared_ptr<DiskUsage> usage,
                                                             bool map_writable) {
  ASSIGN_OR_RETURN(std::unique_ptr<File> file, fs.OpenFile(path, mode));
  ASSIGN_OR_RETURN(const uint64_t size, file->Size());
  // A file may be larger than max_length when the limit was lowered after
  // it was written; it is mapped whole.
  if (size > max_length || !writable) max_length = std::max<uint64_t>(size, 1);
  map_writable = map_writable && writable;
  ASSIGN_OR_RETURN(std::unique_ptr<Mapping> mapping, file->Map(max_length, map_writable));
  return std::unique_ptr<MappedFile>(new MappedFile(std::move(file), std::move(mapping), max_length,
                                                    size, map_writable, std::move(usage)));
}

absl::Status MappedFile::EnsureAllocated(uint64_t end, uint64_t chunk) {
  if (end <= allocated()) return absl::OkStatus();
  if (end > max_length_) {
    return absl::OutOfRangeError(
        absl::StrFormat("%s: %d bytes wanted, at most %d allowed", path(), end, max_length_));
  }
  MutexLock lock(&grow_mu_);
  const uint64_t current = allocated_.load(std::memory_order_relaxed);
  if (end <= current) return absl::OkStatus();
  const uint64_t target = std::min(max_length_, RoundUp(end, chunk));
  RETURN_IF_ERROR(file_->Allocate(current, target - current));
  if (usage_ != nullptr) usage_->Resize(current, target);
  allocated_.store(target, std::memory_order_release);
  return absl::OkStatus();
}

absl::Status MappedFile::Trim(uint64_t size) {
  MutexLock lock(&grow_mu_);
  RETURN_IF_ERROR(file_->Truncate(size));
  if (usage_ != nullptr) usage_->Resize(allocated_.load(std::memory_order_relaxed), size);
  allocated_.store(size, std::memory_order_release);
  return absl::OkStatus();
}

}  // namespace rill
