// Consumer: assignment, positions, the fetch that turns partition reads into
// a list of batches for ConsumerRecords to iterate, and the wait at the end.
//
// A Poll reads whole batches from the partitions' mappings (no copy),
// decompresses those that need it into the consumer's buffers, and records
// for each batch which of its records to yield. The segments read stay
// mapped until the next Poll, through the ReadResults held here.
#include "rill/consumer.h"

#include <algorithm>
#include <optional>

#include "absl/strings/str_cat.h"
#include "core/consumer_impl.h"
#include "core/log_state.h"
#include "core/topic_name.h"
#include "format/batch_reader.h"
#include "rill/log.h"
#include "util/cpu.h"
#include "util/status_macros.h"
#include "util/strings.h"

namespace rill {

using core::Partition;
using core::Topic;

Consumer::Impl::Impl(std::shared_ptr<core::LogState> state, const ConsumerOptions& options)
    : state_(std::move(state)), options_(options) {
  state_->changes().Register(&waiter_);
  if (!options_.group.empty()) member_ = state_->groups()->NewMember(options_, &waiter_);
}

Consumer::Impl::~Impl() {
  member_.reset();
  ClearAssignment();
  state_->changes().Unregister(&waiter_);
}

absl::Status Consumer::Impl::CheckOpen() const {
  if (closed_) return absl::FailedPreconditionError("the consumer is closed");
  return state_->CheckOpen();
}

void Consumer::Impl::SetAssignment(std::vector<Assigned> next) {
  std::sort(next.begin(), next.end(), [](const Assigned& a, const Assigned& b) {
    return std::make_pair(a.topic->name(), a.partition->id()) <
           std::make_pair(b.topic->name(), b.partition->id());
  });
  for (Assigned& n : next) {
    auto it = std::find_if(assigned_.begin(), assigned_.end(),
                           [&](const Assigned& a) { return a.partition == n.partition; });
    if (it != assigned_.end()) {
      n.position = it->position;  // Kept partitions keep their positions.
      n.hint = it->hint;
    } else {
      n.partition->notifier().Register(&waiter_);
    }
  }
  for (const Assigned& a : assigned_) {
    if (std::none_of(next.begin(), next.end(),
                     [&](const Assigned& n) { return n.partition == a.partition; })) {
      a.partition->notifier().Unregister(&waiter_);
    }
  }
  assigned_ = std::move(next);
  next_ = 0;
}

void Consumer::Impl::Refresh() {
  if (member_ != nullptr) return;  // The group assigns (Poll syncs).
  if (!subscribed_) {
    // Drop partitions of deleted topics.
    if (std::any_of(assigned_.begin(), assigned_.end(),
                    [](const Assigned& a) { return a.topic->deleted(); })) {
      std::vector<Assigned> next;
      for (const Assigned& a : assigned_) {
        if (!a.topic->deleted()) next.push_back(a);
      }
      SetAssignment(std::move(next));
    }
    return;
  }
  const uint64_t generation = state_->topics_generation();
  if (generation == generation_) return;
  generation_ = generation;
  std::vector<Assigned> next;
  for (const std::string& name : subscription_) {
    absl::StatusOr<std::shared_ptr<Topic>> topic = state_->FindTopic(name);
    if (!topic.ok()) continue;  // Not created yet, or deleted.
    for (int32_t p = 0; p < (*topic)->partition_count(); ++p) {
      next.push_back(Assigned{*topic, (*topic)->partition(p), kNoOffset, {}});
    }
  }
  SetAssignment(std::move(next));
}

absl::Status Consumer::Impl::Subscribe(const std::vector<std::string>& topics) {
  RETURN_IF_ERROR(CheckOpen());
  RETURN_IF_ERROR(CheckNotInCallback("Subscribe"));
  for (const std::string& t : topics) RETURN_IF_ERROR(core::ValidateTopicName(t));
  std::vector<std::string> sorted = topics;
  std::sort(sorted.begin(), sorted.end());
  sorted.erase(std::unique(sorted.begin(), sorted.end()), sorted.end());
  if (member_ != nullptr) {
    if (sorted.empty()) {
      Unsubscribe();
      return absl::OkStatus();
    }
    RETURN_IF_ERROR(member_->Subscribe(sorted));
    subscription_ = std::move(sorted);
    subscribed_ = true;
    return absl::OkStatus();
  }
  subscription_ = std::move(sorted);
  subscribed_ = true;
  generation_ = state_->topics_generation() - 1;  // Forces a refresh.
  Refresh();
  return absl::OkStatus();
}

absl::Status Consumer::Impl::Assign(const std::vector<TopicPartition>& partitions) {
  RETURN_IF_ERROR(CheckOpen());
  if (member_ != nullptr) {
    return absl::FailedPreconditionError(
        absl::StrCat("the consumer is in group ", options_.group,
                     ", which assigns its partitions: Subscribe instead"));
  }
  std::vector<Assigned> next;
  for (const TopicPartition& tp : partitions) {
    std::shared_ptr<Topic> topic;
    ASSIGN_OR_RETURN(Partition * partition, state_->FindPartition(tp, &topic));
    if (std::none_of(next.begin(), next.end(),
                     [&](const Assigned& a) { return a.partition == partition; })) {
      next.push_back(Assigned{std::move(topic), partition, kNoOffset, {}});
    }
  }
  subscribed_ = false;
  subscription_.clear();
  SetAssignment(std::move(next));
  return absl::OkStatus();
}

void Consumer::Impl::Unsubscribe() {
  if (member_ != nullptr) {
    if (closed_ || member_->InCallback()) return;
    member_->Unsubscribe(*this);
  }
  subscribed_ = false;
  subscription_.clear();
  ClearAssignment();
}

std::vector<TopicPartition> Consumer::Impl::Assignment() const {
  std::vector<TopicPartition> out;
  for (const Assigned& a : assigned_) out.push_back({a.topic->name(), a.partition->id()});
  return out;
}

Consumer::Impl::Assigned* Consumer::Impl::Find(const TopicPartition& tp) {
  for (Assigned& a : assigned_) {
    if (a.partition->id() == tp.partition && a.topic->name() == tp.topic) return &a;
  }
  return nullptr;
}

absl::StatusOr<int64_t> Consumer::Impl::Reset(const Assigned& a) const {
  const PartitionLog& log = a.partition->log();
  switch (options_.auto_offset_reset) {
    case OffsetReset::kEarliest:
      return log.start_offset();
    case OffsetReset::kLatest:
      return log.end_offset();
    case OffsetReset::kNone:
      break;
  }
  return absl::FailedPreconditionError(absl::StrCat(
      "partition ", a.topic->name(), "-", a.partition->id(),
      a.position == kNoOffset ? " has no position" : " position is out of range",
      " and auto_offset_reset is kNone"));
}

bool Consumer::Impl::AnyDataAvailable() const {
  for (const Assigned& a : assigned_) {
    if (a.position == kNoOffset || a.position != a.partition->log().end_offset()) return true;
  }
  return false;
}

bool Consumer::Impl::Interrupted() const {
  if (wakeup_.load(std::memory_order_acquire) || state_->closed()) return true;
  if (member_ != nullptr) return member_->NeedsSync();
  if (subscribed_) return state_->topics_generation() != generation_;
  return std::any_of(assigned_.begin(), assigned_.end(),
                     [](const Assigned& a) { return a.topic->deleted(); });
}

void Consumer::Impl::ReleasePoll() {
  held_.clear();
  reader_.Clear();
  batches_.clear();
}

absl::Status Consumer::Impl::FetchPartition(Assigned& a, size_t* records_left,
                                            size_t* bytes_left, size_t* records) {
  PartitionLog& log = a.partition->log();
  if (a.position == kNoOffset) {
    ASSIGN_OR_RETURN(a.position, Reset(a));
  }
  // Take nothing at or past the log's published end. An append makes its
  // batch visible in the segment a moment before it moves the end offset;
  // a position past the end would make the next Read fail with kOutOfRange,
  // which is taken for a seek too far and resets the position -- to the
  // start of the partition with kEarliest, re-delivering everything.
  const int64_t end = log.end_offset();
  if (a.position == end) return absl::OkStatus();
  absl::StatusOr<ReadResult> read = log.Read(a.position, std::max<size_t>(*bytes_left, 1), a.hint);
  if (absl::IsOutOfRange(read.status())) {
    // The position fell out of the log (retention, or a seek too far).
    ASSIGN_OR_RETURN(a.position, Reset(a));
    read = log.Read(a.position, std::max<size_t>(*bytes_left, 1));
  }
  RETURN_IF_ERROR(read.status());
  std::span<const char> bytes = read->batches;
  int64_t position = a.position;
  // The segment position of the first batch not wholly taken: the one
  // holding `position` when the loop ends (see ReadHint).
  uint64_t at = read->position();
  bool used = false;
  while (!bytes.empty() && *records_left > 0) {
    // Read() returned whole, checked batches.
    const BatchHeader h = DecodeBatchHeader(bytes.data());
    if (h.base_offset >= end) break;  // Appended, not yet published.
    const std::span<const char> batch = bytes.first(h.size());
    bytes = bytes.subspan(h.size());
    if (h.last_offset() < position || h.control() || h.records_count == 0) {
      position = std::max(position, h.last_offset() + 1);
      at += h.size();
      continue;
    }
    ASSIGN_OR_RETURN(std::span<const char> body, reader_.Records(batch, h));
    const detail::RecordDecoder::BatchInfo info = DecoderInfo(h);
    // Records at or after `position`, and the offset after the last one
    // taken. Dense batches (no compaction gaps) need no decoding for this.
    int64_t available = 0;
    int64_t next_position = h.last_offset() + 1;
    const size_t take_limit = *records_left;
    if (h.records_count == h.last_offset_delta + 1) {
      available = h.last_offset() - std::max(position, h.base_offset) + 1;
      if (static_cast<size_t>(available) > take_limit) {
        next_position = std::max(position, h.base_offset) + static_cast<int64_t>(take_limit);
      }
    } else {
      detail::RecordDecoder decoder(body.data(), body.data() + body.size(), info);
      RecordView r;
      while (decoder.Next(&r)) {
        if (r.offset() < position) continue;
        if (static_cast<size_t>(available) == take_limit) {
          next_position = r.offset();
          break;
        }
        ++available;
      }
      if (decoder.error() != nullptr) return RecordError(decoder, h);
    }
    const size_t take = std::min<size_t>(static_cast<size_t>(available), take_limit);
    batches_.push_back(detail::PolledBatch{.records = body.data(),
                                           .end = body.data() + body.size(),
                                           .info = info,
                                           .partition = a.partition->ref(),
                                           .min_offset = position,
                                           .max_records = static_cast<int32_t>(take)});
    used = true;
    *records += take;
    *records_left -= take;
    *bytes_left -= std::min(*bytes_left, h.size());
    position = next_position;
    if (position > h.last_offset()) at += h.size();
  }
  if (read->segment != nullptr) {
    a.hint = ReadHint{.segment_id = read->segment->id(), .position = at, .offset = position};
  }
  if (used) held_.push_back(*std::move(read));
  a.position = position;
  return absl::OkStatus();
}

absl::StatusOr<size_t> Consumer::Impl::Fetch() {
  size_t records_left = static_cast<size_t>(std::max(options_.max_poll_records, 1));
  size_t bytes_left = static_cast<size_t>(std::max(options_.max_poll_bytes, 1));
  size_t records = 0;
  const size_t n = assigned_.size();
  // Positions move only if the whole fetch succeeds.
  std::vector<int64_t>& saved = saved_positions_;  // Kept: no allocation per poll.
  saved.resize(n);
  for (size_t i = 0; i < n; ++i) saved[i] = assigned_[i].position;
  for (size_t k = 0; k < n && records_left > 0 && bytes_left > 0; ++k) {
    Assigned& a = assigned_[(next_ + k) % n];
    if (a.topic->deleted()) continue;
    const size_t batch_count = batches_.size();
    const size_t records_before = records;
    const size_t records_left_before = records_left;
    const size_t bytes_left_before = bytes_left;
    absl::Status s = FetchPartition(a, &records_left, &bytes_left, &records);
    if (!s.ok() && a.topic->deleted()) {
      // The topic went while we read it (its partitions are closed): skip
      // it; the next Refresh drops it.
      batches_.resize(batch_count);
      records = records_before;
      records_left = records_left_before;
      bytes_left = bytes_left_before;
      continue;
    }
    if (!s.ok()) {
      for (size_t i = 0; i < n; ++i) assigned_[i].position = saved[i];
      ReleasePoll();
      return s;
    }
  }
  if (n > 0) next_ = (next_ + 1) % n;
  return records;
}

void Consumer::Impl::Wait(absl::Time deadline) {
  const absl::Time now = absl::Now();
  if (now >= deadline) return;
  // While it waits, this consumer has time to map the pages the next
  // records will land in, where no writer maps them: then it does not
  // fault them in once they have come.
  for (const Assigned& a : assigned_) a.partition->log().WarmTail();
  if (options_.busy_poll > absl::ZeroDuration()) {
    const absl::Time spin_end = std::min(deadline, options_.busy_poll == absl::InfiniteDuration()
                                                       ? absl::InfiniteFuture()
                                                       : now + options_.busy_poll);
    uint32_t spins = 0;
    while (!AnyDataAvailable() && !Interrupted()) {
      CpuRelax();
      // Reading the clock costs more than a pause: check it now and then.
      if ((++spins & 255) == 0 && absl::Now() >= spin_end) break;
    }
    if (AnyDataAvailable() || Interrupted() || absl::Now() >= deadline) return;
  }
  core::Notifier& changes = state_->changes();
  changes.AddSleeper();
  for (const Assigned& a : assigned_) a.partition->notifier().AddSleeper();
  const uint32_t word = waiter_.Prepare();
  if (!AnyDataAvailable() && !Interrupted()) waiter_.Wait(word, deadline - absl::Now());
  waiter_.Finish();
  for (const Assigned& a : assigned_) a.partition->notifier().RemoveSleeper();
  changes.RemoveSleeper();
}

absl::StatusOr<ConsumerRecords> Consumer::Impl::Poll(absl::Duration timeout) {
  RETURN_IF_ERROR(CheckNotInCallback("Poll"));
  if (member_ == nullptr) return PollLoop(timeout);
  member_->PollStarted();
  absl::StatusOr<ConsumerRecords> records = PollLoop(timeout);
  member_->PollEnded();
  return records;
}

absl::StatusOr<ConsumerRecords> Consumer::Impl::PollLoop(absl::Duration timeout) {
  ReleasePoll();
  RETURN_IF_ERROR(CheckOpen());
  if (error_.error != nullptr) {
    // The last poll's iteration met a malformed record: report it, and put
    // the partition back at the damaged batch.
    const detail::PollErrorSlot e = error_;
    error_ = {};
    if (Assigned* a = Find({std::string(e.partition->topic), e.partition->partition})) {
      a->position = e.base_offset;
    }
    return absl::DataLossError(absl::StrCat("partition ", ToAbsl(e.partition->topic), "-",
                                            e.partition->partition, ", batch at offset ",
                                            e.base_offset, ": ", e.error));
  }
  // The clock is read only once a fetch has come back empty: a poll that
  // finds records at once (the busy consumer's case) never reads it.
  std::optional<absl::Time> deadline;
  for (;;) {
    if (wakeup_.exchange(false, std::memory_order_acq_rel)) {
      return absl::CancelledError("Consumer::Wakeup() was called");
    }
    RETURN_IF_ERROR(CheckOpen());
    if (member_ != nullptr) {
      RETURN_IF_ERROR(member_->Sync(*this));
    } else {
      Refresh();
    }
    ASSIGN_OR_RETURN(const size_t records, Fetch());
    if (records > 0) return ConsumerRecords(batches_.data(), batches_.size(), records, &error_);
    ReleasePoll();
    if (timeout <= absl::ZeroDuration()) return ConsumerRecords();
    const absl::Time now = absl::Now();
    if (!deadline.has_value()) {
      deadline = timeout == absl::InfiniteDuration() ? absl::InfiniteFuture() : now + timeout;
    } else if (now >= *deadline) {
      return ConsumerRecords();
    }
    Wait(*deadline);
  }
}

absl::Status Consumer::Impl::Seek(const TopicPartition& tp, int64_t offset) {
  RETURN_IF_ERROR(CheckOpen());
  Assigned* a = Find(tp);
  if (a == nullptr) {
    return absl::FailedPreconditionError(
        absl::StrCat("partition ", tp.topic, "-", tp.partition, " is not assigned"));
  }
  a->position = offset < 0 ? kNoOffset : offset;
  return absl::OkStatus();
}

absl::Status Consumer::Impl::SeekEach(
    const std::vector<TopicPartition>& partitions,
    const std::function<absl::StatusOr<int64_t>(const PartitionLog&)>& to) {
  RETURN_IF_ERROR(CheckOpen());
  Refresh();
  std::vector<Assigned*> targets;
  if (partitions.empty()) {
    for (Assigned& a : assigned_) targets.push_back(&a);
  } else {
    for (const TopicPartition& tp : partitions) {
      Assigned* a = Find(tp);
      if (a == nullptr) {
        return absl::FailedPreconditionError(
            absl::StrCat("partition ", tp.topic, "-", tp.partition, " is not assigned"));
      }
      targets.push_back(a);
    }
  }
  std::vector<int64_t> offsets;
  for (Assigned* a : targets) {
    ASSIGN_OR_RETURN(int64_t offset, to(a->partition->log()));
    offsets.push_back(offset);
  }
  for (size_t i = 0; i < targets.size(); ++i) targets[i]->position = offsets[i];
  return absl::OkStatus();
}

absl::StatusOr<int64_t> Consumer::Impl::Position(const TopicPartition& tp) {
  RETURN_IF_ERROR(CheckOpen());
  Refresh();
  Assigned* a = Find(tp);
  if (a == nullptr) {
    return absl::FailedPreconditionError(
        absl::StrCat("partition ", tp.topic, "-", tp.partition, " is not assigned"));
  }
  if (a->position == kNoOffset) {
    ASSIGN_OR_RETURN(a->position, Reset(*a));
  }
  return a->position;
}

absl::Status Consumer::Impl::Close() {
  if (closed_) return absl::FailedPreconditionError("the consumer is closed");
  RETURN_IF_ERROR(CheckNotInCallback("Close"));
  ReleasePoll();
  if (member_ != nullptr) member_->Close(*this);
  ClearAssignment();
  closed_ = true;
  return absl::OkStatus();
}

Consumer::Consumer(Log& log, const ConsumerOptions& options)
    : impl_(std::make_unique<Impl>(log.state(), options)) {}

Consumer::~Consumer() {
  // Closing runs the group's callbacks while the consumer is whole.
  if (!impl_->closed()) (void)impl_->Close();
}

absl::Status Consumer::Subscribe(const std::vector<std::string>& topics) {
  return impl_->Subscribe(topics);
}

absl::Status Consumer::Assign(const std::vector<TopicPartition>& partitions) {
  return impl_->Assign(partitions);
}

void Consumer::Unsubscribe() { impl_->Unsubscribe(); }

std::vector<TopicPartition> Consumer::Assignment() const { return impl_->Assignment(); }

absl::StatusOr<ConsumerRecords> Consumer::Poll(absl::Duration timeout) {
  return impl_->Poll(timeout);
}

absl::Status Consumer::Seek(const TopicPartition& tp, int64_t offset) {
  return impl_->Seek(tp, offset);
}

absl::Status Consumer::SeekToBeginning(const std::vector<TopicPartition>& partitions) {
  return impl_->SeekEach(partitions, [](const PartitionLog& log) -> absl::StatusOr<int64_t> {
    return log.start_offset();
  });
}

absl::Status Consumer::SeekToEnd(const std::vector<TopicPartition>& partitions) {
  return impl_->SeekEach(partitions, [](const PartitionLog& log) -> absl::StatusOr<int64_t> {
    return log.end_offset();
  });
}

absl::Status Consumer::SeekToTime(int64_t timestamp_ms,
                                  const std::vector<TopicPartition>& partitions) {
  return impl_->SeekEach(partitions, [timestamp_ms](const PartitionLog& log) {
    return log.OffsetForTimestamp(timestamp_ms);
  });
}

absl::StatusOr<int64_t> Consumer::Position(const TopicPartition& tp) {
  return impl_->Position(tp);
}

void Consumer::Wakeup() { impl_->Wakeup(); }

absl::Status Consumer::Commit() { return impl_->Commit(nullptr); }

absl::Status Consumer::Commit(const OffsetMap& offsets) { return impl_->Commit(&offsets); }

absl::Status Consumer::CommitAsync(CommitCallback callback) {
  return impl_->CommitAsync(nullptr, std::move(callback));
}

absl::Status Consumer::CommitAsync(const OffsetMap& offsets, CommitCallback callback) {
  return impl_->CommitAsync(&offsets, std::move(callback));
}

absl::StatusOr<OffsetAndMetadata> Consumer::Committed(const TopicPartition& tp) const {
  return impl_->Committed(tp);
}

std::string Consumer::member_id() const { return impl_->member_id(); }

absl::Status Consumer::Close() { return impl_->Close(); }

}  // namespace rill
