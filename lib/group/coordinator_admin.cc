// GroupCoordinator's admin calls: list, describe (with lag), reset and
// delete a group's offsets.
#include <algorithm>
#include <set>

#include "absl/strings/str_cat.h"
#include "core/log_state.h"
#include "group/coordinator.h"
#include "group/offset_record.h"
#include "util/status_macros.h"
#include "util/strings.h"

namespace rill {

const char* AssignorName(Assignor assignor) {
  switch (assignor) {
    case Assignor::kRange:
      return "range";
    case Assignor::kRoundRobin:
      return "roundrobin";
    case Assignor::kCooperativeSticky:
      return "cooperative-sticky";
  }
  return "unknown";
}

const char* GroupStateName(GroupState state) {
  switch (state) {
    case GroupState::kEmpty:
      return "Empty";
    case GroupState::kStable:
      return "Stable";
    case GroupState::kRebalancing:
      return "Rebalancing";
  }
  return "Unknown";
}

namespace group {
namespace {

absl::Status HasMembers(std::string_view group, size_t members) {
  return absl::FailedPreconditionError(
      absl::StrCat("group ", ToAbsl(group), " has ", members,
                   " active member(s); its offsets change only while it has none (close its "
                   "consumers first)"));
}

}  // namespace

std::vector<std::string> GroupCoordinator::ListGroups() {
  MutexLock lock(&mu_);
  std::set<std::string> names;
  for (const auto& [name, g] : groups_) names.insert(name);
  for (std::string& name : store_.Groups()) names.insert(std::move(name));
  return {names.begin(), names.end()};
}

absl::StatusOr<GroupDescription> GroupCoordinator::DescribeGroup(std::string_view group) {
  MutexLock lock(&mu_);
  Group* g = FindGroup(group);
  const OffsetMap* committed = store_.Find(group);
  if (g == nullptr && committed == nullptr) {
    return absl::NotFoundError(
        absl::StrCat("group ", ToAbsl(group), " has no members and no committed offsets"));
  }
  GroupDescription d;
  d.group = std::string(group);
  std::map<TopicPartition, GroupPartition> partitions;
  if (committed != nullptr) {
    for (const auto& [tp, c] : *committed) {
      partitions[tp].committed_offset = c.offset;
      partitions[tp].metadata = c.metadata;
    }
  }
  if (g != nullptr) {
    d.generation = g->generation;
    d.assignor = g->assignor;
    bool stable = true;
    for (const auto& [id, m] : g->members) {
      GroupMemberDescription md{.member_id = id,
                                .client_id = m.client_id,
                                .topics = m.topics,
                                .assignment = {m.owned.begin(), m.owned.end()},
                                .target = m.target};
      if (m.revoke_all || md.assignment != md.target) stable = false;
      for (const TopicPartition& tp : m.owned) {
        partitions[tp].member_id = id;
        if (Current(*g, tp) != g->owners.at(tp).topic.get()) stable = false;
      }
      for (const TopicPartition& tp : m.target) partitions[tp];
      d.members.push_back(std::move(md));
    }
    d.state = d.members.empty() ? GroupState::kEmpty
                                : (stable ? GroupState::kStable : GroupState::kRebalancing);
  }
  for (auto& [tp, p] : partitions) {
    p.partition = tp;
    absl::StatusOr<core::Partition*> partition = state_->FindPartition(tp);
    if (partition.ok()) p.end_offset = (*partition)->log().end_offset();
    if (p.end_offset >= 0 && p.committed_offset >= 0) {
      p.lag = std::max<int64_t>(0, p.end_offset - p.committed_offset);
    }
    d.partitions.push_back(std::move(p));
  }
  return d;
}

absl::StatusOr<OffsetStore::Written> GroupCoordinator::WriteForEmptyGroup(std::string_view group,
                                                                          OffsetMap offsets) {
  if (Group* g = FindGroup(group); g != nullptr) return HasMembers(group, g->members.size());
  return store_.Write(group, std::move(offsets));
}

absl::StatusOr<OffsetMap> GroupCoordinator::ResetOffsets(std::string_view group,
                                                         const OffsetResetSpec& spec) {
  RETURN_IF_ERROR(CheckGroupName(group));
  {
    MutexLock lock(&mu_);
    if (Group* g = FindGroup(group); g != nullptr) return HasMembers(group, g->members.size());
  }
  RETURN_IF_ERROR(EnsureOffsetsTopic());
  absl::StatusOr<OffsetStore::Written> written;
  OffsetMap offsets;
  {
    MutexLock lock(&mu_);
    std::set<std::string> topics(spec.topics.begin(), spec.topics.end());
    if (topics.empty()) {
      if (const OffsetMap* committed = store_.Find(group); committed != nullptr) {
        for (const auto& [tp, c] : *committed) topics.insert(tp.topic);
      }
    }
    if (topics.empty()) {
      return absl::NotFoundError(absl::StrCat(
          "group ", ToAbsl(group), " has no committed offsets: name the topics to reset"));
    }
    for (const std::string& name : topics) {
      ASSIGN_OR_RETURN(std::shared_ptr<core::Topic> topic, state_->FindTopic(name));
      for (int32_t p = 0; p < topic->partition_count(); ++p) {
        const PartitionLog& log = topic->partition(p)->log();
        const int64_t start = log.start_offset();
        const int64_t end = log.end_offset();
        int64_t offset = start;
        switch (spec.to) {
          case OffsetResetSpec::To::kEarliest:
            offset = start;
            break;
          case OffsetResetSpec::To::kLatest:
            offset = end;
            break;
          case OffsetResetSpec::To::kTimestamp: {
            ASSIGN_OR_RETURN(offset, log.OffsetForTimestamp(spec.value));
            break;
          }
          case OffsetResetSpec::To::kOffset:
            offset = std::clamp(spec.value, start, end);
            break;
        }
        offsets[{name, p}] = OffsetAndMetadata{.offset = offset};
      }
    }
    written = WriteForEmptyGroup(group, offsets);
    RETURN_IF_ERROR(written.status());
    const OffsetMap* stored = store_.Find(group);
    for (auto& [tp, c] : offsets) c = stored->at(tp);
  }
  SyncWritten(written);
  return offsets;
}

absl::Status GroupCoordinator::DeleteGroup(std::string_view group) {
  absl::StatusOr<OffsetStore::Written> written;
  {
    MutexLock lock(&mu_);
    if (Group* g = FindGroup(group); g != nullptr) return HasMembers(group, g->members.size());
    const OffsetMap* committed = store_.Find(group);
    if (committed == nullptr) {
      return absl::NotFoundError(
          absl::StrCat("group ", ToAbsl(group), " has no committed offsets"));
    }
    std::vector<TopicPartition> partitions;
    for (const auto& [tp, c] : *committed) partitions.push_back(tp);
    written = store_.Delete(group, partitions);
    RETURN_IF_ERROR(written.status());
  }
  SyncWritten(written);
  return absl::OkStatus();
}

void GroupCoordinator::OnTopicDeleted(std::string_view topic) {
  MutexLock lock(&mu_);
  for (const auto& [group, partitions] : store_.WithTopic(topic)) {
    absl::StatusOr<OffsetStore::Written> written = store_.Delete(group, partitions);
    if (!written.ok()) {
      state_->log_sink()(LogSeverity::kWarning,
                         absl::StrCat("deleting group ", group, "'s offsets for deleted topic ",
                                      ToAbsl(topic), ": ", written.status().message()));
    }
  }
}

}  // namespace group
}  // namespace rill
