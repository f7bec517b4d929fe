#include "storage/offset_index.h"

#include <limits>

#include "absl/strings/str_format.h"
#include "storage/segment_format.h"
#include "util/endian.h"

namespace rill {

OffsetIndex::Entry OffsetIndex::at(size_t i) const {
  const char* e = file_->entry(i);
  return Entry{base_offset_ + LoadBigEndian<int32_t>(e),
               static_cast<uint64_t>(LoadBigEndian<uint32_t>(e + 4))};
}

uint64_t OffsetIndex::ScanStart(int64_t offset) const {
  const std::optional<Entry> e = EntryBefore(offset);
  return e ? e->position : 0;
}

std::optional<OffsetIndex::Entry> OffsetIndex::EntryBefore(int64_t offset) const {
  // Binary search for the last entry with entry.offset < offset.
  size_t lo = 0;
  size_t hi = size();
  while (lo < hi) {
    const size_t mid = lo + (hi - lo) / 2;
    if (at(mid).offset < offset) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  if (lo == 0) return std::nullopt;
  return at(lo - 1);
}

absl::Status OffsetIndex::Append(int64_t last_offset, uint64_t position) {
  char e[segment::kOffsetEntrySize];
  StoreBigEndian(e, static_cast<int32_t>(last_offset - base_offset_));
  StoreBigEndian(e + 4, static_cast<uint32_t>(position));
  return file_->Append(e);
}

absl::Status OffsetIndex::Check(uint64_t log_size) const {
  const size_t n = size();
  for (size_t i = 0; i < n; ++i) {
    const Entry e = at(i);
    if (e.offset < base_offset_ || e.position >= log_size ||
        (i > 0 && (e.offset <= at(i - 1).offset || e.position <= at(i - 1).position))) {
      return absl::DataLossError(absl::StrFormat(
          "offset index entry %d (offset %d, position %d) is out of order or out of the log",
          i, e.offset, e.position));
    }
  }
  return absl::OkStatus();
}

void OffsetIndex::TruncateAtPosition(uint64_t p) {
  size_t n = size();
  while (n > 0 && at(n - 1).position >= p) --n;
  file_->Truncate(n);
}

TimeIndex::Entry TimeIndex::at(size_t i) const {
  const char* e = file_->entry(i);
  return Entry{LoadBigEndian<int64_t>(e), base_offset_ + LoadBigEndian<int32_t>(e + 8)};
}

int64_t TimeIndex::SkipBefore(int64_t timestamp) const {
  const std::optional<size_t> i = LastBefore(timestamp);
  return i ? at(*i).offset : -1;
}

std::optional<size_t> TimeIndex::LastBefore(int64_t timestamp) const {
  // The last entry with entry.timestamp < timestamp.
  size_t lo = 0;
  size_t hi = size();
  while (lo < hi) {
    const size_t mid = lo + (hi - lo) / 2;
    if (at(mid).timestamp < timestamp) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  if (lo == 0) return std::nullopt;
  return lo - 1;
}

absl::Status TimeIndex::MaybeAppend(int64_t timestamp, int64_t offset) {
  const size_t n = size();
  if (n > 0) {
    const Entry last = at(n - 1);
    if (timestamp <= last.timestamp || offset <= last.offset) return absl::OkStatus();
  }
  char e[segment::kTimeEntrySize];
  StoreBigEndian(e, timestamp);
  StoreBigEndian(e + 8, static_cast<int32_t>(offset - base_offset_));
  return file_->Append(e);
}

absl::Status TimeIndex::Check(int64_t last_offset) const {
  const size_t n = size();
  for (size_t i = 0; i < n; ++i) {
    const Entry e = at(i);
    if (e.offset < base_offset_ || e.offset > last_offset ||
        (i > 0 && (e.timestamp <= at(i - 1).timestamp || e.offset <= at(i - 1).offset))) {
      return absl::DataLossError(absl::StrFormat(
          "time index entry %d (timestamp %d, offset %d) is out of order or out of the log", i,
          e.timestamp, e.offset));
    }
  }
  return absl::OkStatus();
}

void TimeIndex::TruncateAfterOffset(int64_t offset) {
  size_t n = size();
  while (n > 0 && at(n - 1).offset > offset) --n;
  file_->Truncate(n);
}

}  // namespace rill
