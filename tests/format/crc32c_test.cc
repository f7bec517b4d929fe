#include "format/crc32c.h"

#include <random>
#include <string>

#include <catch2/catch.hpp>

#include "testutil/random_records.h"

namespace rill {
namespace {

TEST_CASE("CRC-32C of \"123456789\" is the check value 0xE3069283", "[crc32c]") {
  CHECK(crc32c::Value("123456789", 9) == 0xE3069283u);
  CHECK(crc32c::ExtendPortable(0, "123456789", 9) == 0xE3069283u);
  if (crc32c::HardwareAvailable()) CHECK(crc32c::ExtendHardware(0, "123456789", 9) == 0xE3069283u);
}

TEST_CASE("CRC-32C of known vectors (RFC 3720, iSCSI)", "[crc32c]") {
  std::string zeros(32, '\0');
  std::string ones(32, '\xff');
  std::string ascending(32, '\0');
  for (int i = 0; i < 32; ++i) ascending[i] = static_cast<char>(i);
  CHECK(crc32c::Value(zeros.data(), zeros.size()) == 0x8A9136AAu);
  CHECK(crc32c::Value(ones.data(), ones.size()) == 0x62A8AB43u);
  CHECK(crc32c::Value(ascending.data(), ascending.size()) == 0x46DD794Eu);
  CHECK(crc32c::Value("", 0) == 0u);
}

TEST_CASE("CRC-32C: hardware and portable agree at every length and alignment", "[crc32c]") {
  std::mt19937_64 rng(42);
  const std::string data = testing::RandomBytes(rng, 100000);
  for (size_t len : {0, 1, 7, 8, 9, 255, 256, 767, 768, 769, 4096, 24575, 24576, 24577, 99990}) {
    for (size_t align = 0; align < 8; ++align) {
      const uint32_t portable = crc32c::ExtendPortable(0, data.data() + align, len);
      CHECK(crc32c::Value(data.data() + align, len) == portable);
      if (crc32c::HardwareAvailable()) {
        CHECK(crc32c::ExtendHardware(0, data.data() + align, len) == portable);
      }
    }
  }
}

TEST_CASE("CRC-32C: extending in pieces equals the CRC of the whole", "[crc32c]") {
  std::mt19937_64 rng(7);
  const std::string data = testing::RandomBytes(rng, 50000);
  const uint32_t whole = crc32c::Value(data.data(), data.size());
  for (size_t cut : {0, 1, 100, 25000, 49999, 50000}) {
    const uint32_t first = crc32c::Value(data.data(), cut);
    CHECK(crc32c::Extend(first, data.data() + cut, data.size() - cut) == whole);
  }
}

}  // namespace
}  // namespace rill
