// Consumer::Impl: the consumer's state -- assignment, positions, the last
// poll's batches -- shared by consumer.cc (assignment, fetch, wait) and
// consumer_group.cc (commits, and the host side of a group membership).
//
// Thread-safety: as Consumer: one thread at a time; Wakeup() from any.
#ifndef RILL_LIB_CORE_CONSUMER_IMPL_H_
#define RILL_LIB_CORE_CONSUMER_IMPL_H_

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/group_hooks.h"
#include "core/log_state.h"
#include "core/notifier.h"
#include "format/batch_reader.h"
#include "rill/consumer.h"

namespace rill {

class Consumer::Impl final : public core::MemberHost {
 public:
  Impl(std::shared_ptr<core::LogState> state, const ConsumerOptions& options);
  ~Impl() override;

  absl::Status Subscribe(const std::vector<std::string>& topics);
  absl::Status Assign(const std::vector<TopicPartition>& partitions);
  void Unsubscribe();
  std::vector<TopicPartition> Assignment() const;
  absl::StatusOr<ConsumerRecords> Poll(absl::Duration timeout);
  absl::Status Seek(const TopicPartition& tp, int64_t offset);
  absl::Status SeekEach(const std::vector<TopicPartition>& partitions,
                        const std::function<absl::StatusOr<int64_t>(const PartitionLog&)>& to);
  absl::StatusOr<int64_t> Position(const TopicPartition& tp);
  void Wakeup() {
    wakeup_.store(true, std::memory_order_release);
    waiter_.Wake();
  }
  absl::Status Close();
  bool closed() const { return closed_; }

  // Groups (consumer_group.cc).
  absl::Status Commit(const OffsetMap* offsets);
  absl::Status CommitAsync(const OffsetMap* offsets, CommitCallback callback);
  absl::StatusOr<OffsetAndMetadata> Committed(const TopicPartition& tp) const;
  std::string member_id() const { return member_ != nullptr ? member_->member_id() : ""; }

  // core::MemberHost.
  std::vector<std::pair<TopicPartition, int64_t>> Positions() const override;
  void Drop(const std::vector<TopicPartition>& partitions) override;
  void Take(std::vector<core::AcquiredPartition> partitions) override;

 private:
  using Partition = core::Partition;
  using Topic = core::Topic;

  struct Assigned {
    std::shared_ptr<Topic> topic;
    Partition* partition = nullptr;
    int64_t position = kNoOffset;
    // Where the batch holding `position` starts, if the last fetch saw it.
    ReadHint hint;
  };

  absl::Status CheckOpen() const;
  // CheckNotInCallback(call): kFailedPrecondition inside a rebalance
  // callback, where `call` is not allowed.
  absl::Status CheckNotInCallback(const char* call) const;
  absl::StatusOr<ConsumerRecords> PollLoop(absl::Duration timeout);
  void SetAssignment(std::vector<Assigned> next);
  void ClearAssignment() { SetAssignment({}); }
  void Refresh();
  Assigned* Find(const TopicPartition& tp);
  // Resolve(a, start, end): a position for `a` per auto_offset_reset.
  absl::StatusOr<int64_t> Reset(const Assigned& a) const;
  // Fetch(): fills batches_ from the assigned partitions; returns the number
  // of records it will yield.
  absl::StatusOr<size_t> Fetch();
  absl::Status FetchPartition(Assigned& a, size_t* records_left, size_t* bytes_left,
                              size_t* records);
  bool AnyDataAvailable() const;
  // Interrupted(): whether a wait at the end of the partitions should end
  // with no data: Wakeup() was called, the log closed, or the partitions to
  // read changed.
  bool Interrupted() const;
  void Wait(absl::Time deadline);
  void ReleasePoll();

  const std::shared_ptr<core::LogState> state_;
  const ConsumerOptions options_;
  bool closed_ = false;

  bool subscribed_ = false;
  std::vector<std::string> subscription_;
  uint64_t generation_ = 0;
  std::vector<Assigned> assigned_;  // Sorted by topic name, then partition.
  size_t next_ = 0;                 // Partition to fetch from first.

  core::Waiter waiter_;
  std::atomic<bool> wakeup_{false};
  // The consumer's membership of options_.group; null without a group.
  // After waiter_, which it uses: destroyed first.
  std::unique_ptr<core::GroupMember> member_;

  // What the last Poll returned, alive until the next.
  std::vector<ReadResult> held_;
  BatchReader reader_;
  std::vector<detail::PolledBatch> batches_;
  detail::PollErrorSlot error_;
  // Fetch's copy of the positions, kept to spare an allocation per poll.
  std::vector<int64_t> saved_positions_;
};

}  // namespace rill

#endif  // RILL_LIB_CORE_CONSUMER_IMPL_H_
