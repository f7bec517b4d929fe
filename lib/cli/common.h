// What the commands of the rill tool share: the global options, exit codes,
// how a command opens the log, and how it reports an error.
//
// Each command group registers its subcommands with CLI11 (Add*Commands);
// the chosen one's parse callback stores the work to run in
// Context::action, which main() runs once parsing is done.
#ifndef RILL_LIB_CLI_COMMON_H_
#define RILL_LIB_CLI_COMMON_H_

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "rill/log.h"
#include "rill/options.h"

namespace CLI {
class App;
}  // namespace CLI

namespace rill::cli {

// Exit codes: 0 success; 1 the work failed (or found damage); 2 the command
// line is wrong (nothing was done).
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;
inline constexpr int kExitUsage = 2;

// Where --dir points when neither it nor $RILL_DIR is given.
inline constexpr std::string_view kDefaultDir = "rill-data";

struct Context {
  // --dir: the log's directory.
  std::string dir = std::string(kDefaultDir);
  // The chosen command's work; returns the exit code.
  std::function<int()> action;
};

// PrintError(message): prints "rill: <message>" on stderr, for an error the
// command reports and goes on past.
void PrintError(std::string_view message);
// Fail(status) / Fail(message): prints "rill: <message>" on stderr and
// returns kExitFailure.
int Fail(const absl::Status& status);
int Fail(std::string_view message);
// UsageError(message): prints "rill: <message>" on stderr and returns
// kExitUsage.
int UsageError(std::string_view message);
int UsageError(const absl::Status& status);

// How a command opens the log.
enum class LogAccess {
  // The log must exist: a missing directory, or one that is not a rill log,
  // is an error and nothing is created or written.
  kExisting,
  // The directory and the log are created when missing.
  kCreate,
};

// CheckExistingLog(dir): OK if `dir` holds a rill log (its meta.properties);
// otherwise an error that says what is there instead. Reads only.
absl::Status CheckExistingLog(const std::string& dir);

// OpenLog(ctx, access, background_threads): opens the log at ctx.dir. A log
// open in another process gives kFailedPrecondition naming its pid.
absl::StatusOr<std::unique_ptr<Log>> OpenLog(const Context& ctx, LogAccess access,
                                             int background_threads = 1);

// CheckTopicName(name): kInvalidArgument unless Kafka would accept `name`.
absl::Status CheckTopicName(std::string_view name);

// SplitKeyValue(text): "k=v" as {"k", "v"}; nullopt without '=' or with an
// empty key.
std::optional<std::pair<std::string, std::string>> SplitKeyValue(std::string_view text);

// --compression and --durability: the names they accept (for CLI11's
// IsMember check) and what each name means.
const std::map<std::string, Compression>& CompressionNames();
const std::map<std::string, Durability>& DurabilityNames();
std::vector<std::string> Names(const std::map<std::string, Compression>& names);
std::vector<std::string> Names(const std::map<std::string, Durability>& names);

// StderrIsTerminal(): whether progress bars may be drawn.
bool StderrIsTerminal();
// StdoutIsTerminal(): whether stdout is a terminal (a bar would mix with it).
bool StdoutIsTerminal();

}  // namespace rill::cli

#endif  // RILL_LIB_CLI_COMMON_H_
