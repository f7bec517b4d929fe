#include "storage/partition_log.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "storage/recovery_point.h"
#include "storage/segment_format.h"
#include "util/status_macros.h"

namespace rill {

// Advances the recovery point as sealed segments become durable. Shared with
// background tasks, which may finish after the PartitionLog is gone.
struct PartitionLog::Checkpointer {
  Checkpointer(FileSystem& f, std::string d, LogSink s)
      : fs(f), dir(std::move(d)), sink(std::move(s)) {}

  // OnSynced(base): the sealed segment `base` is durable. Once it and every
  // segment before it are, the recovery point moves to the first segment
  // that is not.
  void OnSynced(int64_t base) {
    absl::MutexLock lock(&mu);
    syncing.erase(base);
    if (closed) return;
    const int64_t point = syncing.empty() ? active_base : *syncing.begin();
    if (point <= written_base) return;
    if (absl::Status s = WriteRecoveryPoint(fs, dir, {point, 0}); !s.ok()) {
      sink(LogSeverity::kWarning, absl::StrCat("cannot record recovery point in ", dir, ": ",
                                               s.message()));
      return;
    }
    written_base = point;
  }

  FileSystem& fs;
  const std::string dir;
  const LogSink sink;
  absl::Mutex mu;
  bool closed ABSL_GUARDED_BY(mu) = false;
  std::set<int64_t> syncing ABSL_GUARDED_BY(mu);
  int64_t active_base ABSL_GUARDED_BY(mu) = 0;
  int64_t written_base ABSL_GUARDED_BY(mu) = -1;
};

PartitionLog::PartitionLog(FileSystem& fs, std::string dir, const PartitionLogOptions& options)
    : fs_(fs), dir_(std::move(dir)), options_(options) {
  LogSink sink = options_.log_sink ? options_.log_sink : StderrLogSink();
  checkpointer_ = std::make_shared<Checkpointer>(fs_, dir_, std::move(sink));
}

PartitionLog::~PartitionLog() {
  if (absl::Status s = Close(); !s.ok() && !absl::IsFailedPrecondition(s)) {
    Log(LogSeverity::kError, absl::StrCat("closing ", dir_, ": ", s.message()));
  }
}

void PartitionLog::Log(LogSeverity severity, const std::string& message) const {
  checkpointer_->sink(severity, message);
}

absl::StatusOr<std::unique_ptr<PartitionLog>> PartitionLog::Open(
    FileSystem& fs, const std::string& dir, const PartitionLogOptions& options,
    RecoveryReport* report) {
  RETURN_IF_ERROR(fs.CreateDir(dir));
  std::unique_ptr<PartitionLog> log(new PartitionLog(fs, dir, options));
  RecoveryReport ignored;
  RETURN_IF_ERROR(log->Recover(report != nullptr ? report : &ignored));
  return log;
}

absl::Status PartitionLog::Recover(RecoveryReport* report) {
  ASSIGN_OR_RETURN(std::vector<std::string> names, fs_.ListDir(dir_));
  std::vector<int64_t> bases;
  for (const std::string& name : names) {
    if (auto base = segment::ParseFileName(name, segment::kLogSuffix)) {
      bases.push_back(*base);
    } else if (name.ends_with(".tmp")) {
      // An atomic replacement that a crash interrupted.
      (void)fs_.RemoveFile(JoinPath(dir_, name));
    }
  }
  std::sort(bases.begin(), bases.end());

  absl::MutexLock append_lock(&append_mu_);
  absl::MutexLock segments_lock(&segments_mu_);
  if (bases.empty()) {
    ASSIGN_OR_RETURN(active_, Segment::Create(fs_, dir_, options_.initial_offset, options_.segment));
    segments_.push_back(Slot{options_.initial_offset, active_});
    dir_unsynced_ = true;
    end_offset_.store(options_.initial_offset, std::memory_order_release);
    absl::MutexLock lock(&checkpointer_->mu);
    checkpointer_->active_base = options_.initial_offset;
    return absl::OkStatus();
  }

  const std::optional<RecoveryPoint> point = ReadRecoveryPoint(fs_, dir_);
  const int64_t point_base = point ? point->segment_base : -1;
  bool recovered = false;
  int64_t next_offset = bases.front();
  for (size_t i = 0; i < bases.size(); ++i) {
    const int64_t base = bases[i];
    const bool last = i + 1 == bases.size();
    if (base < point_base && !last) {
      segments_.push_back(Slot{base, nullptr});  // Trusted; opened on first read.
      next_offset = base;
      continue;
    }
    ASSIGN_OR_RETURN(std::shared_ptr<Segment> segment,
                     Segment::Open(fs_, dir_, base, options_.segment, /*writable=*/true));
    const uint64_t file_size = segment->allocated_bytes();
    if (base == point_base && last && file_size == point->position) {
      RETURN_IF_ERROR(segment->LoadTrusted());  // Closed cleanly.
    } else {
      recovered = true;
      const uint64_t trusted = base == point_base ? point->position : 0;
      SegmentRecovery r;
      RETURN_IF_ERROR(segment->Recover(trusted, std::max(base, next_offset), &r));
      ++report->segments_checked;
      report->bytes_checked += r.bytes_checked;
      report->batches_checked += r.batches_checked;
      report->bytes_dropped += r.bytes_dropped;
      report->batches_dropped += r.batches_dropped;
      if (r.bytes_dropped > 0) {
        const std::string detail = absl::StrFormat(
            "%s: cut %d bytes (%d batches) after byte %d: %s", segment->path(), r.bytes_dropped,
            r.batches_dropped, segment->size(), r.reason);
        report->details.push_back(detail);
        Log(LogSeverity::kWarning, "recovery: " + detail);
      }
      if (!last && r.bytes_dropped > 0) {
        // Later segments follow a gap: drop them, as Kafka does.
        for (size_t j = i + 1; j < bases.size(); ++j) {
          for (std::string_view suffix :
               {segment::kLogSuffix, segment::kIndexSuffix, segment::kTimeIndexSuffix}) {
            const std::string path = JoinPath(dir_, segment::FileName(bases[j], suffix));
            ASSIGN_OR_RETURN(FileInfo info, fs_.Stat(path));
            if (suffix == segment::kLogSuffix) report->bytes_dropped += info.size;
            RETURN_IF_ERROR(fs_.RemoveFile(path));
          }
          ++report->segments_dropped;
          report->details.push_back(absl::StrCat(
              "deleted ", segment::FileName(bases[j], segment::kLogSuffix), ": it followed a cut"));
        }
        bases.resize(i + 1);
        RETURN_IF_ERROR(fs_.SyncDir(dir_));
      }
    }
    next_offset = segment->next_offset();
    if (i + 1 < bases.size()) RETURN_IF_ERROR(segment->Seal());
    segments_.push_back(Slot{base, segment});
    if (i + 1 == bases.size()) active_ = segment;
  }
  end_offset_.store(active_->next_offset(), std::memory_order_release);
  if (recovered) {
    ++report->partitions_recovered;
    // What was recovered may still be only in the page cache (a process
    // crash): make it durable before recording it as the recovery point.
    for (const Slot& slot : segments_) {
      if (slot.segment != nullptr) RETURN_IF_ERROR(slot.segment->SyncData());
    }
    RETURN_IF_ERROR(WriteRecoveryPoint(fs_, dir_, {active_->base_offset(), active_->size()}));
  }
  absl::MutexLock lock(&checkpointer_->mu);
  checkpointer_->active_base = active_->base_offset();
  checkpointer_->written_base = point_base;
  return absl::OkStatus();
}

absl::StatusOr<std::shared_ptr<Segment>> PartitionLog::SegmentAt(size_t index) const {
  {
    absl::ReaderMutexLock lock(&segments_mu_);
    if (index >= segments_.size()) return nullptr;
    if (segments_[index].segment != nullptr) return segments_[index].segment;
  }
  absl::MutexLock lock(&segments_mu_);
  if (index >= segments_.size()) return nullptr;
  Slot& slot = segments_[index];
  if (slot.segment == nullptr) {
    ASSIGN_OR_RETURN(std::shared_ptr<Segment> segment,
                     Segment::Open(fs_, dir_, slot.base_offset, options_.segment,
                                   /*writable=*/false));
    RETURN_IF_ERROR(segment->LoadTrusted());
    slot.segment = std::move(segment);
  }
  return slot.segment;
}

int64_t PartitionLog::start_offset() const {
  absl::ReaderMutexLock lock(&segments_mu_);
  return segments_.empty() ? end_offset() : segments_.front().base_offset;
}

int PartitionLog::segment_count() const {
  absl::ReaderMutexLock lock(&segments_mu_);
  return static_cast<int>(segments_.size());
}

uint64_t PartitionLog::size_bytes() const {
  uint64_t total = 0;
  for (size_t i = 0;; ++i) {
    auto segment = SegmentAt(i);
    if (!segment.ok() || *segment == nullptr) break;
    total += (*segment)->size();
  }
  return total;
}

absl::StatusOr<AppendResult> PartitionLog::Append(std::span<const char> batch) {
  BatchHeader h;
  absl::Status s = options_.check_crc_on_append ? CheckBatch(batch, &h) : CheckBatchHeader(batch, &h);
  if (!s.ok() && !absl::IsDataLoss(s)) s = absl::InvalidArgumentError(s.message());
  RETURN_IF_ERROR(s);
  if (h.size() != batch.size()) {
    return absl::InvalidArgumentError(
        absl::StrFormat("expected one batch of %d bytes, got %d bytes", h.size(), batch.size()));
  }
  if (batch.size() > options_.max_batch_bytes) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "batch of %d bytes is larger than max.message.bytes (%d)", batch.size(),
        options_.max_batch_bytes));
  }
  if (batch.size() > options_.segment.max_bytes) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "batch of %d bytes is larger than segment.bytes (%d)", batch.size(),
        options_.segment.max_bytes));
  }

  absl::MutexLock lock(&append_mu_);
  if (closed_) return absl::FailedPreconditionError(absl::StrCat(dir_, " is closed"));
  const int64_t now = options_.clock->NowMillis();
  h.base_offset = end_offset_.load(std::memory_order_relaxed);
  const bool aged = options_.segment_ms > 0 && active_->first_append_ms() >= 0 &&
                    now - active_->first_append_ms() >= options_.segment_ms;
  if (active_->sealed() || aged || !active_->RoomFor(batch.size(), h.last_offset())) {
    RETURN_IF_ERROR(RollLocked());
  }
  const int64_t append_time = options_.log_append_time ? now : -1;
  bool populate = false;
  RETURN_IF_ERROR(active_->Append(batch, h, append_time, now, &populate));
  end_offset_.store(h.last_offset() + 1, std::memory_order_release);
  if (populate) {
    if (options_.background != nullptr) {
      options_.background->Schedule([segment = active_] { segment->PopulateAhead(); });
    }
  }
  return AppendResult{h.base_offset, h.last_offset(), append_time};
}

absl::Status PartitionLog::Roll() {
  absl::MutexLock lock(&append_mu_);
  if (closed_) return absl::FailedPreconditionError(absl::StrCat(dir_, " is closed"));
  if (active_->size() == 0 && !active_->sealed()) return absl::OkStatus();
  return RollLocked();
}

absl::Status PartitionLog::RollLocked() {
  std::shared_ptr<Segment> old = active_;
  if (!old->sealed()) {
    RETURN_IF_ERROR(old->Seal());
    unsynced_sealed_.push_back(old);
  }
  const int64_t base = end_offset_.load(std::memory_order_relaxed);
  ASSIGN_OR_RETURN(std::shared_ptr<Segment> segment,
                   Segment::Create(fs_, dir_, base, options_.segment));
  {
    absl::MutexLock lock(&segments_mu_);
    segments_.push_back(Slot{base, segment});
  }
  active_ = std::move(segment);
  dir_unsynced_ = true;
  {
    absl::MutexLock lock(&checkpointer_->mu);
    checkpointer_->syncing.insert(old->base_offset());
    checkpointer_->active_base = base;
  }
  if (options_.background != nullptr) {
    options_.background->Schedule([old, checkpointer = checkpointer_] {
      if (absl::Status s = old->SyncData(); !s.ok()) {
        checkpointer->sink(LogSeverity::kWarning,
                           absl::StrCat("syncing sealed segment ", old->path(), ": ", s.message()));
        return;
      }
      checkpointer->OnSynced(old->base_offset());
    });
  }
  return absl::OkStatus();
}

absl::Status PartitionLog::Sync() {
  const int64_t target = end_offset();
  absl::MutexLock lock(&sync_mu_);
  while (synced_offset_ < target) {
    if (sync_running_) {
      // Someone is syncing; wait, then sync again only if that did not cover us.
      sync_done_.Wait(&sync_mu_);
      continue;
    }
    sync_running_ = true;
    sync_mu_.Unlock();
    // Take what needs syncing now: this covers every append before the call.
    std::vector<std::shared_ptr<Segment>> sealed;
    std::shared_ptr<Segment> active;
    uint64_t active_end = 0;
    int64_t end = 0;
    bool sync_dir = false;
    {
      absl::MutexLock append_lock(&append_mu_);
      sealed.swap(unsynced_sealed_);
      active = active_;
      active_end = active->size();
      end = end_offset_.load(std::memory_order_relaxed);
      sync_dir = dir_unsynced_;
      dir_unsynced_ = false;
    }
    absl::Status s;
    for (const auto& segment : sealed) {
      if (s.ok()) s = segment->SyncData();
    }
    if (s.ok()) s = active->SyncTo(active_end);
    if (s.ok() && sync_dir) s = fs_.SyncDir(dir_);
    if (s.ok()) {
      for (const auto& segment : sealed) checkpointer_->OnSynced(segment->base_offset());
    }
    sync_mu_.Lock();
    sync_running_ = false;
    if (!s.ok()) {
      sync_done_.SignalAll();
      // Put back what was not made durable, so the next Sync tries again.
      sync_mu_.Unlock();
      {
        absl::MutexLock append_lock(&append_mu_);
        unsynced_sealed_.insert(unsynced_sealed_.begin(), sealed.begin(), sealed.end());
        dir_unsynced_ |= sync_dir;
      }
      sync_mu_.Lock();
      return s;
    }
    synced_offset_ = std::max(synced_offset_, end);
    sync_done_.SignalAll();
  }
  return absl::OkStatus();
}

absl::StatusOr<ReadResult> PartitionLog::Read(int64_t offset, size_t max_bytes) const {
  const int64_t end = end_offset();
  if (offset == end) return ReadResult{};
  size_t index;
  {
    absl::ReaderMutexLock lock(&segments_mu_);
    if (segments_.empty() || offset < segments_.front().base_offset || offset > end) {
      return absl::OutOfRangeError(absl::StrFormat(
          "offset %d is outside the log [%d, %d] of %s", offset,
          segments_.empty() ? end : segments_.front().base_offset, end, dir_));
    }
    auto it = std::upper_bound(segments_.begin(), segments_.end(), offset,
                               [](int64_t o, const Slot& s) { return o < s.base_offset; });
    index = static_cast<size_t>(it - segments_.begin()) - 1;
  }
  for (;; ++index) {
    ASSIGN_OR_RETURN(std::shared_ptr<Segment> segment, SegmentAt(index));
    if (segment == nullptr) return ReadResult{};  // The offset fell in a gap at the end.
    ASSIGN_OR_RETURN(const uint64_t position, segment->FindBatch(offset));
    ASSIGN_OR_RETURN(std::span<const char> bytes, segment->Read(position, max_bytes));
    if (!bytes.empty()) return ReadResult{std::move(segment), bytes};
    if (!segment->sealed()) return ReadResult{};
  }
}

absl::StatusOr<int64_t> PartitionLog::OffsetForTimestamp(int64_t ts) const {
  for (size_t index = 0;; ++index) {
    ASSIGN_OR_RETURN(std::shared_ptr<Segment> segment, SegmentAt(index));
    if (segment == nullptr) return end_offset();
    if (segment->max_timestamp() < ts) continue;
    ASSIGN_OR_RETURN(const int64_t offset, segment->OffsetForTimestamp(ts));
    if (offset < segment->next_offset()) return offset;
  }
}

absl::Status PartitionLog::Close() {
  absl::MutexLock lock(&append_mu_);
  if (closed_) return absl::FailedPreconditionError(absl::StrCat(dir_, " is closed"));
  closed_ = true;
  {
    absl::MutexLock checkpoint_lock(&checkpointer_->mu);
    checkpointer_->closed = true;
  }
  absl::Status status;
  auto keep_first = [&status](absl::Status s) {
    if (status.ok()) status = std::move(s);
  };
  for (const auto& segment : unsynced_sealed_) keep_first(segment->SyncData());
  unsynced_sealed_.clear();
  // Trim the active segment's preallocated tail and make it all durable;
  // only then is the recovery point a promise.
  keep_first(active_->Seal());
  keep_first(active_->SyncData());
  if (status.ok()) {
    keep_first(WriteRecoveryPoint(fs_, dir_, {active_->base_offset(), active_->size()}));
  }
  active_.reset();
  absl::MutexLock segments_lock(&segments_mu_);
  segments_.clear();
  return status;
}

}  // namespace rill
