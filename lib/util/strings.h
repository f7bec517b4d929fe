// Conversions between std::string_view (rill's API) and absl::string_view
// (Debian's Abseil is built with its own string_view type).
#ifndef RILL_LIB_UTIL_STRINGS_H_
#define RILL_LIB_UTIL_STRINGS_H_

#include <string_view>

#include "absl/strings/string_view.h"

namespace rill {

inline absl::string_view ToAbsl(std::string_view s) { return absl::string_view(s.data(), s.size()); }
inline std::string_view ToStd(absl::string_view s) { return std::string_view(s.data(), s.size()); }

}  // namespace rill

#endif  // RILL_LIB_UTIL_STRINGS_H_
