#include "rill_subjects.h"

#include "absl/strings/str_cat.h"
#include "rill/rill.h"

namespace rill::bench {
namespace {

constexpr char kTopic[] = "bench";

class RillWriter : public StoreWriter {
 public:
  RillWriter(Log& log, const RillStoreConfig& config, int32_t partition)
      : producer_(log, config.producer), send_sync_(config.send_sync), partition_(partition) {}

  absl::Status Write(std::span<const KV> records) override {
    for (const KV& r : records) {
      const Record record{.key = r.key, .value = r.value, .partition = partition_};
      if (send_sync_) {
        absl::StatusOr<RecordPosition> position = producer_.Send(kTopic, record);
        if (!position.ok()) return position.status();
      } else {
        absl::Status s = producer_.SendAsync(kTopic, record);
        if (!s.ok()) return s;
      }
    }
    return absl::OkStatus();
  }

  absl::Status Finish() override { return producer_.Flush(); }

 private:
  Producer producer_;
  const bool send_sync_;
  const int32_t partition_;
};

class RillStoreImpl : public Store {
 public:
  RillStoreImpl(std::unique_ptr<Log> log, const RillStoreConfig& config)
      : log_(std::move(log)), config_(config) {}

  absl::StatusOr<std::unique_ptr<StoreWriter>> NewWriter() override {
    const int32_t partition = next_writer_++ % config_.partitions;
    return std::make_unique<RillWriter>(*log_, config_, partition);
  }

  absl::Status ReadAll(Verifier& verifier) override {
    int64_t total = 0;
    for (int32_t p = 0; p < config_.partitions; ++p) {
      absl::StatusOr<int64_t> end = log_->EndOffset({kTopic, p});
      if (!end.ok()) return end.status();
      total += *end;
    }
    Consumer consumer(*log_, config_.consumer);
    if (absl::Status s = consumer.Subscribe({kTopic}); !s.ok()) return s;
    int64_t read = 0;
    while (read < total) {
      absl::StatusOr<ConsumerRecords> records = consumer.Poll(absl::Seconds(2));
      if (!records.ok()) return records.status();
      if (records->empty()) {
        return absl::DataLossError(
            absl::StrCat("the consumer stopped after ", read, " of ", total, " records"));
      }
      for (const RecordView& r : *records) verifier.Add(r.key(), r.value());
      read += static_cast<int64_t>(records->size());
    }
    return absl::OkStatus();
  }

  absl::Status Close() override { return log_->Close(); }

 private:
  std::unique_ptr<Log> log_;
  const RillStoreConfig config_;
  int32_t next_writer_ = 0;
};

class RillQueue : public Queue {
 public:
  RillQueue(std::unique_ptr<Log> log, absl::Duration busy_poll)
      : log_(std::move(log)),
        producer_(*log_, {.durability = Durability::kProcessCrash}),
        consumer_(*log_, {.auto_offset_reset = OffsetReset::kEarliest, .busy_poll = busy_poll}) {}

  absl::Status Subscribe() { return consumer_.Subscribe({kTopic}); }

  absl::Status Send(std::string_view message) override {
    return producer_.Send(kTopic, {.value = message, .partition = 0}).status();
  }

  absl::Status Receive(absl::FunctionRef<void(std::string_view)> on_message) override {
    absl::StatusOr<ConsumerRecords> records = consumer_.Poll(absl::Seconds(3));
    if (!records.ok()) return records.status();
    if (records->empty()) return absl::DeadlineExceededError("nothing arrived for 3 s");
    for (const RecordView& r : *records) on_message(r.value());
    return absl::OkStatus();
  }

 private:
  std::unique_ptr<Log> log_;
  Producer producer_;
  Consumer consumer_;
};

}  // namespace

StoreFactory RillStore(const RillStoreConfig& config) {
  return [config](const std::string& dir, int) -> absl::StatusOr<std::unique_ptr<Store>> {
    absl::StatusOr<std::unique_ptr<Log>> log =
        config.in_memory ? Log::OpenInMemory(config.log) : Log::Open(dir, config.log);
    if (!log.ok()) return log.status();
    if (absl::Status s = (*log)->CreateTopic(kTopic, {.partitions = config.partitions}); !s.ok()) {
      return s;
    }
    return std::make_unique<RillStoreImpl>(*std::move(log), config);
  };
}

absl::StatusOr<Metrics> RunRillLatency(const RunEnv& env, const LatencyPlan& plan,
                                       absl::Duration busy_poll, const LogOptions& options) {
  absl::StatusOr<std::unique_ptr<Log>> log = Log::Open(env.dir, options);
  if (!log.ok()) return log.status();
  if (absl::Status s = (*log)->CreateTopic(kTopic); !s.ok()) return s;
  RillQueue queue(*std::move(log), busy_poll);
  if (absl::Status s = queue.Subscribe(); !s.ok()) return s;
  return RunLatency(queue, plan);
}

}  // namespace rill::bench
