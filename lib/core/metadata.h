// The files that describe a log, beside its partitions' directories:
//
//   <dir>/meta.properties   format version of the log ("version=1")
//   <dir>/.lock             held by the process that has it open
//   <dir>/topics/<name>     a topic's settings, by Kafka's names
//
// Properties files are "key=value" lines ('#' starts a comment), replaced
// atomically. A topic's file is named exactly as the topic, with no suffix:
// Kafka's names may be 249 characters long, and a file name can have only
// 255. Its temporary, "<name>~tmp", is no valid topic name, so it can be
// neither mistaken for a topic nor clash with one. See docs/FORMAT.md.
#ifndef RILL_LIB_CORE_METADATA_H_
#define RILL_LIB_CORE_METADATA_H_

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "rill/options.h"
#include "storage/file_system.h"

namespace rill::core {

// The newest log format this build reads and writes.
inline constexpr int kLogFormatVersion = 1;
inline constexpr std::string_view kMetaFile = "meta.properties";
inline constexpr std::string_view kLockFile = ".lock";
inline constexpr std::string_view kTopicsDir = "topics";
// Appended to a topic file's name while it is written.
inline constexpr std::string_view kTopicTempSuffix = "~tmp";

// ParseProperties(path, text): the key=value pairs of the properties file at
// `path` (named in errors only). kDataLoss naming the file and the line for a
// line that is neither a pair, a comment nor blank.
absl::StatusOr<std::map<std::string, std::string>> ParseProperties(std::string_view path,
                                                                   std::string_view text);
std::string FormatProperties(const std::map<std::string, std::string>& properties,
                             std::string_view comment);

// PrepareLogDir(fs, dir, create): makes sure `dir` exists (creating it and
// its parents when `create`) and is a directory. kNotFound,
// kInvalidArgument (not a directory).
absl::Status PrepareLogDir(FileSystem& fs, const std::string& dir, bool create);

// CheckIsLogOrEmpty(fs, dir): OK if `dir` holds a meta.properties, or
// nothing but a lock file and a meta.properties.tmp (a first open that a
// crash cut short); kFailedPrecondition (it is not a log) otherwise.
// Reads only: call it before writing anything into a directory that may not
// be a log.
absl::Status CheckIsLogOrEmpty(FileSystem& fs, const std::string& dir);

// CheckLogFormat(fs, dir): reads meta.properties, or writes it if the
// directory holds nothing else. kFailedPrecondition if the log is of a newer
// format, or if the directory holds other files and no meta.properties (it is
// not a log).
absl::Status CheckLogFormat(FileSystem& fs, const std::string& dir);

// TopicConfigPath(dir, name): the file holding a topic's settings.
std::string TopicConfigPath(const std::string& dir, std::string_view name);

// Topic settings. ListTopicFiles(fs, dir): the names of the topics with a
// settings file, sorted; none if the topics directory is missing. Read-only.
absl::StatusOr<std::vector<std::string>> ListTopicFiles(FileSystem& fs, const std::string& dir);
// ReadTopicConfig(fs, dir, name): one topic's settings; kDataLoss naming the
// file for a setting it cannot take. Read-only.
absl::StatusOr<TopicConfig> ReadTopicConfig(FileSystem& fs, const std::string& dir,
                                            std::string_view name);
// LoadTopicConfigs(fs, dir): every topic's settings (creates the topics
// directory if missing).
absl::StatusOr<std::map<std::string, TopicConfig>> LoadTopicConfigs(FileSystem& fs,
                                                                    const std::string& dir);
absl::Status SaveTopicConfig(FileSystem& fs, const std::string& dir, std::string_view name,
                             const TopicConfig& config);
absl::Status RemoveTopicConfig(FileSystem& fs, const std::string& dir, std::string_view name);

// RemoveTree(fs, path): removes a directory and everything in it.
absl::Status RemoveTree(FileSystem& fs, const std::string& path);

}  // namespace rill::core

#endif  // RILL_LIB_CORE_METADATA_H_
