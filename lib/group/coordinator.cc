// GroupCoordinator: membership, rebalances, ownership, commits, and the
// removal of members that stop polling. Admin calls are in
// coordinator_admin.cc.
#include "group/coordinator.h"

#include <algorithm>
#include <climits>

#include "absl/strings/str_cat.h"
#include "core/log_state.h"
#include "core/notifier.h"
#include "group/member.h"
#include "group/offset_record.h"
#include "util/status_macros.h"
#include "util/strings.h"
#include "util/timer.h"

namespace rill {
namespace core {

std::shared_ptr<GroupService> NewGroupService(LogState* state) {
  return std::make_shared<group::GroupCoordinator>(state);
}

}  // namespace core

namespace group {
namespace {

// IntervalMicros(d): d in µs, capped so that adding it to a time cannot
// overflow.
int64_t IntervalMicros(absl::Duration d) {
  return std::clamp<int64_t>(absl::ToInt64Microseconds(d), 0, int64_t{1} << 60);
}

std::string NotMemberMessage(std::string_view group, std::string_view member) {
  return absl::StrCat("member ", ToAbsl(member), " is no longer in group ", ToAbsl(group),
                      ": it was removed for not polling within max_poll_interval, and its "
                      "partitions went to other members");
}

}  // namespace

absl::Status GroupCoordinator::Load() {
  MutexLock lock(&mu_);
  return store_.Load();
}

std::unique_ptr<core::GroupMember> GroupCoordinator::NewMember(const ConsumerOptions& options,
                                                               core::Waiter* waiter) {
  return std::make_unique<Member>(shared_from_this(), options, waiter);
}

int64_t GroupCoordinator::NowMicros() const { return state_->clock()->MonotonicMicros(); }

GroupCoordinator::Group* GroupCoordinator::FindGroup(std::string_view group) {
  auto it = groups_.find(group);
  return it == groups_.end() ? nullptr : &it->second;
}

GroupCoordinator::MemberState* GroupCoordinator::FindMember(Group* g, std::string_view member) {
  if (g == nullptr) return nullptr;
  auto it = g->members.find(std::string(member));
  return it == g->members.end() ? nullptr : &it->second;
}

void GroupCoordinator::Signal(const MemberState& m) {
  m.signals->needs_sync.store(true, std::memory_order_seq_cst);
  m.signals->waiter->Wake();
}

core::Topic* GroupCoordinator::Current(const Group& g, const TopicPartition& tp) const {
  auto it = g.topics.find(tp.topic);
  if (it == g.topics.end() || tp.partition < 0 || tp.partition >= it->second->partition_count()) {
    return nullptr;
  }
  return it->second.get();
}

void GroupCoordinator::Rebalance(Group& g, bool force) {
  // The generation first: a topic change after it is seen by the next sync.
  g.topics_generation = state_->topics_generation();
  std::map<std::string, std::shared_ptr<core::Topic>> topics;
  PartitionCounts counts;
  for (const auto& [id, m] : g.members) {
    for (const std::string& name : m.topics) {
      if (topics.count(name) > 0) continue;
      absl::StatusOr<std::shared_ptr<core::Topic>> topic = state_->FindTopic(name);
      if (!topic.ok()) continue;  // Not created yet, or deleted.
      counts[name] = (*topic)->partition_count();
      topics.emplace(name, *std::move(topic));
    }
  }
  bool changed = force || topics != g.topics;
  std::vector<AssignorMember> input;
  for (const auto& [id, m] : g.members) input.push_back({m.id, m.topics, m.target});
  Assignment target = Assign(g.assignor, input, counts);
  for (const auto& [id, m] : g.members) changed = changed || target[id] != m.target;
  g.topics = std::move(topics);
  if (!changed) return;
  ++g.generation;
  for (auto& [id, m] : g.members) {
    m.target = std::move(target[id]);
    if (IsEager(g.assignor)) m.revoke_all = true;
    Signal(m);
  }
}

void GroupCoordinator::RemoveMember(Group& g, const std::string& id) {
  auto it = g.members.find(id);
  if (it == g.members.end()) return;
  for (const TopicPartition& tp : it->second.owned) g.owners.erase(tp);
  g.members.erase(it);
}

void GroupCoordinator::EraseIfEmpty(std::string_view name) {
  auto it = groups_.find(name);
  if (it != groups_.end() && it->second.members.empty()) groups_.erase(it);
}

absl::StatusOr<std::string> GroupCoordinator::Join(std::string_view group,
                                                   const JoinParams& params) {
  RETURN_IF_ERROR(CheckGroupName(group));
  MutexLock lock(&mu_);
  const int64_t now = NowMicros();
  if (now >= expiry_due_us_.load()) ExpireLocked(now);
  auto [it, created] = groups_.try_emplace(std::string(group));
  Group& g = it->second;
  if (created) {
    g.assignor = params.assignor;
  } else if (g.assignor != params.assignor) {
    return absl::FailedPreconditionError(absl::StrCat(
        "group ", ToAbsl(group), " uses the ", AssignorName(g.assignor),
        " assignor; a member asking for ", AssignorName(params.assignor), " cannot join it"));
  }
  MemberState m;
  m.id =
      absl::StrCat(params.client_id.empty() ? "consumer" : params.client_id, "-", next_member_++);
  m.client_id = params.client_id;
  m.topics = params.topics;
  m.max_poll_interval = params.max_poll_interval;
  m.signals = params.signals;
  m.signals->last_poll_us.store(now);
  const std::string id = m.id;
  g.members.emplace(id, std::move(m));
  Rebalance(g, /*force=*/true);
  const int64_t due = now + IntervalMicros(params.max_poll_interval);
  if (due < expiry_due_us_.load()) expiry_due_us_.store(due);
  ArmTimerLocked();
  return id;
}

absl::Status GroupCoordinator::Resubscribe(std::string_view group, std::string_view member,
                                           const std::vector<std::string>& topics) {
  MutexLock lock(&mu_);
  Group* g = FindGroup(group);
  MemberState* m = FindMember(g, member);
  if (m == nullptr) return absl::FailedPreconditionError(NotMemberMessage(group, member));
  if (m->topics == topics) return absl::OkStatus();
  m->topics = topics;
  Rebalance(*g, /*force=*/true);
  return absl::OkStatus();
}

void GroupCoordinator::Leave(std::string_view group, std::string_view member) {
  MutexLock lock(&mu_);
  Group* g = FindGroup(group);
  if (FindMember(g, member) == nullptr) return;
  RemoveMember(*g, std::string(member));
  if (!g->members.empty()) Rebalance(*g, /*force=*/true);
  EraseIfEmpty(group);
}

GroupCoordinator::Plan GroupCoordinator::PlanSync(std::string_view group, std::string_view member) {
  MutexLock lock(&mu_);
  const int64_t now = NowMicros();
  if (now >= expiry_due_us_.load()) {
    ExpireLocked(now);
    ArmTimerLocked();
  }
  Group* g = FindGroup(group);
  MemberState* m = FindMember(g, member);
  if (m == nullptr) return Plan{.removed = true};
  if (g->topics_generation != state_->topics_generation()) Rebalance(*g, /*force=*/false);
  Plan plan{.generation = g->generation};
  if (m->revoke_all && m->owned.empty()) m->revoke_all = false;
  for (const TopicPartition& tp : m->owned) {
    const bool targeted = std::binary_search(m->target.begin(), m->target.end(), tp);
    const bool same_topic = Current(*g, tp) == g->owners.at(tp).topic.get();
    if (m->revoke_all || !targeted || !same_topic) plan.revoke.push_back(tp);
  }
  // Under the lock: a rebalance after this plan sets it again.
  m->signals->needs_sync.store(false, std::memory_order_seq_cst);
  return plan;
}

void GroupCoordinator::Release(std::string_view group, std::string_view member,
                               const std::vector<TopicPartition>& partitions, int64_t generation) {
  MutexLock lock(&mu_);
  Group* g = FindGroup(group);
  MemberState* m = FindMember(g, member);
  if (m == nullptr) return;
  for (const TopicPartition& tp : partitions) {
    auto it = g->owners.find(tp);
    if (it == g->owners.end() || it->second.member != m->id) continue;
    g->owners.erase(it);
    m->owned.erase(tp);
  }
  if (m->revoke_all && m->owned.empty() && generation == g->generation) m->revoke_all = false;
  // Wake the members waiting for these partitions.
  for (const auto& [id, other] : g->members) {
    if (id == m->id) continue;
    for (const TopicPartition& tp : partitions) {
      if (std::binary_search(other.target.begin(), other.target.end(), tp)) {
        Signal(other);
        break;
      }
    }
  }
}

std::vector<core::AcquiredPartition> GroupCoordinator::Acquire(std::string_view group,
                                                               std::string_view member) {
  MutexLock lock(&mu_);
  std::vector<core::AcquiredPartition> acquired;
  Group* g = FindGroup(group);
  MemberState* m = FindMember(g, member);
  if (m == nullptr || m->revoke_all) return acquired;
  const OffsetMap* committed = store_.Find(group);
  for (const TopicPartition& tp : m->target) {
    if (m->owned.count(tp) > 0 || g->owners.count(tp) > 0) continue;
    if (Current(*g, tp) == nullptr) continue;
    const std::shared_ptr<core::Topic>& topic = g->topics.at(tp.topic);
    if (topic->deleted()) continue;
    g->owners[tp] = Owner{m->id, topic};
    m->owned.insert(tp);
    int64_t position = kNoOffset;
    if (committed != nullptr) {
      auto it = committed->find(tp);
      if (it != committed->end()) position = it->second.offset;
    }
    acquired.push_back({topic, topic->partition(tp.partition), position});
  }
  return acquired;
}

absl::StatusOr<OffsetStore::Written> GroupCoordinator::Commit(std::string_view group,
                                                              std::string_view member,
                                                              OffsetMap offsets, bool positions) {
  MutexLock lock(&mu_);
  Group* g = FindGroup(group);
  MemberState* m = FindMember(g, member);
  if (m == nullptr) return absl::FailedPreconditionError(NotMemberMessage(group, member));
  for (auto it = offsets.begin(); it != offsets.end();) {
    const TopicPartition& tp = it->first;
    auto owner = g->owners.find(tp);
    if (owner == g->owners.end() || owner->second.member != m->id) {
      return absl::FailedPreconditionError(
          absl::StrCat("cannot commit ", tp.topic, "-", tp.partition, ": it is not assigned to ",
                       m->id, " in group ", ToAbsl(group), " (it was revoked, or never assigned)"));
    }
    if (owner->second.topic->deleted()) {
      if (!positions) {
        return absl::NotFoundError(
            absl::StrCat("cannot commit ", tp.topic, "-", tp.partition, ": the topic was deleted"));
      }
      it = offsets.erase(it);
      continue;
    }
    ++it;
  }
  if (offsets.empty()) return OffsetStore::Written{};
  return store_.Write(group, std::move(offsets));
}

absl::StatusOr<OffsetAndMetadata> GroupCoordinator::Committed(std::string_view group,
                                                              const TopicPartition& tp) {
  MutexLock lock(&mu_);
  const OffsetMap* committed = store_.Find(group);
  if (committed != nullptr) {
    auto it = committed->find(tp);
    if (it != committed->end()) return it->second;
  }
  return absl::NotFoundError(absl::StrCat("group ", ToAbsl(group), " has no committed offset for ",
                                          tp.topic, "-", tp.partition));
}

void GroupCoordinator::ExpireLocked(int64_t now_us) {
  int64_t next_due = INT64_MAX;
  std::vector<std::string> emptied;
  for (auto& [name, g] : groups_) {
    std::vector<std::string> expired;
    for (const auto& [id, m] : g.members) {
      const int64_t interval = IntervalMicros(m.max_poll_interval);
      if (m.signals->in_poll.load()) {
        next_due = std::min(next_due, now_us + interval);
        continue;
      }
      const int64_t deadline = m.signals->last_poll_us.load() + interval;
      if (now_us > deadline) {
        expired.push_back(id);
      } else {
        next_due = std::min(next_due, deadline);
      }
    }
    for (const std::string& id : expired) {
      state_->log_sink()(
          LogSeverity::kWarning,
          absl::StrCat("group ", name, ": removing member ", id, ", which has not polled for ",
                       absl::FormatDuration(g.members.at(id).max_poll_interval),
                       " (max_poll_interval); its partitions go to the other members"));
      Signal(g.members.at(id));
      RemoveMember(g, id);
    }
    if (expired.empty()) continue;
    if (g.members.empty()) {
      emptied.push_back(name);
    } else {
      Rebalance(g, /*force=*/true);
    }
  }
  for (const std::string& name : emptied) groups_.erase(name);
  expiry_due_us_.store(next_due);
}

void GroupCoordinator::ArmTimerLocked() {
  const int64_t due = expiry_due_us_.load();
  if (groups_.empty() || due >= timer_due_us_) return;
  Timer* timer = state_->timer();
  if (timer == nullptr) return;  // No background threads: polls check.
  timer_due_us_ = due;
  timer->ScheduleAt(due + 1, [weak = weak_from_this()] {
    if (std::shared_ptr<GroupCoordinator> self = weak.lock()) self->OnTimer();
  });
}

void GroupCoordinator::OnTimer() {
  MutexLock lock(&mu_);
  timer_due_us_ = INT64_MAX;
  const int64_t now = NowMicros();
  if (now >= expiry_due_us_.load()) ExpireLocked(now);
  ArmTimerLocked();
}

void GroupCoordinator::SyncWritten(const absl::StatusOr<OffsetStore::Written>& written) {
  if (!written.ok() || written->partition == nullptr) return;
  if (absl::Status s = written->partition->log().Sync(); !s.ok()) {
    state_->log_sink()(LogSeverity::kWarning,
                       absl::StrCat("syncing ", kConsumerOffsetsTopic, ": ", s.message()));
  }
}

}  // namespace group
}  // namespace rill
