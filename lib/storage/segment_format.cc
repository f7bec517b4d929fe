#include "storage/segment_format.h"

#include "absl/strings/str_format.h"

namespace rill::segment {

std::string FileName(int64_t base_offset, std::string_view suffix) {
  return absl::StrFormat("%020d%s", base_offset, std::string(suffix));
}

std::optional<int64_t> ParseFileName(std::string_view name, std::string_view suffix) {
  if (name.size() != kNameDigits + suffix.size()) return std::nullopt;
  if (name.substr(kNameDigits) != suffix) return std::nullopt;
  int64_t value = 0;
  for (int i = 0; i < kNameDigits; ++i) {
    const char c = name[i];
    if (c < '0' || c > '9') return std::nullopt;
    if (value > (INT64_MAX - (c - '0')) / 10) return std::nullopt;
    value = value * 10 + (c - '0');
  }
  return value;
}

}  // namespace rill::segment
