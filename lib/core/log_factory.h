// LogFactory: opens a Log over any FileSystem -- the seam through which tests
// run a whole log (producers, consumers, background threads) over a
// MemFileSystem that injects faults or copies what a power loss would leave.
// Log::Open uses the POSIX file system and Log::OpenInMemory a private
// MemFileSystem; this is the one way to choose another.
//
// Internal: not part of rill's installed API.
//
// Thread-safety: Open may be called from any thread.
#ifndef RILL_LIB_CORE_LOG_FACTORY_H_
#define RILL_LIB_CORE_LOG_FACTORY_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "rill/log.h"
#include "rill/options.h"
#include "storage/file_system.h"

namespace rill::core {

class LogFactory {
 public:
  // Open(fs, dir, options): as Log::Open(dir, options), with every file of
  // the log on `fs`, which must outlive the Log and every producer and
  // consumer of it.
  static absl::StatusOr<std::unique_ptr<Log>> Open(FileSystem* fs, const std::string& dir,
                                                   const LogOptions& options = {});
};

}  // namespace rill::core

#endif  // RILL_LIB_CORE_LOG_FACTORY_H_
