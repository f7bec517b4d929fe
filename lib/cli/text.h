// Small text helpers of the rill tool: escaping bytes for display, numbers
// for people, strings for JSON and Prometheus.
#ifndef RILL_LIB_CLI_TEXT_H_
#define RILL_LIB_CLI_TEXT_H_

#include <optional>
#include <string>
#include <string_view>

namespace rill::cli {

// AppendQuoted(bytes, out): appends `bytes` in double quotes, printable ASCII
// as is and everything else escaped: \" \\ \n \r \t, other bytes \xNN.
void AppendQuoted(std::string_view bytes, std::string* out);
// AppendQuotedOrNull(bytes, out): AppendQuoted, or null for nullopt.
void AppendQuotedOrNull(const std::optional<std::string_view>& bytes, std::string* out);

// HumanBytes(1536) == "1.5KiB"; HumanCount(2500000) == "2.5M".
std::string HumanBytes(double bytes);
std::string HumanCount(double n);

// JsonEscape(s): `s` with the characters JSON strings cannot hold escaped
// (no quotes added).
std::string JsonEscape(std::string_view s);

// PrometheusLabel(s): `s` escaped for a label value (\\, \", \n).
std::string PrometheusLabel(std::string_view s);

}  // namespace rill::cli

#endif  // RILL_LIB_CLI_TEXT_H_
