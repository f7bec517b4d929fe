// Encoding and decoding of the offset-commit records of __consumer_offsets
// (the grammar is in offset_format.h).
//
// Thread-safety: pure functions.
#ifndef RILL_LIB_GROUP_OFFSET_RECORD_H_
#define RILL_LIB_GROUP_OFFSET_RECORD_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace rill::group {

struct OffsetKey {
  std::string group;
  std::string topic;
  int32_t partition = 0;

  friend bool operator==(const OffsetKey&, const OffsetKey&) = default;
};

struct OffsetValue {
  int64_t offset = 0;
  int32_t leader_epoch = -1;
  std::string metadata;
  int64_t commit_timestamp = -1;

  friend bool operator==(const OffsetValue&, const OffsetValue&) = default;
};

// CheckGroupName(group): kInvalidArgument for an empty name or one longer
// than a Kafka string holds (32767 bytes).
absl::Status CheckGroupName(std::string_view group);

// EncodeOffsetKey(key): key version 1. Requires strings of at most 32767
// bytes.
std::string EncodeOffsetKey(const OffsetKey& key);
// EncodeOffsetValue(value): value version 3. Same requirement.
std::string EncodeOffsetValue(const OffsetValue& value);

// DecodeOffsetKey(bytes): the key of an offset commit; nullopt for another
// kind of record (group metadata, or a version rill does not know);
// kDataLoss when the bytes do not parse.
absl::StatusOr<std::optional<OffsetKey>> DecodeOffsetKey(std::string_view bytes);
// DecodeOffsetValue(bytes): value versions 0 to 3; kDataLoss when the
// bytes do not parse or the version is unknown.
absl::StatusOr<OffsetValue> DecodeOffsetValue(std::string_view bytes);

}  // namespace rill::group

#endif  // RILL_LIB_GROUP_OFFSET_RECORD_H_
