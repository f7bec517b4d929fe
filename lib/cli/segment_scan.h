// ScanSegment: reads a segment file the way `rill repair` needs: batch by
// batch like WalkSegment, but on past damage. After bytes that are no
// intact batch it looks, byte by byte, for the next one (a sound header and
// a CRC that holds), so that every intact batch of a damaged segment is
// found; then it decides, with FindOffsetDamage, which of those have a
// damaged baseOffset. A batch's other field outside the CRC,
// partitionLeaderEpoch, is always -1 in rill's logs: a batch with another
// value there is intact and only needs the field restored.
//
// The scan cannot tell an intact batch from a damaged one whose offsets are
// sound and whose CRC still holds: it trusts the CRC, as reads do.
#ifndef RILL_LIB_CLI_SEGMENT_SCAN_H_
#define RILL_LIB_CLI_SEGMENT_SCAN_H_

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "cli/file_reader.h"
#include "format/batch_header.h"

namespace rill::cli {

// An intact batch, or a stretch of damage.
struct ScanItem {
  uint64_t position = 0;
  uint64_t size = 0;
  // Why these bytes are not an intact batch; empty for one that is.
  std::string damage;
  BatchHeader header;  // For a batch: intact, or with a sound header.
  bool is_batch = false;
  // An intact batch whose partitionLeaderEpoch is not -1.
  bool epoch_damaged = false;
};

struct SegmentScan {
  uint64_t size = 0;
  std::vector<ScanItem> items;  // In file order, covering [0, end).
  uint64_t end = 0;             // Where zeros start, to the end of the file.

  // FirstDamage(): the position of the first damaged item, or size.
  uint64_t FirstDamage() const;
  // Intact batches after `position`.
  bool IntactAfter(uint64_t position) const;
};

// ScanSegment(reader, base_offset, limit_offset): scans the segment that
// `reader` reads, whose offsets must lie in [base_offset, limit_offset).
absl::StatusOr<SegmentScan> ScanSegment(FileReader& reader, int64_t base_offset,
                                        int64_t limit_offset = std::numeric_limits<int64_t>::max());

// EmptyBatch(base, last, timestamp): a batch of no records that holds
// offsets [base, last] -- as Kafka's compaction leaves -- so that a segment
// whose last batches were dropped still ends where the next one begins.
std::string EmptyBatch(int64_t base, int64_t last, int64_t timestamp);

}  // namespace rill::cli

#endif  // RILL_LIB_CLI_SEGMENT_SCAN_H_
