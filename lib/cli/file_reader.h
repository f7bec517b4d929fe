// FileReader: reads a file of a log with plain positional reads through a
// window buffer -- never a memory mapping, so that a file another process
// truncates cannot fault this one. For `rill dump` and `rill verify`, which
// read a log's files without opening the log (no lock is taken, nothing is
// written).
//
// Thread-safety: one thread at a time.
#ifndef RILL_LIB_CLI_FILE_READER_H_
#define RILL_LIB_CLI_FILE_READER_H_

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "storage/file_system.h"

namespace rill::cli {

class FileReader {
 public:
  // Open(path): opens `path` read-only and notes its size.
  static absl::StatusOr<std::unique_ptr<FileReader>> Open(const std::string& path);

  const std::string& path() const { return file_->path(); }
  // size(): the file's size when it was opened, or last Refresh()ed.
  uint64_t size() const { return size_; }

  // Read(position, n): a view of bytes [position, position + n), cut short
  // at size(). Valid until the next call.
  absl::StatusOr<std::span<const char>> Read(uint64_t position, size_t n);

  // AllZero(from): whether every byte in [from, size()) is zero.
  absl::StatusOr<bool> AllZero(uint64_t from);

  // Refresh(): notes the file's current size and forgets what was read, for
  // a file another process is appending to.
  absl::Status Refresh();

 private:
  explicit FileReader(std::unique_ptr<File> file, uint64_t size)
      : file_(std::move(file)), size_(size) {}

  std::unique_ptr<File> file_;
  uint64_t size_;
  std::vector<char> window_;
  uint64_t window_start_ = 0;
  size_t window_size_ = 0;  // Bytes of window_ holding file data.
};

}  // namespace rill::cli

#endif  // RILL_LIB_CLI_FILE_READER_H_
