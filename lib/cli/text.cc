#include "cli/text.h"

#include "absl/strings/str_format.h"

namespace rill::cli {

void AppendQuoted(std::string_view bytes, std::string* out) {
  static constexpr char kHex[] = "0123456789abcdef";
  out->push_back('"');
  for (const char c : bytes) {
    const auto u = static_cast<unsigned char>(c);
    switch (c) {
      case '"':
        out->append("\\\"");
        break;
      case '\\':
        out->append("\\\\");
        break;
      case '\n':
        out->append("\\n");
        break;
      case '\r':
        out->append("\\r");
        break;
      case '\t':
        out->append("\\t");
        break;
      default:
        if (u >= 0x20 && u < 0x7f) {
          out->push_back(c);
        } else {
          out->append("\\x");
          out->push_back(kHex[u >> 4]);
          out->push_back(kHex[u & 15]);
        }
    }
  }
  out->push_back('"');
}

void AppendQuotedOrNull(const std::optional<std::string_view>& bytes, std::string* out) {
  if (bytes) {
    AppendQuoted(*bytes, out);
  } else {
    out->append("null");
  }
}

namespace {
std::string Scaled(double n, double base, const char* const* units, int count) {
  int i = 0;
  while (n >= base && i + 1 < count) {
    n /= base;
    ++i;
  }
  return i == 0 ? absl::StrFormat("%.0f%s", n, units[0]) : absl::StrFormat("%.1f%s", n, units[i]);
}
}  // namespace

std::string HumanBytes(double bytes) {
  static const char* const kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  return Scaled(bytes, 1024, kUnits, 5);
}

std::string HumanCount(double n) {
  static const char* const kUnits[] = {"", "k", "M", "G", "T"};
  return Scaled(n, 1000, kUnits, 5);
}

std::string JsonEscape(std::string_view s) {
  std::string out;
  for (const char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(c);
    } else if (u < 0x20) {
      out += absl::StrFormat("\\u%04x", u);
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::string PrometheusLabel(std::string_view s) {
  std::string out;
  for (const char c : s) {
    if (c == '\\' || c == '"') {
      out.push_back('\\');
      out.push_back(c);
    } else if (c == '\n') {
      out.append("\\n");
    } else {
      out.push_back(c);
    }
  }
  return out;
}

}  // namespace rill::cli
