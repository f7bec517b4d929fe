#include "cli/common.h"

#include <unistd.h>

#include <cstdio>

#include "absl/strings/str_cat.h"
#include "util/status_macros.h"
#include "core/metadata.h"
#include "core/topic_name.h"
#include "storage/file_system.h"
#include "util/strings.h"

namespace rill::cli {

int Fail(const absl::Status& status) { return Fail(ToStd(status.message())); }

void PrintError(std::string_view message) {
  std::fprintf(stderr, "rill: %.*s\n", static_cast<int>(message.size()), message.data());
}

int Fail(std::string_view message) {
  PrintError(message);
  return kExitFailure;
}

int UsageError(std::string_view message) {
  std::fprintf(stderr, "rill: %.*s\nRun with --help for more information.\n",
               static_cast<int>(message.size()), message.data());
  return kExitUsage;
}

int UsageError(const absl::Status& status) {
  return UsageError(std::string_view(status.message().data(), status.message().size()));
}

absl::Status CheckExistingLog(const std::string& dir) {
  if (dir.empty()) return absl::InvalidArgumentError("--dir is empty");
  FileSystem& fs = *FileSystem::Default();
  absl::StatusOr<FileInfo> info = fs.Stat(dir);
  if (absl::IsNotFound(info.status())) {
    return absl::NotFoundError(absl::StrCat("no log at ", dir,
                                            ": the directory does not exist (create a topic "
                                            "with `rill topics create` first, or set --dir)"));
  }
  if (!info.ok()) return info.status();
  if (!info->is_directory) {
    return absl::InvalidArgumentError(absl::StrCat(dir, " is not a directory"));
  }
  absl::StatusOr<FileInfo> meta = fs.Stat(JoinPath(dir, core::kMetaFile));
  if (absl::IsNotFound(meta.status())) {
    return absl::FailedPreconditionError(
        absl::StrCat(dir, " is not a rill log: it has no ", ToAbsl(core::kMetaFile)));
  }
  return meta.status();
}

absl::StatusOr<std::unique_ptr<Log>> OpenLog(const Context& ctx, LogAccess access,
                                             int background_threads) {
  if (access == LogAccess::kExisting) {
    // Check before Log::Open, which would write meta.properties into an
    // empty directory: a command that only reads must change nothing.
    RETURN_IF_ERROR(CheckExistingLog(ctx.dir));
  } else if (ctx.dir.empty()) {
    return absl::InvalidArgumentError("--dir is empty");
  }
  LogOptions options;
  options.create_if_missing = access == LogAccess::kCreate;
  options.background_threads = background_threads;
  return Log::Open(ctx.dir, options);
}

absl::Status CheckTopicName(std::string_view name) { return core::ValidateTopicName(name); }

std::optional<std::pair<std::string, std::string>> SplitKeyValue(std::string_view text) {
  const size_t eq = text.find('=');
  if (eq == std::string_view::npos || eq == 0) return std::nullopt;
  return std::make_pair(std::string(text.substr(0, eq)), std::string(text.substr(eq + 1)));
}

const std::map<std::string, Compression>& CompressionNames() {
  static const auto* const kNames = new std::map<std::string, Compression>{
      {"none", Compression::kNone}, {"lz4", Compression::kLz4}, {"zstd", Compression::kZstd}};
  return *kNames;
}

const std::map<std::string, Durability>& DurabilityNames() {
  static const auto* const kNames =
      new std::map<std::string, Durability>{{"memory", Durability::kMemory},
                                            {"process", Durability::kProcessCrash},
                                            {"power", Durability::kPowerLoss}};
  return *kNames;
}

namespace {
template <typename T>
std::vector<std::string> Keys(const std::map<std::string, T>& map) {
  std::vector<std::string> keys;
  for (const auto& [key, value] : map) keys.push_back(key);
  return keys;
}
}  // namespace

std::vector<std::string> Names(const std::map<std::string, Compression>& names) {
  return Keys(names);
}
std::vector<std::string> Names(const std::map<std::string, Durability>& names) {
  return Keys(names);
}

bool StderrIsTerminal() { return isatty(STDERR_FILENO) == 1; }
bool StdoutIsTerminal() { return isatty(STDOUT_FILENO) == 1; }

}  // namespace rill::cli
