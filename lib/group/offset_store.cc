#include "group/offset_store.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "core/log_state.h"
#include "format/batch_format.h"
#include "format/batch_reader.h"
#include "group/offset_format.h"
#include "group/offset_record.h"
#include "rill/partitioner.h"
#include "util/status_macros.h"
#include "util/strings.h"

namespace rill::group {

absl::Status OffsetStore::EnsureTopic(core::LogState* state) {
  absl::StatusOr<std::shared_ptr<core::Topic>> topic = state->FindTopic(kConsumerOffsetsTopic);
  if (topic.ok() || !absl::IsNotFound(topic.status())) return topic.status();
  // Never expired by age or size; compaction keeps the latest commit of each
  // group and partition, and drops deleted groups' tombstones.
  TopicConfig config;
  config.cleanup_policy = CleanupPolicy::kCompact;
  config.partitions = offsets::kTopicPartitions;
  config.segment_bytes = offsets::kTopicSegmentBytes;
  config.retention.ms = -1;
  config.retention.bytes = -1;
  absl::Status s = state->CreateTopic(kConsumerOffsetsTopic, config);
  return absl::IsAlreadyExists(s) ? absl::OkStatus() : s;
}

absl::Status OffsetStore::Load() {
  absl::StatusOr<std::shared_ptr<core::Topic>> topic = state_->FindTopic(kConsumerOffsetsTopic);
  if (absl::IsNotFound(topic.status())) return absl::OkStatus();
  RETURN_IF_ERROR(topic.status());
  for (int32_t p = 0; p < (*topic)->partition_count(); ++p) {
    if (absl::Status s = LoadPartition(*(*topic)->partition(p)); !s.ok()) {
      state_->log_sink()(
          LogSeverity::kError,
          absl::StrCat("reading committed offsets from ", kConsumerOffsetsTopic, "-", p, ": ",
                       s.message(), "; the groups resume from the commits before it"));
    }
  }
  return absl::OkStatus();
}

absl::Status OffsetStore::LoadPartition(core::Partition& partition) {
  const PartitionLog& log = partition.log();
  BatchReader reader;
  int64_t offset = log.start_offset();
  while (offset < log.end_offset()) {
    ASSIGN_OR_RETURN(ReadResult read, log.Read(offset, 1 << 20));
    if (read.batches.empty()) break;
    for (std::span<const char> bytes = read.batches; !bytes.empty();) {
      BatchHeader h;
      const std::span<const char> batch = TakeBatch(&bytes, &h);
      offset = std::max(offset, h.last_offset() + 1);
      if (h.control()) continue;
      detail::RecordDecoder decoder;
      RETURN_IF_ERROR(reader.Open(batch, h, &decoder));
      RecordView r;
      while (decoder.Next(&r)) {
        if (!r.has_key()) continue;
        absl::StatusOr<std::optional<OffsetKey>> key = DecodeOffsetKey(r.key());
        if (!key.ok())
          return absl::DataLossError(
              absl::StrCat("offset ", r.offset(), ": ", key.status().message()));
        if (!key->has_value()) continue;  // Not an offset commit.
        const TopicPartition tp{(*key)->topic, (*key)->partition};
        if (!r.has_value()) {
          Apply((*key)->group, tp, nullptr);
          continue;
        }
        absl::StatusOr<OffsetValue> value = DecodeOffsetValue(r.value());
        if (!value.ok())
          return absl::DataLossError(
              absl::StrCat("offset ", r.offset(), ": ", value.status().message()));
        const OffsetAndMetadata committed{.offset = value->offset,
                                          .metadata = std::move(value->metadata),
                                          .commit_timestamp = value->commit_timestamp};
        Apply((*key)->group, tp, &committed);
      }
      if (decoder.error() != nullptr) return RecordError(decoder, h);
      reader.Clear();
    }
  }
  return absl::OkStatus();
}

void OffsetStore::Apply(const std::string& group, const TopicPartition& tp,
                        const OffsetAndMetadata* value) {
  if (value != nullptr) {
    table_[group][tp] = *value;
    return;
  }
  auto it = table_.find(group);
  if (it == table_.end()) return;
  it->second.erase(tp);
  if (it->second.empty()) table_.erase(it);
}

absl::StatusOr<OffsetStore::Written> OffsetStore::Write(std::string_view group, OffsetMap offsets) {
  RETURN_IF_ERROR(CheckGroupName(group));
  const int64_t now = state_->clock()->NowMillis();
  std::vector<Entry> entries;
  for (auto& [tp, committed] : offsets) {
    if (committed.offset < 0) {
      return absl::InvalidArgumentError(absl::StrCat("offset ", committed.offset, " for ", tp.topic,
                                                     "-", tp.partition, " is negative"));
    }
    if (committed.metadata.size() > offsets::kMaxStringBytes) {
      return absl::InvalidArgumentError(absl::StrCat("the metadata for ", tp.topic, "-",
                                                     tp.partition, " is longer than ",
                                                     offsets::kMaxStringBytes, " bytes"));
    }
    committed.commit_timestamp = now;
    entries.emplace_back(tp, &committed);
  }
  ASSIGN_OR_RETURN(Written written, Append(group, entries));
  const std::string name(group);
  for (const auto& [tp, committed] : offsets) Apply(name, tp, &committed);
  return written;
}

absl::StatusOr<OffsetStore::Written> OffsetStore::Delete(
    std::string_view group, const std::vector<TopicPartition>& partitions) {
  std::vector<Entry> entries;
  for (const TopicPartition& tp : partitions) entries.emplace_back(tp, nullptr);
  ASSIGN_OR_RETURN(Written written, Append(group, entries));
  const std::string name(group);
  for (const TopicPartition& tp : partitions) Apply(name, tp, nullptr);
  return written;
}

absl::StatusOr<OffsetStore::Written> OffsetStore::Append(std::string_view group,
                                                         const std::vector<Entry>& entries) {
  ASSIGN_OR_RETURN(std::shared_ptr<core::Topic> topic, state_->FindTopic(kConsumerOffsetsTopic));
  Written written{topic, topic->partition(KafkaPartition(group, topic->partition_count()))};
  if (entries.empty()) return written;
  const size_t limit = static_cast<size_t>(topic->config().max_message_bytes);
  const int64_t now = state_->clock()->NowMillis();
  auto flush = [&]() -> absl::Status {
    absl::StatusOr<std::span<const char>> batch = builder_.Finish();
    absl::Status s = batch.ok() ? written.partition->Append(*batch).status() : batch.status();
    builder_.Reset();
    return s;
  };
  for (const auto& [tp, committed] : entries) {
    const std::string key = EncodeOffsetKey(
        {.group = std::string(group), .topic = tp.topic, .partition = tp.partition});
    std::optional<std::string> value;
    if (committed != nullptr) {
      value = EncodeOffsetValue({.offset = committed->offset,
                                 .leader_epoch = offsets::kNoLeaderEpoch,
                                 .metadata = committed->metadata,
                                 .commit_timestamp = committed->commit_timestamp});
    }
    const Record record{.key = key, .value = value};
    if (!builder_.empty() &&
        builder_.uncompressed_size() + BatchBuilder::EncodedRecordSize(record, 0, 0) + 32 > limit) {
      RETURN_IF_ERROR(flush());
    }
    builder_.Add(record, now);
  }
  RETURN_IF_ERROR(flush());
  return written;
}

const OffsetMap* OffsetStore::Find(std::string_view group) const {
  auto it = table_.find(group);
  return it == table_.end() ? nullptr : &it->second;
}

std::vector<std::string> OffsetStore::Groups() const {
  std::vector<std::string> groups;
  for (const auto& [group, offsets] : table_) groups.push_back(group);
  return groups;
}

std::map<std::string, std::vector<TopicPartition>> OffsetStore::WithTopic(
    std::string_view topic) const {
  std::map<std::string, std::vector<TopicPartition>> out;
  for (const auto& [group, offsets] : table_) {
    for (const auto& [tp, committed] : offsets) {
      if (tp.topic == topic) out[group].push_back(tp);
    }
  }
  return out;
}

}  // namespace rill::group
