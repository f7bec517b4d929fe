// Helpers for the tests of rill's public API: logs of either kind (in memory
// or in a temporary directory), status assertions, a settable clock, and
// copies of consumed records that outlive the poll that returned them.
#ifndef RILL_TESTS_CORE_CORE_UTIL_H_
#define RILL_TESTS_CORE_CORE_UTIL_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "util/mutex.h"
#include "absl/time/time.h"
#include "format/batch_header.h"
#include "rill/rill.h"
#include "testutil/random_records.h"
#include "testutil/temp_dir.h"

namespace rill::testing {

// StatusText(s): s.ToString(), for assertion messages.
inline std::string StatusText(const absl::Status& s) { return s.ToString(); }
template <typename T>
std::string StatusText(const absl::StatusOr<T>& s) {
  return s.status().ToString();
}
inline absl::StatusCode CodeOf(const absl::Status& s) { return s.code(); }
template <typename T>
absl::StatusCode CodeOf(const absl::StatusOr<T>& s) {
  return s.status().code();
}

}  // namespace rill::testing

// REQUIRE_OK(expr) / CHECK_OK(expr): `expr` (a Status or StatusOr) is OK;
// the failure message shows the status.
#define RILL_CONCAT_INNER_(a, b) a##b
#define RILL_CONCAT_(a, b) RILL_CONCAT_INNER_(a, b)
#define RILL_STATUS_ASSERT_(macro, expr, result)              \
  do {                                                        \
    const auto& result = (expr);                              \
    INFO(#expr " = " << ::rill::testing::StatusText(result)); \
    macro(result.ok());                                       \
  } while (false)
#define REQUIRE_OK(expr) RILL_STATUS_ASSERT_(REQUIRE, expr, RILL_CONCAT_(rill_result_, __COUNTER__))
#define CHECK_OK(expr) RILL_STATUS_ASSERT_(CHECK, expr, RILL_CONCAT_(rill_result_, __COUNTER__))

// REQUIRE_CODE(expr, code) / CHECK_CODE(expr, code): `expr` failed with
// absl::StatusCode::code.
#define RILL_CODE_ASSERT_(macro, expr, code, result)                    \
  do {                                                                  \
    const auto& result = (expr);                                        \
    INFO(#expr " = " << ::rill::testing::StatusText(result));           \
    macro(::rill::testing::CodeOf(result) == ::absl::StatusCode::code); \
  } while (false)
#define REQUIRE_CODE(expr, code) \
  RILL_CODE_ASSERT_(REQUIRE, expr, code, RILL_CONCAT_(rill_result_, __COUNTER__))
#define CHECK_CODE(expr, code) \
  RILL_CODE_ASSERT_(CHECK, expr, code, RILL_CONCAT_(rill_result_, __COUNTER__))

namespace rill::testing {

// kOnDiskByWrite: on disk, with LogOptions::append_by_write.
enum class LogKind { kInMemory, kOnDisk, kOnDiskByWrite };

inline const char* LogKindName(LogKind kind) {
  switch (kind) {
    case LogKind::kInMemory:
      return "in memory";
    case LogKind::kOnDisk:
      return "on disk";
    case LogKind::kOnDiskByWrite:
      return "on disk, appended by write";
  }
  return "?";
}
inline bool IsOnDisk(LogKind kind) { return kind != LogKind::kInMemory; }

// TestLog: a Log of either kind, the on-disk one in a TempDir of its own.
class TestLog {
 public:
  explicit TestLog(LogKind kind, const LogOptions& options = {});

  Log& operator*() const { return *log_; }
  Log* operator->() const { return log_.get(); }
  Log* get() const { return log_.get(); }
  LogKind kind() const { return kind_; }
  // dir(): the log's directory; "" in memory.
  std::string dir() const;

  // Reopen(): closes the log and opens its directory again (on disk only).
  void Reopen();
  // Reset(): destroys the Log object (which closes it).
  void Reset() { log_.reset(); }

 private:
  const LogKind kind_;
  const LogOptions options_;
  std::unique_ptr<TempDir> temp_;
  std::unique_ptr<Log> log_;
};

// FakeClock: a wall clock set by the test; the monotonic clock is the real
// one, so that lingering batches and timeouts still work.
class FakeClock : public Clock {
 public:
  explicit FakeClock(int64_t now_ms) : now_ms_(now_ms) {}
  int64_t NowMillis() override { return now_ms_.load(); }
  int64_t MonotonicMicros() override { return Clock::Real()->MonotonicMicros(); }
  void Set(int64_t now_ms) { now_ms_.store(now_ms); }

 private:
  std::atomic<int64_t> now_ms_;
};

// SendResults: what SendAsync's callbacks reported, record by record,
// from whichever thread ran them. Read it after Flush().
class SendResults {
 public:
  explicit SendResults(size_t n) : results_(n), calls_(n, 0) {}

  // Callback(i): the callback for record i.
  SendCallback Callback(size_t i) {
    return [this, i](const absl::StatusOr<RecordPosition>& result) {
      MutexLock lock(&mu_);
      ++calls_[i];
      results_[i] = result;
    };
  }
  int calls(size_t i) const {
    MutexLock lock(&mu_);
    return calls_[i];
  }
  // result(i): what record i's (last) callback got; kUnknown if none ran.
  absl::StatusOr<RecordPosition> result(size_t i) const {
    MutexLock lock(&mu_);
    return results_[i];
  }
  size_t size() const { return calls_.size(); }

 private:
  mutable Mutex mu_;
  std::vector<absl::StatusOr<RecordPosition>> results_ ABSL_GUARDED_BY(mu_);
  std::vector<int> calls_ ABSL_GUARDED_BY(mu_);
};

// Received: a consumed record, copied out of the poll that returned it.
struct Received {
  std::string topic;
  int32_t partition = -1;
  int64_t offset = -1;
  OwnedRecord record;
};

Received Copy(const RecordView& view);

// SameRecord(a, b): same key, value, headers and timestamp.
bool SameRecord(const OwnedRecord& a, const OwnedRecord& b);

// PollUntil(consumer, n, timeout): polls until `n` records have come or
// `timeout` has passed; REQUIREs every Poll to succeed.
std::vector<Received> PollUntil(Consumer& consumer, size_t n,
                                absl::Duration timeout = absl::Seconds(20));

// Drain(consumer): polls until a poll of `quiet` returns nothing.
std::vector<Received> Drain(Consumer& consumer, absl::Duration quiet = absl::Milliseconds(50));

// BatchHeaders(log, tp): the headers of the partition's batches, in order,
// read through the library's internals (batch boundaries are not part of
// the public API).
std::vector<BatchHeader> BatchHeaders(Log& log, const TopicPartition& tp);

// ThreadCpuNanos(): CPU time the calling thread has used.
int64_t ThreadCpuNanos();

// Under a sanitizer, stress and crash loops run fewer rounds.
#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
inline constexpr bool kSanitized = true;
#else
inline constexpr bool kSanitized = false;
#endif

}  // namespace rill::testing

#endif  // RILL_TESTS_CORE_CORE_UTIL_H_
