#include "storage/sync_failures.h"

#include <algorithm>
#include <memory>
#include <set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "storage/segment_format.h"
#include "util/mutex.h"

namespace rill {
namespace {

// Partitions of this process whose failure could not be written down, by
// file system and directory.
struct Unwritten {
  Mutex mu;
  std::set<std::pair<const FileSystem*, std::string>> dirs ABSL_GUARDED_BY(mu);
};

Unwritten& UnwrittenNotes() {
  static Unwritten* const notes = new Unwritten;
  return *notes;
}

}  // namespace

void NoteSyncFailure(FileSystem& fs, const std::string& dir, const absl::Status& failure,
                     const LogSink& sink) {
  // The file's existence is the note; its text (a data block, which a full
  // device may refuse) is for people.
  absl::StatusOr<std::unique_ptr<File>> file =
      fs.OpenFile(JoinPath(dir, segment::kSyncFailedFile), OpenMode::kTruncate);
  if (file.ok()) {
    (void)(*file)->WriteAt(0, failure.ToString());
    return;
  }
  Unwritten& notes = UnwrittenNotes();
  {
    MutexLock lock(&notes.mu);
    notes.dirs.emplace(&fs, dir);
  }
  sink(LogSeverity::kError,
       absl::StrCat("cannot note the failed sync in ", dir, " (", file.status().message(),
                    "): only an open in this process will write its unsynced tail again"));
}

bool SyncFailedBefore(FileSystem& fs, const std::string& dir,
                      const std::vector<std::string>& names) {
  if (std::find(names.begin(), names.end(), segment::kSyncFailedFile) != names.end()) return true;
  Unwritten& notes = UnwrittenNotes();
  MutexLock lock(&notes.mu);
  return notes.dirs.count({&fs, dir}) > 0;
}

void ClearSyncFailure(FileSystem& fs, const std::string& dir, const LogSink& sink) {
  {
    Unwritten& notes = UnwrittenNotes();
    MutexLock lock(&notes.mu);
    notes.dirs.erase({&fs, dir});
  }
  const std::string path = JoinPath(dir, segment::kSyncFailedFile);
  absl::Status s = fs.RemoveFile(path);
  if (!s.ok() && !absl::IsNotFound(s)) {
    sink(LogSeverity::kWarning, absl::StrCat("cannot remove ", path, ": ", s.message(),
                                             "; the next open writes the tail again"));
  }
}

}  // namespace rill
