#include "retention/maintenance.h"

#include <algorithm>
#include <limits>
#include <set>

#include "absl/strings/str_cat.h"
#include "retention/cleaner.h"
#include "retention/retention_rules.h"
#include "util/status_macros.h"

namespace rill::retention {
namespace {

// A background step reads and writes about this much before it lets other
// tasks run.
constexpr uint64_t kStepBytes = 4 << 20;
constexpr uint64_t kUnbounded = std::numeric_limits<uint64_t>::max();

void AddDeleted(const DeletedSegments& d, RemovalReason reason, RemovalCounts* removed) {
  if (reason == RemovalReason::kRetention) {
    removed->expired_segments += d.segments;
    removed->expired_records += d.records;
    removed->expired_bytes += d.bytes;
  } else {
    removed->dropped_segments += d.segments;
    removed->dropped_records += d.records;
    removed->dropped_bytes += d.bytes;
  }
}

}  // namespace

// One pass over the topics, resumable: Step() does a bounded amount of work.
class Maintenance::Pass {
 public:
  // With `only`, the topics of other names are only measured.
  Pass(Maintenance* owner, std::vector<TopicView> topics, std::string_view only = {})
      : owner_(owner),
        topics_(std::move(topics)),
        only_(only),
        now_ms_(owner->options_.clock->NowMillis()) {}

  // Step(budget): returns true once the pass is over.
  bool Step(uint64_t budget) {
    while (!done_) {
      if (topic_ == topics_.size()) {
        FinishLog();
        done_ = true;
        break;
      }
      TopicView& t = topics_[topic_];
      if (!only_.empty() && t.name != only_) {
        ++topic_;
        continue;
      }
      if (partition_ == t.partitions.size()) {
        FinishTopic(t);
        ++topic_;
        partition_ = 0;
        continue;
      }
      PartitionLog* log = t.partitions[partition_];
      if (job_ == nullptr && log->failed()) {
        // Stopped by a failed sync until reopened (PartitionLog::Sync):
        // nothing to delete, and a compacted copy could not replace anything.
        ++partition_;
        continue;
      }
      if (job_ == nullptr) {
        Expire(t, log);
        if (!HasCompact(t.config.cleanup_policy)) {
          ++partition_;
          continue;
        }
        job_ = std::make_unique<CleaningJob>(log, t.config, now_ms_,
                                             t.account->clean_state(partition_));
      }
      absl::StatusOr<bool> finished = job_->Step(budget);
      if (!finished.ok()) Error(log->dir(), "compacting", finished.status());
      if (!finished.ok() || *finished) {
        const CleanResult& r = job_->result();
        report.removed.compacted_segments += r.segments_rewritten;
        report.removed.compacted_records += r.records_removed;
        report.removed.compacted_bytes += r.bytes_removed;
        report.compaction_bytes_read += r.bytes_read;
        job_.reset();
        ++partition_;
      }
      if (budget != kUnbounded) return false;  // Let other tasks run.
    }
    return true;
  }

  MaintenanceReport report;

 private:
  void Error(const std::string& where, const char* what, const absl::Status& s) {
    // A topic deleted under the pass: nothing to report.
    if (absl::IsFailedPrecondition(s)) return;
    std::string message = absl::StrCat(what, " ", where, ": ", s.message());
    owner_->options_.sink(LogSeverity::kWarning, absl::StrCat("maintenance: ", message));
    report.errors.push_back(std::move(message));
  }

  // Rolls an aged active segment, then deletes what retention says.
  void Expire(const TopicView& t, PartitionLog* log) {
    absl::StatusOr<bool> rolled = log->RollIf(
        [&](const SegmentInfo& active) { return ShouldRoll(active, t.config, now_ms_); });
    if (!rolled.ok()) return Error(log->dir(), "rolling", rolled.status());
    if (*rolled) ++report.segments_rolled;
    if (!HasDelete(t.config.cleanup_policy)) return;
    absl::StatusOr<std::vector<SegmentInfo>> segments = log->ListSegments();
    if (!segments.ok()) return Error(log->dir(), "listing", segments.status());
    const int64_t n = SegmentsPastRetention(*segments, t.config, now_ms_);
    segments->clear();  // Let go of the segments before they are deleted.
    if (n == 0) return;
    absl::StatusOr<DeletedSegments> d = log->DeleteOldestSegments(n, RemovalReason::kRetention);
    if (!d.ok()) return Error(log->dir(), "deleting segments of", d.status());
    AddDeleted(*d, RemovalReason::kRetention, &report.removed);
  }

  void FinishTopic(const TopicView& t) {
    const int64_t quota = t.config.quota.bytes;
    if (quota < 0 || t.config.quota.policy != QuotaPolicy::kDropOldest) return;
    if (t.account->usage()->bytes() <= quota) return;
    DeletedSegments d;
    absl::Status s = t.account->DropOldestForQuota(quota, &d);
    AddDeleted(d, RemovalReason::kDiskLimit, &report.removed);
    if (!s.ok()) Error(t.name, "keeping to the quota of topic", s);
  }

  void FinishLog() {
    const std::shared_ptr<LogAccount>& account = owner_->options_.account;
    const int64_t budget = static_cast<int64_t>(account->budget_bytes());
    if (budget > 0 && account->usage()->bytes() > budget) {
      DeletedSegments d;
      absl::Status s = account->DropOldestForBudget(budget, &d);
      AddDeleted(d, RemovalReason::kDiskLimit, &report.removed);
      if (!s.ok()) Error(owner_->options_.dir, "keeping to the disk budget of", s);
    }
    absl::StatusOr<uint64_t> measured = owner_->Remeasure(topics_);
    if (!measured.ok()) return Error(owner_->options_.dir, "measuring", measured.status());
    report.disk_bytes = *measured;
    report.disk_budget_bytes = account->budget_bytes();
  }

  Maintenance* const owner_;
  std::vector<TopicView> topics_;
  const std::string only_;
  const int64_t now_ms_;
  size_t topic_ = 0;
  size_t partition_ = 0;
  std::unique_ptr<CleaningJob> job_;
  bool done_ = false;
};

Maintenance::Maintenance(Options options) : options_(std::move(options)) {}
Maintenance::~Maintenance() = default;

std::shared_ptr<Maintenance> Maintenance::Create(Options options) {
  return std::shared_ptr<Maintenance>(new Maintenance(std::move(options)));
}

MaintenanceReport Maintenance::RunNow(std::string_view only_topic) {
  {
    MutexLock lock(&mu_);
    while (busy_ && !stopping_) idle_.Wait(&mu_);
    if (stopping_) {
      MaintenanceReport report;
      report.errors.push_back("the log is closed");
      return report;
    }
    busy_ = true;
  }
  Pass pass(this, options_.topics(), only_topic);
  while (!pass.Step(kUnbounded)) {
  }
  MutexLock lock(&mu_);
  busy_ = false;
  idle_.SignalAll();
  return std::move(pass.report);
}

void Maintenance::Start(TaskRunner* runner, Timer* timer, int64_t interval_us) {
  MutexLock lock(&mu_);
  runner_ = runner;
  timer_ = timer;
  interval_us_ = interval_us;
  Arm();
}

void Maintenance::Arm() {
  if (stopping_ || timer_ == nullptr || interval_us_ <= 0) return;
  std::weak_ptr<Maintenance> weak = weak_from_this();
  timer_->ScheduleAt(options_.clock->MonotonicMicros() + interval_us_, [weak] {
    std::shared_ptr<Maintenance> self = weak.lock();
    if (self == nullptr) return;
    MutexLock lock(&self->mu_);
    if (self->stopping_) return;
    self->runner_->Schedule([weak] {
      if (std::shared_ptr<Maintenance> m = weak.lock()) m->BackgroundStep();
    });
  });
}

void Maintenance::BackgroundStep() {
  Pass* pass;
  {
    MutexLock lock(&mu_);
    if (stopping_) {
      if (background_pass_ != nullptr) {
        background_pass_.reset();
        busy_ = false;
        idle_.SignalAll();
      }
      return;
    }
    if (background_pass_ == nullptr) {
      if (busy_) {  // RunNow() is at work: wait for the next round.
        Arm();
        return;
      }
      busy_ = true;
      background_pass_ = std::make_unique<Pass>(this, options_.topics());
    }
    pass = background_pass_.get();
  }
  const bool done = pass->Step(kStepBytes);
  MutexLock lock(&mu_);
  if (done || stopping_) {
    background_pass_.reset();
    busy_ = false;
    idle_.SignalAll();
    Arm();
    return;
  }
  std::weak_ptr<Maintenance> weak = weak_from_this();
  runner_->Schedule([weak] {
    if (std::shared_ptr<Maintenance> m = weak.lock()) m->BackgroundStep();
  });
}

void Maintenance::Stop() {
  MutexLock lock(&mu_);
  stopping_ = true;
  idle_.SignalAll();
  while (busy_) idle_.Wait(&mu_);
}

absl::StatusOr<uint64_t> Maintenance::Remeasure(const std::vector<TopicView>& topics) {
  FileSystem& fs = *options_.fs;
  std::set<std::string> counted;  // Paths the topics count.
  for (const TopicView& t : topics) {
    RETURN_IF_ERROR(t.account->Remeasure(fs, t.settings_path));
    counted.insert(t.settings_path);
    for (const PartitionLog* p : t.partitions) counted.insert(p->dir());
  }
  // The log's own: its directory, and whatever in it no topic counts.
  std::function<absl::StatusOr<uint64_t>(const std::string&)> own =
      [&](const std::string& path) -> absl::StatusOr<uint64_t> {
    if (counted.count(path) > 0) return 0;
    ASSIGN_OR_RETURN(const FileInfo info, fs.Stat(path));
    uint64_t total = info.allocated_bytes;
    if (!info.is_directory) return total;
    ASSIGN_OR_RETURN(const std::vector<std::string> names, fs.ListDir(path));
    for (const std::string& name : names) {
      absl::StatusOr<uint64_t> n = own(JoinPath(path, name));
      if (absl::IsNotFound(n.status())) continue;
      RETURN_IF_ERROR(n.status());
      total += *n;
    }
    return total;
  };
  ASSIGN_OR_RETURN(const uint64_t own_bytes, own(options_.dir));
  options_.account->SetOwnBytes(static_cast<int64_t>(own_bytes));
  return static_cast<uint64_t>(std::max<int64_t>(options_.account->usage()->bytes(), 0));
}

}  // namespace rill::retention
