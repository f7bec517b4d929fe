// The rules that decide which segments leave a partition, and when the
// active segment is sealed, as Kafka states them:
//
//  - retention.ms: a sealed segment whose newest record (its greatest
//    timestamp) is more than retention.ms old -- now - max_timestamp >
//    retention.ms -- is deleted, and every segment before it. Kafka's
//    UnifiedLog.deleteRetentionMsBreachedSegments.
//  - retention.bytes: while the partition (every segment, the active one
//    included) holds more than retention.bytes of batches, the oldest sealed
//    segment is deleted if what remains is still at least retention.bytes:
//    the partition never drops below the limit. Kafka's
//    deleteRetentionSizeBreachedSegments.
//  - Segments go from the front only, and never the active one; so rolling
//    (segment.ms) is what lets age retention reach data on a quiet topic.
//
// Pure functions: no I/O.
#ifndef RILL_LIB_RETENTION_RETENTION_RULES_H_
#define RILL_LIB_RETENTION_RETENTION_RULES_H_

#include <cstdint>
#include <vector>

#include "rill/options.h"
#include "storage/partition_log.h"

namespace rill::retention {

// HasDelete / HasCompact: what cleanup.policy asks for.
inline bool HasDelete(CleanupPolicy p) { return p != CleanupPolicy::kCompact; }
inline bool HasCompact(CleanupPolicy p) { return p != CleanupPolicy::kDelete; }

// SegmentsPastRetention(segments, config, now_ms): how many segments, from
// the front of `segments` (oldest first, the active one last), retention.ms
// and retention.bytes delete. 0 unless cleanup.policy includes delete.
int64_t SegmentsPastRetention(const std::vector<SegmentInfo>& segments, const TopicConfig& config,
                              int64_t now_ms);

// ShouldRoll(active, config, now_ms): whether maintenance seals the active
// segment `active` (which holds batches): its first batch is segment.ms old,
// or -- cleanup.policy including delete -- all of it is past retention.ms,
// so that retention can delete it (Kafka rolls in that case too).
bool ShouldRoll(const SegmentInfo& active, const TopicConfig& config, int64_t now_ms);

// SizeAllocations(limit_bytes, options): shrinks the steps by which a
// segment's files grow -- and how far ahead of the writer space is taken --
// so that a disk limit of `limit_bytes` (0: none) can be held: each is at
// most a 32nd of the limit (and at least a block). The index files grow in
// steps sized to what a full segment needs.
void SizeAllocations(uint64_t limit_bytes, SegmentOptions* options);

}  // namespace rill::retention

#endif  // RILL_LIB_RETENTION_RETENTION_RULES_H_
