// The records of __consumer_offsets, byte for byte as Kafka's
// OffsetCommitKey (version 1) and OffsetCommitValue (version 3), and the
// older value versions and other record kinds a Kafka-written topic holds.
#include "group/offset_record.h"

#include <string>

#include <catch2/catch.hpp>

#include "absl/status/status.h"

namespace rill::group {
namespace {

std::string Bytes(std::initializer_list<int> bytes) {
  std::string out;
  for (int b : bytes) out.push_back(static_cast<char>(b));
  return out;
}

TEST_CASE("offset keys are Kafka's OffsetCommitKey version 1", "[offsets]") {
  const std::string key = EncodeOffsetKey({.group = "gr", .topic = "t", .partition = 258});
  CHECK(key == Bytes({0, 1,            // version 1
                      0, 2, 'g', 'r',  // group
                      0, 1, 't',       // topic
                      0, 0, 1, 2}));   // partition 258
  absl::StatusOr<std::optional<OffsetKey>> decoded = DecodeOffsetKey(key);
  REQUIRE(decoded.ok());
  REQUIRE(decoded->has_value());
  CHECK(**decoded == OffsetKey{.group = "gr", .topic = "t", .partition = 258});
  // Version 0 has the same layout.
  std::string v0 = key;
  v0[1] = 0;
  decoded = DecodeOffsetKey(v0);
  REQUIRE(decoded.ok());
  CHECK((*decoded)->partition == 258);
}

TEST_CASE("offset values are Kafka's OffsetCommitValue version 3", "[offsets]") {
  const std::string value = EncodeOffsetValue(
      {.offset = 0x0102, .leader_epoch = -1, .metadata = "m", .commit_timestamp = 0x0a0b0c});
  CHECK(value == Bytes({0,    3,                                         // version 3
                        0,    0,    0,    0,    0, 0,    1,    2,        // offset
                        0xff, 0xff, 0xff, 0xff,                          // leaderEpoch -1
                        0,    1,    'm',                                 // metadata
                        0,    0,    0,    0,    0, 0x0a, 0x0b, 0x0c}));  // commitTimestamp
  absl::StatusOr<OffsetValue> decoded = DecodeOffsetValue(value);
  REQUIRE(decoded.ok());
  CHECK(*decoded ==
        OffsetValue{
            .offset = 0x0102, .leader_epoch = -1, .metadata = "m", .commit_timestamp = 0x0a0b0c});
}

TEST_CASE("older value versions decode", "[offsets]") {
  // Version 1: offset, metadata, commitTimestamp, expireTimestamp.
  absl::StatusOr<OffsetValue> v1 = DecodeOffsetValue(
      Bytes({0, 1, 0, 0, 0, 0, 0, 0, 0, 7, 0, 0, 0, 0, 0, 0, 0, 0, 0, 9, 0, 0, 0, 0, 0, 0, 0, 10}));
  REQUIRE(v1.ok());
  CHECK(v1->offset == 7);
  CHECK(v1->metadata.empty());
  CHECK(v1->commit_timestamp == 9);
  CHECK(v1->leader_epoch == -1);
  // Versions 0 and 2: offset, metadata, commitTimestamp.
  for (int version : {0, 2}) {
    absl::StatusOr<OffsetValue> v = DecodeOffsetValue(
        Bytes({0, version, 0, 0, 0, 0, 0, 0, 0, 8, 0, 2, 'x', 'y', 0, 0, 0, 0, 0, 0, 0, 11}));
    REQUIRE(v.ok());
    CHECK(v->offset == 8);
    CHECK(v->metadata == "xy");
    CHECK(v->commit_timestamp == 11);
  }
}

TEST_CASE("other records are skipped and damaged ones refused", "[offsets]") {
  // Key version 2 is Kafka's group metadata: not an offset commit.
  absl::StatusOr<std::optional<OffsetKey>> metadata = DecodeOffsetKey(Bytes({0, 2, 0, 1, 'g'}));
  REQUIRE(metadata.ok());
  CHECK_FALSE(metadata->has_value());
  CHECK(absl::IsDataLoss(DecodeOffsetKey(Bytes({0})).status()));
  CHECK(absl::IsDataLoss(DecodeOffsetKey(Bytes({0, 1, 0, 5, 'g'})).status()));
  CHECK(absl::IsDataLoss(DecodeOffsetKey(Bytes({0, 1, 0, 1, 'g', 0, 1, 't', 0, 0, 0})).status()));
  const std::string good = EncodeOffsetKey({.group = "g", .topic = "t", .partition = 0});
  CHECK(absl::IsDataLoss(DecodeOffsetKey(good + "x").status()));
  CHECK(absl::IsDataLoss(DecodeOffsetValue(Bytes({0, 9, 0, 0})).status()));
  CHECK(absl::IsDataLoss(DecodeOffsetValue(Bytes({0, 3, 0, 0, 0})).status()));
  CHECK(absl::IsDataLoss(DecodeOffsetValue(Bytes({0xff, 0xff})).status()));
}

TEST_CASE("group names must fit a Kafka string", "[offsets]") {
  CHECK(CheckGroupName("g").ok());
  CHECK(CheckGroupName(std::string(32767, 'g')).ok());
  CHECK(absl::IsInvalidArgument(CheckGroupName("")));
  CHECK(absl::IsInvalidArgument(CheckGroupName(std::string(32768, 'g'))));
}

}  // namespace
}  // namespace rill::group
