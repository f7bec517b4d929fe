// TopicConfig's settings by their Kafka names.
#include <limits>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "rill/options.h"
#include "util/strings.h"

namespace rill {
namespace {

template <typename T>
absl::Status ParseInt(std::string_view name, std::string_view value, T min, T max, T* out) {
  int64_t v;
  if (!absl::SimpleAtoi(ToAbsl(value), &v) || v < static_cast<int64_t>(min) ||
      v > static_cast<int64_t>(max)) {
    return absl::InvalidArgumentError(absl::StrCat("invalid value \"", ToAbsl(value), "\" for ",
                                                   ToAbsl(name), ": expected an integer in [",
                                                   min, ", ", max, "]"));
  }
  *out = static_cast<T>(v);
  return absl::OkStatus();
}

constexpr int64_t kInt64Max = std::numeric_limits<int64_t>::max();
constexpr int32_t kInt32Max = std::numeric_limits<int32_t>::max();

absl::Status InvalidChoice(std::string_view name, std::string_view value,
                           std::string_view choices) {
  return absl::InvalidArgumentError(absl::StrCat("invalid value \"", ToAbsl(value), "\" for ",
                                                 ToAbsl(name), ": expected ", ToAbsl(choices)));
}

const char* CleanupPolicyName(CleanupPolicy p) {
  switch (p) {
    case CleanupPolicy::kDelete:
      return "delete";
    case CleanupPolicy::kCompact:
      return "compact";
    case CleanupPolicy::kCompactDelete:
      return "compact,delete";
  }
  return "delete";
}

}  // namespace

absl::Status TopicConfig::Set(std::string_view name, std::string_view value) {
  TopicConfig next = *this;
  absl::Status s;
  if (name == "partitions") {
    s = ParseInt<int32_t>(name, value, 1, 100000, &next.partitions);
  } else if (name == "retention.ms") {
    s = ParseInt<int64_t>(name, value, -1, kInt64Max, &next.retention.ms);
  } else if (name == "retention.bytes") {
    s = ParseInt<int64_t>(name, value, -1, kInt64Max, &next.retention.bytes);
  } else if (name == "segment.bytes") {
    s = ParseInt<int64_t>(name, value, 14, kInt32Max, &next.segment_bytes);
  } else if (name == "segment.ms") {
    s = ParseInt<int64_t>(name, value, 1, kInt64Max, &next.segment_ms);
  } else if (name == "max.message.bytes") {
    s = ParseInt<int32_t>(name, value, 0, kInt32Max, &next.max_message_bytes);
  } else if (name == "index.interval.bytes") {
    s = ParseInt<int32_t>(name, value, 0, kInt32Max, &next.index_interval_bytes);
  } else if (name == "segment.index.bytes") {
    s = ParseInt<int32_t>(name, value, 4, kInt32Max, &next.segment_index_bytes);
  } else if (name == "message.timestamp.type") {
    if (value == "CreateTime") {
      next.timestamp_type = TimestampType::kCreateTime;
    } else if (value == "LogAppendTime") {
      next.timestamp_type = TimestampType::kLogAppendTime;
    } else {
      s = absl::InvalidArgumentError(absl::StrCat(
          "invalid value \"", ToAbsl(value),
          "\" for message.timestamp.type: expected CreateTime or LogAppendTime"));
    }
  } else if (name == "cleanup.policy") {
    // A list, as Kafka's: either order, and spaces around the comma.
    std::string v(value);
    std::erase(v, ' ');
    if (v == "delete") {
      next.cleanup_policy = CleanupPolicy::kDelete;
    } else if (v == "compact") {
      next.cleanup_policy = CleanupPolicy::kCompact;
    } else if (v == "compact,delete" || v == "delete,compact") {
      next.cleanup_policy = CleanupPolicy::kCompactDelete;
    } else {
      s = InvalidChoice(name, value, "delete, compact or compact,delete");
    }
  } else if (name == "delete.retention.ms") {
    s = ParseInt<int64_t>(name, value, 0, kInt64Max, &next.delete_retention_ms);
  } else if (name == "min.compaction.lag.ms") {
    s = ParseInt<int64_t>(name, value, 0, kInt64Max, &next.min_compaction_lag_ms);
  } else if (name == "min.cleanable.dirty.ratio") {
    double ratio;
    if (!absl::SimpleAtod(ToAbsl(value), &ratio) || !(ratio >= 0 && ratio <= 1)) {
      s = InvalidChoice(name, value, "a number in [0, 1]");
    } else {
      next.min_cleanable_dirty_ratio = ratio;
    }
  } else if (name == "quota.bytes") {
    s = ParseInt<int64_t>(name, value, -1, kInt64Max, &next.quota.bytes);
  } else if (name == "quota.policy") {
    if (value == "reject") {
      next.quota.policy = QuotaPolicy::kReject;
    } else if (value == "drop-oldest") {
      next.quota.policy = QuotaPolicy::kDropOldest;
    } else {
      s = InvalidChoice(name, value, "reject or drop-oldest");
    }
  } else {
    s = absl::InvalidArgumentError(absl::StrCat("unknown topic setting \"", ToAbsl(name), "\""));
  }
  if (!s.ok()) return s;
  if (s = next.Validate(); !s.ok()) return s;
  *this = next;
  return absl::OkStatus();
}

absl::Status TopicConfig::Validate() const {
  if (partitions < 1 || partitions > 100000) {
    return absl::InvalidArgumentError(absl::StrCat("partitions must be in [1, 100000], not ", partitions));
  }
  if (retention.ms < -1 || retention.bytes < -1) {
    return absl::InvalidArgumentError("retention.ms and retention.bytes must be -1 or more");
  }
  if (segment_bytes < 14 || segment_bytes > kInt32Max) {
    return absl::InvalidArgumentError(
        absl::StrCat("segment.bytes must be in [14, ", kInt32Max, "], not ", segment_bytes));
  }
  if (segment_ms < 1) return absl::InvalidArgumentError("segment.ms must be at least 1");
  if (max_message_bytes < 0) return absl::InvalidArgumentError("max.message.bytes must be >= 0");
  if (index_interval_bytes < 0) {
    return absl::InvalidArgumentError("index.interval.bytes must be >= 0");
  }
  if (segment_index_bytes < 4) return absl::InvalidArgumentError("segment.index.bytes must be >= 4");
  if (delete_retention_ms < 0 || min_compaction_lag_ms < 0) {
    return absl::InvalidArgumentError("delete.retention.ms and min.compaction.lag.ms must be >= 0");
  }
  if (!(min_cleanable_dirty_ratio >= 0 && min_cleanable_dirty_ratio <= 1)) {
    return absl::InvalidArgumentError("min.cleanable.dirty.ratio must be in [0, 1]");
  }
  if (quota.bytes < -1) return absl::InvalidArgumentError("quota.bytes must be -1 or more");
  return absl::OkStatus();
}

std::map<std::string, std::string> TopicConfig::ToMap() const {
  return {
      {"partitions", absl::StrCat(partitions)},
      {"retention.ms", absl::StrCat(retention.ms)},
      {"retention.bytes", absl::StrCat(retention.bytes)},
      {"segment.bytes", absl::StrCat(segment_bytes)},
      {"segment.ms", absl::StrCat(segment_ms)},
      {"max.message.bytes", absl::StrCat(max_message_bytes)},
      {"message.timestamp.type",
       timestamp_type == TimestampType::kCreateTime ? "CreateTime" : "LogAppendTime"},
      {"index.interval.bytes", absl::StrCat(index_interval_bytes)},
      {"segment.index.bytes", absl::StrCat(segment_index_bytes)},
      {"cleanup.policy", CleanupPolicyName(cleanup_policy)},
      {"delete.retention.ms", absl::StrCat(delete_retention_ms)},
      {"min.compaction.lag.ms", absl::StrCat(min_compaction_lag_ms)},
      {"min.cleanable.dirty.ratio", absl::StrCat(min_cleanable_dirty_ratio)},
      {"quota.bytes", absl::StrCat(quota.bytes)},
      {"quota.policy", quota.policy == QuotaPolicy::kReject ? "reject" : "drop-oldest"},
  };
}

}  // namespace rill
