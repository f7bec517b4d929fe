// LogState: what a Log shares with its producers and consumers -- the
// topics and their partitions, the files, the background threads -- kept
// alive by whoever still holds it, so a producer or consumer may outlive the
// Log object.
//
// Thread-safety: every method may be called from any thread.
#ifndef RILL_LIB_CORE_LOG_STATE_H_
#define RILL_LIB_CORE_LOG_STATE_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "core/notifier.h"
#include "retention/disk_account.h"
#include "retention/maintenance.h"
#include "rill/log.h"
#include "rill/options.h"
#include "rill/record.h"
#include "storage/fast_writers.h"
#include "storage/file_system.h"
#include "storage/partition_log.h"
#include "util/mutex.h"
#include "util/task_runner.h"

namespace rill {
class Timer;
}  // namespace rill

namespace rill::core {

class GroupService;
class Syncer;

// Partition: one partition of a topic: its log, and the notifier that wakes
// consumers waiting at its end.
class Partition {
 public:
  // `account`, the topic's, admits appends under its disk limits.
  Partition(std::string_view topic, int32_t id, std::unique_ptr<PartitionLog> log,
            retention::TopicAccount* account = nullptr)
      : log_(std::move(log)), account_(account) {
    ref_.topic = topic;
    ref_.partition = id;
  }

  int32_t id() const { return ref_.partition; }
  PartitionLog& log() { return *log_; }
  const PartitionLog& log() const { return *log_; }
  Notifier& notifier() { return notifier_; }
  // ref(): the topic and partition, for RecordViews; stable while the
  // partition lives.
  const detail::PartitionRef* ref() const { return &ref_; }

  // Append(batch, now_ms): appends and wakes the consumers waiting at the
  // end. `now_ms` as PartitionLog::Append takes it. kResourceExhausted, with
  // nothing appended, when the topic's quota or the log's disk budget
  // refuses it (quota.policy = reject).
  absl::StatusOr<AppendResult> Append(std::span<const char> batch, int64_t now_ms = -1) {
    if (account_ != nullptr) {
      if (absl::Status s = account_->Admit(*log_, batch.size()); !s.ok()) return s;
    }
    return log_->Append(batch, now_ms, [this] { notifier_.Notify(); });
  }

 private:
  std::unique_ptr<PartitionLog> log_;
  retention::TopicAccount* const account_;
  Notifier notifier_;
  detail::PartitionRef ref_;
};

class Topic {
 public:
  Topic(std::string name, const TopicConfig& config)
      : name_(std::move(name)), config_(config), max_message_bytes_(config.max_message_bytes) {}

  const std::string& name() const { return name_; }
  TopicConfig config() const {
    MutexLock lock(&mu_);
    return config_;
  }
  void set_config(const TopicConfig& config) {
    MutexLock lock(&mu_);
    config_ = config;
    if (account_ != nullptr) account_->Configure(config);
    max_message_bytes_.store(config.max_message_bytes, std::memory_order_relaxed);
  }
  // max_message_bytes(): config().max_message_bytes without the lock and the
  // copy, for the producer's checks of every record.
  int32_t max_message_bytes() const { return max_message_bytes_.load(std::memory_order_relaxed); }
  // account(): its disk usage and limits; never null once opened.
  const std::shared_ptr<retention::TopicAccount>& account() const { return account_; }
  // partition_count() / partition(i): lock-free, while partitions may be
  // added (CreatePartitions). A partition(i) for i below a count read
  // before it is always there.
  int32_t partition_count() const { return count_.load(std::memory_order_acquire); }
  Partition* partition(int32_t i) { return table_.load(std::memory_order_acquire)[i]; }
  const Partition* partition(int32_t i) const { return table_.load(std::memory_order_acquire)[i]; }
  bool deleted() const { return deleted_.load(std::memory_order_acquire); }

 private:
  friend class LogState;

  // AddPartitions(added): appends partitions and publishes them. One writer
  // at a time (LogState's admin lock).
  void AddPartitions(std::vector<std::unique_ptr<Partition>> added);

  const std::string name_;  // Outlives every RecordPosition::topic view.
  mutable Mutex mu_;
  TopicConfig config_ ABSL_GUARDED_BY(mu_);
  std::atomic<int32_t> max_message_bytes_;  // config_.max_message_bytes.
  // Set once at creation, before the topic is published.
  std::shared_ptr<retention::TopicAccount> account_;
  // The partitions, owned here and looked up through table_: a table of
  // pointers that is replaced, never changed in place, when partitions are
  // added. Old tables stay until the topic dies, for readers still using
  // them. Changed only by AddPartitions.
  std::vector<std::unique_ptr<Partition>> partitions_;
  std::vector<std::unique_ptr<Partition*[]>> tables_;
  std::atomic<Partition* const*> table_{nullptr};
  std::atomic<int32_t> count_{0};
  std::atomic<bool> deleted_{false};
};

class LogState {
 public:
  // Open(fs, dir, options, owned_fs): opens or creates the log in `dir` on
  // `fs`. `owned_fs`, if set, is `fs` and lives as long as the state.
  static absl::StatusOr<std::shared_ptr<LogState>> Open(FileSystem* fs, std::string dir,
                                                        const LogOptions& options,
                                                        std::unique_ptr<FileSystem> owned_fs);
  ~LogState();

  absl::Status Close();
  bool closed() const { return closed_.load(std::memory_order_acquire); }
  // CheckOpen(): kFailedPrecondition once closed.
  absl::Status CheckOpen() const;

  absl::Status CreateTopic(std::string_view name, const TopicConfig& config);
  absl::Status DeleteTopic(std::string_view name);
  absl::Status SetTopicConfig(std::string_view name, std::string_view key, std::string_view value);
  // CreatePartitions(name, total): grows a live topic to `total` partitions,
  // durably. kNotFound, kInvalidArgument (total not above the count now, or
  // out of range; nothing changed).
  absl::Status CreatePartitions(std::string_view name, int32_t total);
  // FindTopic(name): kNotFound when missing (or being deleted),
  // kFailedPrecondition when closed.
  absl::StatusOr<std::shared_ptr<Topic>> FindTopic(std::string_view name) const;
  // FindOrCreateTopic(name): as FindTopic, but creates a missing topic when
  // options.auto_create_topics is set.
  absl::StatusOr<std::shared_ptr<Topic>> FindOrCreateTopic(std::string_view name);
  std::vector<std::shared_ptr<Topic>> Topics() const;
  // FindPartition(tp): kNotFound (topic), kOutOfRange (partition).
  absl::StatusOr<Partition*> FindPartition(const TopicPartition& tp,
                                           std::shared_ptr<Topic>* topic = nullptr) const;
  // topics_generation(): changes whenever a topic is created, deleted or
  // given partitions.
  uint64_t topics_generation() const { return generation_.load(std::memory_order_acquire); }
  // changes(): notified after a topic is created, deleted or given
  // partitions, and when the log closes, so that a consumer waiting for
  // records notices.
  Notifier& changes() { return changes_; }

  // Flushers: callbacks Close() runs before closing the partitions (the
  // producers' Flush). Unregister before the callback's target dies.
  uint64_t AddFlusher(std::function<absl::Status()> flush);
  void RemoveFlusher(uint64_t id);

  absl::Status SyncAll();
  // RunMaintenance(): the background tasks that are due, then a whole
  // maintenance pass, on the calling thread.
  // With `only_topic`, the pass's per-topic work is for that topic alone.
  MaintenanceReport RunMaintenance(std::string_view only_topic = {});
  // disk(): the log's disk usage and budget.
  const std::shared_ptr<retention::LogAccount>& disk() const { return disk_; }
  // maintenance(): what runs the maintenance passes.
  retention::Maintenance& maintenance() { return *maintenance_; }

  Clock* clock() const { return clock_; }
  const LogSink& log_sink() const { return sink_; }
  const LogOptions& options() const { return options_; }
  const std::string& dir() const { return dir_; }
  bool in_memory() const { return owned_fs_ != nullptr; }
  const RecoveryReport& recovery_report() const { return recovery_; }
  // background(): prefaulting and sealed-segment syncs. Never null.
  TaskRunner* background() { return background_.get(); }
  // timer() / syncer(): the thread that flushes lingering batches and the
  // one that syncs for SendAsync at kPowerLoss; null with no background
  // threads.
  Timer* timer();
  Syncer* syncer();
  // groups(): the coordinator of the log's consumer groups. Never null.
  GroupService* groups() { return groups_.get(); }

 private:
  LogState(FileSystem* fs, std::string dir, const LogOptions& options,
           std::unique_ptr<FileSystem> owned_fs);
  absl::Status Load();
  // DeleteTopicFiles(name, &deleted): DeleteTopic's work; sets `deleted`
  // once the topic is gone from the log.
  absl::Status DeleteTopicFiles(std::string_view name, bool* deleted);
  absl::StatusOr<std::shared_ptr<Topic>> OpenTopic(const std::string& name, const TopicConfig& config,
                                                   RecoveryReport* report);
  // OpenPartitions(topic, config, first, report): opens (creating when
  // missing) partitions first .. config.partitions - 1 of `topic`.
  absl::StatusOr<std::vector<std::unique_ptr<Partition>>> OpenPartitions(const Topic& topic,
                                                                         const TopicConfig& config,
                                                                         int32_t first,
                                                                         RecoveryReport* report);
  // AttachPartitions(topic): hands the topic's partitions, all of them, to
  // its disk account, and measures what their files take.
  absl::Status AttachPartitions(const std::shared_ptr<Topic>& topic);
  PartitionLogOptions PartitionOptions(const TopicConfig& config);
  std::string PartitionDir(std::string_view topic, int32_t partition) const;
  // TopicViews(): the topics, as maintenance sees them.
  std::vector<retention::TopicView> TopicViews() const;

  std::unique_ptr<FileSystem> owned_fs_;
  FileSystem* const fs_;
  const std::string dir_;
  const LogOptions options_;
  Clock* const clock_;
  const LogSink sink_;
  std::unique_ptr<FileLock> lock_;
  std::unique_ptr<TaskRunner> background_;
  ManualTaskRunner* manual_ = nullptr;  // background_, when no threads.
  RecoveryReport recovery_;
  const std::shared_ptr<retention::LogAccount> disk_;
  // Which partitions append flat out, for Prefault::kAuto.
  const std::shared_ptr<FastWriters> fast_writers_ =
      std::make_shared<FastWriters>(FastWriters::AvailableCores());
  std::shared_ptr<retention::Maintenance> maintenance_;

  std::atomic<bool> closed_{false};
  std::atomic<uint64_t> generation_{0};
  Notifier changes_;

  // Serialises topic creation and deletion (file work) without blocking
  // lookups, which take only mu_.
  Mutex admin_mu_ ABSL_ACQUIRED_BEFORE(mu_);
  mutable Mutex mu_;
  std::map<std::string, std::shared_ptr<Topic>, std::less<>> topics_ ABSL_GUARDED_BY(mu_);
  std::map<uint64_t, std::function<absl::Status()>> flushers_ ABSL_GUARDED_BY(mu_);
  uint64_t next_flusher_ ABSL_GUARDED_BY(mu_) = 0;

  // Set once at open, after the topics are loaded.
  std::shared_ptr<GroupService> groups_;

  Mutex services_mu_;
  std::unique_ptr<Timer> timer_ ABSL_GUARDED_BY(services_mu_);
  std::unique_ptr<Syncer> syncer_ ABSL_GUARDED_BY(services_mu_);
};

}  // namespace rill::core

#endif  // RILL_LIB_CORE_LOG_STATE_H_
