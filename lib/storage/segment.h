// Segment: one file of a partition's log -- record batches back to back in a
// memory-mapped .log file, named by its base offset, with its sparse offset
// and time indexes.
//
// The active segment is grown ahead of the writer: the .log is allocated in
// chunks (fallocate) and the pages ahead of the write position are faulted
// in -- by a background task (PopulateAhead), by the writer itself a few
// pages at a time (PopulateOnWriter), or by whichever suits the writer's
// pace (SegmentOptions::populator) -- so appends are a memcpy into pages
// that are already mapped. A batch that outruns those pages is written
// with pwritev instead. With SegmentOptions::write_through_file, every
// append is a pwritev into the page cache and the mapping only reads. A sealed segment is trimmed
// to its data and only read.
//
// Thread-safety: one writer (Append, Seal -- the PartitionLog's
// append lock serialises them) runs alongside any number of readers. A
// reader sees every batch counted by a size() it loaded, and the index
// entries that point at them. Sync* and PopulateAhead may run on any thread.
#ifndef RILL_LIB_STORAGE_SEGMENT_H_
#define RILL_LIB_STORAGE_SEGMENT_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "format/batch_header.h"
#include "storage/disk_usage.h"
#include "storage/fast_writers.h"
#include "storage/mapped_file.h"
#include "storage/offset_index.h"
#include "util/cpu.h"
#include "util/mutex.h"

namespace rill {

// Who faults in the pages ahead of a segment's writer.
enum class Populator {
  // A background task, populate_ahead ahead of the writer, scheduled each
  // time the writer has used half of that lead.
  kBackground,
  // The writer itself, right after an append, writer_populate_ahead ahead
  // of it, a few pages at a time (kWriterPopulateStep): each step costs the
  // writer microseconds, not a burst of milliseconds.
  kWriter,
  // The writer as kWriter while it appends slower than kFastWriterWindow
  // bytes in kFastWriterMillis, a background task as kBackground while it
  // appends faster and a core is spare (fast_writers), nobody while none is.
  // A paced writer has idle time between appends to spend on faulting pages;
  // a flat-out one has none, and a spare core may.
  kByRate,
};

// The steps and thresholds of Populator::kWriter and kByRate.
inline constexpr uint64_t kWriterPopulateStep = 8 << 10;
inline constexpr uint64_t kFastWriterWindow = 1 << 20;
inline constexpr int64_t kFastWriterMillis = 16;

// Whatever the populator, a batch whose records average at least this many
// bytes is written with pwritev, and nobody faults pages in ahead of it.
// Such a writer spends its time on bytes, not records: it fills pages faster
// than another core can fault them in (and zero them) for it, so the two
// race for the same pages, while pwritev fills each fresh page-cache page
// once, on the writer's core, without zeroing or mapping it. Measured on two
// vCPUs (bench/RESULTS.md): 1 KiB and 64 KiB values append 1.2-1.3x faster
// this way and, read whole, replay as fast; 100-byte values are faster
// through the prefaulted mapping. The pages written, in the page cache but
// in no page table, are mapped for readers afterwards on a spare core
// (MapBehind), so that a reader in the process does not fault on each.
inline constexpr uint64_t kLargeRecordBytes = 512;

// A sync of at most kSyncAhead / 8 bytes that reaches a block no sync wrote
// before also writes the faulted-in pages after it, up to the next multiple
// of kSyncAhead (Segment::SyncTo).
inline constexpr uint64_t kSyncAhead = 64 << 10;

// What an Append asks of its caller.
enum class PopulateRequest {
  kNone,
  kWriter,      // Call PopulateOnWriter() now.
  kBackground,  // Schedule PopulateAhead() on a background thread.
  kMapBehind,   // Schedule MapBehind() on a background thread.
};

struct SegmentOptions {
  // Largest size of a segment's .log (Kafka's segment.bytes).
  uint64_t max_bytes = 1ull << 30;
  // Bytes of log between two index entries (index.interval.bytes).
  uint32_t index_interval_bytes = 4096;
  // Largest size of each index file (segment.index.bytes).
  uint64_t max_index_bytes = 10u << 20;
  // The .log grows by this much at a time.
  uint64_t allocation_chunk = 16u << 20;
  // How far ahead of the writer a background task faults pages in; 0 turns
  // all faulting ahead off, whoever would do it.
  uint64_t populate_ahead = 32u << 20;
  // How far ahead of itself the writer faults pages in (at most
  // populate_ahead).
  uint64_t writer_populate_ahead = 256u << 10;
  Populator populator = Populator::kBackground;
  // Whether appends write batches into the .log with File::WritevAt (the
  // page cache, as write() does) rather than copy them through a writable
  // mapping. The .log is then mapped read-only, for readers, and nothing is
  // faulted in ahead (populate_ahead is ignored): the kernel allocates each
  // page as the write reaches it, with no page-table entry to make or
  // write-protect later.
  bool write_through_file = false;
  // Populator::kByRate: the log's fast writers. While as many as there are
  // cores append flat out, none gets a background prefault (no core is
  // spare for it). Null: always one.
  std::shared_ptr<FastWriters> fast_writers = nullptr;
  // Each index file grows by this much at a time.
  uint64_t index_allocation_chunk = 64u << 10;
  // Where the growth and trims of the segment's files are counted; null:
  // nowhere.
  std::shared_ptr<DiskUsage> usage = nullptr;
};

// What a scan of batches found. `end` is the position after the last good
// batch; `error` says why the scan stopped before the end it was given (OK
// if it did not).
struct ScanResult {
  uint64_t end = 0;
  int64_t batches = 0;
  int64_t last_offset = -1;
  int64_t max_timestamp = -1;
  absl::Status error;
};

// What recovery of one segment dropped.
struct SegmentRecovery {
  uint64_t bytes_checked = 0;
  int64_t batches_checked = 0;
  // Bytes past the last good batch: to the last non-zero one, or to the
  // end of the last dropped batch if further.
  uint64_t bytes_dropped = 0;
  int64_t batches_dropped = 0;  // Batch headers found among them.
  std::string reason;           // Why the first dropped byte was rejected.
};

class Segment {
 public:
  ~Segment();

  // Create(fs, dir, base_offset, options, name_suffix): a new, empty,
  // writable segment. Existing files of that name are emptied. A
  // `name_suffix` is appended to each file's name ("...0.log.cleaned"): the
  // segment is then a replacement being written (see PartitionLog's swap).
  static absl::StatusOr<std::shared_ptr<Segment>> Create(FileSystem& fs, const std::string& dir,
                                                         int64_t base_offset,
                                                         const SegmentOptions& options,
                                                         std::string_view name_suffix = "");

  // Open(fs, dir, base_offset, options, writable): maps an existing segment
  // without reading its batches. Follow with LoadTrusted or Recover.
  static absl::StatusOr<std::shared_ptr<Segment>> Open(FileSystem& fs, const std::string& dir,
                                                       int64_t base_offset,
                                                       const SegmentOptions& options,
                                                       bool writable);

  // LoadTrusted(): for a segment below the recovery point, whose bytes were
  // synced and checked when written. Checks the indexes (rebuilding them if
  // damaged, missing or cut short, as sealing would have left them) and
  // walks batch headers from the last index entry to find the end, so it
  // reads only a few pages; and the time index's last entry against the
  // batches since the entry before it. Trailing zeros (space that was
  // preallocated) are trimmed. If the headers do not line up: kDataLoss for
  // a writable segment (its caller recovers it); a sealed one loads, serving
  // the batches before the damage (see damage()).
  absl::Status LoadTrusted();
  // damage(): OK, or why a sealed segment's batches stopped making sense
  // before its end when it was loaded. The batches before the damage read
  // as usual; the damaged bytes count in size(), and a read or a search by
  // offset that reaches them returns kDataLoss. next_offset() and
  // max_timestamp() are those of the batches before it.
  const absl::Status& damage() const { return damage_; }

  // Recover(trusted, &report): checks every batch from byte `trusted` on
  // (CRC, lengths, increasing offsets; batches before it are walked by
  // header only), truncates the file after the last good batch and rebuilds
  // both indexes. The batches must start at or after `min_offset`.
  absl::Status Recover(uint64_t trusted, int64_t min_offset, SegmentRecovery* report);

  // Rewrite(from): writes bytes [from, size()) again, unchanged, through
  // the file, so that the next SyncData sends them to the device even if
  // the page cache holds them as clean. After a failed sync Linux may do
  // just that for pages the device never took (PartitionLog::Sync).
  absl::Status Rewrite(uint64_t from);

  int64_t base_offset() const { return base_offset_; }
  // id(): a number no other Segment object of the process has had (never
  // 0). A segment's published batches never change while it is open, so a
  // batch boundary found in the segment object with this id stays one.
  uint64_t id() const { return id_; }
  const std::string& path() const { return log_->path(); }
  // size(): bytes of whole, published batches (and, in a sealed segment
  // found damaged, the damaged bytes after them: see damage()).
  uint64_t size() const { return size_.load(std::memory_order_acquire); }
  // next_offset(): one past the last offset of the last batch (the base
  // offset for an empty segment).
  int64_t next_offset() const { return next_offset_.load(std::memory_order_acquire); }
  // max_timestamp(): greatest batch maxTimestamp, -1 when empty.
  int64_t max_timestamp() const { return max_timestamp_.load(std::memory_order_acquire); }
  // first_append_ms(): when the segment received its first batch (for roll
  // by age): the wall-clock time of the append, or after a reopen the first
  // batch's maxTimestamp, as Kafka does; -1 when empty. Writer only.
  int64_t first_append_ms() const { return first_append_ms_; }
  bool sealed() const { return sealed_.load(std::memory_order_acquire); }
  // set_limit_offset(o): every offset of the segment lies below `o`, the next
  // segment's base offset. Reads check the last batch against it.
  void set_limit_offset(int64_t o) { limit_offset_.store(o, std::memory_order_release); }
  const char* data() const { return log_->data(); }
  uint64_t allocated_bytes() const { return log_->allocated(); }
  // file_bytes(): the sizes of the .log and both index files, each rounded
  // up to whole blocks: the space they take on the device.
  uint64_t file_bytes() const;

  // MarkRemoved(): the segment's files were deleted (or replaced); syncing
  // it is pointless from now on. removed(): whether that happened.
  void MarkRemoved() { removed_.store(true, std::memory_order_release); }
  bool removed() const { return removed_.load(std::memory_order_acquire); }

  // RecordCount(): the number of records in the segment's batches (the sum
  // of their recordsCount). Known without reading when the segment was
  // written or recovered by this process; otherwise the batch headers are
  // walked once.
  absl::StatusOr<int64_t> RecordCount() const;

  // RoomFor(n, last_offset): whether a batch of n bytes ending at
  // `last_offset` fits: size, index space, relative offset range.
  bool RoomFor(size_t n, int64_t last_offset) const;

  // Append(batch, header, append_time_ms): copies `batch`, whose header
  // (`header`) already carries its final baseOffset, to the end of the log,
  // adds index entries and publishes it. Writer only. If append_time_ms >= 0
  // the copy is stamped with it (LogAppendTime) and re-CRCed. On error
  // (kResourceExhausted: device full) nothing is published. *populate says
  // who should now fault in pages ahead of the writer, if anyone; `now_ms`
  // times the writer's pace for Populator::kByRate.
  absl::Status Append(std::span<const char> batch, const BatchHeader& header,
                      int64_t append_time_ms, int64_t now_ms, PopulateRequest* populate);

  // PopulateAhead(): allocates and faults in the pages up to populate_ahead
  // ahead of the writer. Safe from any thread, alongside appends; a no-op
  // once sealed.
  void PopulateAhead();
  // PopulateOnWriter(appended): the writer, after an append of `appended`
  // bytes that returned PopulateRequest::kWriter, allocates and faults in
  // the pages up to writer_populate_ahead ahead of itself -- at most
  // `appended` plus kWriterPopulateStep bytes of them, so the lead builds up
  // over appends rather than in one long call. Writer only.
  void PopulateOnWriter(uint64_t appended);
  // MapBehind(): maps for reading the pages of the bytes appended so far
  // that no page table holds yet (written with pwritev), so that readers do
  // not fault them in one by one. Safe from any thread, alongside appends; a
  // no-op once sealed.
  void MapBehind();

  // WarmReaderPages(): for a reader about to wait at the end of a segment
  // written through its file (write_through_file), where nothing maps pages
  // ahead: maps, for reading, the page the next batch will start in and the
  // one after, so that the reader does not fault them in once the batch has
  // come. A syscall only when the end has reached a page not mapped this
  // way yet. Safe from any thread, alongside appends; a no-op in other
  // segments, and once sealed.
  void WarmReaderPages();

  // FindBatch(offset): position of the first batch whose last offset is at
  // or past `offset`, or size() if none is. kDataLoss if a header on the way
  // is damaged.
  absl::StatusOr<uint64_t> FindBatch(int64_t offset) const;

  // Read(position, max_bytes): the whole batches from `position` (a batch
  // boundary) up to `max_bytes` -- at least one if any -- each checked
  // against its CRC unless already checked. The batches end before a
  // damaged one; kDataLoss, naming the file and position, when the first
  // batch is damaged.
  absl::StatusOr<std::span<const char>> Read(uint64_t position, size_t max_bytes) const;

  // OffsetForTimestamp(ts): the first offset whose record has timestamp >=
  // ts, or next_offset() if none. Decodes records of at most one batch.
  absl::StatusOr<int64_t> OffsetForTimestamp(int64_t ts) const;

  // Seal(): makes the segment read-only: a last time-index entry, files
  // trimmed to their data. Writer only. On error (a full device) the
  // segment is left unsealed, still writable, and Seal() may be tried again.
  absl::Status Seal();

  // SyncData(): makes every published byte durable, with the indexes.
  // Syncs of a segment (SyncData, SyncTo) run one at a time, and once one
  // has failed every later one returns its error without trying: Linux
  // reports a writeback error to one caller only, and a second sync could
  // succeed without writing the pages the first could not.
  absl::Status SyncData();
  // DiscardWriterMapping(): once sealed, before a sync that others' reads
  // may run alongside: swaps the writer's page-table entries for read-only
  // ones (MappedFile::DiscardWritable), once. A no-op if not sealed.
  void DiscardWriterMapping();
  // SyncTo(end): makes log bytes [.., end) durable (not the indexes, which
  // recovery rebuilds). A small sync that reaches a block no sync wrote
  // before also writes the faulted-in pages after `end`, up to the next
  // kSyncAhead boundary (see SyncAheadEnd).
  absl::Status SyncTo(uint64_t end);
  uint64_t synced() const;

  // ScanBatches(from, end, min_offset, check_crc, on_batch): walks the batch
  // headers in [from, end), checking each batch (and its CRC if asked) and
  // that offsets increase from `min_offset`. Stops at the first bad batch.
  ScanResult ScanBatches(uint64_t from, uint64_t end, int64_t min_offset, bool check_crc,
                         const std::function<void(uint64_t, const BatchHeader&)>& on_batch) const;

 private:
  Segment(FileSystem& fs, std::string dir, int64_t base_offset, const SegmentOptions& options,
          std::string_view name_suffix);
  absl::Status OpenFiles(bool writable, bool create);
  std::string FilePath(std::string_view suffix) const;
  absl::Status RebuildIndexes(uint64_t end);
  // Load(rebuild): LoadTrusted's work, rebuilding the indexes if `rebuild`
  // or if they are found damaged.
  absl::Status Load(bool rebuild);
  // Walks batch headers from the last offset-index entry to `end`. Sets
  // *start to where the walk began and *last_batch to the position of the
  // last batch it passed.
  ScanResult ScanFromLastIndexEntry(uint64_t end, uint64_t* start, uint64_t* last_batch) const;
  // Whether the indexes miss entries that appends would have made before the
  // end the walk `r` (from `start`, last batch at `last_batch`) found: a
  // deleted, emptied or cut-short index file.
  bool IndexesIncomplete(const ScanResult& r, uint64_t start, uint64_t last_batch) const;
  // TimeEntryHolds(i): whether time-index entry i is true of the batches
  // after entry i-1, up to its offset: none has a later timestamp.
  absl::StatusOr<bool> TimeEntryHolds(size_t i) const;
  // WritesThroughFile(position, end, large_records): whether the batch at
  // [position, end), whose records are large or not (kLargeRecordBytes), is
  // written with pwritev rather than copied through the mapping.
  bool WritesThroughFile(uint64_t position, uint64_t end, bool large_records) const;
  // NextPopulate(end, now_ms): who should fault in pages ahead, now that the
  // writer has reached `end`. Writer only.
  PopulateRequest NextPopulate(uint64_t end, int64_t now_ms);
  // NextMapBehind(end, now_ms): whether a background task should map the
  // pages behind the writer, now that a batch of large records took it to
  // `end`. Writer only.
  PopulateRequest NextMapBehind(uint64_t end, int64_t now_ms);
  // UpdatePace(end, now_ms): Populator::kByRate's bookkeeping of the
  // writer's pace (fast_writer_, core_spare_). Returns whether a background
  // task may take a core for this writer: not while it appends flat out
  // with no core spare. Writer only.
  bool UpdatePace(uint64_t end, int64_t now_ms);
  // MapForReading(from, to, mapped): maps the pages of [from, to) not below
  // *mapped for reading (MappedFile::PopulateRead) and raises *mapped to
  // `to`, under populate_mu_. False, mapping nothing, once sealed.
  bool MapForReading(uint64_t from, uint64_t to, std::atomic<uint64_t>* mapped);
  // Whether a scan stopped only at zeros: space allocated ahead of a writer.
  bool EndsInZeros(const ScanResult& r, uint64_t end) const;
  void IndexBatch(uint64_t position, const BatchHeader& h, int64_t max_ts_so_far,
                  absl::Status* status);
  // ExtentAt(p, end, verified): the extent of the batch at p, a batch
  // boundary below `end`. In the checked prefix (below `verified`, a value
  // of verified_) its headers are known good: only the fields a walk needs
  // are read. Past it the header is checked in full (kDataLoss if bad).
  absl::StatusOr<BatchExtent> ExtentAt(uint64_t p, uint64_t end, uint64_t verified) const;
  // Checks the batches in [position, end) not yet checked: CRC, and offsets
  // increasing (from the batch before, when it is known). Sets *good_end to
  // the position of the first damaged batch, or `end`.
  absl::Status Verify(uint64_t position, uint64_t end, uint64_t* good_end) const;
  // CheckBatches(&p, end, &last, &damaged_end): checks batches from *p to
  // `end` -- CRC, base offsets above *last, offsets below the next batch's
  // (or the limit offset) -- advancing *p and *last past each good one. On
  // error *p is at the first damaged batch, and *damaged_end after the last
  // byte that may be damaged with it.
  absl::Status CheckBatches(uint64_t* p, uint64_t end, int64_t* last, uint64_t* damaged_end) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(verify_mu_);
  // SetVerified(end, last_offset): bytes [0, end) are known good.
  void SetVerified(uint64_t end, int64_t last_offset) const;

  FileSystem& fs_;
  const std::string dir_;
  const int64_t base_offset_;
  const SegmentOptions options_;
  const std::string name_suffix_;

  std::unique_ptr<MappedFile> log_;
  std::unique_ptr<OffsetIndex> index_;
  std::unique_ptr<TimeIndex> time_index_;

  // What a reader loads on every read, and the writer stores on every
  // append: one cache line to miss, not two.
  alignas(kCacheLine) const uint64_t id_;
  std::atomic<uint64_t> size_{0};
  // Bytes [0, verified_) are known good: every batch passes its CRC and its
  // offsets follow the previous batch's. Read without the lock on the fast
  // path; advanced under verify_mu_, together with the last offset there.
  mutable std::atomic<uint64_t> verified_{0};
  std::atomic<int64_t> next_offset_;
  std::atomic<int64_t> max_timestamp_{-1};
  std::atomic<bool> sealed_{false};
  std::atomic<bool> removed_{false};
  std::atomic<bool> discarded_{false};  // The writer's mapping was discarded.
  std::atomic<int64_t> limit_offset_{std::numeric_limits<int64_t>::max()};
  // A sealed segment whose batch headers Load found damaged before its end:
  // where the damage starts (kNoDamage if none), and what it is. Set before
  // the segment is shared, then constant.
  static constexpr uint64_t kNoDamage = std::numeric_limits<uint64_t>::max();
  uint64_t damaged_at_ = kNoDamage;
  absl::Status damage_;
  mutable Mutex verify_mu_;  // For verified_ and verified_last_offset_.
  mutable int64_t verified_last_offset_ ABSL_GUARDED_BY(verify_mu_);

  // Records in the published batches; -1 when not known (a segment opened
  // with LoadTrusted), then counted on first use.
  mutable std::atomic<int64_t> record_count_{0};

  // Writer state.
  uint64_t bytes_since_index_ = 0;
  int64_t first_append_ms_ = -1;
  // Populator::kByRate: where and when the current kFastWriterWindow began,
  // and whether the writer filled the last one in kFastWriterMillis.
  uint64_t pace_mark_ = 0;
  int64_t pace_mark_ms_ = -1;
  bool fast_writer_ = false;
  bool core_spare_ = true;  // For a background prefault, when last fast.

  // Serialises PopulateAhead and MapBehind with themselves and with
  // Seal.
  Mutex populate_mu_;
  std::atomic<bool> populate_pending_{false};
  std::atomic<uint64_t> populated_{0};  // Pages before it were faulted in...
  // ...from here on: a background task that fell behind the writer resumed
  // here, and the pages below (down to where the writer was) were not.
  std::atomic<uint64_t> faulted_from_{0};
  // Pages before mapped_behind_ were mapped for readers by MapBehind.
  std::atomic<bool> map_behind_pending_{false};
  std::atomic<uint64_t> mapped_behind_{0};
  // Pages before reader_warmed_ were mapped by WarmReaderPages.
  std::atomic<uint64_t> reader_warmed_{0};

  // SyncAheadEnd(end): where SyncTo(end) stops writing: `end`, or past it
  // when the sync is small and reaches beyond written_ahead_.
  uint64_t SyncAheadEnd(uint64_t end) ABSL_EXCLUSIVE_LOCKS_REQUIRED(sync_mu_);

  mutable Mutex sync_mu_;
  uint64_t synced_ ABSL_GUARDED_BY(sync_mu_) = 0;
  // Bytes before it have been written to the device by some sync, zeros
  // ahead of the data included (SyncAheadEnd).
  uint64_t written_ahead_ ABSL_GUARDED_BY(sync_mu_) = 0;
  // The first failed sync, returned by every later one (see SyncData).
  absl::Status sync_failure_ ABSL_GUARDED_BY(sync_mu_);
};

}  // namespace rill

#endif  // RILL_LIB_STORAGE_SEGMENT_H_
