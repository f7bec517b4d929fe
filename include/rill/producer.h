// Producer: appends records to a log's topics, choosing partitions as
// Kafka's producer does, batching and compressing them, and making them as
// durable as its options ask.
//
//   rill::Producer producer(*log, {.durability = rill::Durability::kPowerLoss});
//   absl::StatusOr<rill::RecordPosition> pos =
//       producer.Send("orders", {.key = "user-42", .value = payload});
//
// Send() appends at once and returns the record's offset. SendAsync() adds
// the record to a batch for its partition; batches are appended when full,
// when they have lingered long enough, or on Flush(), and the callback then
// reports the offset. One partition's records are appended in the order they
// were sent, never interleaved with another producer's batch.
//
// Thread-safety: a Producer may be used from many threads at once. Sharing
// one gives bigger batches; one per thread gives no contention.
#ifndef RILL_PRODUCER_H_
#define RILL_PRODUCER_H_

#include <functional>
#include <memory>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "rill/export.h"
#include "rill/options.h"
#include "rill/record.h"
#include "rill/types.h"

namespace rill {

class Log;

// SendCallback: called once per SendAsync'd record when its batch is
// appended (and synced, for kPowerLoss), or failed. It runs on whichever
// thread appended the batch -- a sender's, the flushing one's, or a
// background thread -- and must not block for long (a lingered batch's
// callbacks run on the timer thread every log in the process shares), nor
// call the producer's Flush() or Close() (which wait for it).
using SendCallback = std::function<void(const absl::StatusOr<RecordPosition>&)>;

class RILL_EXPORT Producer {
 public:
  // Producer(log, options): a producer writing to `log`, which it may
  // outlive (its calls then fail with kFailedPrecondition).
  explicit Producer(Log& log, const ProducerOptions& options = {});
  // Flushes pending batches (see Close()).
  ~Producer();
  Producer(const Producer&) = delete;
  Producer& operator=(const Producer&) = delete;

  // Send(topic, record): appends `record` now -- after any batch pending for
  // the same partition -- and returns once it is as durable as
  // options.durability says. The record's bytes are copied; nothing of it is
  // kept. Errors, with nothing appended: kNotFound (unknown topic),
  // kOutOfRange (record.partition does not exist), kInvalidArgument (the
  // record is larger than the topic's max.message.bytes, or the topic is
  // __consumer_offsets, which only consumer groups write),
  // kResourceExhausted (disk full), kFailedPrecondition (producer or log
  // closed, or a sync of the partition failed earlier: reopen the log); a
  // kPowerLoss sync failure returns the sync's error, and then the record is
  // in the log but may not survive a power loss, and the partition takes no
  // more writes until the log is reopened.
  absl::StatusOr<RecordPosition> Send(std::string_view topic, const Record& record);

  // SendAsync(topic, record, callback): adds `record` to its partition's
  // pending batch (copying its bytes) and returns. Errors found at once --
  // unknown topic or partition, oversize record, closed -- are returned and
  // the callback is not called; later ones (disk full, sync failure) reach
  // the callback. A null callback is allowed.
  absl::Status SendAsync(std::string_view topic, const Record& record,
                         SendCallback callback = nullptr);

  // Flush(): appends every pending batch and waits until all records sent so
  // far are as durable as promised and their callbacks have run. Returns the
  // first error any of them met.
  absl::Status Flush();

  // Close(): Flush(), then refuse further sends with kFailedPrecondition.
  absl::Status Close();

  const ProducerOptions& options() const;

  class Impl;

 private:
  // Shared with the log's background threads, which may flush it.
  std::shared_ptr<Impl> impl_;
};

}  // namespace rill

#endif  // RILL_PRODUCER_H_
