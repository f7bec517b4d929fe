// rill::Log: the public face of core::LogState.
#include "rill/log.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "core/group_hooks.h"
#include "core/log_factory.h"
#include "core/log_state.h"
#include "core/topic_name.h"
#include "storage/mem_file_system.h"
#include "util/status_macros.h"
#include "util/strings.h"

namespace rill {

Log::Log(std::shared_ptr<core::LogState> state) : state_(std::move(state)) {}

Log::~Log() {
  if (!state_->closed()) {
    if (absl::Status s = state_->Close(); !s.ok()) {
      state_->log_sink()(LogSeverity::kError, absl::StrCat("closing the log: ", s.message()));
    }
  }
}

absl::StatusOr<std::unique_ptr<Log>> Log::Open(std::string_view dir, const LogOptions& options) {
  if (dir.empty()) return absl::InvalidArgumentError("the log's directory is empty");
  ASSIGN_OR_RETURN(std::shared_ptr<core::LogState> state,
                   core::LogState::Open(FileSystem::Default(), std::string(dir), options, nullptr));
  return std::unique_ptr<Log>(new Log(std::move(state)));
}

absl::StatusOr<std::unique_ptr<Log>> Log::OpenInMemory(const LogOptions& options) {
  auto fs = std::make_unique<MemFileSystem>();
  FileSystem* raw = fs.get();
  ASSIGN_OR_RETURN(std::shared_ptr<core::LogState> state,
                   core::LogState::Open(raw, "/rill", options, std::move(fs)));
  return std::unique_ptr<Log>(new Log(std::move(state)));
}

namespace core {

absl::StatusOr<std::unique_ptr<Log>> LogFactory::Open(FileSystem* fs, const std::string& dir,
                                                      const LogOptions& options) {
  if (dir.empty()) return absl::InvalidArgumentError("the log's directory is empty");
  ASSIGN_OR_RETURN(std::shared_ptr<LogState> state, LogState::Open(fs, dir, options, nullptr));
  return std::unique_ptr<Log>(new Log(std::move(state)));
}

}  // namespace core

absl::Status Log::Close() { return state_->Close(); }

absl::Status Log::CreateTopic(std::string_view name, const TopicConfig& config) {
  return state_->CreateTopic(name, config);
}

absl::Status Log::DeleteTopic(std::string_view name) { return state_->DeleteTopic(name); }

std::vector<std::string> Log::ListTopics(const ListTopicsOptions& options) const {
  std::vector<std::string> names;
  for (const auto& topic : state_->Topics()) {
    if (!options.include_internal && core::IsInternalTopic(topic->name())) continue;
    names.push_back(topic->name());
  }
  return names;
}

absl::StatusOr<TopicDescription> Log::DescribeTopic(std::string_view name) const {
  ASSIGN_OR_RETURN(std::shared_ptr<core::Topic> topic, state_->FindTopic(name));
  TopicDescription d{.name = topic->name(), .config = topic->config(), .partitions = {}};
  for (int32_t p = 0; p < topic->partition_count(); ++p) {
    const PartitionLog& log = topic->partition(p)->log();
    d.partitions.push_back(PartitionDescription{.partition = p,
                                                .start_offset = log.start_offset(),
                                                .end_offset = log.end_offset(),
                                                .segments = log.segment_count(),
                                                .bytes = log.size_bytes(),
                                                .removed = log.removal_stats()});
    d.removed += d.partitions.back().removed;
  }
  d.disk_bytes = static_cast<uint64_t>(std::max<int64_t>(topic->account()->usage()->bytes(), 0));
  return d;
}

absl::Status Log::SetTopicConfig(std::string_view name, std::string_view key,
                                 std::string_view value) {
  return state_->SetTopicConfig(name, key, value);
}

absl::Status Log::CreatePartitions(std::string_view name, int32_t total) {
  return state_->CreatePartitions(name, total);
}

absl::StatusOr<int64_t> Log::StartOffset(const TopicPartition& tp) const {
  ASSIGN_OR_RETURN(core::Partition * partition, state_->FindPartition(tp));
  return partition->log().start_offset();
}

absl::StatusOr<int64_t> Log::EndOffset(const TopicPartition& tp) const {
  ASSIGN_OR_RETURN(core::Partition * partition, state_->FindPartition(tp));
  return partition->log().end_offset();
}

absl::StatusOr<int64_t> Log::OffsetForTime(const TopicPartition& tp, int64_t timestamp_ms) const {
  ASSIGN_OR_RETURN(core::Partition * partition, state_->FindPartition(tp));
  return partition->log().OffsetForTimestamp(timestamp_ms);
}

std::vector<std::string> Log::ListGroups() const { return state_->groups()->ListGroups(); }

absl::StatusOr<GroupDescription> Log::DescribeGroup(std::string_view group) const {
  RETURN_IF_ERROR(state_->CheckOpen());
  return state_->groups()->DescribeGroup(group);
}

absl::StatusOr<OffsetMap> Log::ResetGroupOffsets(std::string_view group,
                                                 const OffsetResetSpec& spec) {
  return state_->groups()->ResetOffsets(group, spec);
}

absl::Status Log::DeleteGroup(std::string_view group) {
  return state_->groups()->DeleteGroup(group);
}

absl::Status Log::Sync() { return state_->SyncAll(); }

MaintenanceReport Log::RunMaintenance() { return state_->RunMaintenance(); }

absl::StatusOr<MaintenanceReport> Log::RunMaintenance(std::string_view topic) {
  RETURN_IF_ERROR(state_->FindTopic(topic).status());
  return state_->RunMaintenance(topic);
}

uint64_t Log::DiskBytes() const {
  return static_cast<uint64_t>(std::max<int64_t>(state_->disk()->usage()->bytes(), 0));
}

const RecoveryReport& Log::recovery_report() const { return state_->recovery_report(); }

const std::string& Log::dir() const {
  static const std::string* const kNone = new std::string;
  return state_->in_memory() ? *kNone : state_->dir();
}

}  // namespace rill
