// The crash-safe replacement of segments by a compacted copy, as the file
// system sees it. The cleaner writes the copy under temporary names and
// commits it with one rename; a crash at any point leaves either the old
// segments or the copy, and FinishSwaps() sorts it out at the next open:
//
//   1. write <base>.log.cleaned, .index.cleaned, .timeindex.cleaned; sync them
//   2. rename the indexes, then the log, to *.swap; sync the directory
//      -- the rename of <base>.log.swap is the commit point --
//   3. delete the replaced segments (every segment whose base lies in the
//      copy's offset range); sync the directory
//   4. rename the indexes, then the log, to their final names; sync the
//      directory
//
// See docs/FORMAT.md, "Compaction".
#ifndef RILL_LIB_STORAGE_SEGMENT_SWAP_H_
#define RILL_LIB_STORAGE_SEGMENT_SWAP_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "rill/recovery.h"
#include "storage/file_system.h"

namespace rill {

// FinishSwaps(fs, dir, report): run at a partition's open, before its
// segments are listed. Deletes every *.cleaned file (a copy not committed)
// and every index *.swap file without its <base>.log.swap; finishes each
// committed swap (steps 3 and 4; an index without its .swap copy is deleted
// and rebuilt later); deletes index files whose .log is gone. Notes what it
// did in report->details.
absl::Status FinishSwaps(FileSystem& fs, const std::string& dir, RecoveryReport* report);

// RemoveSegmentFileSet(fs, dir, base, name_suffix): deletes the .log, .index
// and .timeindex of segment `base`, each with `name_suffix` appended, the
// .log first; files already gone are skipped. Returns the bytes they took on
// the device.
absl::StatusOr<uint64_t> RemoveSegmentFileSet(FileSystem& fs, const std::string& dir, int64_t base,
                                              std::string_view name_suffix);

// RenameSegmentFileSet(fs, dir, base, from, to): renames the segment's
// files from the names with suffix `from` to those with suffix `to`: the
// indexes first, the .log last. A missing index is skipped (it is rebuilt
// from the log); a missing .log is kNotFound.
absl::Status RenameSegmentFileSet(FileSystem& fs, const std::string& dir, int64_t base,
                                  std::string_view from, std::string_view to);

}  // namespace rill

#endif  // RILL_LIB_STORAGE_SEGMENT_SWAP_H_
