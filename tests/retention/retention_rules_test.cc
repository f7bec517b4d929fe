// The retention rules alone, on made-up segment lists: Kafka's retention.ms
// and retention.bytes, when maintenance rolls, and how allocation steps
// shrink under a disk limit.
#include "retention/retention_rules.h"

#include <vector>

#include <catch2/catch.hpp>

namespace rill::retention {
namespace {

// Segments of the given sizes and newest timestamps; the last is active.
std::vector<SegmentInfo> Segments(const std::vector<std::pair<uint64_t, int64_t>>& spec) {
  std::vector<SegmentInfo> segments;
  int64_t base = 0;
  for (const auto& [bytes, max_ts] : spec) {
    SegmentInfo s;
    s.base_offset = base;
    base += 10;
    s.next_offset = base;
    s.bytes = bytes;
    s.max_timestamp = max_ts;
    segments.push_back(s);
  }
  segments.back().active = true;
  return segments;
}

TopicConfig Config(int64_t retention_ms, int64_t retention_bytes) {
  TopicConfig c;
  c.retention.ms = retention_ms;
  c.retention.bytes = retention_bytes;
  return c;
}

TEST_CASE("retention.ms deletes sealed segments whose newest record is older than it",
          "[retention][rules]") {
  // Newest records at 100, 200, 300, 400 (active).
  const auto segments = Segments({{10, 100}, {10, 200}, {10, 300}, {10, 400}});
  CHECK(SegmentsPastRetention(segments, Config(1000, -1), 1100) == 0);  // 1000 old: not more.
  CHECK(SegmentsPastRetention(segments, Config(1000, -1), 1101) == 1);
  CHECK(SegmentsPastRetention(segments, Config(1000, -1), 1250) == 2);
  // The active segment is never deleted, however old.
  CHECK(SegmentsPastRetention(segments, Config(1000, -1), 99999) == 3);
  CHECK(SegmentsPastRetention(segments, Config(-1, -1), 99999) == 0);
}

TEST_CASE("retention.ms stops at the first segment still young, from the front",
          "[retention][rules]") {
  // A young segment before an old one keeps the old one: segments go from
  // the front only.
  const auto segments = Segments({{10, 900}, {10, 100}, {10, 950}});
  CHECK(SegmentsPastRetention(segments, Config(500, -1), 1200) == 0);
  CHECK(SegmentsPastRetention(segments, Config(500, -1), 1401) == 2);
}

TEST_CASE("retention.bytes deletes while what remains is still at least the limit",
          "[retention][rules]") {
  // 100 + 200 + 300 + 50 (active) = 650 bytes.
  const auto segments = Segments({{100, 1}, {200, 2}, {300, 3}, {50, 4}});
  CHECK(SegmentsPastRetention(segments, Config(-1, 650), 0) == 0);
  CHECK(SegmentsPastRetention(segments, Config(-1, 550), 0) == 1);  // 550 left.
  CHECK(SegmentsPastRetention(segments, Config(-1, 549), 0) == 1);  // 350 would be too few.
  CHECK(SegmentsPastRetention(segments, Config(-1, 350), 0) == 2);
  CHECK(SegmentsPastRetention(segments, Config(-1, 0), 0) == 3);
  // Both rules: age first, then size on what is left.
  CHECK(SegmentsPastRetention(segments, Config(10, 350), 12) == 2);
  CHECK(SegmentsPastRetention(segments, Config(10, 300), 13) == 2);
}

TEST_CASE("cleanup.policy compact alone deletes nothing by retention", "[retention][rules]") {
  const auto segments = Segments({{100, 1}, {200, 2}, {50, 4}});
  TopicConfig c = Config(1, 1);
  c.cleanup_policy = CleanupPolicy::kCompact;
  CHECK(SegmentsPastRetention(segments, c, 1000) == 0);
  c.cleanup_policy = CleanupPolicy::kCompactDelete;
  CHECK(SegmentsPastRetention(segments, c, 1000) == 2);
}

TEST_CASE("The active segment rolls at segment.ms, or once all of it is past retention.ms",
          "[retention][rules]") {
  SegmentInfo active;
  active.active = true;
  active.bytes = 100;
  active.first_append_ms = 1000;
  active.max_timestamp = 1500;
  TopicConfig c = Config(-1, -1);
  c.segment_ms = 600;
  CHECK_FALSE(ShouldRoll(active, c, 1599));
  CHECK(ShouldRoll(active, c, 1600));
  c.segment_ms = 1'000'000;
  c.retention.ms = 100;
  CHECK_FALSE(ShouldRoll(active, c, 1600));
  CHECK(ShouldRoll(active, c, 1601));
  c.cleanup_policy = CleanupPolicy::kCompact;
  CHECK_FALSE(ShouldRoll(active, c, 9999));
  active.bytes = 0;  // An empty segment never rolls.
  c.segment_ms = 1;
  CHECK_FALSE(ShouldRoll(active, c, 9999));
}

TEST_CASE("Under a disk limit, files grow in steps of at most a 32nd of it", "[retention][rules]") {
  SegmentOptions o{.max_bytes = 1 << 20, .index_interval_bytes = 4096};
  SizeAllocations(0, &o);
  CHECK(o.allocation_chunk == 16u << 20);   // Untouched without a limit.
  CHECK(o.index_allocation_chunk == 4096);  // 256 entries of 12 bytes fit a block.
  SizeAllocations(1 << 20, &o);
  CHECK(o.allocation_chunk == 32 << 10);
  CHECK(o.populate_ahead == 64 << 10);
  SizeAllocations(1000, &o);
  CHECK(o.allocation_chunk == 4096);  // At least a block.
}

}  // namespace
}  // namespace rill::retention
