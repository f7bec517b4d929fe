#include "rill/log_sink.h"

#include <cstdio>

namespace rill {

LogSink StderrLogSink() {
  return [](LogSeverity severity, std::string_view message) {
    const char* level = severity == LogSeverity::kError     ? "error"
                        : severity == LogSeverity::kWarning ? "warning"
                                                            : "info";
    std::fprintf(stderr, "rill: %s: %.*s\n", level, static_cast<int>(message.size()),
                 message.data());
  };
}

}  // namespace rill
