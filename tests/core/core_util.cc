#include "core/core_util.h"

#include <time.h>

#include "core/log_state.h"

namespace rill::testing {

namespace {

LogOptions ForKind(LogKind kind, LogOptions options) {
  if (kind == LogKind::kOnDiskByWrite) options.append_by_write = true;
  return options;
}

}  // namespace

TestLog::TestLog(LogKind kind, const LogOptions& options)
    : kind_(kind), options_(ForKind(kind, options)) {
  absl::StatusOr<std::unique_ptr<Log>> log;
  if (kind_ == LogKind::kInMemory) {
    log = Log::OpenInMemory(options_);
  } else {
    temp_ = std::make_unique<TempDir>();
    log = Log::Open(temp_->path(), options_);
  }
  REQUIRE_OK(log);
  log_ = *std::move(log);
}

std::string TestLog::dir() const { return temp_ != nullptr ? temp_->path() : std::string(); }

void TestLog::Reopen() {
  REQUIRE(IsOnDisk(kind_));
  log_.reset();
  absl::StatusOr<std::unique_ptr<Log>> log = Log::Open(temp_->path(), options_);
  REQUIRE_OK(log);
  log_ = *std::move(log);
}

Received Copy(const RecordView& view) {
  Received r;
  r.topic = std::string(view.topic());
  r.partition = view.partition();
  r.offset = view.offset();
  if (view.has_key()) r.record.key = std::string(view.key());
  if (view.has_value()) r.record.value = std::string(view.value());
  for (const Header& h : view.headers()) {
    r.record.headers.emplace_back(std::string(h.key),
                                  h.value ? std::optional<std::string>(*h.value) : std::nullopt);
  }
  r.record.timestamp = view.timestamp();
  return r;
}

bool SameRecord(const OwnedRecord& a, const OwnedRecord& b) {
  return a.key == b.key && a.value == b.value && a.headers == b.headers &&
         a.timestamp == b.timestamp;
}

std::vector<Received> PollUntil(Consumer& consumer, size_t n, absl::Duration timeout) {
  std::vector<Received> out;
  const absl::Time deadline = absl::Now() + timeout;
  while (out.size() < n && absl::Now() < deadline) {
    absl::StatusOr<ConsumerRecords> records = consumer.Poll(absl::Milliseconds(100));
    REQUIRE_OK(records);
    for (const RecordView& r : *records) out.push_back(Copy(r));
  }
  return out;
}

std::vector<Received> Drain(Consumer& consumer, absl::Duration quiet) {
  std::vector<Received> out;
  for (;;) {
    absl::StatusOr<ConsumerRecords> records = consumer.Poll(quiet);
    REQUIRE_OK(records);
    if (records->empty()) return out;
    for (const RecordView& r : *records) out.push_back(Copy(r));
  }
}

std::vector<BatchHeader> BatchHeaders(Log& log, const TopicPartition& tp) {
  absl::StatusOr<core::Partition*> partition = log.state()->FindPartition(tp);
  REQUIRE_OK(partition);
  const PartitionLog& plog = (*partition)->log();
  std::vector<BatchHeader> headers;
  int64_t offset = plog.start_offset();
  while (offset < plog.end_offset()) {
    absl::StatusOr<ReadResult> read = plog.Read(offset, 1 << 20);
    REQUIRE_OK(read);
    REQUIRE_FALSE(read->batches.empty());
    for (std::span<const char> bytes = read->batches; !bytes.empty();) {
      const BatchHeader h = DecodeBatchHeader(bytes.data());
      headers.push_back(h);
      offset = h.last_offset() + 1;
      bytes = bytes.subspan(h.size());
    }
  }
  return headers;
}

int64_t ThreadCpuNanos() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

}  // namespace rill::testing
