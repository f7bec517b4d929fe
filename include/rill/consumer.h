// Consumer: reads records from partitions of a log's topics, in offset order
// per partition, as zero-copy views.
//
//   rill::Consumer consumer(*log, {.auto_offset_reset = rill::OffsetReset::kEarliest});
//   consumer.Subscribe({"orders"});
//   for (;;) {
//     absl::StatusOr<rill::ConsumerRecords> records = consumer.Poll(absl::Milliseconds(100));
//     if (!records.ok()) return records.status();
//     for (const rill::RecordView& r : *records) Handle(r.key(), r.value());
//   }
//
// A consumer either subscribes to topics (all their partitions, followed as
// topics are created and deleted) or is assigned partitions by hand. Without
// a group (see ConsumerOptions) its positions live only in memory.
//
// In a group (ConsumerOptions::group), Subscribe() joins the group, and the
// group's members share the subscribed topics' partitions: each partition
// is read by one member at a time. Rebalances run inside Poll, on the
// consumer's thread: a member first hands back the partitions it must give
// up (on_revoked, then an auto-commit), then takes those assigned to it
// that their previous owner has released (on_assigned), each from its
// committed offset. Committing in on_revoked and after processing each
// poll's records gives each record to exactly one member, once; with
// auto-commit alone, a record may be read again after a rebalance or a
// crash (at least once).
//
// Poll waits at the end of the log without spinning, woken by the next
// append, unless ConsumerOptions::busy_poll asks it to spin.
//
// Thread-safety: a Consumer is used by one thread at a time; Wakeup() may be
// called from any thread.
#ifndef RILL_CONSUMER_H_
#define RILL_CONSUMER_H_

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "rill/export.h"
#include "rill/group.h"
#include "rill/options.h"
#include "rill/record.h"
#include "rill/types.h"

namespace rill {

class Log;

namespace detail {

// One batch of a poll's result, its records already decompressed.
struct PolledBatch {
  const char* records = nullptr;
  const char* end = nullptr;
  RecordDecoder::BatchInfo info = {};
  const PartitionRef* partition = nullptr;
  int64_t min_offset = 0;     // Records before this offset are skipped.
  int32_t max_records = 0;    // Records yielded from this batch, at most.
};

// Where a ConsumerRecords iteration reports a malformed record.
struct PollErrorSlot {
  const char* error = nullptr;
  int64_t base_offset = -1;
  const PartitionRef* partition = nullptr;
};

}  // namespace detail

// ConsumerRecords: the records of one Poll, in offset order within each
// partition, as views into the log's memory. Valid until the consumer's next
// Poll, Seek, Close or destruction. Cheap to copy (it is a view).
class ConsumerRecords {
 public:
  class Iterator {
   public:
    using iterator_category = std::input_iterator_tag;
    using value_type = RecordView;
    using difference_type = std::ptrdiff_t;
    using pointer = const RecordView*;
    using reference = const RecordView&;

    Iterator() = default;
    const RecordView& operator*() const { return current_; }
    const RecordView* operator->() const { return &current_; }
    Iterator& operator++() {
      Advance();
      return *this;
    }
    void operator++(int) { Advance(); }
    friend bool operator==(const Iterator& a, const Iterator& b) { return a.batch_ == b.batch_; }

   private:
    friend class ConsumerRecords;
    Iterator(const detail::PolledBatch* batch, const detail::PolledBatch* end,
             detail::PollErrorSlot* error)
        : batch_(batch), end_(end), error_(error) {
      if (batch_ != end_) {
        Open();
        Advance();
      }
    }

    void Open() {
      decoder_ = detail::RecordDecoder(batch_->records, batch_->end, batch_->info);
      left_ = batch_->max_records;
    }

    // Moves to the next record to yield, or to end().
    void Advance() {
      while (batch_ != end_) {
        if (left_ > 0 && decoder_.Next(&current_)) {
          if (current_.offset() < batch_->min_offset) continue;
          --left_;
          detail::RecordDecoder::SetPartition(&current_, batch_->partition);
          return;
        }
        if (left_ > 0 && decoder_.error() != nullptr && error_->error == nullptr) {
          // A malformed record in a batch whose CRC held: stop yielding from
          // it; the consumer's next Poll reports it.
          *error_ = {decoder_.error(), batch_->info.base_offset, batch_->partition};
        }
        if (++batch_ != end_) Open();
      }
    }

    const detail::PolledBatch* batch_ = nullptr;
    const detail::PolledBatch* end_ = nullptr;
    detail::PollErrorSlot* error_ = nullptr;
    detail::RecordDecoder decoder_;
    int32_t left_ = 0;
    RecordView current_;
  };

  ConsumerRecords() = default;
  Iterator begin() const { return Iterator(batches_, batches_ + batch_count_, error_); }
  Iterator end() const {
    Iterator it;
    it.batch_ = batches_ + batch_count_;
    return it;
  }
  // size(): the number of records.
  size_t size() const { return record_count_; }
  bool empty() const { return record_count_ == 0; }

 private:
  friend class Consumer;
  ConsumerRecords(const detail::PolledBatch* batches, size_t batch_count, size_t record_count,
                  detail::PollErrorSlot* error)
      : batches_(batches), batch_count_(batch_count), record_count_(record_count), error_(error) {}

  const detail::PolledBatch* batches_ = nullptr;
  size_t batch_count_ = 0;
  size_t record_count_ = 0;
  detail::PollErrorSlot* error_ = nullptr;
};

class RILL_EXPORT Consumer {
 public:
  // Consumer(log, options): a consumer of `log`, which it may outlive (its
  // calls then fail with kFailedPrecondition).
  explicit Consumer(Log& log, const ConsumerOptions& options = {});
  ~Consumer();
  Consumer(const Consumer&) = delete;
  Consumer& operator=(const Consumer&) = delete;

  // Subscribe(topics): reads every partition of these topics, replacing any
  // earlier subscription or assignment. Topics that do not exist yet are
  // picked up when created. In a group, joins it (or changes this member's
  // subscription) and reads the partitions the group assigns it, from the
  // next Poll on. kInvalidArgument for an invalid topic name;
  // kFailedPrecondition when the group's members use another assignor.
  absl::Status Subscribe(const std::vector<std::string>& topics);

  // Assign(partitions): reads exactly these partitions, replacing any
  // subscription or assignment. kNotFound (unknown topic), kOutOfRange (no
  // such partition), kFailedPrecondition for a consumer in a group (the
  // group assigns its partitions).
  absl::Status Assign(const std::vector<TopicPartition>& partitions);

  // Unsubscribe(): reads nothing until the next Subscribe or Assign. In a
  // group: revokes its partitions (on_revoked, auto-commit) and leaves.
  void Unsubscribe();

  // Assignment(): the partitions currently read, sorted.
  std::vector<TopicPartition> Assignment() const;

  // Poll(timeout): the next records of the assigned partitions -- at most
  // max_poll_records -- waiting up to `timeout` for some to arrive. Empty
  // when none came in time. Positions move past the records returned. In a
  // group, first takes part in any rebalance (running the callbacks) and
  // auto-commits when due. Errors: kDataLoss (a damaged batch: nothing of it
  // is returned, the position stays on it), kFailedPrecondition (a
  // partition has no position and auto_offset_reset is kNone, the log is
  // closed, or called from a rebalance callback), kCancelled (Wakeup() was
  // called).
  absl::StatusOr<ConsumerRecords> Poll(absl::Duration timeout);

  // Commit(): commits the position of every partition this member reads --
  // the offset after the last record Poll returned -- and returns once the
  // commit is as durable as ConsumerOptions::commit_durability says.
  // Commit(offsets): commits these offsets instead; each partition must be
  // one this member reads. All or nothing. Errors: kFailedPrecondition (no
  // group; a partition this member does not read -- it was revoked, or the
  // member was removed for exceeding max_poll_interval, as Kafka's
  // CommitFailedException; the log is closed), kNotFound (topic deleted),
  // kInvalidArgument (a negative offset, a metadata string over 32767
  // bytes).
  absl::Status Commit();
  absl::Status Commit(const OffsetMap& offsets);

  // CommitAsync(callback) / CommitAsync(offsets, callback): as Commit, but
  // returns without waiting for the commit to be durable; `callback` (may be
  // null) then reports the result, on this consumer's thread, inside a later
  // Poll, Commit, CommitAsync or Close. Errors found at once are returned
  // and the callback is not called.
  absl::Status CommitAsync(CommitCallback callback = nullptr);
  absl::Status CommitAsync(const OffsetMap& offsets, CommitCallback callback = nullptr);

  // Committed(tp): the offset committed by this consumer's group for `tp`.
  // kNotFound if none; kFailedPrecondition without a group.
  absl::StatusOr<OffsetAndMetadata> Committed(const TopicPartition& tp) const;

  // member_id(): this consumer's member id in its group ("" when it is in
  // none, or has not subscribed).
  std::string member_id() const;

  // Seek(tp, offset): the next Poll reads `tp` from `offset`. An offset past
  // either end of the partition is treated per auto_offset_reset at the next
  // Poll. kFailedPrecondition if `tp` is not assigned.
  absl::Status Seek(const TopicPartition& tp, int64_t offset);
  // SeekToBeginning / SeekToEnd(partitions): to the first offset still in
  // the log / to the end. An empty list means every assigned partition.
  absl::Status SeekToBeginning(const std::vector<TopicPartition>& partitions = {});
  absl::Status SeekToEnd(const std::vector<TopicPartition>& partitions = {});
  // SeekToTime(timestamp_ms, partitions): to the first offset whose
  // record's timestamp is >= timestamp_ms (the end if none is).
  absl::Status SeekToTime(int64_t timestamp_ms, const std::vector<TopicPartition>& partitions = {});

  // Position(tp): the offset the next Poll reads from `tp`. For a partition
  // with no position yet, resolves it by auto_offset_reset.
  absl::StatusOr<int64_t> Position(const TopicPartition& tp);

  // Wakeup(): makes a Poll that is waiting, or the next one, return
  // kCancelled at once. The only method callable from another thread.
  void Wakeup();

  // Close(): in a group, revokes its partitions (on_revoked, auto-commit)
  // and leaves the group; releases the views of the last Poll; waits for
  // CommitAsync calls and runs their callbacks. Later calls fail with
  // kFailedPrecondition. The destructor closes a consumer not closed yet.
  absl::Status Close();

  class Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace rill

#endif  // RILL_CONSUMER_H_
