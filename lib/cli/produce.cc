// rill produce TOPIC: one record per line of stdin.
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/strings/str_cat.h"
#include "cli/commands.h"
#include "cli/common.h"
#include "cli/progress.h"
#include "cli/send_tracker.h"
#include "rill/producer.h"

namespace rill::cli {
namespace {

struct ProduceArgs {
  std::string topic;
  std::string key_separator;  // Empty: no keys.
  int32_t partition = -1;     // -1: chosen by key, as Kafka does.
  std::vector<std::string> headers;
  std::string compression = "none";
  std::string durability = "process";
  bool verbose = false;
};

// ForEachLine(fd, on_line, on_bytes): reads `fd` to its end and calls
// on_line(line) for each line, without its '\n' (the last line may lack
// one), until on_line returns false; on_bytes(n) after each read. Returns
// the read error, if any.
template <typename OnLine, typename OnBytes>
absl::Status ForEachLine(int fd, OnLine on_line, OnBytes on_bytes) {
  constexpr size_t kChunk = 1 << 20;
  std::vector<char> buffer(kChunk);
  size_t kept = 0;  // Bytes of an unfinished line at the front of buffer.
  for (;;) {
    if (kept == buffer.size()) buffer.resize(buffer.size() * 2);  // A very long line.
    const ssize_t n = read(fd, buffer.data() + kept, buffer.size() - kept);
    if (n < 0) {
      if (errno == EINTR) continue;
      return absl::ErrnoToStatus(errno, "reading stdin");
    }
    if (n == 0) break;
    on_bytes(static_cast<uint64_t>(n));
    const char* p = buffer.data();
    const char* const end = buffer.data() + kept + n;
    for (;;) {
      const char* nl = static_cast<const char*>(std::memchr(p, '\n', static_cast<size_t>(end - p)));
      if (nl == nullptr) break;
      if (!on_line(std::string_view(p, static_cast<size_t>(nl - p)))) return absl::OkStatus();
      p = nl + 1;
    }
    kept = static_cast<size_t>(end - p);
    std::memmove(buffer.data(), p, kept);
  }
  if (kept > 0) on_line(std::string_view(buffer.data(), kept));
  return absl::OkStatus();
}

int Produce(const Context& ctx, const ProduceArgs& args) {
  if (absl::Status s = CheckTopicName(args.topic); !s.ok()) return UsageError(s);
  std::vector<std::pair<std::string, std::string>> header_storage;
  for (const std::string& h : args.headers) {
    auto kv = SplitKeyValue(h);
    if (!kv) return UsageError("--header " + h + ": expected KEY=VALUE");
    header_storage.push_back(*std::move(kv));
  }
  std::vector<Header> headers;
  for (const auto& [key, value] : header_storage) headers.push_back({key, value});

  absl::StatusOr<std::unique_ptr<Log>> log = OpenLog(ctx, LogAccess::kExisting);
  if (!log.ok()) return Fail(log.status());
  // Check the topic and partition before reading anything.
  absl::StatusOr<TopicDescription> topic = (*log)->DescribeTopic(args.topic);
  if (!topic.ok()) return Fail(topic.status());
  const auto partitions = static_cast<int32_t>(topic->partitions.size());
  if (args.partition >= partitions) {
    return Fail(absl::StrCat("topic ", args.topic, " has no partition ", args.partition,
                             " (it has ", partitions, ")"));
  }

  uint64_t input_size = 0;
  struct stat st;
  if (fstat(STDIN_FILENO, &st) == 0 && S_ISREG(st.st_mode)) {
    input_size = static_cast<uint64_t>(st.st_size);
  }
  ProgressBar bar("produce", input_size, ProgressBar::Unit::kBytes);

  SendTracker tracker;
  Producer producer(**log, {.durability = DurabilityNames().at(args.durability),
                            .compression = CompressionNames().at(args.compression)});
  int64_t lines = 0;
  uint64_t bytes_read = 0;
  absl::Status send_error;
  absl::Status read_error = ForEachLine(
      STDIN_FILENO,
      [&](std::string_view line) {
        Record record{.value = line, .headers = headers};
        if (!args.key_separator.empty()) {
          const size_t at = line.find(args.key_separator);
          if (at != std::string_view::npos) {
            record.key = line.substr(0, at);
            record.value = line.substr(at + args.key_separator.size());
          }
        }
        if (args.partition >= 0) record.partition = args.partition;
        ++lines;
        send_error = producer.SendAsync(args.topic, record, tracker.Callback());
        if (!send_error.ok()) {
          send_error = absl::Status(send_error.code(),
                                    absl::StrCat("line ", lines, ": ", send_error.message()));
          return false;
        }
        return true;
      },
      [&](uint64_t n) { bar.Update(bytes_read += n); });
  absl::Status flushed = producer.Close();
  bar.Finish();
  absl::Status closed = (*log)->Close();
  if (!read_error.ok()) return Fail(read_error);
  if (!send_error.ok()) return Fail(send_error);
  if (tracker.failed() > 0) {
    return Fail(absl::StrCat(tracker.failed(), " of ", lines,
                             " records failed; the first: ", tracker.first_error().message()));
  }
  if (!flushed.ok()) return Fail(flushed);
  if (!closed.ok()) return Fail(closed);
  if (args.verbose) {
    std::fprintf(stderr, "produced %lld records (%llu bytes of input) to %s\n",
                 static_cast<long long>(tracker.acked()),
                 static_cast<unsigned long long>(bytes_read), args.topic.c_str());
  }
  return kExitOk;
}

}  // namespace

void AddProduceCommand(CLI::App& app, Context& ctx) {
  auto args = std::make_shared<ProduceArgs>();
  CLI::App* cmd = app.add_subcommand("produce", "Send one record per line of stdin to TOPIC");
  cmd->footer(
      "Records are batched and sent asynchronously, then flushed; the command exits 0 only when "
      "every record was appended, and prints nothing unless --verbose.");
  cmd->add_option("topic", args->topic, "Topic to send to")->required();
  cmd->add_option("--key-separator,-K", args->key_separator,
                  "Split each line at the first SEP: key before, value after (a line without "
                  "SEP has a null key)");
  cmd->add_option("--partition,-p", args->partition,
                  "Send every record to partition P (default: by key, as Kafka; null keys stick "
                  "to one partition per batch)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--header,-H", args->headers, "Add header KEY=VALUE to every record (repeatable)")
      ->allow_extra_args(false);
  cmd->add_option("--compression,-z", args->compression, "Codec of the batches: none, lz4, zstd")
      ->check(CLI::IsMember(Names(CompressionNames())));
  cmd->add_option("--durability,-d", args->durability,
                  "What an appended record survives: memory, process (default: a crash of this "
                  "process), power (synced to the device)")
      ->check(CLI::IsMember(Names(DurabilityNames())));
  cmd->add_flag("--verbose,-v", args->verbose, "Print a summary on stderr");
  cmd->callback([&ctx, args] { ctx.action = [&ctx, args] { return Produce(ctx, *args); }; });
}

}  // namespace rill::cli
