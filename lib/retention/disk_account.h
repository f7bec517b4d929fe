// Disk limits: the log's budget (LogOptions::disk_budget_bytes) and each
// topic's quota (quota.bytes), with what happens when one is reached
// (quota.policy).
//
// What counts is what the files take on the device: a DiskUsage per
// partition (segments, indexes, space allocated ahead, the recovery point,
// the directory), per topic (its partitions and its settings file) and for
// the log (its topics and its own files). The counts follow rill's own
// allocations, trims and deletions between measurements; every maintenance
// pass measures the files again (st_blocks) and corrects them.
//
// An append is admitted (Admit) before it happens, counting the space it may
// allocate: the batch, a step of the segment's allocation, and a step of
// each index. Past a limit:
//  - reject: the append fails with kResourceExhausted; nothing changes.
//  - drop-oldest: the oldest sealed segments are deleted until the append
//    fits -- of the topic, for its quota; for the log's budget, of every
//    topic whose policy is drop-oldest, the segment with the oldest newest
//    record first, wherever it is. If nothing sealed is left to delete, the
//    append goes ahead: the data is in active segments, which are sealed as
//    they fill and deleted then. So a limit holds to within one segment.
//
// Thread-safety: every method may be called from any thread.
#ifndef RILL_LIB_RETENTION_DISK_ACCOUNT_H_
#define RILL_LIB_RETENTION_DISK_ACCOUNT_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "util/mutex.h"
#include "retention/cleaner.h"
#include "rill/options.h"
#include "storage/disk_usage.h"
#include "storage/file_system.h"
#include "storage/partition_log.h"

namespace rill::retention {

class TopicAccount;

// MeasureTree(fs, path): the bytes a file, or a directory and everything
// under it, takes on the device (st_blocks, directories included).
absl::StatusOr<uint64_t> MeasureTree(FileSystem& fs, const std::string& path);

// LogAccount: the disk space of a whole log, and its budget.
class LogAccount {
 public:
  // budget_bytes: 0 for none.
  explicit LogAccount(uint64_t budget_bytes);

  uint64_t budget_bytes() const { return budget_bytes_; }
  // usage(): the whole log's count; topics' counts are its children.
  const std::shared_ptr<DiskUsage>& usage() const { return usage_; }

  // SetOwnBytes(bytes): the log's own files (meta.properties, .lock, the
  // directories), as last measured.
  void SetOwnBytes(int64_t bytes);

  // DropOldestForBudget(target): deletes the oldest sealed segments of the
  // drop-oldest topics until the log's count is at most `target` or nothing
  // sealed is left. Adds what it deleted to `deleted`.
  absl::Status DropOldestForBudget(int64_t target, DeletedSegments* deleted);

  // Topics(): the live topics' accounts.
  std::vector<std::shared_ptr<TopicAccount>> Topics() const;

 private:
  friend class TopicAccount;
  void Register(const std::shared_ptr<TopicAccount>& topic);
  void Unregister(const TopicAccount* topic);

  const uint64_t budget_bytes_;
  const std::shared_ptr<DiskUsage> usage_;
  std::atomic<int64_t> own_bytes_{0};
  struct Registered {
    const TopicAccount* account;
    std::weak_ptr<TopicAccount> weak;
  };
  mutable Mutex mu_;
  std::vector<Registered> topics_ ABSL_GUARDED_BY(mu_);
  // One deletion for space at a time, log-wide, so that two appends never
  // both delete for the same shortfall.
  Mutex drop_mu_;
};

// TopicAccount: a topic's disk space, its quota and policy, and its
// partitions, for Admit and for dropping data.
class TopicAccount : public std::enable_shared_from_this<TopicAccount> {
 public:
  // Create(log, name, config): registered with `log` for its budget.
  static std::shared_ptr<TopicAccount> Create(std::shared_ptr<LogAccount> log, std::string name,
                                              const TopicConfig& config);
  ~TopicAccount();

  // NewPartitionUsage(): a count for one partition (a child of the topic's),
  // to pass in its SegmentOptions.
  std::shared_ptr<DiskUsage> NewPartitionUsage();
  // SetPartitions(partitions, owner): the topic's partitions, all of them in
  // order (again when partitions are added), each counting in the usage of
  // its options().segment; and the object that keeps them alive (the
  // topic): they are used only while `owner` can be locked.
  void SetPartitions(std::vector<PartitionLog*> partitions, std::weak_ptr<const void> owner);
  // Configure(config): adopts quota.bytes and quota.policy.
  void Configure(const TopicConfig& config);
  // Detach(): the topic is deleted and its files gone: its bytes leave the
  // log's count, and it is no longer a candidate for dropping.
  void Detach();

  // Admit(into, batch_bytes): called before a batch of batch_bytes is
  // appended to `into`, one of this topic's partitions. OK when it fits
  // within the quota and the budget, after deleting the oldest data if the
  // policy is drop-oldest; kResourceExhausted, with nothing changed, if it
  // does not and the policy is reject.
  absl::Status Admit(const PartitionLog& into, size_t batch_bytes);

  // DropOldestForQuota(target): deletes the topic's oldest sealed segments
  // until its count is at most `target` or nothing sealed is left.
  absl::Status DropOldestForQuota(int64_t target, DeletedSegments* deleted);

  // Remeasure(fs, settings_path): measures the partitions' directories and
  // the topic's settings file and corrects the counts.
  absl::Status Remeasure(FileSystem& fs, const std::string& settings_path);

  // clean_state(i): what the cleaner remembers of partition i (for the one
  // maintenance pass that runs at a time).
  CleanState* clean_state(size_t i);

  const std::string& name() const { return name_; }
  const std::shared_ptr<DiskUsage>& usage() const { return usage_; }
  int64_t quota_bytes() const { return quota_bytes_.load(std::memory_order_relaxed); }
  QuotaPolicy policy() const { return policy_.load(std::memory_order_relaxed); }

 private:
  friend class LogAccount;
  TopicAccount(std::shared_ptr<LogAccount> log, std::string name, const TopicConfig& config);

  // Partitions(&owner): the partitions, with `owner` locked; empty if the
  // topic is gone.
  std::vector<PartitionLog*> Partitions(std::shared_ptr<const void>* owner) const;
  // Need(into, batch_bytes): what an append may allocate.
  static int64_t Need(const PartitionLog& into, size_t batch_bytes);

  const std::shared_ptr<LogAccount> log_;
  const std::string name_;
  const std::shared_ptr<DiskUsage> usage_;
  std::atomic<int64_t> quota_bytes_;
  std::atomic<QuotaPolicy> policy_;
  std::atomic<int64_t> own_bytes_{0};
  std::atomic<bool> detached_{false};

  mutable Mutex mu_;
  std::vector<PartitionLog*> partitions_ ABSL_GUARDED_BY(mu_);
  std::vector<std::shared_ptr<DiskUsage>> partition_usage_ ABSL_GUARDED_BY(mu_);
  std::weak_ptr<const void> owner_ ABSL_GUARDED_BY(mu_);
  std::vector<std::unique_ptr<CleanState>> clean_states_ ABSL_GUARDED_BY(mu_);
};

}  // namespace rill::retention

#endif  // RILL_LIB_RETENTION_DISK_ACCOUNT_H_
