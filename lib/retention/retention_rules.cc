#include "retention/retention_rules.h"

#include <algorithm>

#include "storage/disk_usage.h"
#include "storage/segment_format.h"

namespace rill::retention {

int64_t SegmentsPastRetention(const std::vector<SegmentInfo>& segments, const TopicConfig& config,
                              int64_t now_ms) {
  if (!HasDelete(config.cleanup_policy) || segments.size() < 2) return 0;
  const size_t sealed = segments.size() - 1;  // The last is the active one.
  size_t count = 0;
  if (config.retention.ms >= 0) {
    // The last sealed segment past retention.ms takes every earlier one with
    // it: segments go from the front only.
    for (size_t i = 0; i < sealed; ++i) {
      // An empty segment holds nothing to keep.
      const int64_t newest = segments[i].max_timestamp;
      if (newest < 0 || now_ms - newest > config.retention.ms) {
        count = i + 1;
      } else {
        break;
      }
    }
  }
  if (config.retention.bytes >= 0) {
    uint64_t total = 0;
    for (const SegmentInfo& s : segments) total += s.bytes;
    for (size_t i = 0; i < count; ++i) total -= segments[i].bytes;
    const uint64_t limit = static_cast<uint64_t>(config.retention.bytes);
    while (count < sealed && total >= limit + segments[count].bytes) {
      total -= segments[count].bytes;
      ++count;
    }
  }
  return static_cast<int64_t>(count);
}

bool ShouldRoll(const SegmentInfo& active, const TopicConfig& config, int64_t now_ms) {
  if (active.bytes == 0) return false;
  if (config.segment_ms > 0 && active.first_append_ms >= 0 &&
      now_ms - active.first_append_ms >= config.segment_ms) {
    return true;
  }
  return HasDelete(config.cleanup_policy) && config.retention.ms >= 0 &&
         active.max_timestamp >= 0 && now_ms - active.max_timestamp > config.retention.ms;
}

void SizeAllocations(uint64_t limit_bytes, SegmentOptions* options) {
  constexpr uint64_t kBlock = DiskUsage::kBlock;
  constexpr uint64_t kMaxIndexChunk = 64 << 10;
  // A full segment's index: an entry per index.interval.bytes, at most.
  const uint64_t entries =
      options->max_bytes / std::max<uint64_t>(options->index_interval_bytes, 1) + 2;
  options->index_allocation_chunk = std::clamp<uint64_t>(
      DiskUsage::RoundUp(entries * segment::kTimeEntrySize), kBlock, kMaxIndexChunk);
  if (limit_bytes == 0) return;
  const uint64_t step = std::max<uint64_t>(limit_bytes / 32 / kBlock * kBlock, kBlock);
  options->allocation_chunk = std::min(options->allocation_chunk, step);
  options->populate_ahead = std::min(options->populate_ahead, 2 * step);
  options->index_allocation_chunk = std::min(options->index_allocation_chunk, step);
}

}  // namespace rill::retention
