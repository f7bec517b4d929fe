#include "group/member.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "core/log_state.h"
#include "core/syncer.h"
#include "util/status_macros.h"

namespace rill::group {

Member::Member(std::shared_ptr<GroupCoordinator> coordinator, const ConsumerOptions& options,
               core::Waiter* waiter)
    : coordinator_(std::move(coordinator)),
      state_(coordinator_->state()),
      group_(options.group),
      options_(options) {
  signals_.waiter = waiter;
}

Member::~Member() {
  if (!member_id_.empty()) coordinator_->Leave(group_, member_id_);
}

absl::StatusOr<std::string> Member::JoinGroup() {
  return coordinator_->Join(group_, {.client_id = options_.client_id,
                                     .topics = topics_,
                                     .assignor = options_.assignor,
                                     .max_poll_interval = options_.max_poll_interval,
                                     .signals = &signals_});
}

absl::Status Member::Subscribe(const std::vector<std::string>& topics) {
  if (member_id_.empty()) {
    rejoin_ = false;
    const std::vector<std::string> previous = std::move(topics_);
    topics_ = topics;
    absl::StatusOr<std::string> id = JoinGroup();
    if (!id.ok()) {
      topics_ = previous;
      return id.status();
    }
    member_id_ = *std::move(id);
    next_auto_commit_us_ = state_->clock()->MonotonicMicros() +
                           absl::ToInt64Microseconds(options_.auto_commit_interval);
    return absl::OkStatus();
  }
  topics_ = topics;
  absl::Status s = coordinator_->Resubscribe(group_, member_id_, topics_);
  // A member removed meanwhile learns it at its next Sync, and rejoins with
  // these topics.
  return absl::IsFailedPrecondition(s) ? absl::OkStatus() : s;
}

void Member::Unsubscribe(core::MemberHost& host) {
  LeaveGroup(host);
  topics_.clear();
}

void Member::PollStarted() { signals_.in_poll.store(true); }

void Member::PollEnded() {
  signals_.last_poll_us.store(state_->clock()->MonotonicMicros());
  signals_.in_poll.store(false);
}

bool Member::NeedsSync() const {
  if (member_id_.empty()) return false;
  return signals_.needs_sync.load(std::memory_order_seq_cst) ||
         state_->topics_generation() != seen_topics_generation_;
}

void Member::CallBack(const PartitionsCallback& callback,
                      const std::vector<TopicPartition>& partitions) {
  if (callback == nullptr || partitions.empty()) return;
  in_callback_ = true;
  callback(partitions);
  in_callback_ = false;
}

void Member::Revoke(core::MemberHost& host, const std::vector<TopicPartition>& partitions,
                    int64_t generation) {
  CallBack(options_.on_revoked, partitions);
  if (options_.enable_auto_commit) AutoCommit(host, &partitions, "committing before revoking");
  host.Drop(partitions);
  for (const TopicPartition& tp : partitions) committed_.erase(tp);
  coordinator_->Release(group_, member_id_, partitions, generation);
}

absl::Status Member::Sync(core::MemberHost& host) {
  RunCompletedCallbacks();
  if (member_id_.empty()) {
    if (!rejoin_) return absl::OkStatus();
    ASSIGN_OR_RETURN(member_id_, JoinGroup());
    rejoin_ = false;
  }
  const int64_t now = state_->clock()->MonotonicMicros();
  if (NeedsSync() || now >= coordinator_->expiry_due_us()) {
    seen_topics_generation_ = state_->topics_generation();
    GroupCoordinator::Plan plan = coordinator_->PlanSync(group_, member_id_);
    if (plan.removed) {
      // Removed for not polling in time: what it had is lost, released
      // already (Kafka's onPartitionsLost); commits of it fail.
      std::vector<TopicPartition> lost;
      for (const auto& [tp, position] : host.Positions()) lost.push_back(tp);
      CallBack(options_.on_revoked, lost);
      host.Drop(lost);
      committed_.clear();
      member_id_.clear();
      rejoin_ = true;
      ASSIGN_OR_RETURN(member_id_, JoinGroup());
      rejoin_ = false;
      plan = coordinator_->PlanSync(group_, member_id_);
    }
    if (!plan.revoke.empty()) Revoke(host, plan.revoke, plan.generation);
    std::vector<core::AcquiredPartition> acquired = coordinator_->Acquire(group_, member_id_);
    if (!acquired.empty()) {
      std::vector<TopicPartition> partitions;
      for (const core::AcquiredPartition& a : acquired) {
        const TopicPartition tp{a.topic->name(), a.partition->id()};
        if (a.position != kNoOffset) committed_[tp] = a.position;
        partitions.push_back(tp);
      }
      host.Take(std::move(acquired));
      CallBack(options_.on_assigned, partitions);
    }
  }
  if (options_.enable_auto_commit && now >= next_auto_commit_us_) {
    next_auto_commit_us_ = now + absl::ToInt64Microseconds(options_.auto_commit_interval);
    AutoCommit(host, nullptr, "auto-committing");
  }
  return absl::OkStatus();
}

OffsetMap Member::OffsetsToCommit(core::MemberHost& host, const OffsetMap* offsets,
                                  const std::vector<TopicPartition>* only,
                                  bool changed_only) const {
  if (offsets != nullptr) return *offsets;
  OffsetMap out;
  for (const auto& [tp, position] : host.Positions()) {
    if (position == kNoOffset) continue;
    if (only != nullptr && std::find(only->begin(), only->end(), tp) == only->end()) continue;
    if (changed_only) {
      auto it = committed_.find(tp);
      if (it != committed_.end() && it->second == position) continue;
    }
    out[tp] = OffsetAndMetadata{.offset = position};
  }
  return out;
}

absl::StatusOr<OffsetStore::Written> Member::Write(const OffsetMap& offsets, bool positions) {
  if (member_id_.empty()) {
    return absl::FailedPreconditionError(absl::StrCat("the consumer is not in group ", group_,
                                                      ": it has not subscribed, or has left"));
  }
  RETURN_IF_ERROR(coordinator_->EnsureOffsetsTopic());
  ASSIGN_OR_RETURN(OffsetStore::Written written,
                   coordinator_->Commit(group_, member_id_, offsets, positions));
  for (const auto& [tp, committed] : offsets) committed_[tp] = committed.offset;
  return written;
}

void Member::AutoCommit(core::MemberHost& host, const std::vector<TopicPartition>* only,
                        const char* when) {
  const OffsetMap offsets = OffsetsToCommit(host, nullptr, only, /*changed_only=*/true);
  if (offsets.empty()) return;
  absl::StatusOr<OffsetStore::Written> written = Write(offsets, /*positions=*/true);
  absl::Status s = written.status();
  if (s.ok() && written->partition != nullptr &&
      options_.commit_durability == Durability::kPowerLoss) {
    s = written->partition->log().Sync();
  }
  if (!s.ok()) {
    state_->log_sink()(
        LogSeverity::kWarning,
        absl::StrCat("group ", group_, ", member ", member_id_, ": ", when, ": ", s.message()));
  }
}

absl::Status Member::Commit(core::MemberHost& host, const OffsetMap* offsets) {
  RunCompletedCallbacks();
  const OffsetMap to_commit = OffsetsToCommit(host, offsets, nullptr, /*changed_only=*/false);
  if (to_commit.empty()) return absl::OkStatus();
  ASSIGN_OR_RETURN(OffsetStore::Written written, Write(to_commit, offsets == nullptr));
  if (written.partition != nullptr && options_.commit_durability == Durability::kPowerLoss) {
    return written.partition->log().Sync();
  }
  return absl::OkStatus();
}

absl::Status Member::CommitAsync(core::MemberHost& host, const OffsetMap* offsets,
                                 CommitCallback callback) {
  RunCompletedCallbacks();
  OffsetMap to_commit = OffsetsToCommit(host, offsets, nullptr, /*changed_only=*/false);
  auto report = [callback, to_commit](const absl::Status& s) {
    return [callback, to_commit, s] {
      if (callback != nullptr) callback(s, to_commit);
    };
  };
  if (to_commit.empty()) {
    Completed(report(absl::OkStatus()));
    return absl::OkStatus();
  }
  ASSIGN_OR_RETURN(OffsetStore::Written written, Write(to_commit, offsets == nullptr));
  if (written.partition == nullptr || options_.commit_durability != Durability::kPowerLoss) {
    Completed(report(absl::OkStatus()));
    return absl::OkStatus();
  }
  core::Syncer* syncer = state_->syncer();
  if (syncer == nullptr) {  // No background threads (or closing): sync here.
    Completed(report(written.partition->log().Sync()));
    return absl::OkStatus();
  }
  {
    MutexLock lock(&async_->mu);
    ++async_->in_flight;
  }
  syncer->Submit(written.topic, written.partition, [async = async_, report](const absl::Status& s) {
    MutexLock lock(&async->mu);
    async->done.push_back(report(s));
    if (--async->in_flight == 0) async->all_done.SignalAll();
  });
  return absl::OkStatus();
}

void Member::Completed(std::function<void()> callback) {
  MutexLock lock(&async_->mu);
  async_->done.push_back(std::move(callback));
}

void Member::RunCompletedCallbacks() {
  std::vector<std::function<void()>> done;
  {
    MutexLock lock(&async_->mu);
    done.swap(async_->done);
  }
  for (const auto& callback : done) callback();
}

absl::StatusOr<OffsetAndMetadata> Member::Committed(const TopicPartition& tp) const {
  return coordinator_->Committed(group_, tp);
}

void Member::LeaveGroup(core::MemberHost& host) {
  if (member_id_.empty()) return;
  std::vector<TopicPartition> owned;
  for (const auto& [tp, position] : host.Positions()) owned.push_back(tp);
  if (!owned.empty()) Revoke(host, owned, /*generation=*/-1);
  coordinator_->Leave(group_, member_id_);
  member_id_.clear();
  committed_.clear();
  rejoin_ = false;
}

void Member::Close(core::MemberHost& host) {
  LeaveGroup(host);
  {
    MutexLock lock(&async_->mu);
    while (async_->in_flight > 0) async_->all_done.Wait(&async_->mu);
  }
  RunCompletedCallbacks();
}

}  // namespace rill::group
