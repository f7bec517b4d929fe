#include "storage/partition_log.h"

#include <algorithm>
#include <thread>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "storage/checkpointer.h"
#include "storage/recovery_point.h"
#include "storage/segment_format.h"
#include "storage/segment_swap.h"
#include "storage/sync_failures.h"
#include "util/futex.h"
#include "util/status_macros.h"

namespace rill {
namespace {

// Bounds on the time a Sync() caller yields before it sleeps, and on the
// time a leader waits for callers to gather, in µs.
constexpr int64_t kMaxSyncSpinUs = 1000;
constexpr int64_t kMaxGatherUs = 500;

// Group commit's waits are bounds on real time, whatever clock the log was
// given: a test's fake clock would never let them end.
int64_t NowMicros() { return Clock::Real()->MonotonicMicros(); }

// YieldWhile(cond, budget_us): yields the CPU while cond() holds, for at
// most budget_us.
template <typename Cond>
void YieldWhile(Cond cond, int64_t budget_us) {
  const int64_t end = NowMicros() + budget_us;
  while (cond() && NowMicros() < end) std::this_thread::yield();
}

// RaiseTo(a, v): *a = max(*a, v), atomically.
template <typename T>
void RaiseTo(std::atomic<T>* a, T v, std::memory_order order) {
  T now = a->load(std::memory_order_relaxed);
  while (now < v && !a->compare_exchange_weak(now, v, order, std::memory_order_relaxed)) {
  }
}

// ParentDir(path): the directory that holds `path` ("." for a bare name).
std::string ParentDir(std::string_view path) {
  while (path.size() > 1 && path.back() == '/') path.remove_suffix(1);
  const size_t slash = path.find_last_of('/');
  if (slash == std::string_view::npos) return ".";
  if (slash == 0) return "/";
  return std::string(path.substr(0, slash));
}

}  // namespace

PartitionLog::PartitionLog(FileSystem& fs, std::string dir, const PartitionLogOptions& options)
    : fs_(fs), dir_(std::move(dir)), options_(options) {
  settings_ = Settings{.segment = options_.segment,
                       .segment_ms = options_.segment_ms,
                       .max_batch_bytes = options_.max_batch_bytes,
                       .log_append_time = options_.log_append_time};
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
  // The directory's own name must be durable too, or a loss of power can
  // take the whole partition with it, synced data and all. It may have been
  // created by an earlier run that did not get this far: sync every time.
  RETURN_IF_ERROR(fs.SyncDir(ParentDir(dir)));
  std::unique_ptr<PartitionLog> log(new PartitionLog(fs, dir, options));
  RecoveryReport ignored;
  RETURN_IF_ERROR(log->Recover(report != nullptr ? report : &ignored));
  return log;
}

absl::Status PartitionLog::Recover(RecoveryReport* report) {
  // A compaction that a crash interrupted: finish or undo it first, so that
  // the segments listed below are one consistent set.
  RETURN_IF_ERROR(FinishSwaps(fs_, dir_, report));
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

  // A sync failed in an earlier open, in this boot (Checkpointer::Fail):
  // pages after the recovery point may be clean in the page cache yet not on
  // the device. Rewrite them all, so that the sync below writes them.
  const bool sync_failed = SyncFailedBefore(fs_, dir_, names);
  MutexLock append_lock(&append_mu_);
  MutexLock segments_lock(&segments_mu_);
  if (bases.empty()) {
    ASSIGN_OR_RETURN(active_, Segment::Create(fs_, dir_, options_.initial_offset, options_.segment));
    segments_.push_back(Slot{options_.initial_offset, active_});
    dir_unsynced_ = true;
    end_offset_.store(options_.initial_offset, std::memory_order_release);
    if (sync_failed) ClearSyncFailure(fs_, dir_, checkpointer_->sink);  // Nothing to rewrite.
    MutexLock lock(&checkpointer_->mu);
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
    bool loaded = false;
    if (base == point_base && last && file_size == point->position && !sync_failed) {
      // Closed cleanly. A batch header found damaged even so (the device's
      // doing, or another writer's) is cut as a crash's torn tail would be,
      // rather than leave the partition unopenable. Recovery walks the
      // trusted bytes by header, so that is all it cuts: a batch whose CRC
      // alone fails is left for reads to report, as anywhere in a log.
      const absl::Status s = segment->LoadTrusted();
      if (!s.ok() && !absl::IsDataLoss(s)) return s;
      loaded = s.ok();
      if (!loaded) {
        const std::string detail = absl::StrCat(
            segment->path(), ": closed cleanly, yet a batch header is damaged: ", s.message());
        report->details.push_back(detail);
        Log(LogSeverity::kWarning, "recovery: " + detail);
      }
    }
    if (!loaded) {
      recovered = true;
      const uint64_t trusted = base == point_base ? point->position : 0;
      SegmentRecovery r;
      RETURN_IF_ERROR(segment->Recover(trusted, std::max(base, next_offset), &r));
      if (sync_failed) {
        RETURN_IF_ERROR(segment->Rewrite(trusted));
        report->details.push_back(
            absl::StrFormat("%s: rewrote %d bytes after a failed sync", segment->path(),
                            segment->size() - std::min(trusted, segment->size())));
      }
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
      // A segment that ends before the next one begins lost its tail, even
      // if nothing is left of it to cut: a loss of power drops unsynced
      // bytes, and a later segment's name can be durable before they are
      // (the recovery point's directory sync makes every name durable).
      const bool short_of_next = !last && segment->next_offset() < bases[i + 1];
      if (short_of_next && r.bytes_dropped == 0) {
        const std::string detail = absl::StrFormat(
            "%s ends at offset %d, short of the next segment's %d: records were lost",
            segment->path(), segment->next_offset(), bases[i + 1]);
        report->details.push_back(detail);
        Log(LogSeverity::kWarning, "recovery: " + detail);
      }
      if (!last && (r.bytes_dropped > 0 || short_of_next)) {
        // Later segments follow a gap: drop them, as Kafka does.
        for (size_t j = i + 1; j < bases.size(); ++j) {
          for (std::string_view suffix :
               {segment::kLogSuffix, segment::kIndexSuffix, segment::kTimeIndexSuffix}) {
            const std::string path = JoinPath(dir_, segment::FileName(bases[j], suffix));
            absl::StatusOr<FileInfo> info = fs_.Stat(path);
            if (absl::IsNotFound(info.status())) continue;  // A crash before it was made.
            RETURN_IF_ERROR(info.status());
            if (suffix == segment::kLogSuffix) report->bytes_dropped += info->size;
            RETURN_IF_ERROR(fs_.RemoveFile(path));
          }
          ++report->segments_dropped;
          report->details.push_back(absl::StrCat(
              "deleted ", segment::FileName(bases[j], segment::kLogSuffix), ": it followed a cut"));
        }
        bases.resize(i + 1);
        RETURN_IF_ERROR(FailIfNot(fs_.SyncDir(dir_)));
      }
    }
    next_offset = segment->next_offset();
    if (i + 1 < bases.size()) {
      segment->set_limit_offset(bases[i + 1]);
      RETURN_IF_ERROR(segment->Seal());
    }
    segments_.push_back(Slot{base, segment});
    if (i + 1 == bases.size()) active_ = segment;
  }
  end_offset_.store(active_->next_offset(), std::memory_order_release);
  if (recovered) {
    ++report->partitions_recovered;
    // What was recovered may still be only in the page cache (a process
    // crash): make it durable before recording it as the recovery point.
    for (const Slot& slot : segments_) {
      if (slot.segment != nullptr) RETURN_IF_ERROR(FailIfNot(slot.segment->SyncData()));
    }
    RETURN_IF_ERROR(WriteRecoveryPoint(fs_, dir_, {active_->base_offset(), active_->size()}));
  }
  if (sync_failed) ClearSyncFailure(fs_, dir_, checkpointer_->sink);
  recovery_point_current_ = recovered || (point_base == active_->base_offset() &&
                                          point->position == active_->size());
  MutexLock lock(&checkpointer_->mu);
  checkpointer_->active_base = active_->base_offset();
  checkpointer_->written_base = recovered ? active_->base_offset() : point_base;
  return absl::OkStatus();
}

absl::StatusOr<std::shared_ptr<Segment>> PartitionLog::LoadSlot(size_t index) const {
  Slot& slot = segments_[index];
  if (slot.segment == nullptr) {
    ASSIGN_OR_RETURN(std::shared_ptr<Segment> segment,
                     Segment::Open(fs_, dir_, slot.base_offset, options_.segment,
                                   /*writable=*/false));
    RETURN_IF_ERROR(segment->LoadTrusted());
    if (!segment->damage().ok()) {
      Log(LogSeverity::kError,
          absl::StrFormat("a sealed segment is damaged, its records from offset %d on "
                          "unreadable: %s",
                          segment->next_offset(), segment->damage().message()));
    }
    if (index + 1 < segments_.size()) segment->set_limit_offset(segments_[index + 1].base_offset);
    slot.segment = std::move(segment);
  }
  return slot.segment;
}

absl::StatusOr<std::shared_ptr<Segment>> PartitionLog::SegmentFrom(int64_t offset,
                                                                   const Segment* after,
                                                                   bool clamp) const {
  // Segments may leave the front, or be merged, between two calls: look up
  // by offset every time, never by position in the list.
  auto find = [&]() -> absl::StatusOr<size_t> {
    segments_mu_.AssertHeld();  // Called with the lock, below.
    if (segments_.empty()) return absl::FailedPreconditionError(absl::StrCat(dir_, " is closed"));
    if (offset < segments_.front().base_offset && !clamp) {
      return absl::OutOfRangeError(absl::StrFormat("offset %d is outside the log [%d, %d] of %s",
                                                   offset, segments_.front().base_offset,
                                                   end_offset(), dir_));
    }
    auto it = std::upper_bound(segments_.begin(), segments_.end(), offset,
                               [](int64_t o, const Slot& s) { return o < s.base_offset; });
    size_t index = it == segments_.begin() ? 0 : static_cast<size_t>(it - segments_.begin()) - 1;
    if (after != nullptr && segments_[index].segment.get() == after) ++index;
    return index;
  };
  {
    MutexLock lock(&segments_mu_);
    ASSIGN_OR_RETURN(const size_t index, find());
    if (index >= segments_.size()) return nullptr;
    if (segments_[index].segment != nullptr) return segments_[index].segment;
  }
  MutexLock lock(&segments_mu_);
  ASSIGN_OR_RETURN(const size_t index, find());
  if (index >= segments_.size()) return nullptr;
  return LoadSlot(index);
}

absl::Status PartitionLog::FailIfNot(absl::Status sync_status) {
  if (!sync_status.ok()) checkpointer_->Fail(sync_status);
  return sync_status;
}

bool PartitionLog::failed() const { return checkpointer_->failed.load(std::memory_order_acquire); }

int64_t PartitionLog::start_offset() const {
  MutexLock lock(&segments_mu_);
  return segments_.empty() ? end_offset() : segments_.front().base_offset;
}

int PartitionLog::segment_count() const {
  MutexLock lock(&segments_mu_);
  return static_cast<int>(segments_.size());
}

uint64_t PartitionLog::size_bytes() const {
  uint64_t total = 0;
  std::shared_ptr<Segment> segment;
  int64_t at = 0;
  for (;;) {
    auto next = SegmentFrom(at, segment.get(), /*clamp=*/true);
    if (!next.ok() || *next == nullptr) break;
    segment = *std::move(next);
    total += segment->size();
    at = std::max(at, segment->next_offset());
  }
  return total;
}

absl::StatusOr<AppendResult> PartitionLog::Append(std::span<const char> batch, int64_t now_ms,
                                                  absl::FunctionRef<void()> published) {
  BatchHeader h;
  // Bytes that are not a batch are the caller's mistake (kInvalidArgument),
  // whatever CheckBatchHeader calls them; only a CRC mismatch is kDataLoss.
  if (absl::Status s = CheckBatchHeader(batch, &h); !s.ok()) {
    return absl::InvalidArgumentError(s.message());
  }
  if (h.size() != batch.size()) {
    return absl::InvalidArgumentError(
        absl::StrFormat("expected one batch of %d bytes, got %d bytes", h.size(), batch.size()));
  }
  if (options_.check_crc_on_append) RETURN_IF_ERROR(CheckBatch(batch, &h));

  MutexLock lock(&append_mu_);
  if (batch.size() > settings_.max_batch_bytes) {
    return absl::InvalidArgumentError(
        absl::StrFormat("batch of %d bytes is larger than max.message.bytes (%d)", batch.size(),
                        settings_.max_batch_bytes));
  }
  if (batch.size() > settings_.segment.max_bytes) {
    return absl::InvalidArgumentError(
        absl::StrFormat("batch of %d bytes is larger than segment.bytes (%d)", batch.size(),
                        settings_.segment.max_bytes));
  }
  if (closed_) return absl::FailedPreconditionError(absl::StrCat(dir_, " is closed"));
  if (failed()) return checkpointer_->Failure();
  const int64_t now =
      now_ms >= 0 && !settings_.log_append_time ? now_ms : options_.clock->NowMillis();
  h.base_offset = end_offset_.load(std::memory_order_relaxed);
  const bool aged = settings_.segment_ms > 0 && active_->first_append_ms() >= 0 &&
                    now - active_->first_append_ms() >= settings_.segment_ms;
  if (active_->sealed() || aged || !active_->RoomFor(batch.size(), h.last_offset())) {
    RETURN_IF_ERROR(RollLocked());
  }
  const int64_t append_time = settings_.log_append_time ? now : -1;
  PopulateRequest populate = PopulateRequest::kNone;
  RETURN_IF_ERROR(active_->Append(batch, h, append_time, now, &populate));
  recovery_point_current_ = false;
  end_offset_.store(h.last_offset() + 1, std::memory_order_release);
  published();
  if (populate == PopulateRequest::kWriter) {
    active_->PopulateOnWriter(batch.size());
  } else if (populate == PopulateRequest::kBackground && options_.background != nullptr) {
    options_.background->Schedule([segment = active_] { segment->PopulateAhead(); });
  } else if (populate == PopulateRequest::kMapBehind && options_.background != nullptr) {
    options_.background->Schedule([segment = active_] { segment->MapBehind(); });
  }
  return AppendResult{h.base_offset, h.last_offset(), append_time};
}

void PartitionLog::Reconfigure(const PartitionLogOptions& options) {
  MutexLock lock(&append_mu_);
  settings_ = Settings{.segment = options.segment,
                       .segment_ms = options.segment_ms,
                       .max_batch_bytes = options.max_batch_bytes,
                       .log_append_time = options.log_append_time};
}

absl::Status PartitionLog::Roll() {
  MutexLock lock(&append_mu_);
  if (closed_) return absl::FailedPreconditionError(absl::StrCat(dir_, " is closed"));
  if (failed()) return checkpointer_->Failure();
  if (active_->size() == 0 && !active_->sealed()) return absl::OkStatus();
  return RollLocked();
}

absl::Status PartitionLog::RollLocked() {
  recovery_point_current_ = false;
  std::shared_ptr<Segment> old = active_;
  if (!old->sealed()) {
    RETURN_IF_ERROR(old->Seal());
    unsynced_sealed_.push_back(old);
  }
  const int64_t base = end_offset_.load(std::memory_order_relaxed);
  old->set_limit_offset(base);
  ASSIGN_OR_RETURN(std::shared_ptr<Segment> segment,
                   Segment::Create(fs_, dir_, base, settings_.segment));
  {
    MutexLock lock(&segments_mu_);
    segments_.push_back(Slot{base, segment});
  }
  active_ = std::move(segment);
  dir_unsynced_ = true;
  {
    MutexLock lock(&checkpointer_->mu);
    checkpointer_->syncing.insert(old->base_offset());
    checkpointer_->active_base = base;
  }
  if (options_.background != nullptr) {
    options_.background->Schedule([old, checkpointer = checkpointer_] {
      if (old->removed()) return;  // Deleted or compacted away meanwhile.
      old->DiscardWriterMapping();
      // Not after a failure: this sync could succeed without writing what
      // the failed one could not (see Checkpointer::Fail).
      if (checkpointer->failed.load(std::memory_order_acquire)) return;
      if (absl::Status s = old->SyncData(); !s.ok()) {
        checkpointer->FailInBackground(s);
        return;
      }
      checkpointer->OnSynced(old->base_offset());
    });
  }
  return absl::OkStatus();
}

absl::Status PartitionLog::Sync() {
  const int64_t target = end_offset();
  if (closed_.load(std::memory_order_acquire)) {
    return absl::FailedPreconditionError(absl::StrCat(dir_, " is closed"));
  }
  if (failed()) return checkpointer_->Failure();
  if (durable_offset_.load(std::memory_order_acquire) >= target) return absl::OkStatus();
  sync_arrivals_.fetch_add(1, std::memory_order_acq_rel);
  const int32_t callers = sync_callers_.fetch_add(1, std::memory_order_acq_rel) + 1;
  absl::Cleanup leave = [this] { sync_callers_.fetch_sub(1, std::memory_order_acq_rel); };
  RaiseTo(&sync_callers_peak_, callers, std::memory_order_relaxed);
  for (;;) {
    if (durable_offset_.load(std::memory_order_acquire) >= target) return absl::OkStatus();
    // Read before trying to lead: if the leader finishes in between, the
    // epoch has moved and the wait below returns at once.
    const uint32_t epoch = sync_epoch_.load(std::memory_order_seq_cst);
    if (!sync_running_.exchange(true, std::memory_order_acq_rel)) {
      GatherCallers();
      const int64_t start = NowMicros();
      const absl::Status s = SyncOnce();
      last_sync_us_.store(NowMicros() - start, std::memory_order_relaxed);
      ReleaseSyncLead();
      if (!s.ok()) return s;
      continue;
    }
    if (failed()) return checkpointer_->Failure();
    // A sync is running, or a leader is gathering callers for one: wait
    // until it ends, then check again (it may not cover this call's appends,
    // which may have come after it began). Yield rather than sleep: the
    // device is busy, the CPU is not, and a sleeping thread takes longer to
    // wake than the next round of appends takes to gather. Yield for up to
    // twice the last sync, since a caller that arrives as a gather begins
    // waits for the gather (at most half a sync) and then the whole sync.
    // Were it asleep by then, its wake-up would preempt the thread that
    // leads the next round just as that thread goes to append.
    YieldWhile([&] { return sync_epoch_.load(std::memory_order_acquire) == epoch; },
               std::min(2 * last_sync_us_.load(std::memory_order_relaxed), kMaxSyncSpinUs));
    SleepWhileEpoch(epoch);
  }
}

void PartitionLog::SleepWhileEpoch(uint32_t epoch) {
  sync_sleepers_.fetch_add(1, std::memory_order_seq_cst);
  FutexWait(&sync_epoch_, epoch);
  sync_sleepers_.fetch_sub(1, std::memory_order_relaxed);
}

void PartitionLog::AcquireSyncLead() {
  for (;;) {
    const uint32_t epoch = sync_epoch_.load(std::memory_order_seq_cst);
    if (!sync_running_.exchange(true, std::memory_order_acq_rel)) return;
    SleepWhileEpoch(epoch);
  }
}

void PartitionLog::ReleaseSyncLead() {
  sync_running_.store(false, std::memory_order_release);
  sync_epoch_.fetch_add(1, std::memory_order_seq_cst);
  if (sync_sleepers_.load(std::memory_order_seq_cst) > 0) FutexWakeAll(&sync_epoch_);
}

void PartitionLog::GatherCallers() {
  // Callers that the last sync served are back soon with their next append;
  // syncing without them would split the callers into two groups that take
  // turns, each record waiting for two syncs. So wait until as many have
  // arrived since the last sync began as were ever inside Sync() at once
  // during it, or half a sync's time has passed.
  const int32_t want = sync_callers_peak_.exchange(sync_callers_.load(std::memory_order_acquire),
                                                   std::memory_order_acq_rel);
  auto arrived = [this] {
    return sync_arrivals_.load(std::memory_order_acquire) - captured_arrivals_;
  };
  if (want > 1) {
    YieldWhile([&] { return arrived() < want; },
               std::min(last_sync_us_.load(std::memory_order_relaxed) / 2, kMaxGatherUs));
  }
  // Every caller counted so far appended before this, so the sync covers it.
  captured_arrivals_ = sync_arrivals_.load(std::memory_order_acquire);
}

absl::Status PartitionLog::SyncOnce() {
  // Take what needs syncing now: this covers every append before the call.
  std::vector<std::shared_ptr<Segment>> sealed;
  std::shared_ptr<Segment> active;
  uint64_t active_end = 0;
  int64_t end = 0;
  bool sync_dir = false;
  {
    MutexLock append_lock(&append_mu_);
    if (closed_) return absl::FailedPreconditionError(absl::StrCat(dir_, " is closed"));
    if (failed()) return checkpointer_->Failure();
    sealed.swap(unsynced_sealed_);
    active = active_;
    active_end = active->size();
    end = end_offset_.load(std::memory_order_relaxed);
    sync_dir = dir_unsynced_;
    dir_unsynced_ = false;
  }
  absl::Status s;
  for (const auto& segment : sealed) {
    if (s.ok() && !segment->removed()) s = segment->SyncData();
  }
  if (s.ok()) s = active->SyncTo(active_end);
  if (s.ok() && sync_dir) s = fs_.SyncDir(dir_);
  if (!s.ok()) return FailIfNot(s);  // Not retried: see Sync().
  for (const auto& segment : sealed) checkpointer_->OnSynced(segment->base_offset());
  RaiseDurableOffset(end);
  return absl::OkStatus();
}

void PartitionLog::RaiseDurableOffset(int64_t end) {
  RaiseTo(&durable_offset_, end, std::memory_order_release);
}

absl::StatusOr<ReadResult> PartitionLog::Read(int64_t offset, size_t max_bytes,
                                              const ReadHint& hint) const {
  const int64_t end = end_offset();
  if (offset == end) return ReadResult{};
  if (offset > end) {
    return absl::OutOfRangeError(
        absl::StrFormat("offset %d is past the end (%d) of %s", offset, end, dir_));
  }
  std::shared_ptr<Segment> segment;
  int64_t at = offset;
  for (;;) {
    // The segment holding `offset`; then, past its end, the next ones.
    ASSIGN_OR_RETURN(segment, SegmentFrom(at, segment.get(), /*clamp=*/false));
    if (segment == nullptr) return ReadResult{};  // The offset fell in a gap at the end.
    uint64_t position;
    if (hint.offset == offset && hint.segment_id == segment->id()) {
      position = hint.position;
    } else {
      ASSIGN_OR_RETURN(position, segment->FindBatch(offset));
    }
    ASSIGN_OR_RETURN(std::span<const char> bytes, segment->Read(position, max_bytes));
    if (!bytes.empty()) return ReadResult{std::move(segment), UpTo(bytes, end)};
    if (!segment->sealed()) return ReadResult{};
    at = std::max(at, segment->next_offset());
  }
}

std::span<const char> PartitionLog::UpTo(std::span<const char> batches, int64_t end) {
  // A segment shows an appended batch a moment before end_offset() moves
  // past it. Returning it would let a reader's position run ahead of
  // end_offset(), where the next Read() calls it out of range.
  size_t keep = 0;
  while (keep < batches.size()) {
    const BatchHeader h = DecodeBatchHeader(batches.data() + keep);
    if (h.last_offset() >= end) break;
    keep += h.size();
  }
  return batches.first(keep);
}

absl::StatusOr<int64_t> PartitionLog::OffsetForTimestamp(int64_t ts) const {
  // Nothing past the end as it is now (see UpTo()).
  const int64_t end = end_offset();
  std::shared_ptr<Segment> segment;
  int64_t at = 0;
  for (;;) {
    ASSIGN_OR_RETURN(segment, SegmentFrom(at, segment.get(), /*clamp=*/true));
    if (segment == nullptr) return end;
    at = std::max(at, segment->next_offset());
    // A damaged segment's unreadable records may hold the time: then the
    // answer is the first of them, where a read reports the damage.
    const bool damaged = !segment->damage().ok();
    if (segment->max_timestamp() < ts && !damaged) continue;
    ASSIGN_OR_RETURN(const int64_t offset, segment->OffsetForTimestamp(ts));
    if (offset < segment->next_offset() || damaged) return std::min(offset, end);
  }
}

void PartitionLog::WarmTail() const {
  if (!options_.segment.write_through_file) return;
  std::shared_ptr<Segment> active;
  {
    MutexLock lock(&segments_mu_);
    if (segments_.empty()) return;  // Closed.
    active = segments_.back().segment;
  }
  if (active != nullptr) active->WarmReaderPages();
}

absl::Status PartitionLog::Close() {
  // Lead first, as a syncing caller does before it takes append_mu_: a sync
  // in flight holds sealed segments that Close() would otherwise count as
  // durable before that sync has ended (or failed).
  AcquireSyncLead();
  absl::Cleanup release = [this] { ReleaseSyncLead(); };
  MutexLock lock(&append_mu_);
  if (closed_) return absl::FailedPreconditionError(absl::StrCat(dir_, " is closed"));
  closed_.store(true, std::memory_order_release);
  {
    MutexLock checkpoint_lock(&checkpointer_->mu);
    checkpointer_->closed = true;
  }
  if (active_ == nullptr) return absl::OkStatus();  // Open failed: nothing to record.
  // A failed log syncs nothing and records no recovery point: from its first
  // failure on, every step below is skipped, and the next open checks the data.
  absl::Status status = failed() ? checkpointer_->Failure() : absl::OkStatus();
  auto keep_first = [&status](absl::Status s) {
    if (status.ok()) status = std::move(s);
  };
  for (const auto& segment : unsynced_sealed_) {
    if (status.ok()) keep_first(FailIfNot(segment->SyncData()));
  }
  unsynced_sealed_.clear();
  // Trim the active segment's preallocated tail and make it all durable;
  // only then is the recovery point a promise.
  if (status.ok()) keep_first(active_->Seal());
  if (status.ok()) keep_first(FailIfNot(active_->SyncData()));
  // A background sync of a sealed segment may have failed meanwhile.
  if (status.ok() && failed()) status = checkpointer_->Failure();
  if (status.ok() && !recovery_point_current_) {
    keep_first(WriteRecoveryPoint(fs_, dir_, {active_->base_offset(), active_->size()}));
  }
  if (status.ok()) {
    // Everything is durable: a Sync() waiting for a leader has nothing to do.
    RaiseDurableOffset(end_offset_.load(std::memory_order_relaxed));
  }
  active_.reset();
  MutexLock segments_lock(&segments_mu_);
  segments_.clear();
  return status;
}

}  // namespace rill
