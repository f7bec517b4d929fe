// Small value types of rill's API: names of partitions and positions of
// records.
//
// Thread-safety: plain values.
#ifndef RILL_TYPES_H_
#define RILL_TYPES_H_

#include <compare>
#include <cstdint>
#include <string>
#include <string_view>

namespace rill {

// TopicPartition: one partition of one topic, as Kafka names it.
struct TopicPartition {
  std::string topic = {};
  int32_t partition = 0;

  friend auto operator<=>(const TopicPartition&, const TopicPartition&) = default;
};

// RecordPosition: where a sent record landed.
struct RecordPosition {
  // The topic's name; valid while the Log that owns the topic is open.
  std::string_view topic = {};
  int32_t partition = 0;
  int64_t offset = 0;
  // The record's timestamp as stored: the producer's, or the log's append
  // time on a LogAppendTime topic.
  int64_t timestamp = 0;
};

// Offset constants for seeks and positions.
inline constexpr int64_t kNoOffset = -1;

}  // namespace rill

#endif  // RILL_TYPES_H_
