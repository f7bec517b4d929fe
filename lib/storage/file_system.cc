#include "storage/file_system.h"

#include "storage/posix_file_system.h"

namespace rill {

FileSystem* FileSystem::Default() {
  static PosixFileSystem* const fs = new PosixFileSystem;
  return fs;
}

absl::StatusOr<std::string> ReadFileToString(FileSystem& fs, const std::string& path) {
  auto file = fs.OpenFile(path, OpenMode::kRead);
  if (!file.ok()) return file.status();
  auto size = (*file)->Size();
  if (!size.ok()) return size.status();
  std::string data(*size, '\0');
  auto n = (*file)->ReadAt(0, data.size(), data.data());
  if (!n.ok()) return n.status();
  data.resize(*n);
  return data;
}

absl::Status WriteFileAtomically(FileSystem& fs, const std::string& dir, const std::string& name,
                                 std::string_view data, std::string_view temp_suffix) {
  const std::string tmp = JoinPath(dir, name + std::string(temp_suffix));
  absl::Status s;
  {
    auto file = fs.OpenFile(tmp, OpenMode::kTruncate);
    if (!file.ok()) return file.status();
    s = (*file)->WriteAt(0, data);
    if (s.ok()) s = (*file)->Sync();
  }
  if (s.ok()) s = fs.Rename(tmp, JoinPath(dir, name));
  if (!s.ok()) {
    // A failure (a full device, say) leaves nothing behind; only a crash can.
    (void)fs.RemoveFile(tmp);
    return s;
  }
  return fs.SyncDir(dir);
}

}  // namespace rill
