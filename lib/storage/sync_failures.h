// The note a failed sync leaves for the next open of its partition.
//
// After a writeback error Linux may hold the pages it could not write as
// clean, so a later sync skips them (PartitionLog::Sync). The open that
// follows in the same boot must write them again before it syncs. It learns
// of the failure from a segment::kSyncFailedFile in the partition's
// directory -- written, not synced, since only the page cache is in doubt
// and a loss of power empties it -- or, should the device refuse even that
// file, from this process's memory.
//
// Thread-safety: every function may be called from any thread.
#ifndef RILL_LIB_STORAGE_SYNC_FAILURES_H_
#define RILL_LIB_STORAGE_SYNC_FAILURES_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "rill/log_sink.h"
#include "storage/file_system.h"

namespace rill {

// NoteSyncFailure(fs, dir, failure, sink): records that a sync of the
// partition in `dir` failed with `failure`. Never fails; says on `sink` if
// the file could not be written.
void NoteSyncFailure(FileSystem& fs, const std::string& dir, const absl::Status& failure,
                     const LogSink& sink);

// SyncFailedBefore(fs, dir, names): whether a failure was noted for `dir`,
// whose entries are `names`.
bool SyncFailedBefore(FileSystem& fs, const std::string& dir,
                      const std::vector<std::string>& names);

// ClearSyncFailure(fs, dir, sink): forgets the note, once what it was about
// was written again and synced. Says on `sink` if the file stays (then the
// next open rewrites once more, which is harmless).
void ClearSyncFailure(FileSystem& fs, const std::string& dir, const LogSink& sink);

}  // namespace rill

#endif  // RILL_LIB_STORAGE_SYNC_FAILURES_H_
