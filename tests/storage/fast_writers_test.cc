// FastWriters: counting the writers that appended flat out lately, and
// what that means for a segment's prefaulting (Populator::kByRate).
#include "storage/fast_writers.h"

#include <random>

#include <catch2/catch.hpp>

#include "format/batch_builder.h"
#include "storage/segment.h"
#include "testutil/log_records.h"
#include "testutil/status.h"
#include "testutil/test_fs.h"

namespace rill {
namespace {

TEST_CASE("FastWriters: a core is spare while fewer writers than cores are fast",
          "[fast_writers]") {
  FastWriters writers(2);
  int a, b, c;
  CHECK(writers.Report(&a, 1000));
  CHECK(writers.Report(&a, 1001));  // The same writer again: still one.
  CHECK_FALSE(writers.Report(&b, 1002));
  CHECK_FALSE(writers.Report(&a, 1003));
  // A third, while a is still recent (b, last seen at 1002, has just gone
  // quiet): two fast writers on two cores.
  CHECK_FALSE(writers.Report(&c, 1003 + FastWriters::kRecentMillis));
  // a and b have gone quiet for longer than kRecentMillis: c is alone.
  CHECK(writers.Report(&c, 1003 + FastWriters::kRecentMillis + 1));
}

TEST_CASE("FastWriters: AvailableCores counts at least one", "[fast_writers]") {
  CHECK(FastWriters::AvailableCores() >= 1);
}

// Appends batches of 20 records to `segment` at a standing clock (flat out)
// until it holds `bytes`; returns how many appends asked for a background
// prefault.
int AppendFlatOut(Segment& segment, uint64_t bytes, int64_t now_ms) {
  BatchBuilder builder;
  int64_t next = segment.next_offset();
  int background = 0;
  while (segment.size() < bytes) {
    builder.Reset();
    for (int i = 0; i < 20; ++i) {
      const testing::OwnedRecord r = testing::RecordAt(next + i);
      builder.Add(r.view(), r.timestamp);
    }
    const std::span<const char> batch = testing::Unwrap(builder.Finish());
    BatchHeader h;
    REQUIRE_OK(CheckBatchHeader(batch, &h));
    h.base_offset = next;
    PopulateRequest populate;
    REQUIRE_OK(segment.Append(batch, h, -1, now_ms, &populate));
    background += populate == PopulateRequest::kBackground;
    next = h.last_offset() + 1;
  }
  return background;
}

TEST_CASE("Segment: a fast writer gets a background prefault only while a core is spare",
          "[fast_writers]") {
  testing::TestFs t(testing::FsKind::kMem);
  auto fast = std::make_shared<FastWriters>(2);
  SegmentOptions options{.max_bytes = 16 << 20,
                         .allocation_chunk = 1 << 20,
                         .populate_ahead = 4 << 20,
                         .populator = Populator::kByRate,
                         .fast_writers = fast};
  // Another writer was fast a moment ago: with this one, both cores are
  // taken.
  int other;
  CHECK(fast->Report(&other, 5000));
  auto segment = testing::Unwrap(Segment::Create(t.fs(), t.root(), 0, options));
  CHECK(AppendFlatOut(*segment, 3 * kFastWriterWindow, 5000) == 0);
  // It goes quiet: the core is spare again, and the writer, still flat out,
  // asks for help (once: the task never runs here).
  const int64_t later = 5000 + FastWriters::kRecentMillis + 1;
  CHECK(AppendFlatOut(*segment, 6 * kFastWriterWindow, later) == 1);
}

}  // namespace
}  // namespace rill
