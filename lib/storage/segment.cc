#include "storage/segment.h"

#include <algorithm>
#include <cstring>
#include <limits>

#include "absl/strings/str_format.h"
#include "format/batch_reader.h"
#include "format/crc32c.h"
#include "storage/segment_format.h"
#include "util/align.h"
#include "util/status_macros.h"

namespace rill {
namespace {

// Pages are faulted in this many bytes at a time, so a Seal never waits long.
constexpr uint64_t kPopulateStep = 1 << 20;
// When the writer has caught up with the prefaulter, the prefaulter resumes
// this far ahead of it, so the two fill different pages in parallel instead
// of queueing on the same ones.
constexpr uint64_t kWriterLead = 4 << 20;

absl::Status AtPosition(const absl::Status& s, const std::string& path, uint64_t position) {
  return absl::Status(s.code(), absl::StrFormat("%s at byte %d: %s", path, position, s.message()));
}

// The position after the last non-zero byte of [from, end), or `from`.
uint64_t EndOfNonZero(const char* data, uint64_t from, uint64_t end) {
  uint64_t p = end;
  while (p > from && (p & 7) != 0 && data[p - 1] == 0) --p;
  while (p - from >= 8) {
    uint64_t word;
    std::memcpy(&word, data + p - 8, 8);
    if (word != 0) break;
    p -= 8;
  }
  while (p > from && data[p - 1] == 0) --p;
  return p;
}

// The options a segment works by: a segment written through its file maps
// it read-only, so nothing may fault its pages in for writing.
SegmentOptions Effective(SegmentOptions options) {
  if (options.write_through_file) options.populate_ahead = 0;
  options.writer_populate_ahead = std::min(options.writer_populate_ahead, options.populate_ahead);
  return options;
}

// The page size populating works in: a writer's steps end on multiples of
// it, so that they do not fault the same page twice (larger pages are only
// faulted a little more often).
constexpr uint64_t kPopulatePage = 4096;
uint64_t RoundUpToPage(uint64_t n) { return RoundUp(n, kPopulatePage); }

// Whether a batch's records average kLargeRecordBytes or more.
bool HasLargeRecords(const BatchHeader& h, uint64_t batch_bytes) {
  return h.records_count > 0 &&
         batch_bytes >= kLargeRecordBytes * static_cast<uint64_t>(h.records_count);
}

// Segment ids: 0 is never one, so that it can stand for none.
std::atomic<uint64_t> next_segment_id{1};

uint64_t NewSegmentId() { return next_segment_id.fetch_add(1, std::memory_order_relaxed); }

}  // namespace

Segment::Segment(FileSystem& fs, std::string dir, int64_t base_offset,
                 const SegmentOptions& options, std::string_view name_suffix)
    : fs_(fs),
      dir_(std::move(dir)),
      base_offset_(base_offset),
      options_(Effective(options)),
      name_suffix_(name_suffix),
      id_(NewSegmentId()),
      next_offset_(base_offset),
      verified_last_offset_(base_offset - 1) {}

std::string Segment::FilePath(std::string_view suffix) const {
  return JoinPath(dir_, segment::FileName(base_offset_, suffix) + name_suffix_);
}

uint64_t Segment::file_bytes() const {
  return DiskUsage::RoundUp(log_->allocated()) + DiskUsage::RoundUp(index_->file().allocated()) +
         DiskUsage::RoundUp(time_index_->file().allocated());
}

absl::StatusOr<int64_t> Segment::RecordCount() const {
  const int64_t known = record_count_.load(std::memory_order_acquire);
  if (known >= 0) return known;
  int64_t count = 0;
  ScanResult r =
      ScanBatches(0, size(), base_offset_, /*check_crc=*/false,
                  [&count](uint64_t, const BatchHeader& h) { count += h.records_count; });
  RETURN_IF_ERROR(r.error);
  record_count_.store(count, std::memory_order_release);
  return count;
}

void Segment::SetVerified(uint64_t end, int64_t last_offset) const {
  MutexLock lock(&verify_mu_);
  verified_last_offset_ = last_offset;
  verified_.store(end, std::memory_order_release);
}

Segment::~Segment() = default;

absl::Status Segment::OpenFiles(bool writable, bool create) {
  const std::string log_path = FilePath(segment::kLogSuffix);
  const OpenMode log_mode = !writable ? OpenMode::kRead : create ? OpenMode::kTruncate
                                                               : OpenMode::kReadWrite;
  ASSIGN_OR_RETURN(log_, MappedFile::Open(fs_, log_path, log_mode, options_.max_bytes, writable,
                                          options_.usage, !options_.write_through_file));
  auto open_index = [&](std::string_view suffix,
                        size_t entry_size) -> absl::StatusOr<std::unique_ptr<IndexFile>> {
    const std::string path = FilePath(suffix);
    if (create) {
      absl::Status s = fs_.RemoveFile(path);
      if (!s.ok() && !absl::IsNotFound(s)) return s;
    }
    return IndexFile::Open(fs_, path, entry_size, options_.max_index_bytes, /*writable=*/true,
                           /*create=*/true, options_.index_allocation_chunk, options_.usage);
  };
  ASSIGN_OR_RETURN(std::unique_ptr<IndexFile> index,
                   open_index(segment::kIndexSuffix, segment::kOffsetEntrySize));
  ASSIGN_OR_RETURN(std::unique_ptr<IndexFile> time_index,
                   open_index(segment::kTimeIndexSuffix, segment::kTimeEntrySize));
  index_ = std::make_unique<OffsetIndex>(std::move(index), base_offset_);
  time_index_ = std::make_unique<TimeIndex>(std::move(time_index), base_offset_);
  sealed_.store(!writable, std::memory_order_release);
  return absl::OkStatus();
}

absl::StatusOr<std::shared_ptr<Segment>> Segment::Create(FileSystem& fs, const std::string& dir,
                                                         int64_t base_offset,
                                                         const SegmentOptions& options,
                                                         std::string_view name_suffix) {
  std::shared_ptr<Segment> segment(new Segment(fs, dir, base_offset, options, name_suffix));
  RETURN_IF_ERROR(segment->OpenFiles(/*writable=*/true, /*create=*/true));
  return segment;
}

absl::StatusOr<std::shared_ptr<Segment>> Segment::Open(FileSystem& fs, const std::string& dir,
                                                       int64_t base_offset,
                                                       const SegmentOptions& options,
                                                       bool writable) {
  std::shared_ptr<Segment> segment(new Segment(fs, dir, base_offset, options, ""));
  RETURN_IF_ERROR(segment->OpenFiles(writable, /*create=*/false));
  return segment;
}

ScanResult Segment::ScanBatches(
    uint64_t from, uint64_t end, int64_t min_offset, bool check_crc,
    const std::function<void(uint64_t, const BatchHeader&)>& on_batch) const {
  ScanResult r;
  r.end = from;
  int64_t expected = min_offset;
  const char* data = log_->data();
  uint64_t p = from;
  while (p < end) {
    BatchHeader h;
    const std::span<const char> rest(data + p, end - p);
    absl::Status s = check_crc ? CheckBatch(rest, &h) : CheckBatchHeader(rest, &h);
    if (s.ok() && h.base_offset < expected) {
      s = absl::DataLossError(absl::StrFormat(
          "batch baseOffset %d does not follow offset %d", h.base_offset, expected - 1));
    }
    if (!s.ok()) {
      r.error = AtPosition(s, path(), p);
      break;
    }
    if (on_batch) on_batch(p, h);
    ++r.batches;
    r.last_offset = h.last_offset();
    r.max_timestamp = std::max(r.max_timestamp, h.max_timestamp);
    expected = h.last_offset() + 1;
    p += h.size();
    r.end = p;
  }
  return r;
}

void Segment::IndexBatch(uint64_t position, const BatchHeader& h, int64_t max_ts_so_far,
                         absl::Status* status) {
  if (bytes_since_index_ >= options_.index_interval_bytes) {
    const size_t entries = index_->size();
    absl::Status s = index_->Append(h.last_offset(), position);
    if (s.ok()) s = time_index_->MaybeAppend(max_ts_so_far, h.last_offset());
    if (!s.ok()) {
      index_->file().Truncate(entries);  // Keep the two indexes in step.
      *status = s;
      return;
    }
    bytes_since_index_ = 0;
  }
  bytes_since_index_ += h.size();
}

absl::Status Segment::RebuildIndexes(uint64_t end) {
  index_->Clear();
  time_index_->Clear();
  bytes_since_index_ = 0;
  int64_t max_ts = -1;
  absl::Status status;
  ScanResult r = ScanBatches(0, end, base_offset_, /*check_crc=*/false,
                             [&](uint64_t position, const BatchHeader& h) {
                               max_ts = std::max(max_ts, h.max_timestamp);
                               if (status.ok()) IndexBatch(position, h, max_ts, &status);
                             });
  RETURN_IF_ERROR(status);
  return r.error;
}

ScanResult Segment::ScanFromLastIndexEntry(uint64_t end, uint64_t* start,
                                           uint64_t* last_batch) const {
  const size_t entries = index_->size();
  *start = entries == 0 ? 0 : index_->at(entries - 1).position;
  *last_batch = *start;
  return ScanBatches(*start, end, base_offset_, /*check_crc=*/false,
                     [last_batch](uint64_t position, const BatchHeader&) { *last_batch = position; });
}

bool Segment::EndsInZeros(const ScanResult& r, uint64_t end) const {
  return r.error.ok() || EndOfNonZero(log_->data(), r.end, end) == r.end;
}

bool Segment::IndexesIncomplete(const ScanResult& r, uint64_t start, uint64_t last_batch) const {
  if (r.batches == 0) return false;
  // Appends index a batch once index_interval_bytes have gone by since the
  // last entry (or the start): the walk should not pass such a batch.
  if (last_batch > start && last_batch - start >= options_.index_interval_bytes) return true;
  // Sealing leaves the greatest timestamp as the time index's last entry.
  const size_t n = time_index_->size();
  return n == 0 || time_index_->at(n - 1).timestamp < r.max_timestamp;
}

absl::Status Segment::LoadTrusted() {
  RETURN_IF_ERROR(Load(/*rebuild=*/false));
  // The time index's last entry gives the segment's greatest timestamp, by
  // which lookups skip whole segments. It has no checksum: check it against
  // the batches it covers, and rebuild the indexes if it is wrong.
  if (time_index_->size() == 0) return absl::OkStatus();
  ASSIGN_OR_RETURN(const bool holds, TimeEntryHolds(time_index_->size() - 1));
  return holds ? absl::OkStatus() : Load(/*rebuild=*/true);
}

absl::Status Segment::Load(bool rebuild) {
  const uint64_t file_size = log_->allocated();
  damaged_at_ = kNoDamage;
  damage_ = absl::OkStatus();
  ScanResult r;
  uint64_t start = 0;
  uint64_t last_batch = 0;
  rebuild = rebuild || !index_->Check(file_size).ok();
  if (!rebuild) {
    r = ScanFromLastIndexEntry(file_size, &start, &last_batch);
    rebuild = !EndsInZeros(r, file_size) || IndexesIncomplete(r, start, last_batch) ||
              !time_index_->Check(r.batches > 0 ? r.last_offset : base_offset_ - 1).ok();
  }
  if (rebuild) {
    // A damaged index is rebuilt from the batch headers; if those are
    // damaged too, the scan says where.
    (void)RebuildIndexes(file_size);
    r = ScanFromLastIndexEntry(file_size, &start, &last_batch);
    if (!EndsInZeros(r, file_size)) {
      // A writable segment's caller recovers it, cutting the damage. A
      // sealed one is only read: its batches before the damage are served,
      // and the damaged bytes stay inside size(), so that a read or a walk
      // reaching them reports kDataLoss rather than take the segment for
      // ended and move on to the next one, skipping its lost records.
      if (!sealed()) return absl::DataLossError(r.error.message());
      damaged_at_ = r.end;
      damage_ = absl::DataLossError(r.error.message());
    }
    if (sealed() && r.batches > 0) {
      int64_t max_ts = r.max_timestamp;
      if (time_index_->size() > 0) {
        max_ts = std::max(max_ts, time_index_->at(time_index_->size() - 1).timestamp);
      }
      RETURN_IF_ERROR(time_index_->MaybeAppend(max_ts, r.last_offset));
    }
    RETURN_IF_ERROR(index_->file().Trim());
    RETURN_IF_ERROR(time_index_->file().Trim());
  }
  const int64_t last_offset = r.batches > 0 ? r.last_offset : base_offset_ - 1;
  const uint64_t end = damage_.ok() ? r.end : file_size;
  // Zeros after the last batch are space allocated ahead of the writer, left
  // by a crash; a writable segment gives them back.
  if (r.end != file_size && !sealed()) RETURN_IF_ERROR(log_->Trim(r.end));

  int64_t max_ts = r.max_timestamp;
  if (time_index_->size() > 0) {
    max_ts = std::max(max_ts, time_index_->at(time_index_->size() - 1).timestamp);
  }
  if (r.end > 0) first_append_ms_ = DecodeBatchHeader(log_->data()).max_timestamp;
  next_offset_.store(last_offset + 1, std::memory_order_release);
  max_timestamp_.store(max_ts, std::memory_order_release);
  populated_.store(end, std::memory_order_relaxed);
  record_count_.store(end == 0 ? 0 : -1, std::memory_order_release);
  size_.store(end, std::memory_order_release);
  {
    MutexLock lock(&sync_mu_);
    synced_ = end;
  }
  bytes_since_index_ = r.end - start;  // As appends left it.
  return absl::OkStatus();
}

absl::Status Segment::Rewrite(uint64_t from) {
  // Through a buffer: a write whose source is a mapping of the same pages
  // would copy each page onto itself.
  constexpr uint64_t kChunk = 1 << 20;
  const uint64_t end = size();
  std::string chunk;
  for (uint64_t at = from; at < end; at += chunk.size()) {
    chunk.assign(log_->data() + at, std::min(kChunk, end - at));
    RETURN_IF_ERROR(log_->file().WriteAt(at, chunk));
  }
  return absl::OkStatus();
}

absl::Status Segment::Recover(uint64_t trusted, int64_t min_offset, SegmentRecovery* report) {
  const uint64_t file_size = log_->allocated();
  trusted = std::min(trusted, file_size);
  index_->Clear();
  time_index_->Clear();
  bytes_since_index_ = 0;
  int64_t max_ts = -1;
  int64_t records = 0;
  absl::Status index_status;
  auto on_batch = [&](uint64_t position, const BatchHeader& h) {
    records += h.records_count;
    max_ts = std::max(max_ts, h.max_timestamp);
    if (index_status.ok()) IndexBatch(position, h, max_ts, &index_status);
  };
  ScanResult r = ScanBatches(0, trusted, min_offset, /*check_crc=*/false, on_batch);
  if (r.error.ok()) {
    const int64_t next = r.batches > 0 ? r.last_offset + 1 : min_offset;
    ScanResult tail = ScanBatches(r.end, file_size, next, /*check_crc=*/true, on_batch);
    report->bytes_checked += tail.end - r.end;
    report->batches_checked += tail.batches;
    r.batches += tail.batches;
    if (tail.batches > 0) r.last_offset = tail.last_offset;
    r.max_timestamp = std::max(r.max_timestamp, tail.max_timestamp);
    r.end = tail.end;
    r.error = tail.error;
  }
  RETURN_IF_ERROR(index_status);

  const uint64_t valid_end = r.end;
  // Dropped: the bytes up to the last non-zero one (zeros after it are space
  // allocated ahead of the writer), and every batch that still looks like
  // one, whole -- a batch often ends in zeros (a record with no headers
  // does), and those are its bytes too.
  uint64_t dropped_end = EndOfNonZero(log_->data(), valid_end, file_size);
  if (dropped_end > valid_end) {
    report->reason = std::string(r.error.message());
    for (uint64_t p = valid_end; p < dropped_end;) {
      BatchHeader h;
      absl::Status s = CheckBatchHeader({log_->data() + p, file_size - p}, &h);
      if (!s.ok() && !absl::IsOutOfRange(s)) break;
      ++report->batches_dropped;
      // A batch cut short by the end of the file runs to that end.
      p = s.ok() ? p + h.size() : file_size;
      dropped_end = std::max(dropped_end, p);
    }
  }
  report->bytes_dropped += dropped_end - valid_end;
  if (file_size != valid_end) RETURN_IF_ERROR(log_->Trim(valid_end));
  if (r.end > 0) first_append_ms_ = DecodeBatchHeader(log_->data()).max_timestamp;
  next_offset_.store(r.batches > 0 ? r.last_offset + 1 : base_offset_, std::memory_order_release);
  max_timestamp_.store(r.max_timestamp, std::memory_order_release);
  // Batches before `trusted` were walked by header only: they are checked on
  // first read like any others.
  if (trusted == 0) {
    SetVerified(valid_end, r.batches > 0 ? r.last_offset : base_offset_ - 1);
  } else {
    SetVerified(0, base_offset_ - 1);
  }
  populated_.store(valid_end, std::memory_order_relaxed);
  record_count_.store(records, std::memory_order_release);
  size_.store(valid_end, std::memory_order_release);
  {
    MutexLock lock(&sync_mu_);
    synced_ = 0;
  }
  return absl::OkStatus();
}

bool Segment::RoomFor(size_t n, int64_t last_offset) const {
  const uint64_t used = size();
  if (used > 0 && used + n > options_.max_bytes) return false;
  if (last_offset - base_offset_ > std::numeric_limits<int32_t>::max()) return false;
  if (used > std::numeric_limits<int32_t>::max() - n) return false;  // Index positions are int32.
  return index_->size() + 1 < index_->file().capacity() &&
         time_index_->size() + 1 < time_index_->file().capacity();
}

absl::Status Segment::Append(std::span<const char> batch, const BatchHeader& header,
                             int64_t append_time_ms, int64_t now_ms, PopulateRequest* populate) {
  const uint64_t position = size_.load(std::memory_order_relaxed);
  const uint64_t end = position + batch.size();
  RETURN_IF_ERROR(log_->EnsureAllocated(end, options_.allocation_chunk));
  const bool large_records = HasLargeRecords(header, batch.size());
  if (WritesThroughFile(position, end, large_records)) {
    char head[batch::kHeaderSize];
    CopyStampedHeader(batch, header.base_offset, append_time_ms, head);
    const std::string_view pieces[] = {{head, sizeof(head)},
                                       {batch.data() + sizeof(head), batch.size() - sizeof(head)}};
    RETURN_IF_ERROR(log_->file().WritevAt(position, pieces));
  } else {
    char* dst = log_->data() + position;
    std::memcpy(dst, batch.data(), batch.size());
    SetBaseOffset(dst, header.base_offset);
    if (append_time_ms >= 0) SetLogAppendTime(dst, batch.size(), append_time_ms);
  }
  const int64_t batch_max_ts = append_time_ms >= 0 ? append_time_ms : header.max_timestamp;
  const int64_t max_ts = std::max(max_timestamp_.load(std::memory_order_relaxed), batch_max_ts);
  absl::Status status;
  IndexBatch(position, header, max_ts, &status);
  RETURN_IF_ERROR(status);

  if (first_append_ms_ < 0) first_append_ms_ = now_ms;
  if (record_count_.load(std::memory_order_relaxed) >= 0) {
    record_count_.fetch_add(header.records_count, std::memory_order_relaxed);
  }
  max_timestamp_.store(max_ts, std::memory_order_relaxed);
  next_offset_.store(header.last_offset() + 1, std::memory_order_relaxed);
  // The writer vouches for its own bytes: extend the checked prefix if it
  // reaches this batch.
  if (verified_.load(std::memory_order_relaxed) == position) {
    MutexLock lock(&verify_mu_);
    if (verified_.load(std::memory_order_relaxed) == position) {
      verified_last_offset_ = header.last_offset();
      verified_.store(end, std::memory_order_release);
    }
  }
  size_.store(end, std::memory_order_release);

  // Nobody faults pages in ahead of large records (kLargeRecordBytes); they
  // are mapped behind the writer.
  *populate = large_records ? NextMapBehind(end, now_ms) : NextPopulate(end, now_ms);
  return absl::OkStatus();
}

bool Segment::WritesThroughFile(uint64_t position, uint64_t end, bool large_records) const {
  if (options_.write_through_file) return true;
  if (options_.populate_ahead == 0) return false;
  if (large_records) return true;
  // In the gap a lagging background task skipped: nobody faulted it.
  if (position + kPopulatePage <= faulted_from_.load(std::memory_order_acquire)) return true;
  // A batch that reaches more than a page past the pages faulted in ahead:
  // whoever faults them has fallen behind a writer that appends faster than
  // pages fault. pwritev fills fresh page-cache pages for much less than the
  // write faults of a copy through the mapping would cost (about 2x on the
  // machines rill is developed on), and makes no page-table entries.
  return end > populated_.load(std::memory_order_relaxed) + kPopulatePage;
}

PopulateRequest Segment::NextPopulate(uint64_t end, int64_t now_ms) {
  const uint64_t populated = populated_.load(std::memory_order_relaxed);
  if (options_.populate_ahead == 0 || populated >= options_.max_bytes) {
    return PopulateRequest::kNone;
  }
  bool background = options_.populator == Populator::kBackground;
  if (options_.populator == Populator::kByRate) {
    // Fast with no core spare: nobody. Batches past the faulted edge are
    // written through the file (WritesThroughFile).
    if (!UpdatePace(end, now_ms)) return PopulateRequest::kNone;
    background = fast_writer_;
  }
  if (background) {
    if (end + options_.populate_ahead / 2 > populated &&
        !populate_pending_.exchange(true, std::memory_order_acq_rel)) {
      return PopulateRequest::kBackground;
    }
    return PopulateRequest::kNone;
  }
  // Not while a background task still runs (after a switch of pace): the
  // two would fault the same pages.
  if (end + options_.writer_populate_ahead >= populated + kWriterPopulateStep &&
      !populate_pending_.load(std::memory_order_acquire)) {
    return PopulateRequest::kWriter;
  }
  return PopulateRequest::kNone;
}

bool Segment::UpdatePace(uint64_t end, int64_t now_ms) {
  if (pace_mark_ms_ < 0) {
    pace_mark_ = end;
    pace_mark_ms_ = now_ms;
  } else if (end - pace_mark_ >= kFastWriterWindow) {
    fast_writer_ = now_ms - pace_mark_ms_ <= kFastWriterMillis;
    if (fast_writer_ && options_.fast_writers != nullptr) {
      core_spare_ = options_.fast_writers->Report(this, now_ms);
    }
    pace_mark_ = end;
    pace_mark_ms_ = now_ms;
  }
  return !fast_writer_ || core_spare_;
}

PopulateRequest Segment::NextMapBehind(uint64_t end, int64_t now_ms) {
  // Not where no thread is to fault pages in behind the writer's back.
  if (options_.populate_ahead == 0 || options_.populator == Populator::kWriter) {
    return PopulateRequest::kNone;
  }
  if (options_.populator == Populator::kByRate && !UpdatePace(end, now_ms)) {
    return PopulateRequest::kNone;
  }
  if (end < mapped_behind_.load(std::memory_order_relaxed) + kPopulateStep ||
      map_behind_pending_.exchange(true, std::memory_order_acq_rel)) {
    return PopulateRequest::kNone;
  }
  return PopulateRequest::kMapBehind;
}

void Segment::MapBehind() {
  const uint64_t end = size();
  for (uint64_t from = mapped_behind_.load(std::memory_order_relaxed); from < end;
       from += kPopulateStep) {
    if (!MapForReading(from, std::min(end, from + kPopulateStep), &mapped_behind_)) break;
  }
  map_behind_pending_.store(false, std::memory_order_release);
}

void Segment::WarmReaderPages() {
  if (!options_.write_through_file) return;
  const uint64_t from = RoundDown(size(), kPopulatePage);
  const uint64_t to = std::min(from + 2 * kPopulatePage, log_->allocated());
  if (to <= reader_warmed_.load(std::memory_order_relaxed)) return;
  MapForReading(from, to, &reader_warmed_);
}

bool Segment::MapForReading(uint64_t from, uint64_t to, std::atomic<uint64_t>* mapped) {
  MutexLock lock(&populate_mu_);
  // Not once sealed: DiscardWriterMapping maps a sealed segment for readers,
  // and Seal trims the file after the data.
  if (sealed()) return false;
  from = std::max(from, mapped->load(std::memory_order_relaxed));
  if (to > from) {
    log_->PopulateRead(from, to);
    mapped->store(to, std::memory_order_relaxed);
  }
  return true;
}

void Segment::PopulateOnWriter(uint64_t appended) {
  const uint64_t end = size();
  MutexLock lock(&populate_mu_);
  if (sealed()) return;
  // Pages before the end hold appended bytes already, copied through the
  // mapping (which faulted them) or written through the file.
  const uint64_t from = std::max(populated_.load(std::memory_order_relaxed), end);
  const uint64_t to =
      std::min({options_.max_bytes, RoundUpToPage(end + options_.writer_populate_ahead),
                RoundUpToPage(from + appended + kWriterPopulateStep)});
  if (to <= from || !log_->EnsureAllocated(to, options_.allocation_chunk).ok()) return;
  log_->Populate(from, to);
  populated_.store(to, std::memory_order_relaxed);
}

void Segment::PopulateAhead() {
  const uint64_t target = std::min(options_.max_bytes, size() + options_.populate_ahead);
  bool allocated;
  {
    // Not once sealed: Seal() trims the file to its data, and growing it
    // again would leave the segment longer than its recovery point says.
    MutexLock lock(&populate_mu_);
    allocated = !sealed() && log_->EnsureAllocated(target, options_.allocation_chunk).ok();
  }
  if (allocated) {
    uint64_t from = populated_.load(std::memory_order_relaxed);
    if (from < size() + kPopulateStep) {
      // Fallen behind: leave the next pages to the writer (which writes
      // batches past the faulted edge through the file) rather than fault
      // the same pages as it.
      from = std::min(target, size() + kWriterLead);
      faulted_from_.store(from, std::memory_order_release);
    }
    while (from < target) {
      MutexLock lock(&populate_mu_);
      if (sealed()) break;
      const uint64_t to = std::min(target, from + kPopulateStep);
      log_->Populate(from, to);
      from = to;
      populated_.store(from, std::memory_order_relaxed);
    }
  }
  // Allocation failed (device full: the writer will meet the error itself),
  // or the segment is sealed.
  populate_pending_.store(false, std::memory_order_release);
}

absl::StatusOr<uint64_t> Segment::FindBatch(int64_t offset) const {
  const uint64_t end = size();
  uint64_t p = 0;
  if (const std::optional<OffsetIndex::Entry> e = index_->EntryBefore(offset)) {
    // An index has no checksum: start from its entry only if the batch there
    // ends at the entry's offset. A damaged entry could otherwise send the
    // walk past the batch that holds `offset`.
    BatchHeader h;
    if (e->position < end &&
        CheckBatchHeader({log_->data() + e->position, end - e->position}, &h).ok() &&
        h.last_offset() == e->offset) {
      p = e->position;
    }
  }
  // A reader polling the log's tail walks here on every read without a
  // hint, across the batches since the last index entry.
  const uint64_t verified = verified_.load(std::memory_order_acquire);
  while (p < end) {
    ASSIGN_OR_RETURN(const BatchExtent e, ExtentAt(p, end, verified));
    if (e.last_offset >= offset) return p;
    p += e.size;
  }
  return end;
}

absl::StatusOr<BatchExtent> Segment::ExtentAt(uint64_t p, uint64_t end, uint64_t verified) const {
  const char* data = log_->data();
  if (p + batch::kHeaderSize <= verified && data[p + batch::kMagicPos] == batch::kMagic) {
    const BatchExtent e = DecodeBatchExtent(data + p);
    if (e.size >= batch::kHeaderSize && e.size <= verified - p) return e;
  }
  BatchHeader h;
  if (absl::Status s = CheckBatchHeader({data + p, end - p}, &h); !s.ok()) {
    return AtPosition(absl::DataLossError(s.message()), path(), p);
  }
  return BatchExtent{.size = h.size(), .last_offset = h.last_offset()};
}

absl::Status Segment::CheckBatches(uint64_t* p, uint64_t end, int64_t* last,
                                   uint64_t* damaged_end) const {
  const char* data = log_->data();
  const uint64_t size = this->size();
  const int64_t limit = limit_offset_.load(std::memory_order_acquire);
  while (*p < end) {
    BatchHeader h;
    absl::Status s = CheckBatchHeader({data + *p, end - *p}, &h);
    *damaged_end = *p + 1;  // A damaged header: how far the damage goes is unknown.
    if (s.ok()) {
      *damaged_end = *p + h.size();
      s = CheckBatch({data + *p, end - *p}, &h);
    }
    if (s.ok() && h.base_offset <= *last) {
      s = absl::DataLossError(absl::StrFormat(
          "batch baseOffset %d does not follow offset %d", h.base_offset, *last));
    }
    // A batch's baseOffset lies outside its CRC: damage there shows only
    // against its neighbours. Every batch must end below the next segment's
    // base offset, and the next batch must start past this one's last
    // offset (when the two disagree, either may be damaged: both are
    // reported).
    const uint64_t next = *p + h.size();
    if (s.ok() && h.last_offset() >= limit) {
      s = absl::DataLossError(
          absl::StrFormat("batch last offset %d is not below the next segment's base offset %d",
                          h.last_offset(), limit));
    } else if (s.ok() && next < size) {
      BatchHeader n;
      if (CheckBatchHeader({data + next, size - next}, &n).ok() &&
          n.base_offset <= h.last_offset()) {
        s = absl::DataLossError(absl::StrFormat(
            "batch offsets %d-%d overlap those of the next batch, at byte %d, from %d: the "
            "baseOffset of one of the two is damaged",
            h.base_offset, h.last_offset(), next, n.base_offset));
        *damaged_end = next + n.size();
      }
    }
    if (!s.ok()) return AtPosition(absl::DataLossError(s.message()), path(), *p);
    *last = h.last_offset();
    *p = next;
  }
  return absl::OkStatus();
}

absl::Status Segment::Verify(uint64_t position, uint64_t end, uint64_t* good_end) const {
  *good_end = end;
  if (end <= verified_.load(std::memory_order_acquire)) return absl::OkStatus();
  MutexLock lock(&verify_mu_);
  const uint64_t verified = verified_.load(std::memory_order_relaxed);
  if (end <= verified) return absl::OkStatus();
  // Extend the checked prefix up to `end` -- over any gap before `position`
  // too, once, so that offsets are known to increase across the segment.
  uint64_t p = verified;
  int64_t last = verified_last_offset_;
  uint64_t damaged_end = 0;
  absl::Status status = CheckBatches(&p, end, &last, &damaged_end);
  if (p > verified) {
    verified_last_offset_ = last;
    verified_.store(p, std::memory_order_release);
  }
  if (status.ok()) return status;
  if (p >= position) {
    // Damage inside the range: the batches before it are good.
    *good_end = p;
    return status;
  }
  if (position < damaged_end) {
    // The range starts inside the damage.
    *good_end = position;
    return status;
  }
  // Damage before the range: check the range on its own. Its offsets must
  // still lie above every offset of the good prefix.
  p = position;
  last = verified_last_offset_;
  status = CheckBatches(&p, end, &last, &damaged_end);
  if (!status.ok()) *good_end = p;
  return status;
}

absl::StatusOr<std::span<const char>> Segment::Read(uint64_t position, size_t max_bytes) const {
  const uint64_t end = size();
  if (position >= end) return std::span<const char>();
  const uint64_t verified = verified_.load(std::memory_order_acquire);
  uint64_t p = position;
  do {
    absl::StatusOr<BatchExtent> e = ExtentAt(p, end, verified);
    if (!e.ok()) {
      // Reported by the read that starts at it; the batches before it are
      // served (as Verify's damage is, below).
      if (p == position) return e.status();
      break;
    }
    if (p > position && p + e->size - position > max_bytes) break;
    p += e->size;
  } while (p < end);
  uint64_t good_end;
  if (absl::Status s = Verify(position, p, &good_end); !s.ok()) {
    // Serve the intact batches before a damaged one; the next read, which
    // starts at it, reports it.
    if (good_end == position) return s;
    p = good_end;
  }
  return std::span<const char>(log_->data() + position, p - position);
}

absl::StatusOr<bool> Segment::TimeEntryHolds(size_t i) const {
  const TimeIndex::Entry e = time_index_->at(i);
  const int64_t from = i == 0 ? base_offset_ : time_index_->at(i - 1).offset + 1;
  if (e.offset < from) return false;
  ASSIGN_OR_RETURN(uint64_t p, FindBatch(from));
  // Entries lie below any damage (Load rebuilt them up to it).
  const uint64_t end = std::min(size(), damaged_at_);
  while (p < end) {
    BatchHeader h;
    if (absl::Status s = CheckBatchHeader({log_->data() + p, end - p}, &h); !s.ok()) {
      return AtPosition(absl::DataLossError(s.message()), path(), p);
    }
    if (h.base_offset > e.offset) break;
    if (h.max_timestamp > e.timestamp) return false;
    p += h.size();
  }
  return true;
}

absl::StatusOr<int64_t> Segment::OffsetForTimestamp(int64_t ts) const {
  if (max_timestamp() < ts) return next_offset();
  // The last entry below `ts` says where records at or after it can start.
  // A time index has no checksum: an entry is used only if the batches
  // since the entry before it agree with it, else the one before is tried.
  int64_t skip = -1;
  for (std::optional<size_t> i = time_index_->LastBefore(ts); i;
       i = *i > 0 ? std::optional<size_t>(*i - 1) : std::nullopt) {
    ASSIGN_OR_RETURN(const bool holds, TimeEntryHolds(*i));
    if (holds) {
      skip = time_index_->at(*i).offset;
      break;
    }
  }
  uint64_t p = 0;
  if (skip >= 0) {
    ASSIGN_OR_RETURN(p, FindBatch(skip + 1));
  }
  const uint64_t end = size();
  BatchReader reader;
  while (p < end) {
    ASSIGN_OR_RETURN(std::span<const char> bytes, Read(p, 1));
    BatchHeader h = DecodeBatchHeader(bytes.data());
    if (h.max_timestamp >= ts) {
      detail::RecordDecoder decoder;
      RETURN_IF_ERROR(reader.Open(bytes, h, &decoder));
      RecordView record;
      while (decoder.Next(&record)) {
        if (record.timestamp() >= ts) return record.offset();
      }
      if (decoder.error() != nullptr) return RecordError(decoder, h);
      reader.Clear();
    }
    p += h.size();
  }
  return next_offset();
}

absl::Status Segment::Seal() {
  {
    MutexLock lock(&populate_mu_);
    sealed_.store(true, std::memory_order_release);
  }
  absl::Status s;
  if (size() > 0) s = time_index_->MaybeAppend(max_timestamp(), next_offset() - 1);
  if (s.ok()) s = log_->Trim(size());
  if (s.ok()) s = index_->file().Trim();
  if (s.ok()) s = time_index_->file().Trim();
  if (!s.ok()) {
    // Not sealed after all: the segment stays the active one, and the next
    // roll seals it again. Left sealed, it would never be trimmed, and the
    // bytes of an append that failed after its copy (a full device) would
    // stay past its end, where a later open reads them as a batch.
    MutexLock lock(&populate_mu_);
    sealed_.store(false, std::memory_order_release);
  }
  return s;
}

void Segment::DiscardWriterMapping() {
  // A sealed segment is not written again. Writeback would write-protect
  // the writer's page-table entries one page at a time, interrupting every
  // CPU that runs this process (readers included).
  if (sealed() && !discarded_.exchange(true, std::memory_order_acq_rel)) log_->DiscardWritable();
}

absl::Status Segment::SyncData() {
  MutexLock lock(&sync_mu_);
  RETURN_IF_ERROR(sync_failure_);
  const uint64_t end = size();
  absl::Status s = log_->SyncAll();
  if (s.ok()) s = index_->file().Sync();
  if (s.ok()) s = time_index_->file().Sync();
  if (!s.ok()) {
    sync_failure_ = s;
    return s;
  }
  synced_ = std::max(synced_, end);
  return absl::OkStatus();
}

absl::Status Segment::SyncTo(uint64_t end) {
  MutexLock lock(&sync_mu_);
  RETURN_IF_ERROR(sync_failure_);
  if (end <= synced_) return absl::OkStatus();
  const uint64_t to = SyncAheadEnd(end);
  if (absl::Status s = log_->Sync(synced_, to - synced_); !s.ok()) {
    sync_failure_ = s;
    return s;
  }
  synced_ = end;
  return absl::OkStatus();
}

uint64_t Segment::SyncAheadEnd(uint64_t end) {
  // The .log is allocated ahead (fallocate), and on ext4 and XFS its blocks
  // stay "unwritten" until data reaches them: a sync that writes one for the
  // first time also changes the file's extent map, which costs the sync a
  // second write. One-record syncs (power-loss durability) cross into a new
  // block every few syncs, eight producers' rounds every third one. So when
  // a small sync crosses into one, it also writes the pages that were
  // faulted in ahead of `end`: zeros, dirty from the writable fault, which
  // the writer overwrites later. The blocks up to the next kSyncAhead
  // boundary then change the extent map once, and the syncs that follow
  // find them written. A large sync changes the map once whatever its size,
  // and writing zeros ahead of it would only add bytes.
  if (end <= written_ahead_ || end - synced_ > kSyncAhead / 8) return end;
  // Sealed: trimmed to its data. Before faulted_from_: pages a lagging
  // prefaulter skipped, not faulted in.
  if (sealed() || end < faulted_from_.load(std::memory_order_acquire)) return end;
  const uint64_t to =
      std::min(RoundUp(end, kSyncAhead), populated_.load(std::memory_order_relaxed));
  if (to <= end) return end;  // Nothing faulted in ahead (the writer writes through the file).
  written_ahead_ = to;
  return to;
}

uint64_t Segment::synced() const {
  MutexLock lock(&sync_mu_);
  return synced_;
}

}  // namespace rill
