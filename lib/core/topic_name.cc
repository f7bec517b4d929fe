#include "core/topic_name.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "util/strings.h"

namespace rill::core {

absl::Status ValidateTopicName(std::string_view name) {
  if (name.empty()) return absl::InvalidArgumentError("topic name is empty");
  if (name == "." || name == "..") {
    return absl::InvalidArgumentError(absl::StrCat("topic name cannot be \"", ToAbsl(name), "\""));
  }
  if (name.size() > kMaxTopicNameLength) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "topic name is %d characters long; at most %d are allowed", name.size(),
        kMaxTopicNameLength));
  }
  for (size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == '-';
    if (!ok) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "topic name has character 0x%02x at position %d; only [A-Za-z0-9._-] are allowed",
          static_cast<unsigned char>(c), i));
    }
  }
  return absl::OkStatus();
}

std::string PartitionDirName(std::string_view topic, int32_t partition) {
  return absl::StrCat(ToAbsl(topic), "-", partition);
}

std::optional<std::pair<std::string, int32_t>> ParsePartitionDirName(std::string_view name) {
  const size_t dash = name.rfind('-');
  if (dash == std::string_view::npos || dash == 0 || dash + 1 == name.size()) return std::nullopt;
  const std::string_view digits = name.substr(dash + 1);
  for (char c : digits) {
    if (c < '0' || c > '9') return std::nullopt;
  }
  int32_t partition;
  if (!absl::SimpleAtoi(ToAbsl(digits), &partition)) return std::nullopt;
  std::string topic(name.substr(0, dash));
  if (!ValidateTopicName(topic).ok()) return std::nullopt;
  return std::make_pair(std::move(topic), partition);
}

}  // namespace rill::core
