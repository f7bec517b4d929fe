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
  // picked up when created. kInvalidArgument for an invalid topic name.
  absl::Status Subscribe(const std::vector<std::string>& topics);

  // Assign(partitions): reads exactly these partitions, replacing any
  // subscription or assignment. kNotFound (unknown topic), kOutOfRange (no
  // such partition).
  absl::Status Assign(const std::vector<TopicPartition>& partitions);

  // Unsubscribe(): reads nothing until the next Subscribe or Assign.
  void Unsubscribe();

  // Assignment(): the partitions currently read, sorted.
  std::vector<TopicPartition> Assignment() const;

  // Poll(timeout): the next records of the assigned partitions -- at most
  // max_poll_records -- waiting up to `timeout` for some to arrive. Empty
  // when none came in time. Positions move past the records returned.
  // Errors: kDataLoss (a damaged batch: nothing of it is returned, the
  // position stays on it; see docs/RELIABILITY.md), kFailedPrecondition (a
  // partition has no position and auto_offset_reset is kNone, or the log is
  // closed), kCancelled (Wakeup() was called).
  absl::StatusOr<ConsumerRecords> Poll(absl::Duration timeout);

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

  // Close(): releases the views of the last Poll; later calls fail with
  // kFailedPrecondition.
  absl::Status Close();

  class Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace rill

#endif  // RILL_CONSUMER_H_
