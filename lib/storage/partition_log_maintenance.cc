// PartitionLog's maintenance: listing segments, rolling, deleting from the
// front, and swapping in compacted copies. Everything here runs off the
// append path: the append lock is taken only for in-memory bookkeeping, and
// file work (unlinks, renames, syncs) happens under maintenance_mu_ alone.
#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "storage/checkpointer.h"
#include "storage/partition_log.h"
#include "storage/segment_format.h"
#include "storage/segment_swap.h"
#include "util/status_macros.h"

namespace rill {
namespace {

void Count(std::atomic<int64_t>& counter, int64_t n) {
  counter.fetch_add(n, std::memory_order_relaxed);
}

}  // namespace

SegmentInfo PartitionLog::SegmentInfoOf(std::shared_ptr<Segment> segment, bool active) {
  SegmentInfo info;
  info.base_offset = segment->base_offset();
  info.next_offset = segment->next_offset();
  info.max_timestamp = segment->max_timestamp();
  info.bytes = segment->size();
  info.file_bytes = segment->file_bytes();
  info.active = active;
  info.segment = std::move(segment);
  return info;
}

absl::StatusOr<std::vector<SegmentInfo>> PartitionLog::ListSegments() const {
  std::vector<std::shared_ptr<Segment>> segments;
  {
    MutexLock lock(&segments_mu_);
    if (segments_.empty()) return absl::FailedPreconditionError(absl::StrCat(dir_, " is closed"));
    for (size_t i = 0; i < segments_.size(); ++i) {
      ASSIGN_OR_RETURN(std::shared_ptr<Segment> segment, LoadSlot(i));
      segments.push_back(std::move(segment));
    }
  }
  std::vector<SegmentInfo> infos;
  infos.reserve(segments.size());
  for (size_t i = 0; i < segments.size(); ++i) {
    infos.push_back(SegmentInfoOf(std::move(segments[i]), i + 1 == segments.size()));
  }
  return infos;
}

absl::StatusOr<std::optional<SegmentInfo>> PartitionLog::OldestSealedSegment() const {
  std::shared_ptr<Segment> segment;
  {
    MutexLock lock(&segments_mu_);
    if (segments_.empty()) return absl::FailedPreconditionError(absl::StrCat(dir_, " is closed"));
    if (segments_.size() == 1) return std::nullopt;
    ASSIGN_OR_RETURN(segment, LoadSlot(0));
  }
  return SegmentInfoOf(std::move(segment), /*active=*/false);
}

absl::StatusOr<bool> PartitionLog::RollIf(
    const std::function<bool(const SegmentInfo&)>& should_roll) {
  MutexLock lock(&append_mu_);
  if (closed_) return absl::FailedPreconditionError(absl::StrCat(dir_, " is closed"));
  if (failed()) return checkpointer_->Failure();
  if (active_->size() == 0) return false;
  SegmentInfo info = SegmentInfoOf(active_, /*active=*/true);
  info.first_append_ms = active_->first_append_ms();
  if (!should_roll(info)) return false;
  RETURN_IF_ERROR(RollLocked());
  return true;
}

absl::StatusOr<DeletedSegments> PartitionLog::DeleteOldestSegments(int64_t count,
                                                                   RemovalReason reason) {
  MutexLock maintenance(&maintenance_mu_);
  if (swap_unfinished_) {
    return absl::FailedPreconditionError(
        absl::StrCat(dir_, ": an interrupted compaction awaits the next open"));
  }
  // Nor after a failed sync: the recovery point no longer moves past what
  // leaves the log, and the next open must find the segments it names.
  if (failed()) return checkpointer_->Failure();
  std::vector<std::shared_ptr<Segment>> victims;
  {
    // Only maintenance removes segments, so the front ones stay put once
    // read; appends only add at the back.
    MutexLock lock(&segments_mu_);
    if (segments_.empty()) return absl::FailedPreconditionError(absl::StrCat(dir_, " is closed"));
    // The last segment is the active one: never deleted.
    const size_t n = static_cast<size_t>(
        std::clamp<int64_t>(count, 0, static_cast<int64_t>(segments_.size()) - 1));
    for (size_t i = 0; i < n; ++i) {
      ASSIGN_OR_RETURN(std::shared_ptr<Segment> segment, LoadSlot(i));
      victims.push_back(std::move(segment));
    }
  }
  if (victims.empty()) return DeletedSegments{};
  {
    // A segment waiting for Sync() need not be synced any more.
    MutexLock append_lock(&append_mu_);
    std::erase_if(unsynced_sealed_, [&](const std::shared_ptr<Segment>& s) {
      return std::find(victims.begin(), victims.end(), s) != victims.end();
    });
  }
  RemovalCounters& counters = reason == RemovalReason::kRetention ? expired_ : dropped_;
  DeletedSegments deleted;
  for (const std::shared_ptr<Segment>& victim : victims) {
    const int64_t base = victim->base_offset();
    absl::StatusOr<int64_t> records = victim->RecordCount();
    if (!records.ok()) {
      Log(LogSeverity::kWarning, absl::StrCat("counting the records of ", victim->path(), ": ",
                                              records.status().message()));
    }
    {
      MutexLock lock(&segments_mu_);
      // Close() empties the list: stop there.
      if (segments_.size() < 2 || segments_.front().segment != victim) break;
      // Damaged headers: count the offsets it spans instead, up to the next
      // segment (those past the damage included).
      if (!records.ok()) records = segments_[1].base_offset - base;
      segments_.erase(segments_.begin());
    }
    victim->MarkRemoved();
    Count(counters.segments, 1);
    Count(counters.records, *records);
    counters.bytes.fetch_add(victim->size(), std::memory_order_relaxed);
    ++deleted.segments;
    deleted.records += *records;
    deleted.bytes += victim->size();
    // The .log goes first (a segment is its .log), and each deletion is
    // durable before the next one begins, so a crash never leaves a hole.
    ASSIGN_OR_RETURN(const uint64_t freed, RemoveSegmentFileSet(fs_, dir_, base, ""));
    if (options_.segment.usage != nullptr)
      options_.segment.usage->Add(-static_cast<int64_t>(freed));
    deleted.file_bytes += freed;
    RETURN_IF_ERROR(fs_.SyncDir(dir_));
    // Only now, with the segment durably gone, may the recovery point pass it.
    if (absl::Status s = checkpointer_->Forget({base}, -1);
        !s.ok() && !absl::IsFailedPrecondition(s)) {
      Log(LogSeverity::kWarning,
          absl::StrCat("advancing the recovery point of ", dir_, ": ", s.message()));
    }
  }
  return deleted;
}

absl::StatusOr<std::shared_ptr<Segment>> PartitionLog::NewCleanedSegment(int64_t base,
                                                                         uint64_t max_bytes) const {
  SegmentOptions options = options_.segment;
  options.max_bytes = std::max(options.max_bytes, max_bytes);
  options.populate_ahead = 0;
  return Segment::Create(fs_, dir_, base, options, segment::kCleanedSuffix);
}

void PartitionLog::DiscardCleanedSegment(int64_t base) const {
  for (std::string_view suffix : {segment::kCleanedSuffix, segment::kSwapSuffix}) {
    absl::StatusOr<uint64_t> freed = RemoveSegmentFileSet(fs_, dir_, base, suffix);
    if (!freed.ok()) {
      Log(LogSeverity::kWarning, absl::StrCat("removing an unused compacted copy in ", dir_, ": ",
                                              freed.status().message()));
    } else if (options_.segment.usage != nullptr) {
      options_.segment.usage->Add(-static_cast<int64_t>(*freed));
    }
  }
}

absl::Status PartitionLog::ReplaceSegments(const std::vector<int64_t>& replaced,
                                           std::shared_ptr<Segment> cleaned,
                                           int64_t records_removed) {
  if (replaced.empty() || cleaned == nullptr || cleaned->base_offset() != replaced.front()) {
    return absl::InvalidArgumentError("a cleaned segment replaces segments from its own base on");
  }
  const int64_t base = replaced.front();
  MutexLock maintenance(&maintenance_mu_);
  auto discard = [&](absl::Status s) {
    cleaned.reset();
    DiscardCleanedSegment(base);
    return s;
  };
  if (swap_unfinished_) {
    return discard(absl::FailedPreconditionError(
        absl::StrCat(dir_, ": an interrupted compaction awaits the next open")));
  }
  if (failed()) return discard(checkpointer_->Failure());

  // The replaced segments must all still be there, sealed.
  std::vector<std::shared_ptr<Segment>> olds;
  {
    MutexLock lock(&segments_mu_);
    if (segments_.empty()) {
      return discard(absl::FailedPreconditionError(absl::StrCat(dir_, " is closed")));
    }
    auto it = std::lower_bound(segments_.begin(), segments_.end(), base,
                               [](const Slot& s, int64_t b) { return s.base_offset < b; });
    size_t index = static_cast<size_t>(it - segments_.begin());
    for (const int64_t b : replaced) {
      if (index + 1 >= segments_.size() || segments_[index].base_offset != b) {
        return discard(absl::AbortedError(
            absl::StrCat(dir_, ": the segments to replace changed while they were cleaned")));
      }
      ASSIGN_OR_RETURN(std::shared_ptr<Segment> segment, LoadSlot(index));
      olds.push_back(std::move(segment));
      ++index;
    }
  }

  // Commit: the copy's .log gets its .swap name.
  if (absl::Status s =
          RenameSegmentFileSet(fs_, dir_, base, segment::kCleanedSuffix, segment::kSwapSuffix);
      !s.ok()) {
    return discard(s);
  }
  cleaned.reset();  // Its files stay; its writer's mappings go.
  auto unfinished = [&](const absl::Status& s) {
    maintenance_mu_.AssertHeld();  // Held by the caller, above.
    swap_unfinished_ = true;
    Log(LogSeverity::kError, absl::StrCat("compaction of ", dir_, " committed but not finished (",
                                          s.message(), "): the next open finishes it"));
    return s;
  };
  if (absl::Status s = fs_.SyncDir(dir_); !s.ok()) return unfinished(s);
  uint64_t freed = 0;
  for (const auto& old : olds) {
    absl::StatusOr<uint64_t> n = RemoveSegmentFileSet(fs_, dir_, old->base_offset(), "");
    if (!n.ok()) return unfinished(n.status());
    freed += *n;
  }
  if (absl::Status s = fs_.SyncDir(dir_); !s.ok()) return unfinished(s);
  if (absl::Status s = RenameSegmentFileSet(fs_, dir_, base, segment::kSwapSuffix, ""); !s.ok()) {
    return unfinished(s);
  }
  if (absl::Status s = fs_.SyncDir(dir_); !s.ok()) return unfinished(s);
  if (options_.segment.usage != nullptr) options_.segment.usage->Add(-static_cast<int64_t>(freed));

  absl::StatusOr<std::shared_ptr<Segment>> fresh =
      Segment::Open(fs_, dir_, base, options_.segment, /*writable=*/false);
  if (fresh.ok()) {
    // The copy was just written and synced: damage in it is a failure of the
    // swap, not a segment to serve in part.
    absl::Status s = (*fresh)->LoadTrusted();
    if (s.ok()) s = (*fresh)->damage();
    if (!s.ok()) fresh = s;
  }
  if (!fresh.ok()) return unfinished(fresh.status());
  uint64_t old_bytes = 0;
  for (const auto& old : olds) old_bytes += old->size();
  {
    MutexLock append_lock(&append_mu_);
    std::erase_if(unsynced_sealed_, [&](const std::shared_ptr<Segment>& s) {
      return std::find(olds.begin(), olds.end(), s) != olds.end();
    });
    MutexLock lock(&segments_mu_);
    auto it = std::lower_bound(segments_.begin(), segments_.end(), base,
                               [](const Slot& s, int64_t b) { return s.base_offset < b; });
    // Close() may have emptied the list meanwhile; the files are in order.
    if (it != segments_.end() && it->base_offset == base &&
        segments_.end() - it > static_cast<std::ptrdiff_t>(olds.size())) {
      (*fresh)->set_limit_offset((it + static_cast<std::ptrdiff_t>(olds.size()))->base_offset);
      it->segment = *fresh;
      segments_.erase(it + 1, it + static_cast<std::ptrdiff_t>(olds.size()));
    }
  }
  for (const auto& old : olds) old->MarkRemoved();
  // The copy was synced before it was committed: the old segments no longer
  // hold the recovery point back. (Were the point left before the copy,
  // recovery would check the copy, which ends where the segments it replaced
  // did; it would find it whole.)
  if (absl::Status s = checkpointer_->Forget(replaced, -1);
      !s.ok() && !absl::IsFailedPrecondition(s)) {
    Log(LogSeverity::kWarning,
        absl::StrCat("advancing the recovery point of ", dir_, ": ", s.message()));
  }
  Count(compacted_.segments, static_cast<int64_t>(olds.size()));
  Count(compacted_.records, records_removed);
  compacted_.bytes.fetch_add(old_bytes - std::min(old_bytes, (*fresh)->size()),
                             std::memory_order_relaxed);
  return absl::OkStatus();
}

RemovalCounts PartitionLog::removal_stats() const {
  RemovalCounts s;
  s.expired_segments = expired_.segments.load(std::memory_order_relaxed);
  s.expired_records = expired_.records.load(std::memory_order_relaxed);
  s.expired_bytes = expired_.bytes.load(std::memory_order_relaxed);
  s.dropped_segments = dropped_.segments.load(std::memory_order_relaxed);
  s.dropped_records = dropped_.records.load(std::memory_order_relaxed);
  s.dropped_bytes = dropped_.bytes.load(std::memory_order_relaxed);
  s.compacted_segments = compacted_.segments.load(std::memory_order_relaxed);
  s.compacted_records = compacted_.records.load(std::memory_order_relaxed);
  s.compacted_bytes = compacted_.bytes.load(std::memory_order_relaxed);
  return s;
}

}  // namespace rill
