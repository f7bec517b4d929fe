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
#include "absl/synchronization/mutex.h"
#include "core/notifier.h"
#include "rill/log.h"
#include "rill/options.h"
#include "rill/record.h"
#include "storage/file_system.h"
#include "storage/partition_log.h"
#include "util/task_runner.h"

namespace rill {
class Timer;
}  // namespace rill

namespace rill::core {

class Syncer;

// Partition: one partition of a topic: its log, and the notifier that wakes
// consumers waiting at its end.
class Partition {
 public:
  Partition(std::string_view topic, int32_t id, std::unique_ptr<PartitionLog> log)
      : log_(std::move(log)) {
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

  // Append(batch): appends and wakes the consumers waiting at the end.
  absl::StatusOr<AppendResult> Append(std::span<const char> batch) {
    absl::StatusOr<AppendResult> result = log_->Append(batch);
    if (result.ok()) notifier_.Notify();
    return result;
  }

 private:
  std::unique_ptr<PartitionLog> log_;
  Notifier notifier_;
  detail::PartitionRef ref_;
};

class Topic {
 public:
  Topic(std::string name, const TopicConfig& config)
      : name_(std::move(name)), config_(config), max_message_bytes_(config.max_message_bytes) {}

  const std::string& name() const { return name_; }
  TopicConfig config() const {
    absl::MutexLock lock(&mu_);
    return config_;
  }
  void set_config(const TopicConfig& config) {
    absl::MutexLock lock(&mu_);
    config_ = config;
    max_message_bytes_.store(config.max_message_bytes, std::memory_order_relaxed);
  }
  // max_message_bytes(): config().max_message_bytes without the lock and the
  // copy, for the producer's checks of every record.
  int32_t max_message_bytes() const { return max_message_bytes_.load(std::memory_order_relaxed); }
  int32_t partition_count() const { return static_cast<int32_t>(partitions_.size()); }
  Partition* partition(int32_t i) { return partitions_[static_cast<size_t>(i)].get(); }
  const Partition* partition(int32_t i) const { return partitions_[static_cast<size_t>(i)].get(); }
  bool deleted() const { return deleted_.load(std::memory_order_acquire); }

 private:
  friend class LogState;

  const std::string name_;  // Outlives every RecordPosition::topic view.
  mutable absl::Mutex mu_;
  TopicConfig config_ ABSL_GUARDED_BY(mu_);
  std::atomic<int32_t> max_message_bytes_;  // config_.max_message_bytes.
  // Set once at creation, before the topic is published.
  std::vector<std::unique_ptr<Partition>> partitions_;
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
  // topics_generation(): changes whenever a topic is created or deleted.
  uint64_t topics_generation() const { return generation_.load(std::memory_order_acquire); }

  // Flushers: callbacks Close() runs before closing the partitions (the
  // producers' Flush). Unregister before the callback's target dies.
  uint64_t AddFlusher(std::function<absl::Status()> flush);
  void RemoveFlusher(uint64_t id);

  absl::Status SyncAll();
  int RunMaintenance();

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

 private:
  LogState(FileSystem* fs, std::string dir, const LogOptions& options,
           std::unique_ptr<FileSystem> owned_fs);
  absl::Status Load();
  absl::StatusOr<std::shared_ptr<Topic>> OpenTopic(const std::string& name, const TopicConfig& config,
                                                   RecoveryReport* report);
  PartitionLogOptions PartitionOptions(const TopicConfig& config);
  std::string PartitionDir(std::string_view topic, int32_t partition) const;

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

  std::atomic<bool> closed_{false};
  std::atomic<uint64_t> generation_{0};

  // Serialises topic creation and deletion (file work) without blocking
  // lookups, which take only mu_.
  absl::Mutex admin_mu_ ABSL_ACQUIRED_BEFORE(mu_);
  mutable absl::Mutex mu_;
  std::map<std::string, std::shared_ptr<Topic>, std::less<>> topics_ ABSL_GUARDED_BY(mu_);
  std::map<uint64_t, std::function<absl::Status()>> flushers_ ABSL_GUARDED_BY(mu_);
  uint64_t next_flusher_ ABSL_GUARDED_BY(mu_) = 0;

  absl::Mutex services_mu_;
  std::unique_ptr<Timer> timer_ ABSL_GUARDED_BY(services_mu_);
  std::unique_ptr<Syncer> syncer_ ABSL_GUARDED_BY(services_mu_);
};

}  // namespace rill::core

#endif  // RILL_LIB_CORE_LOG_STATE_H_
