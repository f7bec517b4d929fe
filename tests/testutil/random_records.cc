#include "testutil/random_records.h"

namespace rill::testing {

Record OwnedRecord::view() const {
  header_views_.clear();
  for (const auto& [k, v] : headers) {
    header_views_.push_back(Header{k, v ? std::optional<std::string_view>(*v) : std::nullopt});
  }
  Record r;
  if (key) r.key = *key;
  if (value) r.value = *value;
  r.headers = header_views_;
  r.timestamp = timestamp;
  return r;
}

std::string RandomBytes(std::mt19937_64& rng, size_t n) {
  std::string s(n, '\0');
  for (char& c : s) c = static_cast<char>(rng());
  return s;
}

OwnedRecord RandomRecord(std::mt19937_64& rng, const RandomRecordOptions& options) {
  std::uniform_real_distribution<double> coin(0, 1);
  auto size = [&](size_t max) { return static_cast<size_t>(rng() % (max + 1)); };
  OwnedRecord r;
  if (coin(rng) >= options.null_probability) r.key = RandomBytes(rng, size(options.max_key_size));
  if (coin(rng) >= options.null_probability) {
    r.value = RandomBytes(rng, size(options.max_value_size));
  }
  const int headers = options.max_headers > 0 ? static_cast<int>(rng() % (options.max_headers + 1)) : 0;
  for (int i = 0; i < headers; ++i) {
    std::optional<std::string> v;
    if (coin(rng) >= options.null_probability) v = RandomBytes(rng, size(16));
    r.headers.emplace_back(RandomBytes(rng, size(12)), std::move(v));
  }
  // Timestamps wander both ways around the base, as producers' clocks do.
  r.timestamp = options.base_timestamp + static_cast<int64_t>(rng() % 100000) - 50000;
  return r;
}

bool Matches(const RecordView& view, const OwnedRecord& expected) {
  if (view.has_key() != expected.key.has_value()) return false;
  if (expected.key && view.key() != *expected.key) return false;
  if (view.has_value() != expected.value.has_value()) return false;
  if (expected.value && view.value() != *expected.value) return false;
  if (view.timestamp() != expected.timestamp) return false;
  if (view.headers().size() != static_cast<int32_t>(expected.headers.size())) return false;
  size_t i = 0;
  for (const Header& h : view.headers()) {
    if (i >= expected.headers.size()) return false;
    const auto& [k, v] = expected.headers[i++];
    if (h.key != k || h.value.has_value() != v.has_value()) return false;
    if (v && *h.value != *v) return false;
  }
  return i == expected.headers.size();
}

}  // namespace rill::testing
