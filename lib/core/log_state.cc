#include "core/log_state.h"

#include <algorithm>
#include <set>

#include "absl/strings/str_cat.h"
#include "core/group_hooks.h"
#include "core/metadata.h"
#include "core/syncer.h"
#include "core/topic_name.h"
#include "retention/retention_rules.h"
#include "util/status_macros.h"
#include "util/strings.h"
#include "util/timer.h"

namespace rill::core {
namespace {

// Grow a segment's file this much at a time (or the whole segment if smaller).
constexpr uint64_t kAllocationChunk = 16u << 20;
void Add(RecoveryReport* total, const RecoveryReport& r) {
  total->partitions_recovered += r.partitions_recovered;
  total->segments_checked += r.segments_checked;
  total->bytes_checked += r.bytes_checked;
  total->batches_checked += r.batches_checked;
  total->bytes_dropped += r.bytes_dropped;
  total->batches_dropped += r.batches_dropped;
  total->segments_dropped += r.segments_dropped;
  total->details.insert(total->details.end(), r.details.begin(), r.details.end());
}

}  // namespace

LogState::LogState(FileSystem* fs, std::string dir, const LogOptions& options,
                   std::unique_ptr<FileSystem> owned_fs)
    : owned_fs_(std::move(owned_fs)),
      fs_(fs),
      dir_(std::move(dir)),
      options_(options),
      clock_(options.clock != nullptr ? options.clock : Clock::Real()),
      sink_(options.log_sink ? options.log_sink : StderrLogSink()),
      disk_(std::make_shared<retention::LogAccount>(options.disk_budget_bytes)) {
  if (options_.background_threads > 0) {
    background_ = std::make_unique<ThreadTaskRunner>(options_.background_threads);
  } else {
    auto manual = std::make_unique<ManualTaskRunner>();
    manual_ = manual.get();
    background_ = std::move(manual);
  }
}

LogState::~LogState() {
  if (!closed()) {
    if (absl::Status s = Close(); !s.ok()) {
      sink_(LogSeverity::kError, absl::StrCat("closing the log at ", dir_, ": ", s.message()));
    }
  }
}

absl::StatusOr<std::shared_ptr<LogState>> LogState::Open(FileSystem* fs, std::string dir,
                                                         const LogOptions& options,
                                                         std::unique_ptr<FileSystem> owned_fs) {
  RETURN_IF_ERROR(PrepareLogDir(*fs, dir, options.create_if_missing));
  // Refuse a directory that is not a log before the lock file is created in
  // it: a failed Open must leave a stranger's directory as it was.
  RETURN_IF_ERROR(CheckIsLogOrEmpty(*fs, dir));
  std::shared_ptr<LogState> state(new LogState(fs, std::move(dir), options, std::move(owned_fs)));
  ASSIGN_OR_RETURN(state->lock_, fs->LockFile(JoinPath(state->dir_, std::string(kLockFile))));
  RETURN_IF_ERROR(CheckLogFormat(*fs, state->dir_));
  RETURN_IF_ERROR(state->Load());
  // Retention, quotas and compaction: every maintenance_interval on the
  // background threads, or when the program calls RunMaintenance().
  std::weak_ptr<LogState> weak = state;
  state->maintenance_ = retention::Maintenance::Create(
      {.fs = fs,
       .dir = state->dir_,
       .clock = state->clock_,
       .sink = state->sink_,
       .account = state->disk_,
       .topics = [weak] {
         std::shared_ptr<LogState> self = weak.lock();
         return self != nullptr ? self->TopicViews() : std::vector<retention::TopicView>();
       }});
  RETURN_IF_ERROR(state->maintenance_->Remeasure(state->TopicViews()).status());
  const int64_t interval_us = absl::ToInt64Microseconds(options.maintenance_interval);
  if (interval_us > 0 && options.maintenance_interval != absl::InfiniteDuration()) {
    if (Timer* timer = state->timer(); timer != nullptr) {
      state->maintenance_->Start(state->background_.get(), timer, interval_us);
    }
  }
  state->groups_ = NewGroupService(state.get());
  RETURN_IF_ERROR(state->groups_->Load());
  return state;
}

std::vector<retention::TopicView> LogState::TopicViews() const {
  std::vector<retention::TopicView> views;
  for (const std::shared_ptr<Topic>& topic : Topics()) {
    retention::TopicView v;
    v.name = topic->name();
    v.config = topic->config();
    for (int32_t p = 0; p < topic->partition_count(); ++p) {
      v.partitions.push_back(&topic->partition(p)->log());
    }
    v.account = topic->account();
    v.settings_path = TopicConfigPath(dir_, topic->name());
    v.keep_alive = topic;
    views.push_back(std::move(v));
  }
  return views;
}

std::string LogState::PartitionDir(std::string_view topic, int32_t partition) const {
  return JoinPath(dir_, PartitionDirName(topic, partition));
}

PartitionLogOptions LogState::PartitionOptions(const TopicConfig& config) {
  PartitionLogOptions o;
  o.segment.max_bytes = static_cast<uint64_t>(config.segment_bytes);
  o.segment.index_interval_bytes = static_cast<uint32_t>(config.index_interval_bytes);
  o.segment.max_index_bytes = static_cast<uint64_t>(config.segment_index_bytes);
  o.segment.allocation_chunk = std::min<uint64_t>(kAllocationChunk, o.segment.max_bytes);
  // Under a disk limit, files grow in steps small enough for it to hold.
  uint64_t limit = options_.disk_budget_bytes;
  if (config.quota.bytes >= 0) {
    const uint64_t quota = static_cast<uint64_t>(config.quota.bytes);
    limit = limit == 0 ? quota : std::min(limit, quota);
  }
  if (options_.append_by_write) {
    o.segment.write_through_file = true;
  } else if (options_.prefault == Prefault::kWriter ||
             (options_.prefault == Prefault::kAuto && options_.background_threads == 0)) {
    o.segment.populator = Populator::kWriter;
  } else if (options_.prefault == Prefault::kAuto) {
    o.segment.populator = Populator::kByRate;
    o.segment.fast_writers = fast_writers_;
  }
  retention::SizeAllocations(limit, &o.segment);
  o.segment_ms = config.segment_ms;
  o.max_batch_bytes = static_cast<uint32_t>(config.max_message_bytes);
  o.log_append_time = config.timestamp_type == TimestampType::kLogAppendTime;
  o.clock = clock_;
  o.background = background_.get();
  o.log_sink = sink_;
  return o;
}

void Topic::AddPartitions(std::vector<std::unique_ptr<Partition>> added) {
  const size_t count = partitions_.size() + added.size();
  auto table = std::make_unique<Partition*[]>(count);
  for (size_t i = 0; i < partitions_.size(); ++i) table[i] = partitions_[i].get();
  for (size_t i = 0; i < added.size(); ++i) table[partitions_.size() + i] = added[i].get();
  for (auto& p : added) partitions_.push_back(std::move(p));
  // The table first: a reader that sees the new count sees a table that big.
  table_.store(table.get(), std::memory_order_release);
  tables_.push_back(std::move(table));
  count_.store(static_cast<int32_t>(count), std::memory_order_release);
}

absl::StatusOr<std::vector<std::unique_ptr<Partition>>> LogState::OpenPartitions(
    const Topic& topic, const TopicConfig& config, int32_t first, RecoveryReport* report) {
  std::vector<std::unique_ptr<Partition>> partitions;
  for (int32_t p = first; p < config.partitions; ++p) {
    PartitionLogOptions options = PartitionOptions(config);
    options.segment.usage = topic.account()->NewPartitionUsage();
    RecoveryReport partition_report;
    ASSIGN_OR_RETURN(
        std::unique_ptr<PartitionLog> log,
        PartitionLog::Open(*fs_, PartitionDir(topic.name(), p), options, &partition_report));
    Add(report, partition_report);
    partitions.push_back(
        std::make_unique<Partition>(topic.name(), p, std::move(log), topic.account().get()));
  }
  return partitions;
}

absl::StatusOr<std::shared_ptr<Topic>> LogState::OpenTopic(const std::string& name,
                                                           const TopicConfig& config,
                                                           RecoveryReport* report) {
  auto topic = std::make_shared<Topic>(name, config);
  topic->account_ = retention::TopicAccount::Create(disk_, name, config);
  ASSIGN_OR_RETURN(auto partitions, OpenPartitions(*topic, config, 0, report));
  topic->AddPartitions(std::move(partitions));
  RETURN_IF_ERROR(AttachPartitions(topic));
  return topic;
}

absl::Status LogState::AttachPartitions(const std::shared_ptr<Topic>& topic) {
  std::vector<PartitionLog*> logs;
  for (int32_t p = 0; p < topic->partition_count(); ++p) logs.push_back(&topic->partition(p)->log());
  topic->account()->SetPartitions(std::move(logs), topic);
  // What the topic's files take now; appends and deletions count from here.
  return topic->account()->Remeasure(*fs_, TopicConfigPath(dir_, topic->name()));
}

absl::Status LogState::Load() {
  ASSIGN_OR_RETURN(auto configs, LoadTopicConfigs(*fs_, dir_));
  MutexLock lock(&mu_);
  for (const auto& [name, config] : configs) {
    ASSIGN_OR_RETURN(std::shared_ptr<Topic> topic, OpenTopic(name, config, &recovery_));
    topics_.emplace(name, std::move(topic));
  }
  // Partition directories of no topic were left by a deletion that a crash
  // interrupted: finish it.
  ASSIGN_OR_RETURN(std::vector<std::string> names, fs_->ListDir(dir_));
  for (const std::string& name : names) {
    auto parsed = ParsePartitionDirName(name);
    if (!parsed) continue;
    auto it = topics_.find(parsed->first);
    if (it != topics_.end() && parsed->second < it->second->partition_count()) continue;
    sink_(LogSeverity::kWarning,
          absl::StrCat("removing ", JoinPath(dir_, name), ": it belongs to no topic"));
    RETURN_IF_ERROR(RemoveTree(*fs_, JoinPath(dir_, name)));
  }
  return absl::OkStatus();
}

absl::Status LogState::CheckOpen() const {
  if (closed()) {
    return absl::FailedPreconditionError(
        absl::StrCat("the log", dir_.empty() ? "" : " at ", dir_, " is closed"));
  }
  return absl::OkStatus();
}

absl::Status LogState::CreateTopic(std::string_view name, const TopicConfig& config) {
  RETURN_IF_ERROR(ValidateTopicName(name));
  RETURN_IF_ERROR(config.Validate());
  MutexLock admin(&admin_mu_);
  RETURN_IF_ERROR(CheckOpen());
  {
    MutexLock lock(&mu_);
    if (topics_.count(name) > 0) {
      return absl::AlreadyExistsError(absl::StrCat("topic ", ToAbsl(name), " already exists"));
    }
  }
  const std::string topic_name(name);
  RETURN_IF_ERROR(SaveTopicConfig(*fs_, dir_, topic_name, config));
  RecoveryReport ignored;
  absl::StatusOr<std::shared_ptr<Topic>> topic = OpenTopic(topic_name, config, &ignored);
  if (!topic.ok()) {
    // Leave nothing half made (the account, if any, died with the topic).
    (void)RemoveTopicConfig(*fs_, dir_, topic_name);
    for (int32_t p = 0; p < config.partitions; ++p) (void)RemoveTree(*fs_, PartitionDir(name, p));
    return topic.status();
  }
  {
    MutexLock lock(&mu_);
    topics_.emplace(topic_name, *std::move(topic));
  }
  generation_.fetch_add(1, std::memory_order_acq_rel);
  changes_.Notify();
  return absl::OkStatus();
}

absl::Status LogState::DeleteTopic(std::string_view name) {
  if (name == kConsumerOffsetsTopic) {
    return absl::InvalidArgumentError(absl::StrCat(
        ToAbsl(name), " keeps the offsets of consumer groups: delete groups with DeleteGroup"));
  }
  bool deleted = false;
  absl::Status status = DeleteTopicFiles(name, &deleted);
  // The groups' offsets for it go too, as in Kafka: a topic created later
  // under the same name starts with none.
  if (deleted) groups_->OnTopicDeleted(name);
  return status;
}

absl::Status LogState::DeleteTopicFiles(std::string_view name, bool* deleted) {
  MutexLock admin(&admin_mu_);
  RETURN_IF_ERROR(CheckOpen());
  ASSIGN_OR_RETURN(std::shared_ptr<Topic> topic, FindTopic(name));
  // The config goes first: a crash from here on finishes the deletion at the
  // next open.
  RETURN_IF_ERROR(RemoveTopicConfig(*fs_, dir_, topic->name()));
  {
    MutexLock lock(&mu_);
    topics_.erase(topic->name());
  }
  topic->deleted_.store(true, std::memory_order_release);
  *deleted = true;
  generation_.fetch_add(1, std::memory_order_acq_rel);
  changes_.Notify();
  absl::Status status;
  for (int32_t p = 0; p < topic->partition_count(); ++p) {
    absl::Status s = topic->partition(p)->log().Close();
    if (!s.ok() && !absl::IsFailedPrecondition(s) && status.ok()) status = s;
    s = RemoveTree(*fs_, PartitionDir(topic->name(), p));
    if (!s.ok() && status.ok()) status = s;
  }
  topic->account()->Detach();
  return status;
}

absl::Status LogState::SetTopicConfig(std::string_view name, std::string_view key,
                                      std::string_view value) {
  if (key == "partitions") {
    return absl::InvalidArgumentError("the partition count of a topic cannot be changed");
  }
  MutexLock admin(&admin_mu_);
  RETURN_IF_ERROR(CheckOpen());
  ASSIGN_OR_RETURN(std::shared_ptr<Topic> topic, FindTopic(name));
  TopicConfig config = topic->config();
  RETURN_IF_ERROR(config.Set(key, value));
  RETURN_IF_ERROR(SaveTopicConfig(*fs_, dir_, topic->name(), config));
  // The partitions first: a producer that sees the new config finds them
  // ready for it.
  const PartitionLogOptions options = PartitionOptions(config);
  for (int32_t p = 0; p < topic->partition_count(); ++p) {
    topic->partition(p)->log().Reconfigure(options);
  }
  topic->set_config(config);
  return absl::OkStatus();
}

absl::Status LogState::CreatePartitions(std::string_view name, int32_t total) {
  MutexLock admin(&admin_mu_);
  RETURN_IF_ERROR(CheckOpen());
  ASSIGN_OR_RETURN(std::shared_ptr<Topic> topic, FindTopic(name));
  const int32_t current = topic->partition_count();
  if (total <= current) {
    return absl::InvalidArgumentError(absl::StrCat("topic ", topic->name(), " has ", current,
                                                   " partitions; it can only grow (", total,
                                                   " asked for)"));
  }
  TopicConfig config = topic->config();
  config.partitions = total;
  RETURN_IF_ERROR(config.Validate());
  // The new partitions' directories first, then the settings that make them
  // part of the topic: a crash in between leaves directories of no topic,
  // which the next open removes.
  RecoveryReport ignored;
  absl::StatusOr<std::vector<std::unique_ptr<Partition>>> added =
      OpenPartitions(*topic, config, current, &ignored);
  absl::Status saved =
      added.ok() ? SaveTopicConfig(*fs_, dir_, topic->name(), config) : added.status();
  if (!saved.ok()) {
    if (added.ok()) {
      for (auto& p : *added) (void)p->log().Close();
    }
    for (int32_t p = current; p < total; ++p) (void)RemoveTree(*fs_, PartitionDir(name, p));
    return saved;
  }
  topic->set_config(config);
  topic->AddPartitions(*std::move(added));
  RETURN_IF_ERROR(AttachPartitions(topic));
  generation_.fetch_add(1, std::memory_order_acq_rel);
  changes_.Notify();
  return absl::OkStatus();
}

absl::StatusOr<std::shared_ptr<Topic>> LogState::FindTopic(std::string_view name) const {
  RETURN_IF_ERROR(CheckOpen());
  MutexLock lock(&mu_);
  auto it = topics_.find(name);
  if (it == topics_.end()) {
    return absl::NotFoundError(absl::StrCat("topic ", ToAbsl(name), " does not exist"));
  }
  return it->second;
}

absl::StatusOr<std::shared_ptr<Topic>> LogState::FindOrCreateTopic(std::string_view name) {
  absl::StatusOr<std::shared_ptr<Topic>> topic = FindTopic(name);
  if (topic.ok() || !absl::IsNotFound(topic.status()) || !options_.auto_create_topics) {
    return topic;
  }
  absl::Status s = CreateTopic(name, options_.default_topic_config);
  if (!s.ok() && !absl::IsAlreadyExists(s)) return s;
  return FindTopic(name);
}

std::vector<std::shared_ptr<Topic>> LogState::Topics() const {
  MutexLock lock(&mu_);
  std::vector<std::shared_ptr<Topic>> topics;
  for (const auto& [name, topic] : topics_) topics.push_back(topic);
  return topics;
}

absl::StatusOr<Partition*> LogState::FindPartition(const TopicPartition& tp,
                                                   std::shared_ptr<Topic>* topic_out) const {
  ASSIGN_OR_RETURN(std::shared_ptr<Topic> topic, FindTopic(tp.topic));
  if (tp.partition < 0 || tp.partition >= topic->partition_count()) {
    return absl::OutOfRangeError(absl::StrCat("topic ", tp.topic, " has no partition ",
                                              tp.partition, " (it has ",
                                              topic->partition_count(), ")"));
  }
  Partition* partition = topic->partition(tp.partition);
  if (topic_out != nullptr) *topic_out = std::move(topic);
  return partition;
}

uint64_t LogState::AddFlusher(std::function<absl::Status()> flush) {
  MutexLock lock(&mu_);
  flushers_.emplace(next_flusher_, std::move(flush));
  return next_flusher_++;
}

void LogState::RemoveFlusher(uint64_t id) {
  MutexLock lock(&mu_);
  flushers_.erase(id);
}

absl::Status LogState::SyncAll() {
  RETURN_IF_ERROR(CheckOpen());
  // Every partition, whatever the others say: one stopped by a failed sync
  // (which stays so until reopened) must not keep the rest from syncing.
  absl::Status first;
  for (const auto& topic : Topics()) {
    for (int32_t p = 0; p < topic->partition_count(); ++p) {
      absl::Status s = topic->partition(p)->log().Sync();
      if (first.ok()) first = std::move(s);
    }
  }
  return first;
}

MaintenanceReport LogState::RunMaintenance(std::string_view only_topic) {
  int tasks = manual_ != nullptr ? manual_->RunPending() : 0;
  MaintenanceReport report;
  if (!closed()) report = maintenance_->RunNow(only_topic);
  // Syncs of the segments the pass sealed.
  if (manual_ != nullptr) tasks += manual_->RunPending();
  report.tasks_run = tasks;
  return report;
}

Timer* LogState::timer() {
  if (options_.background_threads <= 0) return nullptr;
  MutexLock lock(&services_mu_);
  if (closed()) return nullptr;
  if (timer_ == nullptr) timer_ = std::make_unique<Timer>(clock_);
  return timer_.get();
}

Syncer* LogState::syncer() {
  if (options_.background_threads <= 0) return nullptr;
  MutexLock lock(&services_mu_);
  if (closed()) return nullptr;
  if (syncer_ == nullptr) syncer_ = std::make_unique<Syncer>();
  return syncer_.get();
}

absl::Status LogState::Close() {
  if (closed()) return CheckOpen();
  absl::Status status;
  auto keep_first = [&status](const absl::Status& s) {
    if (status.ok() && !s.ok()) status = s;
  };
  // Producers first: their pending batches go into the log while it is
  // open. Not under admin_mu_: a producer flushes under its own mutex,
  // under which its sends take admin_mu_ to create topics
  // (auto_create_topics).
  std::vector<std::function<absl::Status()>> flushers;
  {
    MutexLock lock(&mu_);
    for (const auto& [id, flush] : flushers_) flushers.push_back(flush);
  }
  for (const auto& flush : flushers) keep_first(flush());
  MutexLock admin(&admin_mu_);
  if (closed()) return CheckOpen();  // Closed by another thread meanwhile.
  closed_.store(true, std::memory_order_release);
  changes_.Notify();  // Waiting consumers return kFailedPrecondition.
  // No maintenance pass from here on; one under way stops at its next step.
  // Before the timer goes: passes re-arm it.
  if (maintenance_ != nullptr) maintenance_->Stop();
  {
    // Joining these threads runs what they had queued (syncs, callbacks),
    // which may ask for timer() or syncer(): join them without the lock
    // (those calls see the log closed and get null).
    std::unique_ptr<Timer> timer;
    std::unique_ptr<Syncer> syncer;
    {
      MutexLock lock(&services_mu_);
      timer = std::move(timer_);
      syncer = std::move(syncer_);
    }
    timer.reset();
    syncer.reset();
  }
  std::map<std::string, std::shared_ptr<Topic>, std::less<>> topics;
  {
    MutexLock lock(&mu_);
    topics.swap(topics_);
    flushers_.clear();
  }
  for (const auto& [name, topic] : topics) {
    for (int32_t p = 0; p < topic->partition_count(); ++p) {
      keep_first(topic->partition(p)->log().Close());
    }
  }
  if (manual_ != nullptr) manual_->RunPending();
  background_.reset();
  lock_.reset();
  return status;
}

}  // namespace rill::core
