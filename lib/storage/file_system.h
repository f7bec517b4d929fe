// FileSystem: the one seam through which rill touches storage. Every open,
// read, write, allocation, sync, mapping and directory operation goes through
// it, so that tests can run a log wholly in memory, drop what was not synced,
// cut a write short, or fail any operation with ENOSPC.
//
// Two implementations: PosixFileSystem (posix_file_system.h), the real one,
// and MemFileSystem (mem_file_system.h), in memory, with fault injection.
//
// Thread-safety: FileSystem, File and Mapping methods may be called from any
// thread concurrently, except that one File or Mapping must not be destroyed
// while another thread uses it.
//
// Errors: a failed call returns the status of the errno it met, as
// absl::ErrnoToStatusCode maps it (ENOENT kNotFound, EEXIST kAlreadyExists,
// ENOSPC kResourceExhausted, EACCES kPermissionDenied ...), with the
// operation and the path in the message.
#ifndef RILL_LIB_STORAGE_FILE_SYSTEM_H_
#define RILL_LIB_STORAGE_FILE_SYSTEM_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace rill {

// Mapping: a shared, writable or read-only memory mapping of a file. Bytes
// written through data() are the file's bytes (MAP_SHARED): they survive a
// crash of the process, but not a loss of power until synced. Unmapped when
// destroyed. Touching bytes past the file's size is an error (SIGBUS on
// POSIX): callers grow the file with File::Allocate first.
class Mapping {
 public:
  virtual ~Mapping() = default;

  char* data() const { return data_; }
  // Length of the mapping, which may exceed the file's current size.
  uint64_t length() const { return length_; }

  // Sync(offset, n): makes bytes [offset, offset+n) of the mapping durable
  // (msync MS_SYNC). The range need not be page-aligned.
  virtual absl::Status Sync(uint64_t offset, uint64_t n) = 0;

  // Populate(offset, n): faults pages [offset, offset+n) in, writable, so
  // that later writes there cost no page fault. Best effort: a failure only
  // means the writes will fault. Range must lie within the file's size.
  virtual void Populate(uint64_t offset, uint64_t n) = 0;

  // Discard(offset, n): drops the mapping's page-table entries over the
  // pages that lie wholly inside [offset, offset+n). The bytes stay in the
  // file, written or not yet; the next access maps them again (read-only
  // until written). For a range that will not be written again, before it
  // is synced: writeback must write-protect each writable entry it finds,
  // and every write-protection interrupts each CPU running this process (a
  // TLB shootdown), while dropping the entries costs one. Best effort.
  virtual void Discard(uint64_t offset, uint64_t n) = 0;

  // PopulateRead(offset, n): maps the pages of [offset, offset+n) for
  // reading, so that later reads cost no page fault. Entries it makes are
  // clean and -- on a file system that tracks writes to mapped pages, as
  // ext4, xfs and btrfs do -- read-only until written, so writeback has
  // nothing to write-protect. Best effort. Range must lie within the file's
  // size.
  virtual void PopulateRead(uint64_t offset, uint64_t n) = 0;

 protected:
  Mapping(char* data, uint64_t length) : data_(data), length_(length) {}

 private:
  char* const data_;
  const uint64_t length_;
};

// File: an open file. Positional reads and writes only: no shared cursor.
class File {
 public:
  virtual ~File() = default;

  const std::string& path() const { return path_; }

  // Size(): the file's size in bytes.
  virtual absl::StatusOr<uint64_t> Size() = 0;
  // AllocatedBytes(): bytes the file occupies on the device (st_blocks).
  virtual absl::StatusOr<uint64_t> AllocatedBytes() = 0;
  // ReadAt(offset, n, dst): reads up to n bytes; returns how many were read,
  // fewer than n only at the end of the file.
  virtual absl::StatusOr<size_t> ReadAt(uint64_t offset, size_t n, char* dst) = 0;
  // WritevAt(offset, pieces): writes the pieces back to back, all of them,
  // at offset (pwritev), growing the file. On error a prefix of the bytes
  // may have been written.
  virtual absl::Status WritevAt(uint64_t offset, std::span<const std::string_view> pieces) = 0;
  // WriteAt(offset, data): WritevAt with one piece.
  absl::Status WriteAt(uint64_t offset, std::string_view data) {
    return WritevAt(offset, std::span<const std::string_view>(&data, 1));
  }
  // Truncate(size): sets the size; new bytes read as zero.
  virtual absl::Status Truncate(uint64_t size) = 0;
  // Allocate(offset, n): reserves device space for [offset, offset+n) and
  // grows the size to at least offset+n (fallocate mode 0). Writes through a
  // mapping there cannot then fail for lack of space. kResourceExhausted when
  // the device is full; the file is unchanged then.
  virtual absl::Status Allocate(uint64_t offset, uint64_t n) = 0;
  // Sync(): makes the file's data and size durable (fdatasync).
  virtual absl::Status Sync() = 0;
  // Map(length, writable): maps [0, length) of the file.
  virtual absl::StatusOr<std::unique_ptr<Mapping>> Map(uint64_t length, bool writable) = 0;

 protected:
  explicit File(std::string path) : path_(std::move(path)) {}

 private:
  const std::string path_;
};

// FileLock: an exclusive lock on a file, held until destroyed.
class FileLock {
 public:
  virtual ~FileLock() = default;
};

enum class OpenMode {
  kRead,            // Must exist; read-only.
  kReadWrite,       // Must exist.
  kCreate,          // Read-write; created empty when missing.
  kCreateExclusive, // Read-write; fails with kAlreadyExists when present.
  kTruncate,        // Read-write; created when missing, emptied when present.
};

struct FileInfo {
  bool is_directory = false;
  uint64_t size = 0;
  uint64_t allocated_bytes = 0;
};

class FileSystem {
 public:
  virtual ~FileSystem() = default;

  // Default(): the process's POSIX file system. Never null; never destroyed.
  static FileSystem* Default();

  virtual absl::StatusOr<std::unique_ptr<File>> OpenFile(const std::string& path,
                                                         OpenMode mode) = 0;
  // CreateDir(path): creates one directory; OK if it exists already.
  virtual absl::Status CreateDir(const std::string& path) = 0;
  // ListDir(path): names of the entries of a directory, without "." and "..".
  virtual absl::StatusOr<std::vector<std::string>> ListDir(const std::string& path) = 0;
  // Stat(path): kNotFound when nothing is there.
  virtual absl::StatusOr<FileInfo> Stat(const std::string& path) = 0;
  virtual absl::Status RemoveFile(const std::string& path) = 0;
  // RemoveDir(path): removes an empty directory.
  virtual absl::Status RemoveDir(const std::string& path) = 0;
  // Rename(from, to): atomically replaces `to` if it exists.
  virtual absl::Status Rename(const std::string& from, const std::string& to) = 0;
  // SyncDir(path): makes the directory's entries (creations, renames,
  // removals) durable.
  virtual absl::Status SyncDir(const std::string& path) = 0;
  // LockFile(path, &holder): takes an exclusive lock on `path` (created if
  // missing) that no other process -- and no other LockFile call in this
  // process -- can take until the returned lock is destroyed. The file's
  // content becomes this process's pid. When the lock is held elsewhere,
  // returns kFailedPrecondition, naming the holder's pid read from the file.
  virtual absl::StatusOr<std::unique_ptr<FileLock>> LockFile(const std::string& path) = 0;
};

// JoinPath(dir, name): dir + "/" + name.
inline std::string JoinPath(std::string_view dir, std::string_view name) {
  std::string path(dir);
  if (!path.empty() && path.back() != '/') path += '/';
  path += name;
  return path;
}

// ReadFileToString(fs, path): the whole content of a (small) file.
absl::StatusOr<std::string> ReadFileToString(FileSystem& fs, const std::string& path);

// WriteFileAtomically(fs, dir, name, data, temp_suffix): replaces dir/name
// with `data` so that after a crash or power loss it holds either the old or
// the new content: write dir/<name><temp_suffix>, sync it, rename it over,
// sync the directory. A failure removes the temporary; a crash may leave it
// behind.
absl::Status WriteFileAtomically(FileSystem& fs, const std::string& dir, const std::string& name,
                                 std::string_view data, std::string_view temp_suffix = ".tmp");

}  // namespace rill

#endif  // RILL_LIB_STORAGE_FILE_SYSTEM_H_
