#include "core/metadata.h"

#include <algorithm>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "core/topic_name.h"
#include "util/status_macros.h"
#include "util/strings.h"

namespace rill::core {

absl::StatusOr<std::map<std::string, std::string>> ParseProperties(std::string_view path,
                                                                   std::string_view text) {
  std::map<std::string, std::string> properties;
  int line_number = 0;
  for (absl::string_view line : absl::StrSplit(ToAbsl(text), '\n')) {
    ++line_number;
    line = absl::StripAsciiWhitespace(line);
    if (line.empty() || line[0] == '#') continue;
    const size_t eq = line.find('=');
    if (eq == absl::string_view::npos) {
      return absl::DataLossError(
          absl::StrCat(ToAbsl(path), ": line ", line_number, " is not key=value: ", line));
    }
    properties[std::string(absl::StripAsciiWhitespace(line.substr(0, eq)))] =
        std::string(absl::StripAsciiWhitespace(line.substr(eq + 1)));
  }
  return properties;
}

std::string FormatProperties(const std::map<std::string, std::string>& properties,
                             std::string_view comment) {
  std::string text = absl::StrCat("# ", ToAbsl(comment), "\n");
  for (const auto& [key, value] : properties) absl::StrAppend(&text, key, "=", value, "\n");
  return text;
}

absl::Status PrepareLogDir(FileSystem& fs, const std::string& dir, bool create) {
  absl::StatusOr<FileInfo> info = fs.Stat(dir);
  if (info.ok()) {
    if (!info->is_directory) {
      return absl::InvalidArgumentError(absl::StrCat(dir, " is not a directory"));
    }
    return absl::OkStatus();
  }
  if (!absl::IsNotFound(info.status())) return info.status();
  if (!create) return absl::NotFoundError(absl::StrCat("no log at ", dir, ": it does not exist"));
  const size_t slash = dir.find_last_of('/');
  const std::string parent = slash == std::string::npos ? "."
                             : slash == 0              ? "/"
                                                       : dir.substr(0, slash);
  if (slash != std::string::npos && slash > 0) {
    RETURN_IF_ERROR(PrepareLogDir(fs, parent, true));
  }
  RETURN_IF_ERROR(fs.CreateDir(dir));
  // The new directory's name must be durable before anything in it is
  // promised durable: a loss of power would otherwise take the whole log.
  return fs.SyncDir(parent);
}

absl::Status CheckIsLogOrEmpty(FileSystem& fs, const std::string& dir) {
  absl::StatusOr<FileInfo> meta = fs.Stat(JoinPath(dir, std::string(kMetaFile)));
  if (meta.ok() || !absl::IsNotFound(meta.status())) return meta.status();
  ASSIGN_OR_RETURN(std::vector<std::string> names, fs.ListDir(dir));
  for (const std::string& name : names) {
    // The lock file, and the temporary of a meta.properties that a crash
    // kept from being written: a log's first open, cut short.
    if (name != kLockFile && name != absl::StrCat(ToAbsl(kMetaFile), ".tmp")) {
      return absl::FailedPreconditionError(absl::StrCat(dir, " is not a rill log: it has no ",
                                                        ToAbsl(kMetaFile),
                                                        " and is not empty (it holds ", name, ")"));
    }
  }
  return absl::OkStatus();
}

absl::Status CheckLogFormat(FileSystem& fs, const std::string& dir) {
  const std::string path = JoinPath(dir, std::string(kMetaFile));
  absl::StatusOr<std::string> text = ReadFileToString(fs, path);
  if (absl::IsNotFound(text.status())) {
    RETURN_IF_ERROR(CheckIsLogOrEmpty(fs, dir));
    return WriteFileAtomically(
        fs, dir, std::string(kMetaFile),
        FormatProperties({{"version", absl::StrCat(kLogFormatVersion)}}, "rill log"));
  }
  RETURN_IF_ERROR(text.status());
  ASSIGN_OR_RETURN(auto properties, ParseProperties(path, *text));
  int version = 0;
  if (!absl::SimpleAtoi(properties["version"], &version) || version < 1) {
    return absl::DataLossError(absl::StrCat(path, " has no valid version"));
  }
  if (version > kLogFormatVersion) {
    return absl::FailedPreconditionError(absl::StrCat(
        dir, " holds a log of format version ", version, "; this build of rill reads versions up to ",
        kLogFormatVersion, ". Open it with a newer rill."));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<std::string>> ListTopicFiles(FileSystem& fs, const std::string& dir) {
  absl::StatusOr<std::vector<std::string>> names =
      fs.ListDir(JoinPath(dir, std::string(kTopicsDir)));
  if (absl::IsNotFound(names.status())) return std::vector<std::string>();
  RETURN_IF_ERROR(names.status());
  std::vector<std::string> topics;
  for (std::string& name : *names) {
    // Anything not named as a topic is a temporary a crash left behind.
    if (ValidateTopicName(name).ok()) topics.push_back(std::move(name));
  }
  std::sort(topics.begin(), topics.end());
  return topics;
}

std::string TopicConfigPath(const std::string& dir, std::string_view name) {
  return JoinPath(JoinPath(dir, std::string(kTopicsDir)), name);
}

absl::StatusOr<TopicConfig> ReadTopicConfig(FileSystem& fs, const std::string& dir,
                                            std::string_view name) {
  const std::string path = TopicConfigPath(dir, name);
  ASSIGN_OR_RETURN(std::string text, ReadFileToString(fs, path));
  ASSIGN_OR_RETURN(auto properties, ParseProperties(path, text));
  TopicConfig config;
  for (const auto& [key, value] : properties) {
    if (absl::Status s = config.Set(key, value); !s.ok()) {
      return absl::DataLossError(absl::StrCat(path, ": ", s.message()));
    }
  }
  return config;
}

absl::StatusOr<std::map<std::string, TopicConfig>> LoadTopicConfigs(FileSystem& fs,
                                                                    const std::string& dir) {
  RETURN_IF_ERROR(fs.CreateDir(JoinPath(dir, std::string(kTopicsDir))));
  ASSIGN_OR_RETURN(std::vector<std::string> names, ListTopicFiles(fs, dir));
  std::map<std::string, TopicConfig> topics;
  for (const std::string& name : names) {
    ASSIGN_OR_RETURN(TopicConfig config, ReadTopicConfig(fs, dir, name));
    topics.emplace(name, config);
  }
  return topics;
}

absl::Status SaveTopicConfig(FileSystem& fs, const std::string& dir, std::string_view name,
                             const TopicConfig& config) {
  const std::string topics_dir = JoinPath(dir, std::string(kTopicsDir));
  RETURN_IF_ERROR(fs.CreateDir(topics_dir));
  return WriteFileAtomically(fs, topics_dir, std::string(name),
                             FormatProperties(config.ToMap(), absl::StrCat("topic ", ToAbsl(name))),
                             kTopicTempSuffix);
}

absl::Status RemoveTopicConfig(FileSystem& fs, const std::string& dir, std::string_view name) {
  const std::string topics_dir = JoinPath(dir, std::string(kTopicsDir));
  RETURN_IF_ERROR(fs.RemoveFile(JoinPath(topics_dir, name)));
  return fs.SyncDir(topics_dir);
}

absl::Status RemoveTree(FileSystem& fs, const std::string& path) {
  ASSIGN_OR_RETURN(FileInfo info, fs.Stat(path));
  if (!info.is_directory) return fs.RemoveFile(path);
  ASSIGN_OR_RETURN(std::vector<std::string> names, fs.ListDir(path));
  for (const std::string& name : names) RETURN_IF_ERROR(RemoveTree(fs, JoinPath(path, name)));
  return fs.RemoveDir(path);
}

}  // namespace rill::core
