// Records as rill's API sees them.
//
// `Record` is what a producer sends: views of the caller's bytes, read only
// during the call that takes it. `RecordView` is what a consumer reads: views
// into the log's memory (usually the memory-mapped segment itself), valid for
// as long as the object that handed it out says (for a Consumer, until its
// next Poll).
//
// Thread-safety: all types here are plain values. Concurrent const access is
// safe; a RecordView is as valid on another thread as on the one that got it.
#ifndef RILL_RECORD_H_
#define RILL_RECORD_H_

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <optional>
#include <span>
#include <string_view>

#include "absl/base/attributes.h"
#include "absl/base/optimization.h"
#include "rill/detail/varint.h"

namespace rill {

// Header: one record header, as Kafka defines it: a key (UTF-8 by
// convention; rill does not check) and a value that may be null.
struct Header {
  std::string_view key = {};
  std::optional<std::string_view> value = std::nullopt;

  friend bool operator==(const Header&, const Header&) = default;
};

// Record: a record to send. Key and value may each be null (unset) or empty;
// Kafka distinguishes the two and so does rill. A null value on a compacted
// topic is a tombstone.
//
//   producer.Send("orders", {.key = "user-42", .value = payload});
//
// Every field has a default member initializer so that designated
// initialisers may leave fields out without -Wmissing-field-initializers.
struct Record {
  std::optional<std::string_view> key = std::nullopt;
  std::optional<std::string_view> value = std::nullopt;
  // Headers, in order; keys may repeat.
  std::span<const Header> headers = {};
  // Milliseconds since the Unix epoch. Unset means "now" at send time. On a
  // topic with log-append time, the log's clock replaces it.
  std::optional<int64_t> timestamp = std::nullopt;
  // The partition to send to. Unset: chosen from the key as Kafka does
  // (murmur2), or, for a null key, the producer's current sticky partition.
  std::optional<int32_t> partition = std::nullopt;
};

namespace detail {
class RecordDecoder;
// The topic and partition a consumer read a record from.
struct PartitionRef {
  std::string_view topic = {};
  int32_t partition = -1;
};
}  // namespace detail

// HeadersView: the headers of a RecordView, decoded lazily as one iterates.
// Valid as long as the RecordView it came from.
class HeadersView {
 public:
  class Iterator {
   public:
    using iterator_category = std::input_iterator_tag;
    using value_type = Header;
    using difference_type = std::ptrdiff_t;
    using pointer = const Header*;
    using reference = const Header&;

    Iterator() = default;
    const Header& operator*() const { return current_; }
    const Header* operator->() const { return &current_; }
    Iterator& operator++() {
      Advance();
      return *this;
    }
    void operator++(int) { Advance(); }
    friend bool operator==(const Iterator& a, const Iterator& b) { return a.left_ == b.left_; }

   private:
    friend class HeadersView;
    Iterator(const char* p, const char* end, int32_t count) : p_(p), end_(end), left_(count) {
      if (left_ > 0) Decode();
    }
    void Advance() {
      if (--left_ > 0) Decode();
    }
    // Decodes the header at p_ into current_. The bytes were checked when the
    // record was decoded, so a failure cannot happen; it ends the iteration.
    void Decode() {
      int32_t len;
      const char* p = detail::DecodeVarint32(p_, end_, &len);
      if (p == nullptr || len < 0 || len > end_ - p) return Stop();
      current_.key = std::string_view(p, static_cast<size_t>(len));
      p += len;
      p = detail::DecodeVarint32(p, end_, &len);
      if (p == nullptr || len < -1 || len > end_ - p) return Stop();
      if (len < 0) {
        current_.value.reset();
      } else {
        current_.value = std::string_view(p, static_cast<size_t>(len));
        p += len;
      }
      p_ = p;
    }
    void Stop() { left_ = 0; }

    const char* p_ = nullptr;
    const char* end_ = nullptr;
    int32_t left_ = 0;  // Headers not yet passed, counting the current one.
    Header current_;
  };

  HeadersView() = default;
  Iterator begin() const { return Iterator(begin_, end_, count_); }
  Iterator end() const { return Iterator(); }
  int32_t size() const { return count_; }
  bool empty() const { return count_ == 0; }

 private:
  friend class detail::RecordDecoder;
  HeadersView(const char* begin, const char* end, int32_t count)
      : begin_(begin), end_(end), count_(count) {}

  const char* begin_ = nullptr;
  const char* end_ = nullptr;
  int32_t count_ = 0;
};

// RecordView: one record read from the log. Every accessor is a cheap field
// read; key(), value() and headers() are views into the log's memory.
class RecordView {
 public:
  RecordView() = default;

  // The record's offset in its partition.
  int64_t offset() const { return offset_; }
  // Milliseconds since the Unix epoch: the producer's create time, or the
  // log's append time on a topic configured for it.
  int64_t timestamp() const { return timestamp_; }
  // key(): the key, or an empty view when the key is null (see has_key()).
  bool has_key() const { return key_size_ >= 0; }
  std::string_view key() const {
    return has_key() ? std::string_view(key_, static_cast<size_t>(key_size_)) : std::string_view();
  }
  // value(): the value, or an empty view when it is null (a tombstone).
  bool has_value() const { return value_size_ >= 0; }
  std::string_view value() const {
    return has_value() ? std::string_view(value_, static_cast<size_t>(value_size_))
                       : std::string_view();
  }
  HeadersView headers() const { return headers_; }
  // The topic and partition the record was read from ("" and -1 for a
  // record decoded outside a consumer).
  std::string_view topic() const { return partition_ != nullptr ? partition_->topic : ""; }
  int32_t partition() const { return partition_ != nullptr ? partition_->partition : -1; }

 private:
  friend class detail::RecordDecoder;

  int64_t offset_ = 0;
  int64_t timestamp_ = 0;
  const char* key_ = nullptr;
  const char* value_ = nullptr;
  int32_t key_size_ = -1;
  int32_t value_size_ = -1;
  HeadersView headers_;
  const detail::PartitionRef* partition_ = nullptr;
};

namespace detail {

// RecordDecoder: walks the records of one RecordBatch v2 (already
// decompressed) and checks every length against the bytes it was given. Not
// part of rill's API; lib/format wraps it (see lib/format/batch_reader.h).
class RecordDecoder {
 public:
  struct BatchInfo {
    int64_t base_offset = 0;
    int64_t base_timestamp = 0;
    int64_t max_timestamp = 0;
    int32_t last_offset_delta = 0;
    int32_t record_count = 0;
    bool log_append_time = false;
  };

  RecordDecoder() = default;
  RecordDecoder(const char* begin, const char* end, const BatchInfo& info)
      : begin_(begin), p_(begin), end_(end), info_(info), stop_at_(info.record_count) {}

  // Next(&r): decodes the next record into `r` and returns true; returns
  // false at the end of the batch or at the first malformed byte, and then
  // error() tells which (nullptr at a clean end). Never reads outside
  // [begin, end).
  ABSL_ATTRIBUTE_ALWAYS_INLINE bool Next(RecordView* r) {
    if (ABSL_PREDICT_TRUE(decoded_ < stop_at_) && NextUsual(r)) return true;
    return NextChecked(r);
  }

 private:
  // NextUsual(&r): Next() for the usual record, inline: every varint before
  // the headers one or two bytes long; headers, if any, are checked out of
  // line (CheckHeaders). It checks what NextChecked() checks. Returns false,
  // having changed nothing, for any other record, well-formed or not:
  // NextChecked() then decodes it again and says what is wrong.
  ABSL_ATTRIBUTE_ALWAYS_INLINE bool NextUsual(RecordView* r) {
    int32_t length;
    const char* p = DecodeShortVarint32(p_, end_, &length);
    if (p == nullptr || length <= 0 || length > end_ - p) return false;
    const char* const record_end = p + length;
    Checked c;
    Prefetch(record_end);
    ++p;  // Attributes: unused by Kafka; ignored.
    int32_t timestamp_delta;
    p = DecodeShortVarint32(p, record_end, &timestamp_delta);
    if (p == nullptr ||
        __builtin_add_overflow(info_.base_timestamp, int64_t{timestamp_delta}, &c.timestamp)) {
      return false;
    }
    p = DecodeShortVarint32(p, record_end, &c.offset_delta);
    if (p == nullptr || c.offset_delta <= last_offset_delta_ ||
        c.offset_delta > info_.last_offset_delta) {
      return false;
    }
    p = DecodeShortVarint32(p, record_end, &c.key_size);
    if (p == nullptr || c.key_size < -1 || c.key_size > record_end - p) return false;
    c.key = p;
    if (c.key_size > 0) p += c.key_size;
    p = DecodeShortVarint32(p, record_end, &c.value_size);
    if (p == nullptr || c.value_size < -1 || c.value_size > record_end - p) return false;
    c.value = p;
    if (c.value_size > 0) p += c.value_size;
    // Usually no headers: a count of 0 in the record's last byte.
    HeadersStart headers = {record_end, 0};
    if (ABSL_PREDICT_FALSE(record_end - p != 1 || *p != 0)) {
      const char* why;  // Unused: NextChecked() says what is wrong.
      headers = CheckHeaders(p, record_end, &why);
      if (headers.first == nullptr) return false;
    }
    c.headers = HeadersView(headers.first, record_end, headers.count);
    c.record_end = record_end;
    Accept(r, c);
    return true;
  }

  // NextChecked(&r): Next() for any record, and for the end of the batch.
  ABSL_ATTRIBUTE_NOINLINE bool NextChecked(RecordView* r) {
    if (error_ != nullptr) return false;
    if (decoded_ == info_.record_count) {
      if (p_ != end_) return Fail("bytes left over after the last record");
      return false;
    }
    if (p_ == end_) return Fail("the records end before recordsCount records");
    int32_t length;
    const char* p = DecodeVarint32(p_, end_, &length);
    if (p == nullptr) return Fail("record length is not a valid varint");
    if (length < 0) return Fail("record length is negative");
    if (length > end_ - p) return Fail("record length runs past the end of the records");
    const char* const record_end = p + length;
    Checked c;
    if (p == record_end) return Fail("record length 0 leaves no room for its attributes");
    Prefetch(record_end);
    ++p;  // Attributes: unused by Kafka; ignored.
    int64_t timestamp_delta;
    p = DecodeVarint64(p, record_end, &timestamp_delta);
    if (p == nullptr) return Fail("record timestampDelta is not a valid varint");
    if (__builtin_add_overflow(info_.base_timestamp, timestamp_delta, &c.timestamp)) {
      return Fail("record timestamp overflows: baseTimestamp + timestampDelta");
    }
    p = DecodeVarint32(p, record_end, &c.offset_delta);
    if (p == nullptr) return Fail("record offsetDelta is not a valid varint");
    if (c.offset_delta < 0) return Fail("record offsetDelta is negative");
    if (c.offset_delta <= last_offset_delta_) {
      return Fail("record offsetDelta is not above the previous record's");
    }
    if (c.offset_delta > info_.last_offset_delta) {
      return Fail("record offsetDelta is past lastOffsetDelta");
    }
    p = Field(p, record_end, &c.key_size, kKeyErrors);
    if (p == nullptr) return false;
    c.key = p;
    if (c.key_size > 0) p += c.key_size;
    p = Field(p, record_end, &c.value_size, kValueErrors);
    if (p == nullptr) return false;
    c.value = p;
    if (c.value_size > 0) p += c.value_size;
    const char* why;
    const HeadersStart headers = CheckHeaders(p, record_end, &why);
    if (headers.first == nullptr) return Fail(why);
    c.headers = HeadersView(headers.first, record_end, headers.count);
    c.record_end = record_end;
    Accept(r, c);
    return true;
  }

 public:
  // SetPartition(r, p): tags a decoded record with where it was read from.
  static void SetPartition(RecordView* r, const PartitionRef* p) { r->partition_ = p; }

  // error(): why Next() stopped early, or nullptr. A static string.
  const char* error() const { return error_; }
  // error_position(): byte position within the records where the malformed
  // record starts.
  std::ptrdiff_t error_position() const { return p_ - begin_; }
  int32_t decoded() const { return decoded_; }

 private:
  // What is wrong with a length-prefixed field, for each way it can be.
  struct FieldErrors {
    const char* not_varint;
    const char* below_min;
    const char* past_end;
    int32_t min_length;  // -1 where null is allowed, else 0.
  };
  // How far ahead of the record being decoded Next() prefetches.
  static constexpr uintptr_t kPrefetchDistance = 4096;
  static constexpr FieldErrors kKeyErrors = {
      .not_varint = "record key length is not a valid varint",
      .below_min = "record key length is below -1",
      .past_end = "record key runs past the end of its record",
      .min_length = -1,
  };
  static constexpr FieldErrors kValueErrors = {
      .not_varint = "record value length is not a valid varint",
      .below_min = "record value length is below -1",
      .past_end = "record value runs past the end of its record",
      .min_length = -1,
  };
  static constexpr FieldErrors kHeaderKeyErrors = {
      .not_varint = "header key length is not a valid varint",
      .below_min = "header key is null or its length negative",
      .past_end = "header key runs past the end of its record",
      .min_length = 0,
  };
  static constexpr FieldErrors kHeaderValueErrors = {
      .not_varint = "header value length is not a valid varint",
      .below_min = "header value length is below -1",
      .past_end = "header value runs past the end of its record",
      .min_length = -1,
  };

  // CheckField(p, end, &size, errors, &why): reads the length of the field
  // at p and checks that its bytes lie within [p, end). Returns where its
  // bytes start, or nullptr with `why` set to what is wrong.
  static const char* CheckField(const char* p, const char* end, int32_t* size,
                                const FieldErrors& errors, const char** why) {
    p = DecodeVarint32(p, end, size);
    if (p == nullptr) {
      *why = errors.not_varint;
    } else if (*size < errors.min_length) {
      *why = errors.below_min;
    } else if (*size > end - p) {
      *why = errors.past_end;
    } else {
      return p;
    }
    return nullptr;
  }
  // Field(p, end, &size, errors): CheckField(), then Fail() on an error.
  const char* Field(const char* p, const char* end, int32_t* size, const FieldErrors& errors) {
    const char* why;
    p = CheckField(p, end, size, errors, &why);
    if (p == nullptr) Fail(why);
    return p;
  }
  // Where a record's headers start, and how many there are. Small enough to
  // come back in registers: the record being decoded stays in them too.
  struct HeadersStart {
    const char* first;
    int32_t count;
  };
  // CheckHeaders(p, end, &why): checks a record's headers, from p (their
  // count) to `end` (the record's end), where the last one must end. Returns
  // where the first header starts and how many there are; on an error,
  // `first` is nullptr and `why` says what is wrong. Both Next() paths use it.
  ABSL_ATTRIBUTE_NOINLINE static HeadersStart CheckHeaders(const char* p, const char* end,
                                                           const char** why) {
    constexpr HeadersStart kMalformed = {nullptr, 0};
    int32_t count;
    p = DecodeVarint32(p, end, &count);
    if (p == nullptr) {
      *why = "record header count is not a valid varint";
      return kMalformed;
    }
    if (count < 0) {
      *why = "record header count is negative";
      return kMalformed;
    }
    const char* const first = p;
    for (int32_t i = 0; i < count; ++i) {
      if (p == end) {
        *why = "record has fewer headers than its header count";
        return kMalformed;
      }
      int32_t len;
      p = CheckField(p, end, &len, kHeaderKeyErrors, why);
      if (p == nullptr) return kMalformed;
      p += len;
      p = CheckField(p, end, &len, kHeaderValueErrors, why);
      if (p == nullptr) return kMalformed;
      if (len > 0) p += len;
    }
    if (p != end) {
      *why = "record has bytes left over after its headers";
      return kMalformed;
    }
    return {first, count};
  }

  // A record that passed every check, as Accept() takes it.
  struct Checked {
    int32_t offset_delta;
    int64_t timestamp;  // baseTimestamp + timestampDelta.
    const char* key;
    int32_t key_size;
    const char* value;
    int32_t value_size;
    HeadersView headers;
    const char* record_end;
  };
  // Accept(r, c): yields the checked record `c` in `r` and moves past it.
  ABSL_ATTRIBUTE_ALWAYS_INLINE void Accept(RecordView* r, const Checked& c) {
    r->offset_ = info_.base_offset + c.offset_delta;
    r->timestamp_ = info_.log_append_time ? info_.max_timestamp : c.timestamp;
    r->key_ = c.key;
    r->key_size_ = c.key_size;
    r->value_ = c.value;
    r->value_size_ = c.value_size;
    r->headers_ = c.headers;
    last_offset_delta_ = c.offset_delta;
    p_ = c.record_end;
    ++decoded_;
  }

  // Prefetch(p): records are read in order, and the hardware's prefetcher
  // stops at each page boundary; this asks for the bytes a little past p,
  // which also walks the page tables of the next page before it is needed.
  // A hint: it never faults, even past the end of the mapping.
  static void Prefetch(const char* p) {
    __builtin_prefetch(
        reinterpret_cast<const void*>(reinterpret_cast<uintptr_t>(p) + kPrefetchDistance));
  }

  bool Fail(const char* why) {
    stop_at_ = 0;
    error_ = why;
    return false;
  }

  const char* begin_ = nullptr;
  const char* p_ = nullptr;
  const char* end_ = nullptr;
  BatchInfo info_;
  int32_t decoded_ = 0;
  // Next() decodes while decoded_ is below this: the record count, or 0
  // after a failure.
  int32_t stop_at_ = 0;
  int32_t last_offset_delta_ = -1;
  const char* error_ = nullptr;
};

}  // namespace detail
}  // namespace rill

#endif  // RILL_RECORD_H_
