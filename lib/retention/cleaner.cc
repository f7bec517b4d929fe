#include "retention/cleaner.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "format/batch_header.h"
#include "util/status_macros.h"

namespace rill::retention {
namespace {

// Reads are asked for in pieces of about this size.
constexpr size_t kReadChunk = 1 << 20;

}  // namespace

CleaningJob::CleaningJob(PartitionLog* log, const TopicConfig& config, int64_t now_ms,
                         CleanState* state)
    : log_(log), config_(config), now_ms_(now_ms), state_(state) {}

CleaningJob::~CleaningJob() { Abandon(); }

void CleaningJob::Abandon() {
  if (copy_ == nullptr) return;
  const int64_t base = copy_->base_offset();
  copy_.reset();
  log_->DiscardCleanedSegment(base);
}

absl::StatusOr<bool> CleaningJob::Step(uint64_t budget) {
  absl::StatusOr<bool> done = [&]() -> absl::StatusOr<bool> {
    uint64_t used = 0;
    while (phase_ != Phase::kDone && used < budget) {
      switch (phase_) {
        case Phase::kPlan: {
          ASSIGN_OR_RETURN(const bool work, Plan());
          phase_ = work ? Phase::kMap : Phase::kDone;
          break;
        }
        case Phase::kMap: {
          ASSIGN_OR_RETURN(const uint64_t n, MapSome(budget - used));
          used += n;
          break;
        }
        case Phase::kWrite: {
          ASSIGN_OR_RETURN(const uint64_t n, WriteSome(budget - used));
          used += n;
          break;
        }
        case Phase::kDone:
          break;
      }
    }
    return phase_ == Phase::kDone;
  }();
  if (!done.ok()) {
    Abandon();
    phase_ = Phase::kDone;
  }
  return done;
}

absl::StatusOr<bool> CleaningJob::Plan() {
  ASSIGN_OR_RETURN(std::vector<SegmentInfo> all, log_->ListSegments());
  // Sealed segments up to the first one too young to compact; the active
  // one (last) never.
  size_t end = 0;
  while (end + 1 < all.size()) {
    const SegmentInfo& s = all[end];
    if (config_.min_compaction_lag_ms > 0 && s.max_timestamp >= 0 &&
        s.max_timestamp > now_ms_ - config_.min_compaction_lag_ms) {
      break;
    }
    ++end;
  }
  if (end == 0) return false;
  section_end_ = all[end].base_offset;
  all.resize(end);
  segments_ = std::move(all);

  uint64_t total = 0;
  uint64_t dirty = 0;
  dirty_from_ = segments_.size();
  for (size_t i = 0; i < segments_.size(); ++i) {
    total += segments_[i].bytes;
    if (segments_[i].next_offset > state_->clean_end) {
      dirty += segments_[i].bytes;
      dirty_from_ = std::min(dirty_from_, i);
    }
  }
  const bool horizon_due = state_->next_horizon_ms <= now_ms_;
  if (!horizon_due &&
      (dirty == 0 || static_cast<double>(dirty) <
                         config_.min_cleanable_dirty_ratio * static_cast<double>(total))) {
    return false;
  }
  // Groups of consecutive segments whose copy fits in one segment, and whose
  // offsets fit its index.
  const uint64_t max_bytes = log_->options().segment.max_bytes;
  for (size_t i = 0; i < segments_.size(); ++i) {
    const SegmentInfo& s = segments_[i];
    if (!groups_.empty()) {
      Group& g = groups_.back();
      const int64_t span = s.next_offset - segments_[g.first].base_offset;
      if (g.bytes + s.bytes <= max_bytes && span <= std::numeric_limits<int32_t>::max()) {
        g.end = i + 1;
        g.bytes += s.bytes;
        continue;
      }
    }
    groups_.push_back(Group{i, i + 1, s.bytes});
  }
  segment_ = dirty_from_;
  position_ = 0;
  return true;
}

absl::StatusOr<uint64_t> CleaningJob::MapSome(uint64_t budget) {
  if (segment_ >= segments_.size()) {
    phase_ = Phase::kWrite;
    segment_ = groups_.empty() ? 0 : groups_[0].first;
    position_ = 0;
    return 0;
  }
  const Segment& segment = *segments_[segment_].segment;
  if (position_ >= segment.size()) {
    ++segment_;
    position_ = 0;
    return 0;
  }
  ASSIGN_OR_RETURN(std::span<const char> bytes,
                   segment.Read(position_, std::min<uint64_t>(budget, kReadChunk)));
  uint64_t used = 0;
  while (!bytes.empty()) {
    BatchHeader h;
    const std::span<const char> batch = TakeBatch(&bytes, &h);
    used += h.size();
    if (h.control()) continue;
    reader_.Clear();
    ASSIGN_OR_RETURN(std::span<const char> records, reader_.Records(batch, h));
    detail::RecordDecoder decoder(records.data(), records.data() + records.size(), DecoderInfo(h));
    RecordView r;
    while (decoder.Next(&r)) {
      if (!r.has_key()) continue;
      auto it = map_.find(r.key());
      if (it != map_.end()) {
        it->second = r.offset();
      } else {
        map_.emplace(std::string(r.key()), r.offset());
      }
    }
    if (decoder.error() != nullptr) return RecordError(decoder, h);
  }
  position_ += used;
  result_.bytes_read += used;
  return used;
}

bool CleaningJob::Keep(const RecordView& record) const {
  // Kafka's cleaner drops records without a key: compaction has nothing to
  // keep them by.
  if (!record.has_key()) return false;
  auto it = map_.find(record.key());
  return it == map_.end() || it->second <= record.offset();
}

absl::StatusOr<uint64_t> CleaningJob::WriteSome(uint64_t budget) {
  if (group_ >= groups_.size()) {
    state_->clean_end = section_end_;
    state_->next_horizon_ms = next_horizon_ms_;
    map_.clear();
    phase_ = Phase::kDone;
    return 0;
  }
  const Group& group = groups_[group_];
  if (copy_ == nullptr) {
    if (group.bytes == 0) {  // Nothing in it to clean.
      ++group_;
      return 0;
    }
    ASSIGN_OR_RETURN(copy_,
                     log_->NewCleanedSegment(segments_[group.first].base_offset, group.bytes));
    group_removed_ = 0;
    group_changed_ = false;
    segment_ = group.first;
    position_ = 0;
  }
  if (segment_ >= group.end) {
    ASSIGN_OR_RETURN(const bool go_on, FinishGroup());
    if (!go_on) phase_ = Phase::kDone;
    return 0;
  }
  const Segment& segment = *segments_[segment_].segment;
  if (position_ >= segment.size()) {
    ++segment_;
    position_ = 0;
    return 0;
  }
  ASSIGN_OR_RETURN(std::span<const char> bytes,
                   segment.Read(position_, std::min<uint64_t>(budget, kReadChunk)));
  uint64_t used = 0;
  const auto keep = [this](const RecordView& r) { return Keep(r); };
  while (!bytes.empty()) {
    BatchHeader h;
    const std::span<const char> batch = TakeBatch(&bytes, &h);
    used += h.size();
    // The group's last batch stays, empty if need be, so that the copy ends
    // at the same offset as the segments it replaces.
    const bool last = segment_ + 1 == group.end && position_ + used == segment.size();
    ASSIGN_OR_RETURN(RewrittenBatch out,
                     rewriter_.Rewrite(batch, h, keep, now_ms_, config_.delete_retention_ms, last));
    group_removed_ += out.records_in - out.records_kept;
    if (!out.unchanged) group_changed_ = true;
    if (out.keeps_tombstone && out.delete_horizon_ms >= 0) {
      next_horizon_ms_ = std::min(next_horizon_ms_, out.delete_horizon_ms);
    }
    if (out.bytes.empty()) continue;
    BatchHeader written;
    RETURN_IF_ERROR(CheckBatchHeader(out.bytes, &written));
    written.base_offset = h.base_offset;
    if (!copy_->RoomFor(out.bytes.size(), written.last_offset())) {
      return absl::ResourceExhaustedError(
          absl::StrCat("the compacted copy of ", segment.path(), " outgrew its segment"));
    }
    PopulateRequest populate;  // None: the copy has populate_ahead 0.
    RETURN_IF_ERROR(copy_->Append(out.bytes, written, /*append_time_ms=*/-1, now_ms_, &populate));
  }
  position_ += used;
  result_.bytes_read += used;
  return used;
}

absl::StatusOr<bool> CleaningJob::FinishGroup() {
  const Group& group = groups_[group_];
  ++group_;
  if (!group_changed_ && group.end - group.first == 1) {
    Abandon();  // A copy identical to its one segment: nothing to swap.
    return true;
  }
  RETURN_IF_ERROR(copy_->Seal());
  RETURN_IF_ERROR(copy_->SyncData());
  std::vector<int64_t> replaced;
  uint64_t old_bytes = 0;
  for (size_t i = group.first; i < group.end; ++i) {
    replaced.push_back(segments_[i].base_offset);
    old_bytes += segments_[i].bytes;
  }
  const uint64_t new_bytes = copy_->size();
  absl::Status s = log_->ReplaceSegments(replaced, std::move(copy_), group_removed_);
  copy_.reset();
  if (absl::IsAborted(s)) return false;  // Retention got there first.
  RETURN_IF_ERROR(s);
  result_.segments_rewritten += static_cast<int64_t>(replaced.size());
  result_.records_removed += group_removed_;
  result_.bytes_removed += old_bytes - std::min(old_bytes, new_bytes);
  return true;
}

}  // namespace rill::retention
