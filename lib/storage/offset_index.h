// OffsetIndex: a segment's sparse index from offsets to byte positions in
// its .log. One entry per ~index_interval_bytes of log: (last offset of a
// batch, position of that batch), both relative, as Kafka's .index.
//
// Thread-safety: as IndexFile.
#ifndef RILL_LIB_STORAGE_OFFSET_INDEX_H_
#define RILL_LIB_STORAGE_OFFSET_INDEX_H_

#include <cstdint>
#include <memory>
#include <optional>

#include "absl/status/status.h"
#include "storage/index_file.h"

namespace rill {

class OffsetIndex {
 public:
  struct Entry {
    int64_t offset = 0;      // Absolute: last offset of the batch.
    uint64_t position = 0;   // Byte position of the batch.
  };

  OffsetIndex(std::unique_ptr<IndexFile> file, int64_t base_offset)
      : file_(std::move(file)), base_offset_(base_offset) {}

  size_t size() const { return file_->size(); }
  bool full() const { return file_->full(); }
  Entry at(size_t i) const;

  // ScanStart(offset): the position from which a forward scan finds the
  // batch holding `offset`: that of the last entry whose batch ends before
  // `offset`, or 0.
  uint64_t ScanStart(int64_t offset) const;
  // EntryBefore(offset): that entry, if there is one.
  std::optional<Entry> EntryBefore(int64_t offset) const;

  // Append(last_offset, position). Entries must increase in both.
  absl::Status Append(int64_t last_offset, uint64_t position);

  // Check(log_size): kDataLoss unless entries increase strictly and point
  // inside the log.
  absl::Status Check(uint64_t log_size) const;

  void Clear() { file_->Truncate(0); }
  // TruncateAtPosition(p): drops entries at or past byte p of the log.
  void TruncateAtPosition(uint64_t p);
  IndexFile& file() { return *file_; }
  const IndexFile& file() const { return *file_; }

 private:
  std::unique_ptr<IndexFile> file_;
  const int64_t base_offset_;
};

// TimeIndex: a segment's sparse index from timestamps to offsets, as Kafka's
// .timeindex: (greatest timestamp so far, last offset of the batch that was
// appended when the entry was made). Entries increase in both. Every record
// at or before an entry's offset has a timestamp no greater than its.
class TimeIndex {
 public:
  struct Entry {
    int64_t timestamp = 0;
    int64_t offset = 0;  // Absolute.
  };

  TimeIndex(std::unique_ptr<IndexFile> file, int64_t base_offset)
      : file_(std::move(file)), base_offset_(base_offset) {}

  size_t size() const { return file_->size(); }
  bool full() const { return file_->full(); }
  Entry at(size_t i) const;

  // SkipBefore(timestamp): an offset such that every record at or before it
  // has a timestamp below `timestamp`, or -1 if the index knows none.
  int64_t SkipBefore(int64_t timestamp) const;
  // LastBefore(timestamp): the index of the entry SkipBefore uses: the last
  // whose timestamp is below `timestamp`.
  std::optional<size_t> LastBefore(int64_t timestamp) const;

  // MaybeAppend(timestamp, offset): appends unless `timestamp` is no
  // greater than the last entry's.
  absl::Status MaybeAppend(int64_t timestamp, int64_t offset);

  // Check(last_offset): kDataLoss unless entries increase and their offsets
  // lie in [base, last_offset].
  absl::Status Check(int64_t last_offset) const;

  void Clear() { file_->Truncate(0); }
  // TruncateAfterOffset(o): drops entries whose offset is past o.
  void TruncateAfterOffset(int64_t offset);
  IndexFile& file() { return *file_; }
  const IndexFile& file() const { return *file_; }

 private:
  std::unique_ptr<IndexFile> file_;
  const int64_t base_offset_;
};

}  // namespace rill

#endif  // RILL_LIB_STORAGE_OFFSET_INDEX_H_
