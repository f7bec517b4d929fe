// LogSink: where rill reports what it does on its own (recovery, truncated
// tails, rebuilt indexes, background failures). The default writes one line
// per message to stderr.
//
// Thread-safety: a sink may be called from any of rill's threads at once.
#ifndef RILL_LOG_SINK_H_
#define RILL_LOG_SINK_H_

#include <functional>
#include <string_view>

#include "rill/export.h"

namespace rill {

enum class LogSeverity { kInfo, kWarning, kError };

using LogSink = std::function<void(LogSeverity severity, std::string_view message)>;

// StderrLogSink(): the default sink: "rill: warning: <message>" on stderr.
RILL_EXPORT LogSink StderrLogSink();

}  // namespace rill

#endif  // RILL_LOG_SINK_H_
