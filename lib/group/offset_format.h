// The records consumer groups keep in __consumer_offsets: Kafka's own
// offset-commit key and value, so that Kafka tools can read them. See
// docs/FORMAT.md, "__consumer_offsets".
//
//   key   := version:int16 (= 1)  group:string  topic:string  partition:int32
//   value := version:int16 (= 3)  offset:int64  leaderEpoch:int32 (= -1)
//            metadata:string  commitTimestamp:int64
//   string := length:int16  bytes[length]          (UTF-8 by convention)
//
// Big-endian, as every integer Kafka writes. A null value is a tombstone:
// the group no longer has an offset for that partition.
//
// Persistent format: never change a version's layout or renumber.
#ifndef RILL_LIB_GROUP_OFFSET_FORMAT_H_
#define RILL_LIB_GROUP_OFFSET_FORMAT_H_

#include <cstdint>

namespace rill::group::offsets {

// Key versions: 0 and 1 are offset commits (same layout), 2 is Kafka's
// group metadata (members and assignment), which rill neither writes nor
// reads: such records are skipped.
inline constexpr int16_t kKeyVersionV0 = 0;
inline constexpr int16_t kKeyVersion = 1;  // What rill writes.
inline constexpr int16_t kGroupMetadataKeyVersion = 2;

// Value versions rill reads: 0 (offset, metadata, timestamp), 1 (+ an
// expireTimestamp after commitTimestamp), 2 (as 0), 3 (+ leaderEpoch after
// offset). rill writes 3.
inline constexpr int16_t kValueVersion = 3;
inline constexpr int16_t kMaxValueVersion = 3;

inline constexpr int32_t kNoLeaderEpoch = -1;
// Longest string an int16 length can give.
inline constexpr size_t kMaxStringBytes = 32767;

// Settings rill gives __consumer_offsets when it creates it: one partition
// (rill's coordinator is one process), small segments, kept forever (never
// deleted by age or size). Once the log has compaction, it is compacted.
inline constexpr int32_t kTopicPartitions = 1;
inline constexpr int64_t kTopicSegmentBytes = 4 << 20;

}  // namespace rill::group::offsets

#endif  // RILL_LIB_GROUP_OFFSET_FORMAT_H_
