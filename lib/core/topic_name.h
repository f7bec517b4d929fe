// Topic names and partition directory names.
#ifndef RILL_LIB_CORE_TOPIC_NAME_H_
#define RILL_LIB_CORE_TOPIC_NAME_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "absl/status/status.h"

namespace rill::core {

inline constexpr size_t kMaxTopicNameLength = 249;

// ValidateTopicName(name): OK for a name Kafka accepts: 1 to 249 characters
// of [A-Za-z0-9._-], not "." or "..". kInvalidArgument saying why otherwise.
absl::Status ValidateTopicName(std::string_view name);

// IsInternalTopic(name): whether `name` is an internal topic's -- it starts
// with "__", as __consumer_offsets -- hidden from Log::ListTopics.
inline bool IsInternalTopic(std::string_view name) { return name.substr(0, 2) == "__"; }

// PartitionDirName(topic, partition): "<topic>-<partition>", as Kafka.
std::string PartitionDirName(std::string_view topic, int32_t partition);

// ParsePartitionDirName(name): the topic and partition of a partition
// directory's name, or nullopt.
std::optional<std::pair<std::string, int32_t>> ParsePartitionDirName(std::string_view name);

}  // namespace rill::core

#endif  // RILL_LIB_CORE_TOPIC_NAME_H_
