#include "retention/disk_account.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "util/status_macros.h"
#include "util/strings.h"

namespace rill::retention {
namespace {

// DropOldest(candidates, usage, target, deleted): deletes, one segment at a
// time, the sealed segment whose newest record is oldest among the front
// segments of `candidates`, until `usage` is at most `target` or nothing
// sealed is left.
absl::Status DropOldest(std::vector<PartitionLog*> candidates, const DiskUsage& usage,
                        int64_t target, DeletedSegments* deleted) {
  while (usage.bytes() > target && !candidates.empty()) {
    size_t victim = candidates.size();
    int64_t oldest = 0;
    for (size_t i = 0; i < candidates.size(); ++i) {
      absl::StatusOr<std::optional<SegmentInfo>> front = candidates[i]->OldestSealedSegment();
      if (!front.ok() || !front->has_value()) continue;
      if (victim == candidates.size() || (*front)->max_timestamp < oldest) {
        victim = i;
        oldest = (*front)->max_timestamp;
      }
    }
    if (victim == candidates.size()) return absl::OkStatus();
    absl::StatusOr<DeletedSegments> d =
        candidates[victim]->DeleteOldestSegments(1, RemovalReason::kDiskLimit);
    if (absl::IsFailedPrecondition(d.status()) || (d.ok() && d->segments == 0)) {
      // Closed meanwhile, or it cannot delete now: look elsewhere.
      candidates.erase(candidates.begin() + static_cast<std::ptrdiff_t>(victim));
      continue;
    }
    RETURN_IF_ERROR(d.status());
    deleted->segments += d->segments;
    deleted->records += d->records;
    deleted->bytes += d->bytes;
    deleted->file_bytes += d->file_bytes;
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<uint64_t> MeasureTree(FileSystem& fs, const std::string& path) {
  ASSIGN_OR_RETURN(const FileInfo info, fs.Stat(path));
  uint64_t total = info.allocated_bytes;
  if (!info.is_directory) return total;
  ASSIGN_OR_RETURN(const std::vector<std::string> names, fs.ListDir(path));
  for (const std::string& name : names) {
    absl::StatusOr<uint64_t> n = MeasureTree(fs, JoinPath(path, name));
    if (absl::IsNotFound(n.status())) continue;  // Deleted meanwhile.
    RETURN_IF_ERROR(n.status());
    total += *n;
  }
  return total;
}

LogAccount::LogAccount(uint64_t budget_bytes)
    : budget_bytes_(budget_bytes), usage_(std::make_shared<DiskUsage>()) {}

void LogAccount::SetOwnBytes(int64_t bytes) {
  usage_->Add(bytes - own_bytes_.exchange(bytes, std::memory_order_relaxed));
}

void LogAccount::Register(const std::shared_ptr<TopicAccount>& topic) {
  MutexLock lock(&mu_);
  topics_.push_back({topic.get(), topic});
}

void LogAccount::Unregister(const TopicAccount* topic) {
  // By address: locking the weak pointers here could make this the last
  // owner of an account, whose destructor calls back in.
  MutexLock lock(&mu_);
  std::erase_if(topics_, [topic](const Registered& r) { return r.account == topic; });
}

std::vector<std::shared_ptr<TopicAccount>> LogAccount::Topics() const {
  std::vector<std::shared_ptr<TopicAccount>> topics;
  MutexLock lock(&mu_);
  for (const Registered& r : topics_) {
    if (std::shared_ptr<TopicAccount> topic = r.weak.lock()) topics.push_back(std::move(topic));
  }
  return topics;
}

absl::Status LogAccount::DropOldestForBudget(int64_t target, DeletedSegments* deleted) {
  MutexLock drop(&drop_mu_);
  std::vector<PartitionLog*> candidates;
  std::vector<std::shared_ptr<const void>> owners;
  for (const auto& topic : Topics()) {
    if (topic->policy() != QuotaPolicy::kDropOldest) continue;
    std::shared_ptr<const void> owner;
    for (PartitionLog* p : topic->Partitions(&owner)) candidates.push_back(p);
    owners.push_back(std::move(owner));
  }
  return DropOldest(std::move(candidates), *usage_, target, deleted);
}

std::shared_ptr<TopicAccount> TopicAccount::Create(std::shared_ptr<LogAccount> log,
                                                   std::string name, const TopicConfig& config) {
  std::shared_ptr<TopicAccount> topic(new TopicAccount(log, std::move(name), config));
  log->Register(topic);
  return topic;
}

TopicAccount::TopicAccount(std::shared_ptr<LogAccount> log, std::string name,
                           const TopicConfig& config)
    : log_(std::move(log)),
      name_(std::move(name)),
      usage_(std::make_shared<DiskUsage>(log_->usage())),
      quota_bytes_(config.quota.bytes),
      policy_(config.quota.policy) {}

TopicAccount::~TopicAccount() { log_->Unregister(this); }

std::shared_ptr<DiskUsage> TopicAccount::NewPartitionUsage() {
  return std::make_shared<DiskUsage>(usage_);
}

void TopicAccount::SetPartitions(std::vector<PartitionLog*> partitions,
                                 std::weak_ptr<const void> owner) {
  std::vector<std::shared_ptr<DiskUsage>> usages;
  usages.reserve(partitions.size());
  for (PartitionLog* p : partitions) usages.push_back(p->options().segment.usage);
  MutexLock lock(&mu_);
  partitions_ = std::move(partitions);
  partition_usage_ = std::move(usages);
  owner_ = std::move(owner);
}

CleanState* TopicAccount::clean_state(size_t i) {
  MutexLock lock(&mu_);
  while (clean_states_.size() <= i) clean_states_.push_back(std::make_unique<CleanState>());
  return clean_states_[i].get();
}

void TopicAccount::Configure(const TopicConfig& config) {
  quota_bytes_.store(config.quota.bytes, std::memory_order_relaxed);
  policy_.store(config.quota.policy, std::memory_order_relaxed);
}

void TopicAccount::Detach() {
  if (detached_.exchange(true)) return;
  log_->Unregister(this);
  // The topic's files are gone: its bytes leave the log's count.
  log_->usage()->Add(-usage_->bytes());
  MutexLock lock(&mu_);
  partitions_.clear();
  owner_.reset();
}

std::vector<PartitionLog*> TopicAccount::Partitions(std::shared_ptr<const void>* owner) const {
  MutexLock lock(&mu_);
  *owner = owner_.lock();
  if (*owner == nullptr) return {};
  return partitions_;
}

int64_t TopicAccount::Need(const PartitionLog& into, size_t batch_bytes) {
  const SegmentOptions& o = into.options().segment;
  return static_cast<int64_t>(batch_bytes + o.allocation_chunk + 2 * o.index_allocation_chunk);
}

absl::Status TopicAccount::DropOldestForQuota(int64_t target, DeletedSegments* deleted) {
  MutexLock drop(&log_->drop_mu_);
  std::shared_ptr<const void> owner;
  return DropOldest(Partitions(&owner), *usage_, target, deleted);
}

absl::Status TopicAccount::Admit(const PartitionLog& into, size_t batch_bytes) {
  const int64_t quota = quota_bytes();
  const int64_t budget = static_cast<int64_t>(log_->budget_bytes());
  if (quota < 0 && budget == 0) return absl::OkStatus();
  const int64_t need = Need(into, batch_bytes);
  const bool drop = policy() == QuotaPolicy::kDropOldest;
  DeletedSegments deleted;
  if (quota >= 0 && usage_->bytes() + need > quota) {
    if (!drop) {
      return absl::ResourceExhaustedError(
          absl::StrCat("topic ", name_, " is at its quota: ", usage_->bytes(),
                       " bytes on disk, quota.bytes=", quota, ", quota.policy=reject"));
    }
    RETURN_IF_ERROR(DropOldestForQuota(quota - need, &deleted));
  }
  if (budget > 0 && log_->usage()->bytes() + need > budget) {
    if (!drop) {
      return absl::ResourceExhaustedError(
          absl::StrCat("the log is at its disk budget: ", log_->usage()->bytes(),
                       " bytes on disk, disk_budget_bytes=", budget, "; topic ", name_,
                       " has quota.policy=reject"));
    }
    RETURN_IF_ERROR(log_->DropOldestForBudget(budget - need, &deleted));
  }
  // Nothing sealed left to delete: the data is in active segments, which
  // are deleted once sealed. The append goes ahead.
  return absl::OkStatus();
}

absl::Status TopicAccount::Remeasure(FileSystem& fs, const std::string& settings_path) {
  std::vector<PartitionLog*> partitions;
  std::vector<std::shared_ptr<DiskUsage>> usages;
  std::shared_ptr<const void> owner;
  {
    MutexLock lock(&mu_);
    owner = owner_.lock();
    if (owner == nullptr || detached_.load()) return absl::OkStatus();
    partitions = partitions_;
    usages = partition_usage_;
  }
  for (size_t i = 0; i < partitions.size() && i < usages.size(); ++i) {
    if (usages[i] == nullptr) continue;  // Opened without a count.
    const int64_t before = usages[i]->bytes();
    absl::StatusOr<uint64_t> measured = MeasureTree(fs, partitions[i]->dir());
    if (absl::IsNotFound(measured.status())) continue;  // Deleted meanwhile.
    RETURN_IF_ERROR(measured.status());
    usages[i]->Correct(before, static_cast<int64_t>(*measured));
  }
  absl::StatusOr<FileInfo> settings = fs.Stat(settings_path);
  if (!settings.ok() && !absl::IsNotFound(settings.status())) return settings.status();
  const int64_t own = settings.ok() ? static_cast<int64_t>(settings->allocated_bytes) : 0;
  usage_->Add(own - own_bytes_.exchange(own, std::memory_order_relaxed));
  return absl::OkStatus();
}

}  // namespace rill::retention
