#include "records.h"

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <mutex>
#include <random>

#include "absl/strings/str_cat.h"

namespace rill::bench {
namespace {

uint64_t Mix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

class RandomValueSource : public ValueSource {
 public:
  explicit RandomValueSource(size_t size) : size_(size), pool_(size + kSpread + 8) {
    std::mt19937_64 rng(42);
    for (uint64_t& w : pool_) w = rng();
  }

  size_t Fill(uint64_t id, char* out) const override {
    const uint64_t mask = Mix(id);
    // Start somewhere in the pool, on a word, so that neighbours differ even
    // before the mask.
    const uint64_t* src = pool_.data() + (mask >> 40) % (kSpread / 8);
    size_t n = size_;
    for (; n >= 8; n -= 8, out += 8) {
      const uint64_t w = *src++ ^ mask;
      std::memcpy(out, &w, 8);
    }
    if (n > 0) {
      const uint64_t w = *src ^ mask;
      std::memcpy(out, &w, n);
    }
    return size_;
  }
  size_t max_size() const override { return size_; }

 private:
  static constexpr size_t kSpread = 64 << 10;
  const size_t size_;
  std::vector<uint64_t> pool_;
};

// Lines are generated on first use: --only may never need them.
class TelemetrySource : public ValueSource {
 public:
  explicit TelemetrySource(size_t count) : count_(count) {}

  size_t Fill(uint64_t id, char* out) const override {
    Generate();
    const size_t i = RecordIndex(id) % count_;
    const size_t n = offsets_[i + 1] - offsets_[i];
    std::memcpy(out, text_.data() + offsets_[i], n);
    return n;
  }
  size_t max_size() const override {
    Generate();
    return max_size_;
  }

 private:
  // Streams take turns through the lines.
  static size_t RecordIndex(uint64_t id) {
    return static_cast<size_t>((id & 0xffffffffu) + (id >> 32));
  }

  void Generate() const {
    std::call_once(once_, [this] {
      struct Device {
        double temp, humidity;
        int battery;
      };
      constexpr int kDevices = 5000;
      std::mt19937_64 rng(7);
      std::uniform_real_distribution<double> unit(0, 1);
      std::vector<Device> devices(kDevices);
      for (Device& d : devices) {
        d = {15 + 15 * unit(rng), 30 + 40 * unit(rng), 3300 + static_cast<int>(900 * unit(rng))};
      }
      static constexpr const char* kStatus[] = {"ok", "ok", "ok",       "ok",
                                                "ok", "ok", "degraded", "low_battery"};
      static constexpr const char* kFirmware[] = {"2.1.7", "2.1.7", "2.2.0", "1.9.4"};
      int64_t ts = 1'763'712'000'000;
      offsets_.reserve(count_ + 1);
      text_.reserve(count_ * 200);
      char line[256];
      for (size_t i = 0; i < count_; ++i) {
        const int id = static_cast<int>(rng() % kDevices);
        Device& d = devices[static_cast<size_t>(id)];
        d.temp += (unit(rng) - 0.5) * 0.4;
        d.humidity = std::clamp(d.humidity + (unit(rng) - 0.5), 5.0, 95.0);
        if (rng() % 50 == 0) d.battery -= 1;
        ts += static_cast<int64_t>(rng() % 3);
        const int n = std::snprintf(
            line, sizeof(line),
            "{\"ts\":%" PRId64
            ",\"device\":\"dev-%06d\",\"site\":\"plant-%d\",\"temp_c\":%.2f,"
            "\"humidity\":%.1f,\"battery_mv\":%d,\"rssi\":%d,\"status\":\"%s\",\"fw\":\"%s\"}",
            ts, id, id % 17, d.temp, d.humidity, d.battery, -40 - static_cast<int>(rng() % 50),
            kStatus[rng() % 8], kFirmware[id % 4]);
        offsets_.push_back(text_.size());
        text_.append(line, static_cast<size_t>(n));
        max_size_ = std::max(max_size_, static_cast<size_t>(n));
      }
      offsets_.push_back(text_.size());
    });
  }

  const size_t count_;
  mutable std::once_flag once_;
  mutable std::string text_;
  mutable std::vector<size_t> offsets_;
  mutable size_t max_size_ = 0;
};

}  // namespace

std::unique_ptr<ValueSource> RandomValues(size_t size) {
  return std::make_unique<RandomValueSource>(size);
}

std::unique_ptr<ValueSource> TelemetryValues(size_t count) {
  return std::make_unique<TelemetrySource>(count);
}

Expected ComputeExpected(const ValueSource& values, uint32_t streams, uint32_t per_stream) {
  Expected e{.streams = streams, .per_stream = per_stream};
  std::string value(values.max_size(), '\0');
  char key[kKeySize];
  for (uint32_t s = 0; s < streams; ++s) {
    for (uint32_t i = 0; i < per_stream; ++i) {
      const uint64_t id = RecordId(s, i);
      EncodeKey(id, key);
      const size_t n = values.Fill(id, value.data());
      e.checksum += RecordHash({key, kKeySize}, {value.data(), n});
    }
  }
  return e;
}

absl::Status Verifier::Finish() const {
  if (errors_ > 0) {
    return absl::DataLossError(absl::StrCat(errors_, " records out of place; the first: stream ",
                                            first_error_id_ >> 32, " seq ",
                                            first_error_id_ & 0xffffffffu));
  }
  for (size_t s = 0; s < next_.size(); ++s) {
    if (next_[s] != expected_.per_stream) {
      return absl::DataLossError(absl::StrCat("stream ", s, ": read back ", next_[s], " of ",
                                              expected_.per_stream, " records"));
    }
  }
  if (mode_ == kFull && checksum_ != expected_.checksum) {
    return absl::DataLossError(
        absl::StrCat("checksum mismatch over ", count_, " records: a value was damaged"));
  }
  return absl::OkStatus();
}

}  // namespace rill::bench
