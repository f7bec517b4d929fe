// The recovery point of a partition: the place in its log before which
// every byte was synced and checked, so that opening after a crash needs to
// check only what lies after it. Stored in the partition's
// "recovery-point" file (layout in segment_format.h and docs/FORMAT.md).
#ifndef RILL_LIB_STORAGE_RECOVERY_POINT_H_
#define RILL_LIB_STORAGE_RECOVERY_POINT_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "storage/file_system.h"

namespace rill {

struct RecoveryPoint {
  int64_t segment_base = 0;  // Base offset of the segment it lies in.
  uint64_t position = 0;     // Byte position in that segment.
};

// ReadRecoveryPoint(fs, dir): the partition's recovery point; nullopt when
// the file is missing or damaged (then everything must be checked).
std::optional<RecoveryPoint> ReadRecoveryPoint(FileSystem& fs, const std::string& dir);

// WriteRecoveryPoint(fs, dir, point): replaces it atomically and durably.
absl::Status WriteRecoveryPoint(FileSystem& fs, const std::string& dir, const RecoveryPoint& point);

}  // namespace rill

#endif  // RILL_LIB_STORAGE_RECOVERY_POINT_H_
