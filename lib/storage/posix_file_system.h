// PosixFileSystem: FileSystem over the POSIX and Linux calls: pread/pwrite,
// fallocate, fdatasync, mmap/msync/madvise, and open-file-description locks.
#ifndef RILL_LIB_STORAGE_POSIX_FILE_SYSTEM_H_
#define RILL_LIB_STORAGE_POSIX_FILE_SYSTEM_H_

#include "storage/file_system.h"

namespace rill {

class PosixFileSystem final : public FileSystem {
 public:
  absl::StatusOr<std::unique_ptr<File>> OpenFile(const std::string& path, OpenMode mode) override;
  absl::Status CreateDir(const std::string& path) override;
  absl::StatusOr<std::vector<std::string>> ListDir(const std::string& path) override;
  absl::StatusOr<FileInfo> Stat(const std::string& path) override;
  absl::Status RemoveFile(const std::string& path) override;
  absl::Status RemoveDir(const std::string& path) override;
  absl::Status Rename(const std::string& from, const std::string& to) override;
  absl::Status SyncDir(const std::string& path) override;
  absl::StatusOr<std::unique_ptr<FileLock>> LockFile(const std::string& path) override;
};

// ErrnoStatus(err, op, path): the status for errno `err` met by `op` on `path`.
absl::Status ErrnoStatus(int err, std::string_view op, std::string_view path);

// PageSize(): the system's page size, the unit of mmap and madvise.
uint64_t PageSize();

}  // namespace rill

#endif  // RILL_LIB_STORAGE_POSIX_FILE_SYSTEM_H_
