// Tests of the varints of Kafka's records: zigzag mapping, known encodings,
// round trips, lengths, and decoders that stay inside [p, limit).
#include "format/varint.h"

#include <cstdint>
#include <cstring>
#include <limits>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

namespace rill {
namespace {

constexpr int32_t kInt32Min = std::numeric_limits<int32_t>::min();
constexpr int32_t kInt32Max = std::numeric_limits<int32_t>::max();
constexpr int64_t kInt64Min = std::numeric_limits<int64_t>::min();
constexpr int64_t kInt64Max = std::numeric_limits<int64_t>::max();
constexpr uint64_t kUint64Max = std::numeric_limits<uint64_t>::max();

std::string Bytes(std::initializer_list<uint8_t> bytes) {
  std::string s;
  for (uint8_t b : bytes) s.push_back(static_cast<char>(b));
  return s;
}

std::string Encode32(int32_t v) {
  char buf[kMaxVarint32Bytes];
  return std::string(buf, EncodeVarint32(buf, v));
}
std::string Encode64(int64_t v) {
  char buf[kMaxVarint64Bytes];
  return std::string(buf, EncodeVarint64(buf, v));
}
std::string EncodeUnsigned(uint64_t v) {
  char buf[kMaxVarint64Bytes];
  return std::string(buf, EncodeUnsignedVarint(buf, v));
}

// ExactCopy(s): a heap copy of exactly s.size() bytes, so that AddressSanitizer
// reports any read at or past its end.
std::unique_ptr<char[]> ExactCopy(const std::string& s) {
  std::unique_ptr<char[]> p(new char[s.size()]);
  if (!s.empty()) std::memcpy(p.get(), s.data(), s.size());
  return p;
}

// Boundary values: 0, ±1, the extremes, and both sides of every power of two
// (which include every varint length boundary, at multiples of 7 bits).
std::vector<int64_t> Boundaries64() {
  std::vector<int64_t> v = {0, 1, -1, kInt64Min, kInt64Max, kInt64Min + 1, kInt64Max - 1};
  for (int bit = 0; bit < 63; ++bit) {
    const int64_t p = int64_t{1} << bit;
    for (int64_t x : {p - 1, p, p + 1}) {
      v.push_back(x);
      v.push_back(-x);
    }
  }
  return v;
}

// Random values spread evenly over bit widths, so that every encoded length
// is drawn about as often.
std::vector<uint64_t> RandomWidths(uint64_t seed, int n) {
  std::mt19937_64 rng(seed);
  std::vector<uint64_t> v;
  for (int i = 0; i < n; ++i) {
    const int bits = static_cast<int>(rng() % 65);
    v.push_back(bits == 0 ? 0 : rng() >> (64 - bits));
  }
  return v;
}

TEST_CASE("Zigzag maps 0 -1 1 -2 2 to 0 1 2 3 4", "[varint]") {
  CHECK(ZigZagEncode32(0) == 0u);
  CHECK(ZigZagEncode32(-1) == 1u);
  CHECK(ZigZagEncode32(1) == 2u);
  CHECK(ZigZagEncode32(-2) == 3u);
  CHECK(ZigZagEncode32(2) == 4u);
  CHECK(ZigZagEncode32(kInt32Max) == 0xfffffffeu);
  CHECK(ZigZagEncode32(kInt32Min) == 0xffffffffu);
  CHECK(ZigZagEncode64(-1) == 1u);
  CHECK(ZigZagEncode64(kInt64Max) == 0xfffffffffffffffeu);
  CHECK(ZigZagEncode64(kInt64Min) == kUint64Max);
  CHECK(ZigZagDecode32(3) == -2);
  CHECK(ZigZagDecode32(0xffffffffu) == kInt32Min);
  CHECK(ZigZagDecode32(0xfffffffeu) == kInt32Max);
  CHECK(ZigZagDecode64(kUint64Max) == kInt64Min);
  CHECK(ZigZagDecode64(0xfffffffffffffffeu) == kInt64Max);
}

TEST_CASE("Varints encode to known bytes", "[varint]") {
  CHECK(Encode32(0) == Bytes({0x00}));
  CHECK(Encode32(-1) == Bytes({0x01}));
  CHECK(Encode32(1) == Bytes({0x02}));
  CHECK(Encode32(63) == Bytes({0x7e}));
  CHECK(Encode32(-64) == Bytes({0x7f}));
  CHECK(Encode32(64) == Bytes({0x80, 0x01}));
  CHECK(Encode32(150) == Bytes({0xac, 0x02}));
  CHECK(Encode32(kInt32Max) == Bytes({0xfe, 0xff, 0xff, 0xff, 0x0f}));
  CHECK(Encode32(kInt32Min) == Bytes({0xff, 0xff, 0xff, 0xff, 0x0f}));
  CHECK(Encode64(-1) == Bytes({0x01}));
  CHECK(Encode64(300) == Bytes({0xd8, 0x04}));
  CHECK(Encode64(kInt64Max) == Bytes({0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}));
  CHECK(Encode64(kInt64Min) == Bytes({0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}));
  CHECK(EncodeUnsigned(0) == Bytes({0x00}));
  CHECK(EncodeUnsigned(127) == Bytes({0x7f}));
  CHECK(EncodeUnsigned(128) == Bytes({0x80, 0x01}));
  CHECK(EncodeUnsigned(300) == Bytes({0xac, 0x02}));
  CHECK(EncodeUnsigned(16384) == Bytes({0x80, 0x80, 0x01}));
  CHECK(EncodeUnsigned(kUint64Max) ==
        Bytes({0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}));
}

TEST_CASE("Varints decode known bytes", "[varint]") {
  const std::string b = Bytes({0xac, 0x02});
  uint64_t u = 0;
  CHECK(DecodeUnsignedVarint(b.data(), b.data() + b.size(), kMaxVarint64Bytes, &u) == b.data() + 2);
  CHECK(u == 300);
  int32_t v32 = 0;
  CHECK(DecodeVarint32(b.data(), b.data() + b.size(), &v32) == b.data() + 2);
  CHECK(v32 == 150);
  const std::string min64 = Bytes({0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01});
  int64_t v64 = 0;
  CHECK(DecodeVarint64(min64.data(), min64.data() + min64.size(), &v64) == min64.data() + 10);
  CHECK(v64 == kInt64Min);
}

TEST_CASE("Varint32 round trips boundary and random values", "[varint]") {
  std::vector<int32_t> values;
  for (int64_t v : Boundaries64()) {
    if (v >= kInt32Min && v <= kInt32Max) values.push_back(static_cast<int32_t>(v));
  }
  for (uint64_t u : RandomWidths(32, 20000)) values.push_back(static_cast<int32_t>(u));
  for (int32_t v : values) {
    char buf[kMaxVarint32Bytes + 1];
    char* end = EncodeVarint32(buf, v);
    REQUIRE(end - buf == VarintLength32(v));
    int32_t decoded = v ^ 1;
    REQUIRE(DecodeVarint32(buf, end, &decoded) == end);
    REQUIRE(decoded == v);
  }
}

TEST_CASE("Varint64 round trips boundary and random values", "[varint]") {
  std::vector<int64_t> values = Boundaries64();
  for (uint64_t u : RandomWidths(64, 20000)) values.push_back(static_cast<int64_t>(u));
  for (int64_t v : values) {
    char buf[kMaxVarint64Bytes + 1];
    char* end = EncodeVarint64(buf, v);
    REQUIRE(end - buf == VarintLength64(v));
    int64_t decoded = v ^ 1;
    REQUIRE(DecodeVarint64(buf, end, &decoded) == end);
    REQUIRE(decoded == v);
  }
}

TEST_CASE("Unsigned varints round trip and their lengths grow every 7 bits", "[varint]") {
  for (int bits = 0; bits <= 64; ++bits) {
    const uint64_t largest = bits == 64 ? kUint64Max : (uint64_t{1} << bits) - 1;
    const int expected_length = bits <= 7 ? 1 : (bits + 6) / 7;
    CHECK(UnsignedVarintLength(largest) == expected_length);
  }
  for (uint64_t v : RandomWidths(7, 20000)) {
    char buf[kMaxVarint64Bytes];
    char* end = EncodeUnsignedVarint(buf, v);
    REQUIRE(end - buf == UnsignedVarintLength(v));
    uint64_t decoded = ~v;
    REQUIRE(DecodeUnsignedVarint(buf, end, kMaxVarint64Bytes, &decoded) == end);
    REQUIRE(decoded == v);
  }
}

TEST_CASE("Varint decoders reject input cut at every position", "[varint]") {
  std::vector<std::string> encodings;
  for (int64_t v : Boundaries64()) {
    encodings.push_back(Encode64(v));
    if (v >= kInt32Min && v <= kInt32Max) encodings.push_back(Encode32(static_cast<int32_t>(v)));
  }
  for (const std::string& full : encodings) {
    for (size_t cut = 0; cut < full.size(); ++cut) {
      // Within the whole encoding: reading past `limit` would find the rest
      // of the varint and succeed, so a nullptr proves the limit was kept.
      const char* limit = full.data() + cut;
      int32_t v32;
      int64_t v64;
      uint64_t u;
      REQUIRE(DecodeVarint64(full.data(), limit, &v64) == nullptr);
      REQUIRE(DecodeVarint32(full.data(), limit, &v32) == nullptr);
      REQUIRE(DecodeUnsignedVarint(full.data(), limit, kMaxVarint64Bytes, &u) == nullptr);
      // Alone in an allocation of `cut` bytes: AddressSanitizer catches a
      // read at or past the limit.
      const std::unique_ptr<char[]> exact = ExactCopy(full.substr(0, cut));
      REQUIRE(DecodeVarint64(exact.get(), exact.get() + cut, &v64) == nullptr);
      REQUIRE(DecodeVarint32(exact.get(), exact.get() + cut, &v32) == nullptr);
    }
    const std::unique_ptr<char[]> exact = ExactCopy(full);
    int64_t v64;
    REQUIRE(DecodeVarint64(exact.get(), exact.get() + full.size(), &v64) ==
            exact.get() + full.size());
  }
}

TEST_CASE("Varint32 rejects more than 5 bytes or more than 32 bits", "[varint]") {
  int32_t v = 0;
  auto decode = [&v](const std::string& s) {
    return DecodeVarint32(s.data(), s.data() + s.size(), &v);
  };
  // Six bytes, even when the value would be small.
  CHECK(decode(Bytes({0x80, 0x80, 0x80, 0x80, 0x80, 0x00})) == nullptr);
  CHECK(decode(Bytes({0xff, 0xff, 0xff, 0xff, 0xff, 0x01})) == nullptr);
  // Five bytes carrying 33 to 35 bits.
  CHECK(decode(Bytes({0xff, 0xff, 0xff, 0xff, 0x1f})) == nullptr);
  CHECK(decode(Bytes({0x80, 0x80, 0x80, 0x80, 0x10})) == nullptr);
  CHECK(decode(Bytes({0x80, 0x80, 0x80, 0x80, 0x7f})) == nullptr);
  // The largest five-byte value that fits: zigzag 0xffffffff is INT32_MIN.
  const std::string ok = Bytes({0xff, 0xff, 0xff, 0xff, 0x0f});
  CHECK(decode(ok) == ok.data() + 5);
  CHECK(v == kInt32Min);
}

TEST_CASE("Varint64 rejects more than 10 bytes or more than 64 bits", "[varint]") {
  int64_t v = 0;
  auto decode = [&v](const std::string& s) {
    return DecodeVarint64(s.data(), s.data() + s.size(), &v);
  };
  CHECK(decode(Bytes({0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00})) ==
        nullptr);
  // Ten bytes whose last carries bits 64 and up: a value no int64 holds.
  for (int last : {0x02, 0x03, 0x40, 0x7f}) {
    CAPTURE(last);
    CHECK(decode(Bytes({0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                        static_cast<uint8_t>(last)})) == nullptr);
    CHECK(decode(Bytes({0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
                        static_cast<uint8_t>(last)})) == nullptr);
  }
  uint64_t u = 0;
  const std::string wide = Bytes({0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x02});
  CHECK(DecodeUnsignedVarint(wide.data(), wide.data() + wide.size(), kMaxVarint64Bytes, &u) ==
        nullptr);
}

TEST_CASE("Varint decoders honour max_bytes and accept padded encodings within it", "[varint]") {
  uint64_t u = 0;
  const std::string three = Bytes({0x80, 0x80, 0x01});
  CHECK(DecodeUnsignedVarint(three.data(), three.data() + 3, 2, &u) == nullptr);
  CHECK(DecodeUnsignedVarint(three.data(), three.data() + 3, 3, &u) == three.data() + 3);
  CHECK(u == 16384);
  // Zero written with a redundant continuation byte is still zero, as in
  // Kafka and Protocol Buffers; only the byte count is limited.
  int32_t v = 7;
  const std::string padded = Bytes({0x80, 0x80, 0x00});
  CHECK(DecodeVarint32(padded.data(), padded.data() + 3, &v) == padded.data() + 3);
  CHECK(v == 0);
  // Nothing at all to read.
  CHECK(DecodeVarint32(padded.data(), padded.data(), &v) == nullptr);
}

TEST_CASE("DecodeShortVarint32 agrees with DecodeVarint32 on one and two bytes", "[varint]") {
  // Every value of one or two bytes, and the first of three, at an exact limit.
  for (int32_t v = -8193; v <= 8192; ++v) {
    const std::string e = Encode32(v);
    const std::unique_ptr<char[]> exact(new char[e.size()]);
    std::memcpy(exact.get(), e.data(), e.size());
    const char* const limit = exact.get() + e.size();
    int32_t got = 0;
    const char* end = detail::DecodeShortVarint32(exact.get(), limit, &got);
    if (e.size() <= 2) {
      REQUIRE(end == limit);
      REQUIRE(got == v);
    } else {
      REQUIRE(end == nullptr);  // Three bytes: the long way.
    }
    // Cut short, it never reads at or past its limit.
    for (size_t cut = 0; cut < e.size(); ++cut) {
      REQUIRE(detail::DecodeShortVarint32(exact.get(), exact.get() + cut, &got) == nullptr);
    }
  }
}

}  // namespace
}  // namespace rill
