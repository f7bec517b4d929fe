// Kafka's default partitioner, so that a key lands in the partition number
// it would land in with Kafka's Java client (and librdkafka configured with
// partitioner=murmur2_random).
//
// Thread-safety: pure functions.
#ifndef RILL_PARTITIONER_H_
#define RILL_PARTITIONER_H_

#include <cstdint>
#include <string_view>

#include "rill/export.h"

namespace rill {

// Murmur2(data): the 32-bit murmur2 hash exactly as Kafka's
// org.apache.kafka.common.utils.Utils.murmur2 computes it (seed 0x9747b28c).
// Murmur2("kafka") == 0xd067cf64.
RILL_EXPORT uint32_t Murmur2(std::string_view data);

// KafkaPartition(key, partitions): (Murmur2(key) & 0x7fffffff) % partitions,
// Kafka's partition for a non-null key. Requires partitions > 0.
inline int32_t KafkaPartition(std::string_view key, int32_t partitions) {
  return static_cast<int32_t>((Murmur2(key) & 0x7fffffffu) % static_cast<uint32_t>(partitions));
}

}  // namespace rill

#endif  // RILL_PARTITIONER_H_
