// The records every subject writes and reads back, and how a read-back is
// checked: keys carry (stream, sequence number), values are generated from
// the record's id, and a checksum over every byte of every value detects a
// record lost, duplicated, reordered within its stream, or damaged.
//
// A stream is what one writer thread writes; its records must come back in
// the order they were written, with none missing.
//
// Thread-safety: ValueSources are immutable and shared by writer threads; a
// Verifier is used by one thread.
#ifndef RILL_BENCH_COMPARE_RECORDS_H_
#define RILL_BENCH_COMPARE_RECORDS_H_

#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"

namespace rill::bench {

inline constexpr size_t kKeySize = 8;

// Record id: the stream in the high 32 bits, the sequence number in the low.
inline uint64_t RecordId(uint32_t stream, uint32_t seq) { return (uint64_t{stream} << 32) | seq; }

// EncodeKey / DecodeKey: the id as 8 big-endian bytes, so that keys sort as
// ids do (LMDB's MDB_APPEND and RocksDB's iterators rely on it).
inline void EncodeKey(uint64_t id, char* out) {
  const uint64_t be = __builtin_bswap64(id);
  std::memcpy(out, &be, kKeySize);
}
inline uint64_t DecodeKey(std::string_view key) {
  uint64_t be;
  std::memcpy(&be, key.data(), kKeySize);
  return __builtin_bswap64(be);
}

// ValueSource: the value of each record, as a function of its id.
class ValueSource {
 public:
  virtual ~ValueSource() = default;
  // Fill(id, out): writes the value of record `id` to `out` (max_size()
  // bytes available) and returns its size.
  virtual size_t Fill(uint64_t id, char* out) const = 0;
  virtual size_t max_size() const = 0;
};

// RandomValues(size): incompressible values of `size` bytes, different for
// every record (random bytes, masked with a hash of the id), generated at
// about the speed of a memcpy.
std::unique_ptr<ValueSource> RandomValues(size_t size);

// TelemetryValues(count): `count` JSON-like telemetry lines (device id,
// timestamp, a few numeric fields), as an IoT gateway would log them; record
// id i gets line i % count.
std::unique_ptr<ValueSource> TelemetryValues(size_t count);

// RecordHash(key, value): a hash of every byte of the record, as cheap as
// reading it.
inline uint64_t RecordHash(std::string_view key, std::string_view value) {
  uint64_t a = value.size();
  uint64_t b = 0x9e3779b97f4a7c15ull;
  const char* p = value.data();
  size_t n = value.size();
  uint64_t w;
  for (; n >= 8; n -= 8, p += 8) {
    std::memcpy(&w, p, 8);
    a += w;
    b += a;
  }
  if (n > 0) {
    w = 0;
    std::memcpy(&w, p, n);
    a += w;
    b += a;
  }
  uint64_t h = a ^ (b << 17 | b >> 47);
  if (key.size() == kKeySize) {
    std::memcpy(&w, key.data(), kKeySize);
    h ^= w * 0xff51afd7ed558ccdull;
  }
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ull;
  h ^= h >> 29;
  return h;
}

// Expected: what a complete read-back of `streams` streams of `per_stream`
// records each must find.
struct Expected {
  uint32_t streams = 1;
  uint32_t per_stream = 0;
  uint64_t checksum = 0;
  uint64_t records() const { return uint64_t{streams} * per_stream; }
};

// ComputeExpected(values, streams, per_stream): generates every record once.
Expected ComputeExpected(const ValueSource& values, uint32_t streams, uint32_t per_stream);

// Verifier: checks records as they are read back, then that all came.
class Verifier {
 public:
  enum Mode {
    kTouch,  // Order and count, and the first word of each value.
    kFull,   // Order and count, and a hash of every byte.
  };
  Verifier(const Expected& expected, Mode mode)
      : expected_(expected), mode_(mode), next_(expected.streams, 0) {}

  // Add(key, value): one record read back. Inline: it runs for every record.
  void Add(std::string_view key, std::string_view value) {
    ++count_;
    if (mode_ == kFull) {
      checksum_ += RecordHash(key, value);
    } else if (value.size() >= 8) {
      uint64_t w;
      std::memcpy(&w, value.data(), 8);
      checksum_ += w;
    }
    if (key.size() != kKeySize) {
      NoteError(0);
      return;
    }
    const uint64_t id = DecodeKey(key);
    const uint64_t stream = id >> 32;
    if (stream >= next_.size() || (id & 0xffffffffu) != next_[stream]) {
      NoteError(id);
      return;
    }
    ++next_[stream];
  }

  uint64_t count() const { return count_; }
  // touched(): what kTouch read, for the optimizer not to skip it.
  uint64_t touched() const { return checksum_; }

  // Finish(): kDataLoss naming the first record out of place, a count
  // short or over, or (kFull) a checksum mismatch.
  absl::Status Finish() const;

 private:
  void NoteError(uint64_t id) {
    if (errors_++ == 0) first_error_id_ = id;
  }

  Expected expected_;
  const Mode mode_;
  std::vector<uint32_t> next_;
  uint64_t count_ = 0;
  uint64_t checksum_ = 0;
  uint64_t errors_ = 0;
  uint64_t first_error_id_ = 0;
};

}  // namespace rill::bench

#endif  // RILL_BENCH_COMPARE_RECORDS_H_
