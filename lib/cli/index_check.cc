#include "cli/index_check.h"

#include <algorithm>

#include "absl/strings/str_format.h"
#include "util/strings.h"

namespace rill::cli {
namespace {
// Problems reported per index file, at most; the rest are counted.
constexpr size_t kMaxIssuesShown = 5;
}  // namespace

template <typename Entry, typename Read>
void IndexChecker::Load(File<Entry>* file, Read read, int64_t base) {
  absl::StatusOr<IndexContents<Entry>> contents = read(file->path, base);
  if (absl::IsNotFound(contents.status())) {
    findings_.push_back({Severity::kNote, file->path, "missing: the next open rebuilds it"});
    return;
  }
  if (!contents.ok()) {
    findings_.push_back(
        {Severity::kError, file->path, std::string(ToStd(contents.status().message()))});
    return;
  }
  if (contents->partial_bytes > 0) {
    findings_.push_back({Severity::kNote, file->path,
                         absl::StrFormat("ends with %d bytes of a partial entry, which are ignored",
                                         contents->partial_bytes)});
  }
  file->contents = *std::move(contents);
}

IndexChecker::IndexChecker(std::string index_path, std::string time_index_path, int64_t base) {
  index_.path = std::move(index_path);
  time_index_.path = std::move(time_index_path);
  Load(&index_, ReadOffsetIndex, base);
  Load(&time_index_, ReadTimeIndex, base);
  // Entries must increase strictly; out of order, they are not matched
  // against the batches.
  if (index_.contents) {
    const auto& e = index_.contents->entries;
    for (size_t i = 0; i < e.size() && index_.ordered; ++i) {
      if (e[i].offset < base ||
          (i > 0 && (e[i].offset <= e[i - 1].offset || e[i].position <= e[i - 1].position))) {
        index_.ordered = false;
        findings_.push_back(
            {Severity::kError, index_.path,
             absl::StrFormat("entry %d (offset %d, position %d) is out of order or below the "
                             "segment's base offset",
                             i, e[i].offset, e[i].position)});
      }
    }
  }
  if (time_index_.contents) {
    const auto& e = time_index_.contents->entries;
    for (size_t i = 0; i < e.size() && time_index_.ordered; ++i) {
      if (e[i].offset < base ||
          (i > 0 && (e[i].offset <= e[i - 1].offset || e[i].timestamp <= e[i - 1].timestamp))) {
        time_index_.ordered = false;
        findings_.push_back(
            {Severity::kError, time_index_.path,
             absl::StrFormat("entry %d (timestamp %d, offset %d) is out of order or below the "
                             "segment's base offset",
                             i, e[i].timestamp, e[i].offset)});
      }
    }
  }
}

void IndexChecker::OnBatch(const WalkedBatch& b) {
  const int64_t last = b.header.last_offset();
  if (index_.contents && index_.ordered) {
    const auto& e = index_.contents->entries;
    for (; index_.next < e.size() && e[index_.next].position < b.position; ++index_.next) {
      index_.issues.push_back(
          {e[index_.next].position,
           absl::StrFormat("entry %d points at byte %d, which is not where a batch starts",
                           index_.next, e[index_.next].position)});
    }
    if (index_.next < e.size() && e[index_.next].position == b.position) {
      if (e[index_.next].offset != last) {
        index_.issues.push_back(
            {b.position, absl::StrFormat("entry %d says offset %d for the batch at byte %d, whose "
                                         "last offset is %d",
                                         index_.next, e[index_.next].offset, b.position, last)});
      }
      ++index_.next;
    }
  }
  if (b.crc_ok()) max_timestamp_ = std::max(max_timestamp_, b.header.max_timestamp);
  if (time_index_.contents && time_index_.ordered) {
    const auto& e = time_index_.contents->entries;
    for (; time_index_.next < e.size() && e[time_index_.next].offset < last; ++time_index_.next) {
      time_index_.issues.push_back(
          {b.position, absl::StrFormat("entry %d names offset %d, which is not the last offset "
                                       "of a batch",
                                       time_index_.next, e[time_index_.next].offset)});
    }
    if (time_index_.next < e.size() && e[time_index_.next].offset == last) {
      const TimeEntry& entry = e[time_index_.next];
      if (b.crc_ok() && entry.timestamp < max_timestamp_) {
        time_index_.issues.push_back(
            {b.position,
             absl::StrFormat("entry %d says the records up to offset %d are no later than %d, but "
                             "a batch up to there has maxTimestamp %d",
                             time_index_.next, entry.offset, entry.timestamp, max_timestamp_)});
      } else if (b.crc_ok() && entry.timestamp > max_timestamp_) {
        // Harmless to a reader, but not what rill writes: the entry holds the
        // greatest timestamp so far.
        time_index_.issues.push_back(
            {b.position,
             absl::StrFormat("entry %d says timestamp %d for the records up to offset %d, but the "
                             "greatest there is %d",
                             time_index_.next, entry.timestamp, entry.offset, max_timestamp_)});
      }
      ++time_index_.next;
    }
  }
}

template <typename Entry>
void IndexChecker::Report(const File<Entry>& file, const WalkResult& walk, bool newest,
                          size_t past_end) {
  std::vector<std::string> shown;
  size_t hidden = 0;
  for (const auto& [position, message] : file.issues) {
    // The next open cuts a torn tail and rebuilds the index: entries about
    // it do not matter.
    if (newest && position >= walk.torn_from) continue;
    if (shown.size() < kMaxIssuesShown) {
      shown.push_back(message);
    } else {
      ++hidden;
    }
  }
  if (past_end > 0) {
    const std::string message =
        absl::StrFormat("%d entr%s past the last whole batch of the segment", past_end,
                        past_end == 1 ? "y points" : "ies point");
    if (newest) {
      findings_.push_back(
          {Severity::kNote, file.path, message + ": the next open rebuilds the index"});
    } else if (shown.size() < kMaxIssuesShown) {
      shown.push_back(message);
    } else {
      ++hidden;
    }
  }
  for (std::string& message : shown)
    findings_.push_back({Severity::kError, file.path, std::move(message)});
  if (hidden > 0) {
    findings_.push_back(
        {Severity::kError, file.path, absl::StrFormat("and %d more problems", hidden)});
  }
}

void IndexChecker::Finish(const WalkResult& walk, bool newest) {
  size_t index_past = 0;
  if (index_.contents && index_.ordered) index_past = index_.contents->entries.size() - index_.next;
  size_t time_past = 0;
  if (time_index_.contents && time_index_.ordered) {
    time_past = time_index_.contents->entries.size() - time_index_.next;
  }
  Report(index_, walk, newest, index_past);
  Report(time_index_, walk, newest, time_past);
}

}  // namespace rill::cli
