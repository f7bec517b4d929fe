// GroupCoordinator: a log's consumer groups -- per group its members, its
// generation, the assignor's target assignment, and who owns each
// partition -- and the committed offsets (OffsetStore).
//
// The protocol is driven by the members' own Polls (see member.h): a
// member asks PlanSync() what it must give up, runs on_revoked, commits,
// Release()s them, then Acquire()s the partitions targeted to it that no
// member owns. Ownership moves only through Release and Acquire (and the
// removal of a member), under one lock, so no partition is ever owned by
// two members at once.
//
// A rebalance -- a new target -- follows a member joining, leaving, being
// removed for exceeding max_poll_interval, or changing its subscription,
// and a subscribed topic being created, deleted or given partitions (seen
// through LogState::topics_generation() when a member syncs). Every member
// is then told to sync (MemberSignals), and woken if it waits in Poll.
//
// Thread-safety: every method may be called from any thread.
#ifndef RILL_LIB_GROUP_COORDINATOR_H_
#define RILL_LIB_GROUP_COORDINATOR_H_

#include <atomic>
#include <climits>
#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/time/time.h"
#include "core/group_hooks.h"
#include "group/assignor.h"
#include "group/offset_store.h"
#include "util/mutex.h"

namespace rill::group {

// MemberSignals: what a member shares with the coordinator, read and
// written without the coordinator's lock.
struct MemberSignals {
  // Set by the coordinator when the member should sync (and then woken).
  std::atomic<bool> needs_sync{false};
  // Whether the member is inside Poll, and when its last Poll ended
  // (monotonic µs): max_poll_interval runs from there.
  std::atomic<bool> in_poll{false};
  std::atomic<int64_t> last_poll_us{0};
  // Woken when needs_sync is set. Constant after construction.
  core::Waiter* waiter = nullptr;
};

class GroupCoordinator final : public core::GroupService,
                               public std::enable_shared_from_this<GroupCoordinator> {
 public:
  explicit GroupCoordinator(core::LogState* state) : state_(state), store_(state) {}

  // core::GroupService.
  absl::Status Load() override;
  std::unique_ptr<core::GroupMember> NewMember(const ConsumerOptions& options,
                                               core::Waiter* waiter) override;
  void OnTopicDeleted(std::string_view topic) override;
  std::vector<std::string> ListGroups() override;
  absl::StatusOr<GroupDescription> DescribeGroup(std::string_view group) override;
  absl::StatusOr<OffsetMap> ResetOffsets(std::string_view group,
                                         const OffsetResetSpec& spec) override;
  absl::Status DeleteGroup(std::string_view group) override;

  // --- For members (member.cc) ---

  struct JoinParams {
    std::string client_id;
    std::vector<std::string> topics;  // Sorted, unique.
    Assignor assignor = Assignor::kRange;
    absl::Duration max_poll_interval = absl::Minutes(5);
    MemberSignals* signals = nullptr;  // Must outlive the membership.
  };
  // Join(group, params): adds a member and rebalances; returns its id.
  // kFailedPrecondition if the group's members use another assignor.
  absl::StatusOr<std::string> Join(std::string_view group, const JoinParams& params);
  // Resubscribe(group, member, topics): changes a member's subscription and
  // rebalances. kFailedPrecondition if it is no longer a member.
  absl::Status Resubscribe(std::string_view group, std::string_view member,
                           const std::vector<std::string>& topics);
  // Leave(group, member): removes the member, releasing whatever it still
  // owns, and rebalances. Nothing if it is no member (any more).
  void Leave(std::string_view group, std::string_view member);

  struct Plan {
    // The member is no longer in the group (removed for exceeding
    // max_poll_interval): everything it had is gone.
    bool removed = false;
    // What it owns and must give up.
    std::vector<TopicPartition> revoke = {};
    int64_t generation = 0;
  };
  // PlanSync(group, member): clears the member's needs_sync, notices topic
  // changes, removes members past max_poll_interval when due, and says what
  // the member must revoke.
  Plan PlanSync(std::string_view group, std::string_view member);
  // Release(group, member, partitions, generation): the member no longer
  // owns these; `generation` is its Plan's (an eager member that released
  // everything for that generation may acquire again).
  void Release(std::string_view group, std::string_view member,
               const std::vector<TopicPartition>& partitions, int64_t generation);
  // Acquire(group, member): takes the partitions targeted to the member that
  // nobody owns, with their committed offsets.
  std::vector<core::AcquiredPartition> Acquire(std::string_view group, std::string_view member);

  // Commit(group, member, offsets, positions): commits for a member, each
  // partition of which it must own (kFailedPrecondition otherwise).
  // `positions`: the offsets are the member's positions, from which
  // partitions of deleted topics are dropped rather than failing
  // (kNotFound). Requires EnsureOffsetsTopic(). Returns where it wrote.
  absl::StatusOr<OffsetStore::Written> Commit(std::string_view group, std::string_view member,
                                              OffsetMap offsets, bool positions);
  // Committed(group, tp): kNotFound if none.
  absl::StatusOr<OffsetAndMetadata> Committed(std::string_view group, const TopicPartition& tp);

  // EnsureOffsetsTopic(): see OffsetStore::EnsureTopic. Without the lock.
  absl::Status EnsureOffsetsTopic() { return OffsetStore::EnsureTopic(state_); }
  // expiry_due_us(): when members are next due a max_poll_interval check
  // (monotonic µs); a member's Poll past it syncs, which checks.
  int64_t expiry_due_us() const { return expiry_due_us_.load(std::memory_order_relaxed); }
  core::LogState* state() const { return state_; }

 private:
  struct MemberState {
    std::string id;
    std::string client_id;
    std::vector<std::string> topics;
    absl::Duration max_poll_interval;
    MemberSignals* signals = nullptr;
    std::vector<TopicPartition> target;
    std::set<TopicPartition> owned;
    // Eager assignors: must revoke everything before acquiring again.
    bool revoke_all = false;
  };
  struct Owner {
    std::string member;
    std::shared_ptr<core::Topic> topic;  // The incarnation it was acquired from.
  };
  struct Group {
    Assignor assignor = Assignor::kRange;
    int64_t generation = 0;
    std::map<std::string, MemberState> members;
    std::map<TopicPartition, Owner> owners;
    // The subscribed topics as of the last assignment, and the log's
    // topics_generation() then.
    std::map<std::string, std::shared_ptr<core::Topic>> topics;
    uint64_t topics_generation = 0;
  };

  Group* FindGroup(std::string_view group) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  MemberState* FindMember(Group* g, std::string_view member) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Rebalance(g, force): refreshes the topics and recomputes the target;
  // if it changed, or `force` (membership changed), starts a new generation
  // and tells every member to sync.
  void Rebalance(Group& g, bool force) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Current(g, tp): the topic incarnation `tp` would be acquired from, or
  // null if `tp` is in no subscribed topic.
  core::Topic* Current(const Group& g, const TopicPartition& tp) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void RemoveMember(Group& g, const std::string& id) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // EraseIfEmpty(name): drops a group with no members.
  void EraseIfEmpty(std::string_view name) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  static void Signal(const MemberState& m);
  // ExpireLocked(now_us): removes members past max_poll_interval.
  void ExpireLocked(int64_t now_us) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void ArmTimerLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void OnTimer();
  // Commits made by admin calls, for a group without members.
  absl::StatusOr<OffsetStore::Written> WriteForEmptyGroup(std::string_view group, OffsetMap offsets)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void SyncWritten(const absl::StatusOr<OffsetStore::Written>& written);
  int64_t NowMicros() const;

  core::LogState* const state_;

  Mutex mu_;
  OffsetStore store_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, Group, std::less<>> groups_ ABSL_GUARDED_BY(mu_);
  uint64_t next_member_ ABSL_GUARDED_BY(mu_) = 1;
  // When the earliest timer task armed is due (INT64_MAX: none).
  int64_t timer_due_us_ ABSL_GUARDED_BY(mu_) = INT64_MAX;
  std::atomic<int64_t> expiry_due_us_{INT64_MAX};
};

}  // namespace rill::group

#endif  // RILL_LIB_GROUP_COORDINATOR_H_
