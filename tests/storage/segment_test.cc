// Segment: batches appended to a mapped .log and read back in place, its
// sparse offset and time indexes, sealing, reopening and index rebuilding.
#include "storage/segment.h"

#include <algorithm>
#include <limits>
#include <map>
#include <random>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <fcntl.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include "format/batch_builder.h"
#include "format/batch_header.h"
#include "storage/segment_format.h"
#include "testutil/log_records.h"
#include "testutil/status.h"
#include "testutil/test_fs.h"
#include "util/align.h"
#include "util/endian.h"

namespace rill {
namespace {

using testing::FsKind;
using testing::RecordAt;
using testing::TestFs;
using testing::Unwrap;

constexpr int64_t kBase = 1000;

SegmentOptions SmallOptions() {
  return SegmentOptions{.max_bytes = 1 << 20,
                        .index_interval_bytes = 1024,
                        .max_index_bytes = 64 << 10,
                        .allocation_chunk = 64 << 10,
                        .populate_ahead = 0};
}

// Options for a test of who faults pages in: room for several
// kFastWriterWindows, allocated a MiB at a time.
SegmentOptions PopulatingOptions(uint64_t populate_ahead, Populator populator) {
  SegmentOptions options = SmallOptions();
  options.max_bytes = 16 << 20;
  options.allocation_chunk = 1 << 20;
  options.populate_ahead = populate_ahead;
  options.populator = populator;
  return options;
}

// What a test appended to a segment, to check the segment against.
struct Appended {
  int64_t base_offset;
  int64_t last_offset;
  uint64_t position;
  std::string bytes;  // As stored: baseOffset set.
  int64_t max_timestamp;
};

// Writes batches of RecordAt records (or of records with chosen timestamps)
// to a segment and remembers them.
class SegmentWriter {
 public:
  SegmentWriter() = default;
  explicit SegmentWriter(Segment& segment) : segment_(&segment) {}

  // Reset(segment): goes on writing to `segment`, the same one reopened.
  void Reset(Segment& segment) { segment_ = &segment; }

  const Appended& Append(int count) {
    std::vector<int64_t> timestamps;
    for (int64_t o = next(); o < next() + count; ++o) timestamps.push_back(RecordAt(o).timestamp);
    return AppendWithTimestamps(timestamps);
  }

  // One batch of RecordAt records, but with these timestamps.
  const Appended& AppendWithTimestamps(const std::vector<int64_t>& timestamps) {
    builder_.Reset();
    const int64_t first = next();
    for (size_t i = 0; i < timestamps.size(); ++i) {
      testing::OwnedRecord record = RecordAt(first + static_cast<int64_t>(i));
      record.timestamp = timestamps[i];
      builder_.Add(record.view(), record.timestamp);
      timestamps_.push_back(timestamps[i]);
    }
    const std::span<const char> bytes = Unwrap(builder_.Finish());
    BatchHeader h;
    REQUIRE_OK(CheckBatchHeader(bytes, &h));
    h.base_offset = first;
    REQUIRE(segment_->RoomFor(bytes.size(), h.last_offset()));
    Appended a{first, h.last_offset(), segment_->size(), std::string(bytes.data(), bytes.size()),
               h.max_timestamp};
    SetBaseOffset(a.bytes.data(), first);
    PopulateRequest populate = PopulateRequest::kNone;
    REQUIRE_OK(segment_->Append(bytes, h, /*append_time_ms=*/-1, now_ms_, &populate));
    if (populate == PopulateRequest::kWriter) {
      ++writer_populates_;
      segment_->PopulateOnWriter(bytes.size());  // As PartitionLog does.
    } else if (populate == PopulateRequest::kBackground) {
      ++background_populates_;  // Never run: the segment waits for it.
    } else if (populate == PopulateRequest::kMapBehind) {
      ++maps_behind_;
      segment_->MapBehind();  // As a background task would.
    }
    appended_.push_back(std::move(a));
    return appended_.back();
  }

  int64_t next() const {
    return appended_.empty() ? segment_->base_offset() : appended_.back().last_offset + 1;
  }
  const std::vector<Appended>& appended() const { return appended_; }
  // populate_requests(): how many appends asked anyone to fault pages in.
  int populate_requests() const { return writer_populates_ + background_populates_; }
  int writer_populates() const { return writer_populates_; }
  int background_populates() const { return background_populates_; }
  // maps_behind(): how many appends asked for the pages behind the writer
  // to be mapped for readers (MapBehind, run at once).
  int maps_behind() const { return maps_behind_; }
  // The time appends are made at, for Populator::kByRate.
  void set_now_ms(int64_t now_ms) { now_ms_ = now_ms; }
  uint64_t end() const {
    return appended_.empty() ? 0 : appended_.back().position + appended_.back().bytes.size();
  }
  int64_t max_timestamp() const {
    int64_t m = -1;
    for (const Appended& a : appended_) m = std::max(m, a.max_timestamp);
    return m;
  }
  size_t max_batch_size() const {
    size_t m = 0;
    for (const Appended& a : appended_) m = std::max(m, a.bytes.size());
    return m;
  }
  // By brute force: the first offset with a timestamp >= ts, or next().
  int64_t OffsetForTimestamp(int64_t ts) const {
    for (size_t i = 0; i < timestamps_.size(); ++i) {
      if (timestamps_[i] >= ts) return kBase + static_cast<int64_t>(i);
    }
    return next();
  }
  const std::vector<int64_t>& timestamps() const { return timestamps_; }

 private:
  Segment* segment_ = nullptr;
  BatchBuilder builder_;
  int64_t now_ms_ = 0;
  int writer_populates_ = 0;
  int background_populates_ = 0;
  int maps_behind_ = 0;
  std::vector<Appended> appended_;
  std::vector<int64_t> timestamps_;  // Of offsets kBase, kBase + 1, ...
};

// Appends batches of 1..max_records records until `bytes` are in the segment.
// Whether a batch's records average kLargeRecordBytes or more, so that the
// segment writes it with pwritev.
bool HasLargeRecords(const Appended& a) {
  const auto records = static_cast<uint64_t>(a.last_offset - a.base_offset + 1);
  return a.bytes.size() >= kLargeRecordBytes * records;
}

void Fill(SegmentWriter& writer, uint64_t bytes, std::mt19937_64& rng, int max_records = 20) {
  while (writer.end() < bytes) writer.Append(1 + static_cast<int>(rng() % max_records));
}

std::string FilePath(const TestFs& t, std::string_view suffix) {
  return t.Join(segment::FileName(kBase, suffix));
}

std::string ReadFile(TestFs& t, std::string_view suffix) {
  return Unwrap(ReadFileToString(t.fs(), FilePath(t, suffix)));
}

// Checks everything a reader can see of `segment` against what was written.
void CheckContent(const Segment& segment, const SegmentWriter& writer) {
  CHECK(segment.size() == writer.end());
  CHECK(segment.next_offset() == writer.next());
  CHECK(segment.max_timestamp() == writer.max_timestamp());
  for (const Appended& a : writer.appended()) {
    INFO("batch at " << a.position);
    const std::span<const char> read = Unwrap(segment.Read(a.position, 1));
    // A view of the mapped file itself, not a copy.
    CHECK(read.data() == segment.data() + a.position);
    CHECK(std::string(read.data(), read.size()) == a.bytes);
    for (int64_t o = a.base_offset; o <= a.last_offset; ++o) {
      CHECK(Unwrap(segment.FindBatch(o)) == a.position);
    }
  }
  CHECK(Unwrap(segment.FindBatch(writer.next())) == segment.size());
  CHECK(Unwrap(segment.Read(segment.size(), 1 << 20)).empty());
}

void CheckOffsetForTimestamp(const Segment& segment, const SegmentWriter& writer) {
  std::vector<int64_t> targets = {std::numeric_limits<int64_t>::min(), -1, 0,
                                  writer.max_timestamp(), writer.max_timestamp() + 1};
  for (int64_t ts : writer.timestamps()) {
    targets.insert(targets.end(), {ts - 1, ts, ts + 1});
  }
  for (int64_t ts : targets) {
    INFO("timestamp " << ts);
    CHECK(Unwrap(segment.OffsetForTimestamp(ts)) == writer.OffsetForTimestamp(ts));
  }
}

// Checks the .index file bytes of a sealed segment: each entry names a
// batch by its position and last offset, and a batch has one exactly when
// index_interval_bytes have gone by since the previous entry (or the start).
void CheckOffsetIndex(const std::string& index, const SegmentWriter& writer, uint32_t interval) {
  REQUIRE(index.size() % segment::kOffsetEntrySize == 0);
  std::set<std::pair<uint64_t, int64_t>> entries;  // (position, last offset)
  for (size_t i = 0; i < index.size(); i += segment::kOffsetEntrySize) {
    entries.emplace(LoadBigEndian<uint32_t>(index.data() + i + 4),
                    kBase + LoadBigEndian<int32_t>(index.data() + i));
  }
  CHECK(entries.size() == index.size() / segment::kOffsetEntrySize);  // No repeats.
  uint64_t since = 0;  // Position of the last entry, or 0.
  size_t found = 0;
  for (const Appended& a : writer.appended()) {
    INFO("batch at " << a.position << ", last entry at " << since);
    const bool expected = a.position > 0 && a.position - since >= interval;
    CHECK(entries.count({a.position, a.last_offset}) == (expected ? 1u : 0u));
    if (expected) {
      since = a.position;
      ++found;
    }
  }
  CHECK(found == entries.size());  // None that names no batch.
}

// Checks the .timeindex file bytes of a sealed segment: entries increase,
// each holds the greatest timestamp of the batches up to its offset, and
// the last one holds the segment's greatest.
void CheckTimeIndex(const std::string& index, const SegmentWriter& writer) {
  REQUIRE(index.size() % segment::kTimeEntrySize == 0);
  REQUIRE(!index.empty());
  std::map<int64_t, int64_t> max_up_to;  // Batch last offset -> greatest timestamp so far.
  int64_t max_ts = -1;
  for (const Appended& a : writer.appended()) {
    max_ts = std::max(max_ts, a.max_timestamp);
    max_up_to[a.last_offset] = max_ts;
  }
  int64_t last_ts = std::numeric_limits<int64_t>::min();
  int64_t last_offset = -1;
  for (size_t i = 0; i < index.size(); i += segment::kTimeEntrySize) {
    const int64_t ts = LoadBigEndian<int64_t>(index.data() + i);
    const int64_t offset = kBase + LoadBigEndian<int32_t>(index.data() + i + 8);
    INFO("entry " << i / segment::kTimeEntrySize << ": " << ts << " at offset " << offset);
    REQUIRE(max_up_to.count(offset) == 1);
    CHECK(ts == max_up_to[offset]);
    CHECK(ts > last_ts);
    CHECK(offset > last_offset);
    last_ts = ts;
    last_offset = offset;
  }
  CHECK(last_ts == writer.max_timestamp());
}

TEST_CASE("Segment: batches are read back in place, found by every offset", "[segment]") {
  TestFs t(GENERATE(FsKind::kMem, FsKind::kPosix));
  SegmentOptions options = SmallOptions();
  options.write_through_file = GENERATE(false, true);
  INFO(t.name() << (options.write_through_file ? ", appended by write" : ""));
  std::mt19937_64 rng(1);
  auto segment = Unwrap(Segment::Create(t.fs(), t.root(), kBase, options));
  CHECK(segment->size() == 0);
  CHECK(segment->next_offset() == kBase);
  CHECK(segment->max_timestamp() == -1);
  CHECK(Unwrap(segment->FindBatch(kBase)) == 0);

  SegmentWriter writer(*segment);
  Fill(writer, 200 << 10, rng);
  CheckContent(*segment, writer);
  // An offset before the segment finds its first batch.
  CHECK(Unwrap(segment->FindBatch(0)) == 0);

  // Read returns whole batches up to max_bytes, and at least one.
  const auto& batches = writer.appended();
  const std::span<const char> one = Unwrap(segment->Read(batches[3].position, 1));
  CHECK(one.size() == batches[3].bytes.size());
  const uint64_t want = batches[10].position - batches[3].position;
  const std::span<const char> several = Unwrap(segment->Read(batches[3].position, want));
  CHECK(several.size() == want);
  CHECK(Unwrap(segment->Read(batches[3].position, want + batches[10].bytes.size() - 1)).size() ==
        want);
  CHECK(Unwrap(segment->Read(0, 1 << 30)).size() == segment->size());
}

TEST_CASE("Segment: ids name one segment object, a reopened file gets a new one", "[segment]") {
  TestFs t(FsKind::kMem);
  std::mt19937_64 rng(7);
  auto first = Unwrap(Segment::Create(t.fs(), t.root(), kBase, SmallOptions()));
  auto second = Unwrap(Segment::Create(t.fs(), t.root(), kBase + 100000, SmallOptions()));
  CHECK(first->id() != 0);
  CHECK(second->id() != 0);
  CHECK(first->id() != second->id());

  const uint64_t before = first->id();
  SegmentWriter writer(*first);
  Fill(writer, 8 << 10, rng);
  REQUIRE_OK(first->Seal());
  CHECK(first->id() == before);  // Appends and Seal keep it.
  first.reset();
  auto reopened = Unwrap(Segment::Open(t.fs(), t.root(), kBase, SmallOptions(), false));
  REQUIRE_OK(reopened->LoadTrusted());
  CHECK(reopened->id() != before);
  CHECK(reopened->id() != second->id());
}

TEST_CASE("Segment: once a sync has failed, every later one fails without trying", "[segment]") {
  TestFs t(FsKind::kMem);
  std::mt19937_64 rng(8);
  auto segment = Unwrap(Segment::Create(t.fs(), t.root(), kBase, SmallOptions()));
  SegmentWriter writer(*segment);
  Fill(writer, 8 << 10, rng);
  REQUIRE_OK(segment->SyncTo(segment->size() / 2));
  t.mem()->InjectFault(kMemFsSync, 0, absl::DataLossError("injected"), /*once=*/true);
  const bool whole = GENERATE(false, true);
  INFO((whole ? "SyncData" : "SyncTo"));
  const absl::Status failed = whole ? segment->SyncData() : segment->SyncTo(segment->size());
  CHECK(failed.code() == absl::StatusCode::kDataLoss);
  const int64_t syncs = t.mem()->OperationCount(kMemFsSync);
  // The fault is spent: a real sync now would succeed, and skip the pages
  // the failed one could not write.
  CHECK(segment->SyncData().code() == absl::StatusCode::kDataLoss);
  CHECK(segment->SyncTo(segment->size()).code() == absl::StatusCode::kDataLoss);
  CHECK(t.mem()->OperationCount(kMemFsSync) == syncs);
  CHECK(segment->synced() == segment->size() / 2);
}

TEST_CASE("Segment: a small sync into a block no sync wrote writes on to kSyncAhead", "[segment]") {
  TestFs t(FsKind::kMem);
  const bool through_file = GENERATE(false, true);
  INFO((through_file ? "written through the file" : "faulted in ahead"));
  SegmentOptions options = PopulatingOptions(1 << 20, Populator::kWriter);
  options.writer_populate_ahead = 1 << 20;
  options.write_through_file = through_file;
  std::vector<std::pair<uint64_t, uint64_t>> syncs;
  t.mem()->SetMappingSyncObserver(
      [&](uint64_t offset, uint64_t n) { syncs.emplace_back(offset, n); });
  std::mt19937_64 rng(9);
  auto segment = Unwrap(Segment::Create(t.fs(), t.root(), kBase, options));
  SegmentWriter writer(*segment);

  // A large sync writes what it was asked to, and no more.
  Fill(writer, 2 * kSyncAhead / 8, rng);
  // The next MiB faulted in (dirty zeros), as the writer would over time.
  if (!through_file) segment->PopulateOnWriter(1 << 20);
  REQUIRE_OK(segment->SyncTo(segment->size()));
  REQUIRE(syncs.size() == 1);
  CHECK(syncs[0].first + syncs[0].second == segment->size());

  // Small syncs, one batch each, across three chunks of kSyncAhead: the
  // first one into each chunk writes to the chunk's end (when the pages
  // there were faulted in), the others only to their own end.
  uint64_t extended_to = 0;
  int extended = 0;
  while (writer.end() < 3 * kSyncAhead) {
    const uint64_t synced = segment->synced();
    writer.Append(1 + static_cast<int>(rng() % 3));
    const uint64_t end = segment->size();
    syncs.clear();
    REQUIRE_OK(segment->SyncTo(end));
    REQUIRE(syncs.size() == 1);
    INFO("synced " << synced << ", end " << end);
    CHECK(syncs[0].first <= synced);
    CHECK(segment->synced() == end);  // Bytes written later past `end` are not durable.
    const uint64_t to = syncs[0].first + syncs[0].second;
    if (to == end) continue;
    ++extended;
    CHECK(to == RoundUp(end, kSyncAhead));
    CHECK(end > extended_to);
    extended_to = to;
  }
  const int chunks = static_cast<int>(RoundUp(writer.end(), kSyncAhead) / kSyncAhead);
  CHECK(extended == (through_file ? 0 : chunks));
  CheckContent(*segment, writer);
}

TEST_CASE("Segment: written through its file, nothing asks to fault pages in", "[segment]") {
  TestFs t(GENERATE(FsKind::kMem, FsKind::kPosix));
  const bool write_through_file = GENERATE(false, true);
  INFO(t.name() << (write_through_file ? ", appended by write" : ""));
  SegmentOptions options = SmallOptions();
  options.populate_ahead = 64 << 10;
  options.write_through_file = write_through_file;
  std::mt19937_64 rng(7);
  auto segment = Unwrap(Segment::Create(t.fs(), t.root(), kBase, options));
  SegmentWriter writer(*segment);
  Fill(writer, 200 << 10, rng);
  // Its mapping is read-only: prefaulting it for writing would fault.
  if (write_through_file) {
    CHECK(writer.populate_requests() == 0);
  } else {
    CHECK(writer.populate_requests() > 0);
  }
  CheckContent(*segment, writer);
}

// Whether the page holding `p` is in this process's page tables (bit 63 of
// its /proc/self/pagemap entry): mapped, not merely in the page cache.
bool PageMapped(const char* p) {
  const int fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
  REQUIRE(fd >= 0);
  uint64_t entry = 0;
  const auto at = static_cast<off_t>(reinterpret_cast<uintptr_t>(p) / 4096 * sizeof(entry));
  const ssize_t n = pread(fd, &entry, sizeof(entry), at);
  close(fd);
  REQUIRE(n == static_cast<ssize_t>(sizeof(entry)));
  return (entry >> 63) != 0;
}

TEST_CASE("Segment: a reader at the end of a segment written through its file maps the next pages",
          "[segment]") {
  TestFs t(FsKind::kPosix);
  const bool write_through_file = GENERATE(false, true);
  INFO((write_through_file ? "appended by write" : "appended by mapping"));
  SegmentOptions options = SmallOptions();  // Nothing faults pages in ahead.
  options.write_through_file = write_through_file;
  std::mt19937_64 rng(12);
  auto segment = Unwrap(Segment::Create(t.fs(), t.root(), kBase, options));
  SegmentWriter writer(*segment);
  Fill(writer, 10 << 10, rng);
  const uint64_t page = RoundDown(segment->size(), 4096);
  const char* next = segment->data() + page + 4096;
  REQUIRE(page + 2 * 4096 <= segment->allocated_bytes());
  REQUIRE_FALSE(PageMapped(next));

  segment->WarmReaderPages();
  // Written through the file, the page after the end's is mapped (the
  // kernel's fault-around may map a few more). In a segment the writer
  // maps, the reader leaves that to the writer.
  CHECK(PageMapped(next) == write_through_file);
  // The writer's bytes land in the pages the reader mapped: it reads them.
  Fill(writer, 30 << 10, rng);
  CheckContent(*segment, writer);
  segment->WarmReaderPages();
  const char* now_next = segment->data() + RoundDown(segment->size(), 4096) + 4096;
  CHECK(PageMapped(now_next) == write_through_file);

  // Sealed: the file is trimmed to its data, and nothing more is mapped.
  REQUIRE_OK(segment->Seal());
  segment->WarmReaderPages();
  CheckContent(*segment, writer);
}

TEST_CASE(
    "Segment: Populator::kByRate faults on the writer while it is slow, else in the background",
    "[segment]") {
  TestFs t(GENERATE(FsKind::kMem, FsKind::kPosix));
  INFO(t.name());
  const SegmentOptions options = PopulatingOptions(4 << 20, Populator::kByRate);
  std::mt19937_64 rng(11);
  auto segment = Unwrap(Segment::Create(t.fs(), t.root(), kBase, options));
  SegmentWriter writer(*segment);

  // Slow: a millisecond per batch of at most a few KiB, far below a
  // kFastWriterWindow per kFastWriterMillis.
  int64_t now_ms = 0;
  int batches = 0;
  while (writer.end() < 3 * kFastWriterWindow) {
    writer.set_now_ms(++now_ms);
    writer.Append(1 + static_cast<int>(rng() % 20));
    ++batches;
  }
  INFO("slow: " << batches << " batches, " << writer.writer_populates() << " on the writer");
  CHECK(writer.background_populates() == 0);
  // Once per kWriterPopulateStep or so, not once per batch.
  CHECK(writer.writer_populates() >=
        static_cast<int>(2 * kFastWriterWindow / (4 * kWriterPopulateStep)));
  CHECK(writer.writer_populates() < batches / 3);

  // Fast: the clock stands still. Within two windows the writer hands the
  // faulting to one background task (which never runs here, so one).
  const int on_writer = writer.writer_populates();
  while (writer.end() < 6 * kFastWriterWindow) writer.Append(1 + static_cast<int>(rng() % 20));
  CHECK(writer.background_populates() == 1);
  CHECK(writer.writer_populates() - on_writer <
        2 * static_cast<int>(kFastWriterWindow / kWriterPopulateStep));
  CheckContent(*segment, writer);
}

TEST_CASE("Segment: a batch past the faulted-in pages is written with pwritev", "[segment]") {
  TestFs t(GENERATE(FsKind::kMem, FsKind::kPosix));
  const Populator populator = GENERATE(Populator::kWriter, Populator::kBackground);
  const bool writer = populator == Populator::kWriter;
  INFO(t.name() << (writer ? ", faulted in by the writer" : ", by nobody"));
  SegmentOptions options = SmallOptions();
  options.populate_ahead = 256 << 10;
  options.populator = populator;
  std::mt19937_64 rng(5);
  auto segment = Unwrap(Segment::Create(t.fs(), t.root(), kBase, options));
  SegmentWriter w(*segment);
  const int64_t writes_before = t.mem() != nullptr ? t.mem()->OperationCount(kMemFsWrite) : 0;
  Fill(w, 300 << 10, rng);
  if (t.mem() != nullptr) {
    const int64_t writes = t.mem()->OperationCount(kMemFsWrite) - writes_before;
    // The writer keeps its pages faulted in ahead: every batch but those of
    // large records is a copy through the mapping. With nobody faulting (the
    // background task never runs here), every batch that ends past the first
    // page is a write.
    int64_t large = 0;
    int64_t past_first_page = 0;
    for (const Appended& a : w.appended()) {
      large += HasLargeRecords(a);
      past_first_page += HasLargeRecords(a) || a.position + a.bytes.size() > 4096;
    }
    CHECK(large > 0);
    CHECK(writes == (writer ? large : past_first_page));
  }
  CheckContent(*segment, w);
}

TEST_CASE(
    "Segment: batches of large records are written with pwritev, faulting nothing ahead, and "
    "mapped behind",
    "[segment]") {
  TestFs t(FsKind::kMem);
  const Populator populator = GENERATE(Populator::kWriter, Populator::kByRate);
  INFO((populator == Populator::kWriter ? "kWriter" : "kByRate"));
  auto segment =
      Unwrap(Segment::Create(t.fs(), t.root(), kBase, PopulatingOptions(256 << 10, populator)));
  SegmentWriter w(*segment);
  std::mt19937_64 rng(17);
  int large = 0;
  int small = 0;
  while (w.end() < (3 << 20)) {
    const int64_t writes = t.mem()->OperationCount(kMemFsWrite);
    const int populates = w.populate_requests();
    const Appended& a = w.Append(1 + static_cast<int>(rng() % 3));
    if (HasLargeRecords(a)) {
      ++large;
      CHECK(t.mem()->OperationCount(kMemFsWrite) == writes + 1);
      CHECK(w.populate_requests() == populates);
    } else {
      ++small;
    }
  }
  // RecordAt makes one record in 61 a large one.
  CHECK(large > 20);
  CHECK(small > 20 * large);
  // Small batches went on asking for pages: the writer stays ahead.
  CHECK(w.populate_requests() > 0);
  // The pages of large records are mapped behind the writer for readers,
  // by a background task, each time it has written a MiB past the last
  // one's end; never by the writer itself (kWriter).
  if (populator == Populator::kWriter) {
    CHECK(w.maps_behind() == 0);
  } else {
    CHECK(w.maps_behind() > 0);
    CHECK(w.maps_behind() <= 3);
  }
  CheckContent(*segment, w);
}

TEST_CASE("Segment: the pages a lagging prefaulter skipped are written with pwritev", "[segment]") {
  TestFs t(FsKind::kMem);
  const SegmentOptions options = PopulatingOptions(8 << 20, Populator::kBackground);
  std::mt19937_64 rng(13);
  auto segment = Unwrap(Segment::Create(t.fs(), t.root(), kBase, options));
  SegmentWriter w(*segment);
  Fill(w, 100 << 10, rng);  // Nobody has faulted anything in yet.
  // The task runs late: behind the writer, it resumes 4 MiB ahead of it.
  segment->PopulateAhead();
  const size_t before = w.appended().size();
  const int64_t writes_before = t.mem()->OperationCount(kMemFsWrite);
  Fill(w, 3 << 20, rng);  // All within the skipped 4 MiB.
  CHECK(t.mem()->OperationCount(kMemFsWrite) - writes_before ==
        static_cast<int64_t>(w.appended().size() - before));
  // Past the skip, into the pages the task faulted: copies again, but for
  // batches of large records.
  Fill(w, (4 << 20) + (200 << 10), rng);
  const int64_t writes_at_edge = t.mem()->OperationCount(kMemFsWrite);
  const size_t at_edge = w.appended().size();
  Fill(w, 5 << 20, rng);
  int64_t large = 0;
  for (size_t i = at_edge; i < w.appended().size(); ++i) large += HasLargeRecords(w.appended()[i]);
  CHECK(t.mem()->OperationCount(kMemFsWrite) == writes_at_edge + large);
  CheckContent(*segment, w);
}

TEST_CASE("Segment: OffsetForTimestamp agrees with a scan of every record", "[segment]") {
  TestFs t(FsKind::kMem);
  std::mt19937_64 rng(2);
  auto segment = Unwrap(Segment::Create(t.fs(), t.root(), kBase, SmallOptions()));
  SegmentWriter writer(*segment);
  CHECK(Unwrap(segment->OffsetForTimestamp(0)) == kBase);  // Empty.
  // RecordAt's timestamps wander; add batches that go back in time and one
  // from far in the future early on, which the index must not hide.
  Fill(writer, 20 << 10, rng);
  writer.AppendWithTimestamps({RecordAt(0).timestamp + 1'000'000'000});
  Fill(writer, 60 << 10, rng);
  writer.AppendWithTimestamps({5, 3, 4});
  Fill(writer, 100 << 10, rng);
  CheckOffsetForTimestamp(*segment, writer);
  REQUIRE_OK(segment->Seal());
  CheckOffsetForTimestamp(*segment, writer);
}

TEST_CASE("Segment: index entries every index_interval_bytes", "[segment]") {
  TestFs t(FsKind::kMem);
  const uint32_t interval = GENERATE(1u, 700u, 4096u);
  INFO("interval " << interval);
  std::mt19937_64 rng(interval);
  SegmentOptions options = SmallOptions();
  options.index_interval_bytes = interval;
  auto segment = Unwrap(Segment::Create(t.fs(), t.root(), kBase, options));
  SegmentWriter writer(*segment);
  Fill(writer, 300 << 10, rng);
  REQUIRE_OK(segment->Seal());
  CheckOffsetIndex(ReadFile(t, segment::kIndexSuffix), writer, interval);
  CheckTimeIndex(ReadFile(t, segment::kTimeIndexSuffix), writer);
}

TEST_CASE("Segment: Seal trims the files to their data", "[segment]") {
  TestFs t(GENERATE(FsKind::kMem, FsKind::kPosix));
  INFO(t.name());
  std::mt19937_64 rng(3);
  auto segment = Unwrap(Segment::Create(t.fs(), t.root(), kBase, SmallOptions()));
  SegmentWriter writer(*segment);
  Fill(writer, 100 << 10, rng);
  // Space is allocated ahead of the writer, in chunks.
  CHECK(segment->allocated_bytes() > segment->size());
  CHECK(Unwrap(t.fs().Stat(FilePath(t, segment::kLogSuffix))).size == segment->allocated_bytes());
  CHECK_FALSE(segment->sealed());

  REQUIRE_OK(segment->Seal());
  CHECK(segment->sealed());
  CHECK(segment->allocated_bytes() == segment->size());
  CHECK(Unwrap(t.fs().Stat(FilePath(t, segment::kLogSuffix))).size == writer.end());
  // No preallocated zeros left in the indexes: every entry is a real one.
  CheckOffsetIndex(ReadFile(t, segment::kIndexSuffix), writer, SmallOptions().index_interval_bytes);
  CheckTimeIndex(ReadFile(t, segment::kTimeIndexSuffix), writer);
  CheckContent(*segment, writer);
}

TEST_CASE("Segment: reopened with LoadTrusted, it is as it was", "[segment]") {
  TestFs t(GENERATE(FsKind::kMem, FsKind::kPosix));
  const bool writable = GENERATE(false, true);
  SegmentOptions options = SmallOptions();
  options.write_through_file = GENERATE(false, true);
  INFO(t.name() << (writable ? ", writable" : ", read-only")
                << (options.write_through_file ? ", appended by write" : ""));
  std::mt19937_64 rng(4);
  SegmentWriter writer;
  {
    auto segment = Unwrap(Segment::Create(t.fs(), t.root(), kBase, options));
    writer.Reset(*segment);
    writer.AppendWithTimestamps({RecordAt(0).timestamp + 1'000'000'000});  // The greatest, first.
    Fill(writer, 150 << 10, rng);
    REQUIRE_OK(segment->Seal());
  }
  auto segment = Unwrap(Segment::Open(t.fs(), t.root(), kBase, options, writable));
  REQUIRE_OK(segment->LoadTrusted());
  CHECK(segment->sealed() == !writable);
  CheckContent(*segment, writer);
  CheckOffsetForTimestamp(*segment, writer);
  if (!writable) return;

  // Appending after a reopen goes on indexing every interval.
  writer.Reset(*segment);
  Fill(writer, 300 << 10, rng);
  REQUIRE_OK(segment->Seal());
  CheckContent(*segment, writer);
  CheckOffsetIndex(ReadFile(t, segment::kIndexSuffix), writer, SmallOptions().index_interval_bytes);
  CheckTimeIndex(ReadFile(t, segment::kTimeIndexSuffix), writer);
}

TEST_CASE("Segment: LoadTrusted trims the zeros a crash left after the last batch", "[segment]") {
  TestFs t(FsKind::kMem);
  std::mt19937_64 rng(5);
  SegmentWriter writer;
  {
    auto segment = Unwrap(Segment::Create(t.fs(), t.root(), kBase, SmallOptions()));
    writer.Reset(*segment);
    Fill(writer, 90 << 10, rng);
    REQUIRE_OK(segment->SyncData());  // Not sealed: the .log keeps its preallocated tail.
  }
  REQUIRE(Unwrap(t.fs().Stat(FilePath(t, segment::kLogSuffix))).size > writer.end());
  auto segment = Unwrap(Segment::Open(t.fs(), t.root(), kBase, SmallOptions(), true));
  REQUIRE_OK(segment->LoadTrusted());
  CheckContent(*segment, writer);
  CHECK(Unwrap(t.fs().Stat(FilePath(t, segment::kLogSuffix))).size == writer.end());
}

TEST_CASE("Segment: a missing or damaged index is rebuilt", "[segment]") {
  TestFs t(FsKind::kMem);
  const std::string_view suffix = GENERATE(segment::kIndexSuffix, segment::kTimeIndexSuffix);
  const std::string damage = GENERATE(as<std::string>{}, "deleted", "empty", "garbage", "cut");
  const bool writable = GENERATE(false, true);
  INFO(suffix << " " << damage << (writable ? ", writable" : ", read-only"));
  std::mt19937_64 rng(6);
  SegmentWriter writer;
  {
    auto segment = Unwrap(Segment::Create(t.fs(), t.root(), kBase, SmallOptions()));
    writer.Reset(*segment);
    Fill(writer, 60 << 10, rng);
    // The greatest timestamp, mid-way: the tail alone does not tell it.
    writer.AppendWithTimestamps({RecordAt(0).timestamp + 1'000'000'000});
    Fill(writer, 120 << 10, rng);
    REQUIRE_OK(segment->Seal());
  }
  const std::string index = ReadFile(t, segment::kIndexSuffix);
  const std::string time_index = ReadFile(t, segment::kTimeIndexSuffix);
  REQUIRE(index.size() >= 10 * segment::kOffsetEntrySize);
  REQUIRE(time_index.size() >= 10 * segment::kTimeEntrySize);

  const std::string path = FilePath(t, suffix);
  const std::string original = suffix == segment::kIndexSuffix ? index : time_index;
  if (damage == "deleted") {
    REQUIRE_OK(t.fs().RemoveFile(path));
  } else {
    std::string bytes;
    if (damage == "garbage") bytes = testing::RandomBytes(rng, original.size());
    // Cut mid-way, mid-entry: a prefix of sound entries is left.
    if (damage == "cut") bytes = original.substr(0, original.size() / 2 + 5);
    auto file = Unwrap(t.fs().OpenFile(path, OpenMode::kTruncate));
    REQUIRE_OK(file->WriteAt(0, bytes));
  }

  auto segment = Unwrap(Segment::Open(t.fs(), t.root(), kBase, SmallOptions(), writable));
  REQUIRE_OK(segment->LoadTrusted());
  CheckContent(*segment, writer);
  CheckOffsetForTimestamp(*segment, writer);
  if (writable) REQUIRE_OK(segment->Seal());
  // Rebuilt, on disk, as it was first written.
  CHECK(ReadFile(t, segment::kIndexSuffix) == index);
  CHECK(ReadFile(t, segment::kTimeIndexSuffix) == time_index);
}

TEST_CASE("Segment: RoomFor bounds size, relative offsets and index space", "[segment]") {
  TestFs t(FsKind::kMem);
  std::mt19937_64 rng(7);
  SegmentOptions options = SmallOptions();
  options.max_bytes = 64 << 10;
  options.allocation_chunk = 4096;

  SECTION("size") {
    auto segment = Unwrap(Segment::Create(t.fs(), t.root(), kBase, options));
    // An empty segment takes a batch of any size: a new one would be no better.
    CHECK(segment->RoomFor(options.max_bytes + 1, kBase));
    SegmentWriter writer(*segment);
    Fill(writer, 60 << 10, rng, 5);
    const size_t left = options.max_bytes - segment->size();
    CHECK(segment->RoomFor(left, writer.next()));
    CHECK_FALSE(segment->RoomFor(left + 1, writer.next()));
  }
  SECTION("relative offsets") {
    auto segment = Unwrap(Segment::Create(t.fs(), t.root(), kBase, options));
    const int64_t max = std::numeric_limits<int32_t>::max();
    CHECK(segment->RoomFor(100, kBase + max));
    CHECK_FALSE(segment->RoomFor(100, kBase + max + 1));
    SegmentWriter writer(*segment);
    writer.Append(3);
    CHECK(segment->RoomFor(100, kBase + max));
    CHECK_FALSE(segment->RoomFor(100, kBase + max + 1));
  }
  SECTION("index space") {
    options.index_interval_bytes = 1;  // An entry for every batch but the first.
    options.max_index_bytes = 96;      // 12 offset entries, 8 time entries.
    auto segment = Unwrap(Segment::Create(t.fs(), t.root(), kBase, options));
    SegmentWriter writer(*segment);
    int appended = 0;
    while (segment->RoomFor(100, writer.next() + 1) && appended < 100) {
      writer.AppendWithTimestamps({RecordAt(0).timestamp + appended});  // Rising: always indexed.
      ++appended;
    }
    CHECK(appended < 100);
    CHECK(segment->size() < options.max_bytes / 2);  // It was the index that filled.
    // Batches forced in anyway fill the last slots, then fail; a failed one
    // publishes nothing.
    BatchBuilder builder;
    int64_t next = writer.next();
    absl::Status status;
    for (int i = 0; i < 5 && status.ok(); ++i) {
      builder.Reset();
      testing::OwnedRecord record = RecordAt(next);
      record.timestamp = RecordAt(0).timestamp + appended + i;  // Still rising.
      builder.Add(record.view(), record.timestamp);
      const std::span<const char> batch = Unwrap(builder.Finish());
      BatchHeader h;
      REQUIRE_OK(CheckBatchHeader(batch, &h));
      h.base_offset = next;
      const uint64_t size = segment->size();
      PopulateRequest populate;
      status = segment->Append(batch, h, -1, 0, &populate);
      if (status.ok()) {
        ++next;
      } else {
        CHECK(segment->size() == size);
      }
    }
    CHECK(status.code() == absl::StatusCode::kOutOfRange);
    CHECK(segment->next_offset() == next);
    CHECK(Unwrap(segment->FindBatch(next)) == segment->size());
    // A full index does not keep the segment from being sealed.
    CHECK_OK(segment->Seal());
    CHECK(segment->next_offset() == next);
  }
}

}  // namespace
}  // namespace rill
