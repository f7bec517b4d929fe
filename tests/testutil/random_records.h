// Random records for tests: every field kind Kafka allows (null and empty
// keys and values, headers with null values, timestamps out of order), with
// storage owned by the generated object so the Record views stay valid.
#ifndef RILL_TESTS_TESTUTIL_RANDOM_RECORDS_H_
#define RILL_TESTS_TESTUTIL_RANDOM_RECORDS_H_

#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "rill/record.h"

namespace rill::testing {

// OwnedRecord: a record that owns its bytes; view() gives the Record to send.
struct OwnedRecord {
  std::optional<std::string> key;
  std::optional<std::string> value;
  std::vector<std::pair<std::string, std::optional<std::string>>> headers;
  int64_t timestamp = 0;

  // view(): a Record over this object's bytes; valid while it lives unchanged.
  Record view() const;

 private:
  mutable std::vector<Header> header_views_;
};

struct RandomRecordOptions {
  size_t max_key_size = 32;
  size_t max_value_size = 256;
  int max_headers = 3;
  // Probability of a null key / null value / null header value.
  double null_probability = 0.1;
  int64_t base_timestamp = 1'700'000'000'000;
};

// RandomRecord(rng, options): one random record.
OwnedRecord RandomRecord(std::mt19937_64& rng, const RandomRecordOptions& options = {});

// RandomBytes(rng, n): n random bytes (all 256 values).
std::string RandomBytes(std::mt19937_64& rng, size_t n);

// Matches(view, expected): whether a decoded record carries exactly the
// key, value, headers and timestamp of `expected`.
bool Matches(const RecordView& view, const OwnedRecord& expected);

}  // namespace rill::testing

#endif  // RILL_TESTS_TESTUTIL_RANDOM_RECORDS_H_
