// FindOffsetDamage: which batches of a segment have a damaged baseOffset.
//
// A batch's baseOffset lies outside its CRC (Kafka's format), so damage
// there shows only against its neighbours: the batches' offsets must rise,
// start at or above the segment's base offset and end below the next
// segment's. When two batches overlap, one of them is damaged; which one is
// told by their other neighbours: in a log without gaps (no compaction)
// every batch starts right after the previous one ends, so the damaged one
// is the batch that fits neither neighbour. When that cannot be told, both
// are called damaged -- never is a damaged batch kept at wrong offsets.
//
// Used by `rill verify` (to name the damaged batch, not its neighbour) and
// `rill repair` (to keep every intact batch).
#ifndef RILL_LIB_CLI_OFFSET_CHECK_H_
#define RILL_LIB_CLI_OFFSET_CHECK_H_

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

namespace rill::cli {

// The offsets a batch says it holds.
struct OffsetSpan {
  int64_t base = 0;
  int64_t last = 0;
};

// FindOffsetDamage(spans, min, limit): for the batches of a segment in file
// order (those whose CRC holds), an empty string for each batch whose
// offsets are sound, else why they are not. `min` is the segment's base
// offset; `limit` the next segment's, or the largest int64 for a
// partition's newest segment.
std::vector<std::string> FindOffsetDamage(const std::vector<OffsetSpan>& spans, int64_t min,
                                          int64_t limit = std::numeric_limits<int64_t>::max());

}  // namespace rill::cli

#endif  // RILL_LIB_CLI_OFFSET_CHECK_H_
