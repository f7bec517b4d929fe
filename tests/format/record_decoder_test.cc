// RecordDecoder against a reference decoder written here from Kafka's record
// layout: random records whose varints take one to ten bytes, with and
// without keys, values and headers, as built and after random damage. The
// decoder's inline path takes the usual records (short varints before the
// headers; headers checked out of line) and hands the rest to its checked
// path; both must accept and refuse exactly what the reference does.
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <limits>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include <catch2/catch.hpp>

#include "rill/record.h"

namespace rill {
namespace {

// What one record decodes to, for comparing the two decoders.
struct Decoded {
  int64_t offset = 0;
  int64_t timestamp = 0;
  std::optional<std::string> key;
  std::optional<std::string> value;
  std::vector<std::pair<std::string, std::optional<std::string>>> headers;
  bool operator==(const Decoded&) const = default;
};

// The outcome of decoding one batch's records.
struct Outcome {
  std::vector<Decoded> records;
  bool failed = false;
  // Where the record that failed starts, in bytes from the first record.
  std::ptrdiff_t error_position = 0;
  bool operator==(const Outcome&) const = default;
};

// --- Reference: the layout, read byte by byte. -----------------------------

// Reads an unsigned varint of at most `max_bytes` from [*p, end) whose value
// fits `bits` bits; false when it does not.
bool ReadUnsigned(const char** p, const char* end, int max_bytes, int bits, uint64_t* out) {
  uint64_t v = 0;
  for (int i = 0; i < max_bytes; ++i) {
    if (*p == end) return false;
    const uint64_t byte = static_cast<uint8_t>(*(*p)++);
    const int shift = 7 * i;
    const uint64_t group = byte & 0x7f;
    // Bits the group would put past `bits`.
    if (shift >= bits ? group != 0 : (bits - shift < 7 && (group >> (bits - shift)) != 0)) {
      return false;
    }
    v |= group << shift;
    if (byte < 0x80) {
      *out = v;
      return true;
    }
  }
  return false;
}

bool ReadSigned32(const char** p, const char* end, int32_t* out) {
  uint64_t u;
  if (!ReadUnsigned(p, end, 5, 32, &u)) return false;
  const auto v = static_cast<uint32_t>(u);
  *out = static_cast<int32_t>(v >> 1) ^ -static_cast<int32_t>(v & 1);
  return true;
}

bool ReadSigned64(const char** p, const char* end, int64_t* out) {
  uint64_t u;
  if (!ReadUnsigned(p, end, 10, 64, &u)) return false;
  *out = static_cast<int64_t>(u >> 1) ^ -static_cast<int64_t>(u & 1);
  return true;
}

// A length-prefixed field of [*p, end): nullopt for a null one (length -1,
// allowed when `nullable`); false when malformed.
bool ReadField(const char** p, const char* end, bool nullable, std::optional<std::string>* out) {
  int32_t len;
  if (!ReadSigned32(p, end, &len)) return false;
  if (len < (nullable ? -1 : 0) || len > end - *p) return false;
  if (len < 0) {
    out->reset();
    return true;
  }
  *out = std::string(*p, static_cast<size_t>(len));
  *p += len;
  return true;
}

Outcome ReferenceDecode(std::string_view records, const detail::RecordDecoder::BatchInfo& info) {
  Outcome o;
  const char* p = records.data();
  const char* const end = records.data() + records.size();
  int32_t last_delta = -1;
  auto fail = [&](const char* record_start) {
    o.failed = true;
    o.error_position = record_start - records.data();
    return o;
  };
  for (int32_t i = 0; i < info.record_count; ++i) {
    const char* const start = p;
    int32_t length;
    if (!ReadSigned32(&p, end, &length) || length < 1 || length > end - p) return fail(start);
    const char* const record_end = p + length;
    ++p;  // Attributes.
    int64_t ts_delta;
    int32_t offset_delta;
    Decoded d;
    if (!ReadSigned64(&p, record_end, &ts_delta) ||
        __builtin_add_overflow(info.base_timestamp, ts_delta, &d.timestamp) ||
        !ReadSigned32(&p, record_end, &offset_delta) || offset_delta <= last_delta ||
        offset_delta > info.last_offset_delta || !ReadField(&p, record_end, true, &d.key) ||
        !ReadField(&p, record_end, true, &d.value)) {
      return fail(start);
    }
    int32_t header_count;
    if (!ReadSigned32(&p, record_end, &header_count) || header_count < 0) return fail(start);
    for (int32_t h = 0; h < header_count; ++h) {
      std::optional<std::string> key, value;
      if (!ReadField(&p, record_end, false, &key) || !ReadField(&p, record_end, true, &value)) {
        return fail(start);
      }
      d.headers.emplace_back(*key, value);
    }
    if (p != record_end) return fail(start);
    d.offset = info.base_offset + offset_delta;
    if (info.log_append_time) d.timestamp = info.max_timestamp;
    last_delta = offset_delta;
    o.records.push_back(std::move(d));
  }
  if (p != end) return fail(p);
  return o;
}

// --- The decoder under test. -----------------------------------------------

Outcome DecoderDecode(std::string_view records, const detail::RecordDecoder::BatchInfo& info) {
  Outcome o;
  // An exact-size copy, so that a read past the end is caught by ASan.
  std::vector<char> exact(records.begin(), records.end());
  const char* const base = exact.data();
  detail::RecordDecoder decoder(base, base + exact.size(), info);
  RecordView r;
  while (decoder.Next(&r)) {
    Decoded d;
    d.offset = r.offset();
    d.timestamp = r.timestamp();
    if (r.has_key()) d.key = std::string(r.key());
    if (r.has_value()) d.value = std::string(r.value());
    for (const Header& h : r.headers()) {
      d.headers.emplace_back(std::string(h.key), h.value ? std::optional<std::string>(*h.value)
                                                         : std::nullopt);
    }
    o.records.push_back(std::move(d));
  }
  if (decoder.error() != nullptr) {
    o.failed = true;
    o.error_position = decoder.error_position();
  }
  return o;
}

// --- Random records. ---------------------------------------------------------

std::string Unsigned(uint64_t v) {
  std::string s;
  while (v >= 0x80) {
    s.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  s.push_back(static_cast<char>(v));
  return s;
}
std::string Signed(int64_t v) {
  return Unsigned((static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63));
}

// A size whose varint takes one, two or three bytes, or a null (-1).
int32_t RandomSize(std::mt19937_64& rng, bool nullable) {
  switch (rng() % 6) {
    case 0:
      return nullable ? -1 : 0;
    case 1:
      return 0;
    case 2:
    case 3:
      return static_cast<int32_t>(rng() % 64);  // One byte.
    case 4:
      return 64 + static_cast<int32_t>(rng() % 400);  // Two bytes.
    default:
      return 8192 + static_cast<int32_t>(rng() % 100);  // Three bytes.
  }
}

std::string RandomField(std::mt19937_64& rng, bool nullable) {
  const int32_t size = RandomSize(rng, nullable);
  std::string s = Signed(size);
  // Eight letters from one draw, repeated by doubling copies: the decoder
  // reads only the lengths, and a step per byte made the 8 KiB fields most
  // of these tests' run time (and far more under ThreadSanitizer).
  const uint64_t seed = rng();
  const size_t n = static_cast<size_t>(std::max(size, 0));
  const size_t start = s.size();
  s.resize(start + n);
  char* const out = s.data() + start;
  for (size_t k = 0; k < std::min<size_t>(n, 8); ++k) {
    out[k] = static_cast<char>('a' + (seed >> (k * 8)) % 26);
  }
  for (size_t done = std::min<size_t>(n, 8); done < n;) {
    const size_t copy = std::min(done, n - done);
    std::memcpy(out + done, out, copy);
    done += copy;
  }
  return s;
}

// A delta whose varint takes one to ten bytes, of either sign.
int64_t RandomDelta(std::mt19937_64& rng) {
  switch (rng() % 5) {
    case 0:
      return 0;
    case 1:
      return static_cast<int64_t>(rng() % 64) - 32;
    case 2:
      return static_cast<int64_t>(rng() % 16000) - 8000;
    case 3:
      return static_cast<int64_t>(rng() % (int64_t{1} << 40));
    default:
      return static_cast<int64_t>(rng());
  }
}

struct RandomBatch {
  std::string records;
  detail::RecordDecoder::BatchInfo info;
};

RandomBatch MakeBatch(std::mt19937_64& rng) {
  RandomBatch b;
  b.info.base_offset = static_cast<int64_t>(rng() % 1000000);
  b.info.base_timestamp = rng() % 8 == 0 ? std::numeric_limits<int64_t>::max() - 100
                                         : 1'700'000'000'000 + static_cast<int64_t>(rng() % 1000);
  b.info.max_timestamp = b.info.base_timestamp + 7;
  b.info.log_append_time = rng() % 4 == 0;
  const int32_t count = 1 + static_cast<int32_t>(rng() % 12);
  int32_t delta = -1;
  for (int32_t i = 0; i < count; ++i) {
    // Dense, or with gaps as compaction leaves them, some wider than a byte.
    delta += 1 + (rng() % 3 == 0 ? static_cast<int32_t>(rng() % 20000) : 0);
    std::string body(1, '\0');  // Attributes.
    body += Signed(RandomDelta(rng));
    body += Signed(delta);
    body += RandomField(rng, true);
    body += RandomField(rng, true);
    const int32_t headers = rng() % 3 == 0 ? static_cast<int32_t>(rng() % 4) : 0;
    body += Signed(headers);
    for (int32_t h = 0; h < headers; ++h) {
      body += RandomField(rng, false);
      body += RandomField(rng, true);
    }
    b.records += Signed(static_cast<int64_t>(body.size())) + body;
  }
  b.info.record_count = count;
  b.info.last_offset_delta = delta + (rng() % 4 == 0 ? 5 : 0);
  return b;
}

// Mutate(rng, b): small damage, of the kinds that reach each check: a bit
// flipped, a byte set to a varint edge, bytes cut or inserted, a count or a
// lastOffsetDelta that disagrees with the records.
void Mutate(std::mt19937_64& rng, RandomBatch* b) {
  std::string& s = b->records;
  const int changes = 1 + static_cast<int>(rng() % 3);
  for (int i = 0; i < changes; ++i) {
    switch (rng() % 7) {
      case 0:
      case 1:
        if (!s.empty()) s[rng() % s.size()] ^= static_cast<char>(1 << (rng() % 8));
        break;
      case 2: {
        constexpr uint8_t kEdges[] = {0x00, 0x01, 0x02, 0x7f, 0x80, 0xfe, 0xff};
        if (!s.empty()) s[rng() % s.size()] = static_cast<char>(kEdges[rng() % 7]);
        break;
      }
      case 3:
        s.resize(rng() % (s.size() + 1));
        break;
      case 4:
        s.insert(rng() % (s.size() + 1), Signed(static_cast<int32_t>(rng() % 300) - 150));
        break;
      case 5:
        // Never below 0: CheckBatchHeader refuses that before any decoding.
        b->info.record_count =
            std::max(0, b->info.record_count + static_cast<int32_t>(rng() % 3) - 1);
        break;
      default:
        b->info.last_offset_delta -= static_cast<int32_t>(rng() % 3);
        break;
    }
  }
}

TEST_CASE("RecordDecoder decodes random records as the reference does", "[record_decoder]") {
  std::mt19937_64 rng(20261121);
  int records = 0, long_varints = 0, with_headers = 0;
  for (int i = 0; i < 20000; ++i) {
    const RandomBatch b = MakeBatch(rng);
    const Outcome expected = ReferenceDecode(b.records, b.info);
    const Outcome got = DecoderDecode(b.records, b.info);
    INFO("batch " << i);
    REQUIRE(got == expected);
    records += static_cast<int>(got.records.size());
    for (const Decoded& d : got.records) {
      // A key or value of 8 KiB has a three-byte length: the checked path.
      if ((d.key && d.key->size() >= 8192) || (d.value && d.value->size() >= 8192)) {
        ++long_varints;
      }
      if (!d.headers.empty()) ++with_headers;
    }
  }
  // Mostly well-formed (a timestamp near the top of the range may
  // overflow), with many records off the inline path, and many with headers.
  CAPTURE(records, long_varints, with_headers);
  CHECK(records > 100000);
  CHECK(long_varints > 20000);
  CHECK(with_headers > 10000);
}

// One record of offset delta 0, key "k", value "v", then `headers` (the
// header count and the headers, as bytes), with its length in front.
std::string RecordWithHeaders(std::string_view headers) {
  std::string body(1, '\0');  // Attributes.
  body += Signed(0) + Signed(0) + Signed(1) + "k" + Signed(1) + "v";
  body += headers;
  return Signed(static_cast<int64_t>(body.size())) + body;
}

TEST_CASE("RecordDecoder reads header counts and keys as the reference does", "[record_decoder]") {
  const detail::RecordDecoder::BatchInfo info = {
      .base_offset = 100, .base_timestamp = 1'700'000'000'000, .record_count = 1};
  struct Case {
    const char* what;
    std::string headers;
    bool ok;
    size_t header_count;
  };
  const Case cases[] = {
      {"no headers, count in one byte", Signed(0), true, 0},
      {"no headers, count in two bytes (overlong)", std::string("\x80\x00", 2), true, 0},
      {"one header, count in two bytes (overlong)",
       std::string("\x82\x00", 2) + Signed(1) + "h" + Signed(2) + "hv", true, 1},
      {"one header with a null value", Signed(1) + Signed(1) + "h" + Signed(-1), true, 1},
      {"one header with an empty key", Signed(1) + Signed(0) + Signed(0), true, 1},
      {"a null header key", Signed(1) + Signed(-1) + Signed(0), false, 0},
      {"a negative header count", Signed(-1), false, 0},
      {"a count above the headers there are", Signed(3) + Signed(1) + "h" + Signed(0), false, 0},
      {"bytes after the headers", Signed(1) + Signed(1) + "h" + Signed(0) + "x", false, 0},
      {"a header value past the record", Signed(1) + Signed(1) + "h" + Signed(5) + "ab", false, 0},
  };
  for (const Case& c : cases) {
    INFO(c.what);
    const std::string records = RecordWithHeaders(c.headers);
    const Outcome expected = ReferenceDecode(records, info);
    const Outcome got = DecoderDecode(records, info);
    CHECK(got == expected);
    CHECK(got.failed == !c.ok);
    if (c.ok) {
      REQUIRE(got.records.size() == 1);
      CHECK(got.records[0].offset == 100);
      CHECK(*got.records[0].key == "k");
      CHECK(*got.records[0].value == "v");
      CHECK(got.records[0].headers.size() == c.header_count);
    }
  }
}

TEST_CASE("RecordDecoder refuses damaged records where the reference does", "[record_decoder]") {
  std::mt19937_64 rng(1121);
  int failed = 0, whole = 0;
  for (int i = 0; i < 100000; ++i) {
    RandomBatch b = MakeBatch(rng);
    Mutate(rng, &b);
    const Outcome expected = ReferenceDecode(b.records, b.info);
    const Outcome got = DecoderDecode(b.records, b.info);
    INFO("batch " << i);
    REQUIRE(got.records.size() == expected.records.size());
    REQUIRE(got == expected);
    ++(expected.failed ? failed : whole);
  }
  // Both outcomes must be common, or the loop tested less than it claims.
  CAPTURE(failed, whole);
  CHECK(failed > 30000);
  CHECK(whole > 5000);
}

}  // namespace
}  // namespace rill
