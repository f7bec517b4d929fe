// Member: a consumer's side of the group protocol. It runs inside its
// consumer's Poll (and Close, Subscribe, Unsubscribe), on the consumer's
// thread, so the rebalance callbacks run there:
//
//   Sync(host):
//     PlanSync         -- what must go (removed from the group? everything)
//     on_revoked(those), auto-commit them, host.Drop, Release
//     Acquire          -- targeted partitions nobody owns, with committed offsets
//     host.Take, on_assigned(those)
//     auto-commit when auto_commit_interval has passed
//
// A Poll with nothing to sync costs two atomic loads and a clock read.
//
// Thread-safety: used by its consumer's thread only; its async commits
// complete on the log's syncer thread, which hands their callbacks back.
#ifndef RILL_LIB_GROUP_MEMBER_H_
#define RILL_LIB_GROUP_MEMBER_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "core/group_hooks.h"
#include "group/coordinator.h"
#include "util/mutex.h"

namespace rill::group {

class Member final : public core::GroupMember {
 public:
  Member(std::shared_ptr<GroupCoordinator> coordinator, const ConsumerOptions& options,
         core::Waiter* waiter);
  // Leaves the group if still in it (without callbacks: Close runs them).
  ~Member() override;

  absl::Status Subscribe(const std::vector<std::string>& topics) override;
  void Unsubscribe(core::MemberHost& host) override;
  void PollStarted() override;
  void PollEnded() override;
  absl::Status Sync(core::MemberHost& host) override;
  bool NeedsSync() const override;
  bool InCallback() const override { return in_callback_; }
  absl::Status Commit(core::MemberHost& host, const OffsetMap* offsets) override;
  absl::Status CommitAsync(core::MemberHost& host, const OffsetMap* offsets,
                           CommitCallback callback) override;
  absl::StatusOr<OffsetAndMetadata> Committed(const TopicPartition& tp) const override;
  std::string member_id() const override { return member_id_; }
  void Close(core::MemberHost& host) override;

 private:
  // Async commits in flight, and the callbacks of those done; shared with
  // the syncer's callbacks, which may outlive the member.
  struct Async {
    Mutex mu;
    CondVar all_done;  // Signalled when in_flight drops to 0.
    int in_flight ABSL_GUARDED_BY(mu) = 0;
    std::vector<std::function<void()>> done ABSL_GUARDED_BY(mu);
  };

  absl::StatusOr<std::string> JoinGroup();
  // Revoke(host, partitions): on_revoked, auto-commit, Drop, Release.
  void Revoke(core::MemberHost& host, const std::vector<TopicPartition>& partitions,
              int64_t generation);
  // LeaveGroup(host): revokes everything and leaves.
  void LeaveGroup(core::MemberHost& host);
  void CallBack(const PartitionsCallback& callback, const std::vector<TopicPartition>& partitions);
  // OffsetsToCommit(host, offsets, only): `offsets`, or else the host's
  // positions (of `only`'s partitions, if given; those unchanged since this
  // member's last commit left out when `changed_only`).
  OffsetMap OffsetsToCommit(core::MemberHost& host, const OffsetMap* offsets,
                            const std::vector<TopicPartition>* only, bool changed_only) const;
  // Write(offsets, positions): commits; returns where it wrote.
  absl::StatusOr<OffsetStore::Written> Write(const OffsetMap& offsets, bool positions);
  void AutoCommit(core::MemberHost& host, const std::vector<TopicPartition>* only,
                  const char* when);
  void Completed(std::function<void()> callback);
  void RunCompletedCallbacks();

  const std::shared_ptr<GroupCoordinator> coordinator_;
  core::LogState* const state_;
  const std::string group_;
  const ConsumerOptions options_;
  MemberSignals signals_;
  std::string member_id_;  // Empty while not in the group.
  // Removed from the group and not yet back in (joining again failed).
  bool rejoin_ = false;
  std::vector<std::string> topics_;
  uint64_t seen_topics_generation_ = 0;
  int64_t next_auto_commit_us_ = 0;
  // The offset this member last committed, or acquired, per partition.
  std::map<TopicPartition, int64_t> committed_;
  bool in_callback_ = false;
  const std::shared_ptr<Async> async_ = std::make_shared<Async>();
};

}  // namespace rill::group

#endif  // RILL_LIB_GROUP_MEMBER_H_
