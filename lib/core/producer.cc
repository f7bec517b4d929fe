// Producer: partition choice, per-partition batching, durability.
//
// Each partition a producer writes to has a pending batch (a BatchBuilder
// whose buffers are reused). SendAsync adds to it; the batch is appended when
// the next record would not fit, when it has lingered `linger`, or on Flush.
// Send appends the pending batch, then its own record as a batch of one.
// Appends happen under the producer's mutex, so one producer's batches reach
// a partition in order; callbacks run after the mutex is released.
#include "rill/producer.h"

#include <sys/random.h>

#include <chrono>
#include <map>
#include <random>

#include "absl/strings/str_cat.h"
#include "core/log_state.h"
#include "core/syncer.h"
#include "format/batch_builder.h"
#include "format/batch_format.h"
#include "rill/group.h"
#include "rill/log.h"
#include "rill/partitioner.h"
#include "util/status_macros.h"
#include "util/strings.h"
#include "util/timer.h"

namespace rill {

using core::Partition;
using core::Topic;

namespace {

// ForTopic(s, topic): `s`, or kNotFound when `topic` was deleted under the
// operation that failed.
absl::Status ForTopic(absl::Status s, const Topic& topic) {
  if (s.ok() || !topic.deleted()) return s;
  return absl::NotFoundError(absl::StrCat("topic ", topic.name(), " was deleted"));
}

// StickySeed(): a seed for the choice of sticky partitions, which must
// differ between producers but need not be secret. (std::random_device cost
// 16-21 us a producer on a virtual machine, where its CPUID check traps to
// the hypervisor; getrandom costs under 1 us.)
uint32_t StickySeed() {
  uint32_t seed;
  if (getrandom(&seed, sizeof(seed), GRND_NONBLOCK) == sizeof(seed)) return seed;
  // No entropy yet, early in boot: the clock differs between producers too.
  const auto now = std::chrono::steady_clock::now().time_since_epoch().count();
  return static_cast<uint32_t>(static_cast<uint64_t>(now) * 0x9E3779B97F4A7C15u >> 32);
}

}  // namespace

class Producer::Impl : public std::enable_shared_from_this<Producer::Impl> {
 public:
  Impl(std::shared_ptr<core::LogState> state, const ProducerOptions& options)
      : state_(std::move(state)), options_(options) {}

  void Register() {
    std::weak_ptr<Impl> weak = weak_from_this();
    flusher_id_ = state_->AddFlusher([weak]() -> absl::Status {
      std::shared_ptr<Impl> self = weak.lock();
      return self != nullptr ? self->Flush() : absl::OkStatus();
    });
  }
  void Unregister() { state_->RemoveFlusher(flusher_id_); }

  absl::StatusOr<RecordPosition> Send(std::string_view topic_name, const Record& record);
  absl::Status SendAsync(std::string_view topic_name, const Record& record, SendCallback callback);
  absl::Status Flush();
  absl::Status Close();
  const ProducerOptions& options() const { return options_; }

 private:
  // A batch being filled for one partition.
  struct Pending {
    std::shared_ptr<Topic> topic;
    Partition* partition = nullptr;
    std::unique_ptr<BatchBuilder> builder;
    // Callbacks of the batch's records, by record index, with timestamps.
    std::vector<std::pair<int32_t, SendCallback>> callbacks;
    std::vector<int64_t> timestamps;
    int64_t first_us = 0;
  };
  // What became of one appended batch, handled after the mutex is released.
  struct Completion {
    absl::StatusOr<AppendResult> result;
    std::shared_ptr<Topic> topic;
    Partition* partition = nullptr;
    std::vector<std::pair<int32_t, SendCallback>> callbacks;
    std::vector<int64_t> timestamps;
  };

  absl::Status CheckOpen() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // FindTopic(name): the topic, kept alive by last_topic_.
  absl::StatusOr<Topic*> FindTopic(std::string_view name) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::StatusOr<Pending*> Route(std::string_view topic_name, const Record& record)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // CheckSize(p, record_size): kInvalidArgument if a record of record_size
  // bytes (EncodedRecordSize) could not fit a batch of p's topic.
  absl::Status CheckSize(const Pending& p, size_t record_size) const;
  size_t BatchLimit(const Topic& topic) const;
  // AppendLocked(p, tracked, now_ms): appends p's batch. A tracked
  // completion counts as outstanding until Complete() has run its callbacks;
  // Flush waits for it, wherever that happens. `now_ms`: the clock as the
  // caller just read it, or -1 (see PartitionLog::Append).
  Completion AppendLocked(Pending* p, bool tracked = true, int64_t now_ms = -1)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Complete(std::vector<Completion> completions);
  void Done();
  void RunCallbacks(Completion& c, const absl::Status& sync_status);
  void ArmTimer(int64_t when_us) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void FlushDue();
  void NoteError(const absl::Status& s);

  const std::shared_ptr<core::LogState> state_;
  const ProducerOptions options_;
  uint64_t flusher_id_ = 0;

  Mutex mu_;
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
  std::map<Partition*, Pending> pending_ ABSL_GUARDED_BY(mu_);
  std::map<const Topic*, int32_t> sticky_ ABSL_GUARDED_BY(mu_);
  std::minstd_rand rng_ ABSL_GUARDED_BY(mu_){StickySeed()};
  std::shared_ptr<Topic> last_topic_ ABSL_GUARDED_BY(mu_);
  // The entry of pending_ routed to last (entries stay put until Close;
  // whatever erases one must clear this too).
  Pending* last_pending_ ABSL_GUARDED_BY(mu_) = nullptr;
  bool timer_armed_ ABSL_GUARDED_BY(mu_) = false;

  // Tracked completions whose callbacks have not run yet; the first error
  // met since the last Flush.
  Mutex outstanding_mu_;
  CondVar outstanding_done_;  // Signalled when outstanding_ drops to 0.
  int outstanding_ ABSL_GUARDED_BY(outstanding_mu_) = 0;
  absl::Status first_error_ ABSL_GUARDED_BY(outstanding_mu_);
};

absl::Status Producer::Impl::CheckOpen() const {
  if (closed_) return absl::FailedPreconditionError("the producer is closed");
  return state_->CheckOpen();
}

absl::StatusOr<Topic*> Producer::Impl::FindTopic(std::string_view name) {
  if (last_topic_ == nullptr || last_topic_->name() != name || last_topic_->deleted()) {
    if (name == kConsumerOffsetsTopic) {
      // Its records are Kafka's offset-commit records, written by the groups'
      // coordinator only: anything else there would be taken for offsets.
      return absl::InvalidArgumentError(absl::StrCat(
          kConsumerOffsetsTopic, " is written by consumer groups only (Consumer::Commit)"));
    }
    ASSIGN_OR_RETURN(last_topic_, state_->FindOrCreateTopic(name));
  }
  return last_topic_.get();
}

size_t Producer::Impl::BatchLimit(const Topic& topic) const {
  return std::min<size_t>(static_cast<size_t>(std::max(options_.batch_bytes, 1)),
                          static_cast<size_t>(topic.max_message_bytes()));
}

absl::StatusOr<Producer::Impl::Pending*> Producer::Impl::Route(std::string_view topic_name,
                                                                const Record& record) {
  RETURN_IF_ERROR(CheckOpen());
  ASSIGN_OR_RETURN(Topic * topic, FindTopic(topic_name));
  const int32_t count = topic->partition_count();
  int32_t partition;
  if (record.partition.has_value()) {
    partition = *record.partition;
    if (partition < 0 || partition >= count) {
      return absl::OutOfRangeError(absl::StrCat("topic ", topic->name(), " has no partition ",
                                                partition, " (it has ", count, ")"));
    }
  } else if (record.key.has_value()) {
    partition = KafkaPartition(*record.key, count);
  } else {
    // Null key: stick to one partition until its batch is appended.
    auto [it, inserted] = sticky_.try_emplace(topic, 0);
    if (inserted) it->second = static_cast<int32_t>(rng_() % static_cast<uint32_t>(count));
    partition = it->second;
  }
  Partition* p = topic->partition(partition);
  if (last_pending_ != nullptr && last_pending_->partition == p) return last_pending_;
  Pending& pending = pending_[p];
  if (pending.builder == nullptr) {
    pending.builder = std::make_unique<BatchBuilder>(BatchBuilderOptions{
        .compression = options_.compression, .compression_level = options_.compression_level});
  }
  if (pending.topic.get() != topic) pending.topic = last_topic_;
  pending.partition = p;
  last_pending_ = &pending;
  return &pending;
}

// Slack for the varints of a record's timestamp and offset deltas, which
// EncodedRecordSize(record, 0, 0) counts as one byte each.
constexpr size_t kDeltaSlack = 16;

absl::Status Producer::Impl::CheckSize(const Pending& p, size_t record_size) const {
  const size_t size = batch::kHeaderSize + record_size;
  const size_t limit = static_cast<size_t>(p.topic->max_message_bytes());
  if (size > limit) {
    return absl::InvalidArgumentError(absl::StrCat(
        "a record of ", size, " bytes (in its batch) is larger than max.message.bytes (", limit,
        ") of topic ", p.topic->name()));
  }
  return absl::OkStatus();
}

Producer::Impl::Completion Producer::Impl::AppendLocked(Pending* p, bool tracked, int64_t now_ms) {
  if (tracked) {
    MutexLock lock(&outstanding_mu_);
    ++outstanding_;
  }
  Completion c;
  c.topic = p->topic;
  c.partition = p->partition;
  absl::StatusOr<std::span<const char>> bytes = p->builder->Finish();
  if (bytes.ok()) {
    c.result = p->partition->Append(*bytes, now_ms);
  } else {
    c.result = bytes.status();
  }
  if (!c.result.ok()) c.result = ForTopic(c.result.status(), *p->topic);
  c.callbacks.swap(p->callbacks);
  c.timestamps.swap(p->timestamps);
  p->builder->Reset();
  // The sticky partition moves on once its batch is out.
  auto it = sticky_.find(p->topic.get());
  if (it != sticky_.end() && it->second == p->partition->id()) sticky_.erase(it);
  return c;
}

void Producer::Impl::RunCallbacks(Completion& c, const absl::Status& sync_status) {
  if (!c.result.ok() || !sync_status.ok()) {
    const absl::Status error = !c.result.ok() ? c.result.status() : ForTopic(sync_status, *c.topic);
    NoteError(error);
    for (auto& [index, callback] : c.callbacks) callback(error);
    return;
  }
  for (size_t i = 0; i < c.callbacks.size(); ++i) {
    auto& [index, callback] = c.callbacks[i];
    callback(RecordPosition{
        .topic = c.topic->name(),
        .partition = c.partition->id(),
        .offset = c.result->base_offset + index,
        .timestamp = c.result->log_append_time >= 0 ? c.result->log_append_time : c.timestamps[i]});
  }
}

void Producer::Impl::NoteError(const absl::Status& s) {
  MutexLock lock(&outstanding_mu_);
  if (first_error_.ok()) first_error_ = s;
}

void Producer::Impl::Done() {
  MutexLock lock(&outstanding_mu_);
  if (--outstanding_ == 0) outstanding_done_.SignalAll();
}

void Producer::Impl::Complete(std::vector<Completion> completions) {
  for (Completion& c : completions) {
    const bool sync = options_.durability == Durability::kPowerLoss && c.result.ok();
    if (!sync) {
      RunCallbacks(c, absl::OkStatus());
      Done();
      continue;
    }
    core::Syncer* syncer = state_->syncer();
    if (syncer == nullptr) {
      // No background threads (or the log is closing): sync here.
      RunCallbacks(c, c.partition->log().Sync());
      Done();
      continue;
    }
    auto shared = std::make_shared<Completion>(std::move(c));
    Partition* partition = shared->partition;
    syncer->Submit(shared->topic, partition,
                   [self = shared_from_this(), shared](const absl::Status& s) {
                     self->RunCallbacks(*shared, s);
                     self->Done();
                   });
  }
}

void Producer::Impl::ArmTimer(int64_t when_us) {
  if (timer_armed_) return;
  Timer* timer = state_->timer();
  if (timer == nullptr) return;  // No background threads: batches wait for Flush.
  timer_armed_ = true;
  timer->ScheduleAt(when_us, [weak = weak_from_this()] {
    if (std::shared_ptr<Impl> self = weak.lock()) self->FlushDue();
  });
}

void Producer::Impl::FlushDue() {
  std::vector<Completion> completions;
  {
    MutexLock lock(&mu_);
    timer_armed_ = false;
    if (closed_ || !state_->CheckOpen().ok()) return;
    const int64_t now = state_->clock()->MonotonicMicros();
    const int64_t linger = absl::ToInt64Microseconds(options_.linger);
    int64_t next_due = -1;
    for (auto& [partition, p] : pending_) {
      if (p.builder->empty()) continue;
      if (p.first_us + linger <= now) {
        completions.push_back(AppendLocked(&p));
      } else if (next_due < 0 || p.first_us + linger < next_due) {
        next_due = p.first_us + linger;
      }
    }
    if (next_due >= 0) ArmTimer(next_due);
  }
  Complete(std::move(completions));
}

absl::Status Producer::Impl::SendAsync(std::string_view topic_name, const Record& record,
                                       SendCallback callback) {
  std::vector<Completion> completions;
  {
    MutexLock lock(&mu_);
    ASSIGN_OR_RETURN(Pending * p, Route(topic_name, record));
    const int64_t now = state_->clock()->NowMillis();
    const size_t payload_size = BatchBuilder::PayloadSize(record);
    const size_t record_size = BatchBuilder::EncodedRecordSize(payload_size, 0, 0);
    RETURN_IF_ERROR(CheckSize(*p, record_size));
    const size_t limit = BatchLimit(*p->topic);
    const bool full =
        !p->builder->empty() && p->builder->uncompressed_size() + record_size + kDeltaSlack > limit;
    if (full) {
      completions.push_back(AppendLocked(p, /*tracked=*/true, now));
      if (!record.key.has_value() && !record.partition.has_value()) {
        // The sticky partition moved on: route again.
        ASSIGN_OR_RETURN(p, Route(topic_name, record));
      }
    }
    const bool first = p->builder->empty();
    if (callback != nullptr) {
      p->callbacks.emplace_back(p->builder->record_count(), std::move(callback));
      p->timestamps.push_back(record.timestamp.value_or(now));
    }
    p->builder->Add(record, now, payload_size);
    if (p->builder->uncompressed_size() >= limit || options_.linger <= absl::ZeroDuration()) {
      // A second append reads the clock afresh (see Send).
      completions.push_back(AppendLocked(p, /*tracked=*/true, full ? -1 : now));
    } else if (first) {
      p->first_us = state_->clock()->MonotonicMicros();
      ArmTimer(p->first_us + absl::ToInt64Microseconds(options_.linger));
    }
  }
  if (!completions.empty()) Complete(std::move(completions));
  return absl::OkStatus();
}

absl::StatusOr<RecordPosition> Producer::Impl::Send(std::string_view topic_name,
                                                    const Record& record) {
  std::vector<Completion> completions;
  Completion mine;
  int64_t timestamp;
  {
    MutexLock lock(&mu_);
    ASSIGN_OR_RETURN(Pending * p, Route(topic_name, record));
    const int64_t now = state_->clock()->NowMillis();
    RETURN_IF_ERROR(CheckSize(*p, BatchBuilder::EncodedRecordSize(record, 0, 0)));
    // Records sent earlier to this partition go first. The log reads the
    // clock again for this one then: that append may have rolled a segment
    // or faulted in pages, and the log's pacing counts real time.
    const bool earlier = !p->builder->empty();
    if (earlier) completions.push_back(AppendLocked(p, /*tracked=*/true, now));
    timestamp = record.timestamp.value_or(now);
    p->builder->Add(record, now);
    mine = AppendLocked(p, /*tracked=*/false, earlier ? -1 : now);  // Send reports it itself.
  }
  Complete(std::move(completions));
  RETURN_IF_ERROR(mine.result.status());
  if (options_.durability == Durability::kPowerLoss) {
    RETURN_IF_ERROR(ForTopic(mine.partition->log().Sync(), *mine.topic));
  }
  return RecordPosition{.topic = mine.topic->name(),
                        .partition = mine.partition->id(),
                        .offset = mine.result->base_offset,
                        .timestamp = mine.result->log_append_time >= 0 ? mine.result->log_append_time
                                                                      : timestamp};
}

absl::Status Producer::Impl::Flush() {
  std::vector<Completion> completions;
  {
    MutexLock lock(&mu_);
    for (auto& [partition, p] : pending_) {
      if (!p.builder->empty()) completions.push_back(AppendLocked(&p));
    }
  }
  Complete(std::move(completions));
  MutexLock lock(&outstanding_mu_);
  while (outstanding_ > 0) outstanding_done_.Wait(&outstanding_mu_);
  absl::Status error = std::move(first_error_);
  first_error_ = absl::OkStatus();
  return error;
}

absl::Status Producer::Impl::Close() {
  absl::Status s = Flush();
  MutexLock lock(&mu_);
  closed_ = true;
  pending_.clear();
  last_pending_ = nullptr;
  last_topic_.reset();
  return s;
}

Producer::Producer(Log& log, const ProducerOptions& options)
    : impl_(std::make_shared<Impl>(log.state(), options)) {
  impl_->Register();
}

Producer::~Producer() {
  (void)impl_->Close();  // Errors reached the callbacks already.
  impl_->Unregister();
}

absl::StatusOr<RecordPosition> Producer::Send(std::string_view topic, const Record& record) {
  return impl_->Send(topic, record);
}

absl::Status Producer::SendAsync(std::string_view topic, const Record& record,
                                 SendCallback callback) {
  return impl_->SendAsync(topic, record, std::move(callback));
}

absl::Status Producer::Flush() { return impl_->Flush(); }

absl::Status Producer::Close() { return impl_->Close(); }

const ProducerOptions& Producer::options() const { return impl_->options(); }

}  // namespace rill
