// rill consume TOPIC: prints records, from where --from says (or, with
// --group, from the group's committed offsets, committing what it printed),
// until the end (or forever with --follow).
#include <algorithm>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "cli/commands.h"
#include "cli/common.h"
#include "cli/progress.h"
#include "cli/record_format.h"
#include "cli/signals.h"
#include "rill/consumer.h"
#include "util/strings.h"

namespace rill::cli {
namespace {

struct ConsumeArgs {
  std::string topic;
  int32_t partition = -1;  // -1: every partition.
  std::string from = "beginning";
  int64_t max = -1;  // -1: no limit.
  bool follow = false;
  std::string format = "%s\\n";
  std::string group;  // Empty: none.
};

// Where --from starts reading.
struct StartAt {
  enum class Kind { kBeginning, kEnd, kOffset, kTime } kind = Kind::kBeginning;
  int64_t value = 0;
};

absl::StatusOr<StartAt> ParseFrom(const std::string& from) {
  if (from == "beginning") return StartAt{StartAt::Kind::kBeginning, 0};
  if (from == "end") return StartAt{StartAt::Kind::kEnd, 0};
  const bool time = !from.empty() && from[0] == '@';
  int64_t value;
  if (!absl::SimpleAtoi(ToAbsl(time ? from.substr(1) : from), &value) || value < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("--from ", from,
                     ": expected beginning, end, an offset, or @ and a time in ms since the "
                     "Unix epoch"));
  }
  return StartAt{time ? StartAt::Kind::kTime : StartAt::Kind::kOffset, value};
}

absl::Status Seek(Log& log, Consumer& consumer, const TopicPartition& tp, const StartAt& at) {
  switch (at.kind) {
    case StartAt::Kind::kBeginning:
      return consumer.SeekToBeginning({tp});
    case StartAt::Kind::kEnd:
      return consumer.SeekToEnd({tp});
    case StartAt::Kind::kTime:
      return consumer.SeekToTime(at.value, {tp});
    case StartAt::Kind::kOffset: {
      // An offset outside the partition starts at the nearest end of it.
      absl::StatusOr<int64_t> start = log.StartOffset(tp);
      if (!start.ok()) return start.status();
      absl::StatusOr<int64_t> end = log.EndOffset(tp);
      if (!end.ok()) return end.status();
      return consumer.Seek(tp, std::clamp(at.value, *start, *end));
    }
  }
  return absl::OkStatus();
}

// Writes `out` to stdout and empties it; false when stdout is gone.
bool WriteOut(std::string* out) {
  const bool ok = std::fwrite(out->data(), 1, out->size(), stdout) == out->size();
  out->clear();
  return ok;
}

// ConsumeInGroup: the records after the group's committed offsets (or, where
// it has none, from --from beginning or end); after each poll's records are
// written to stdout, their offsets are committed.
int ConsumeInGroup(const Context& ctx, const ConsumeArgs& args, const StartAt& from,
                   const RecordFormat& format) {
  StopSignals signals;  // Before the log starts threads: they must not take the signals.
  absl::StatusOr<std::unique_ptr<Log>> log = OpenLog(ctx, LogAccess::kExisting, 0);
  if (!log.ok()) return Fail(log.status());
  absl::StatusOr<TopicDescription> topic = (*log)->DescribeTopic(args.topic);
  if (!topic.ok()) return Fail(topic.status());
  // Where each partition started: a partition nothing was printed from gets
  // it committed at the end, so that a new group starts where --from said
  // the next time too.
  OffsetMap started;
  Consumer* self = nullptr;
  ConsumerOptions options{.group = args.group,
                          .client_id = "rill-consume",
                          .enable_auto_commit = false,
                          .auto_offset_reset = from.kind == StartAt::Kind::kEnd
                                                   ? OffsetReset::kLatest
                                                   : OffsetReset::kEarliest};
  options.on_assigned = [&started, &self](const std::vector<TopicPartition>& partitions) {
    for (const TopicPartition& tp : partitions) {
      if (absl::StatusOr<int64_t> position = self->Position(tp); position.ok()) {
        started[tp] = {.offset = *position};
      }
    }
  };
  Consumer consumer(**log, options);
  self = &consumer;
  if (absl::Status s = consumer.Subscribe({args.topic}); !s.ok()) return Fail(s);
  signals.OnStop([&consumer] { consumer.Wakeup(); });
  std::string out;
  int64_t count = 0;
  absl::Status status;
  while (args.max < 0 || count < args.max) {
    // Without --follow, nothing waits: nobody else can append while this
    // process holds the log, so an empty poll is the end.
    absl::StatusOr<ConsumerRecords> records =
        consumer.Poll(args.follow ? absl::Milliseconds(500) : absl::ZeroDuration());
    if (absl::IsCancelled(records.status())) break;  // Ctrl-C or SIGTERM.
    if (!records.ok()) {
      status = records.status();
      break;
    }
    if (records->empty() && !args.follow) break;
    OffsetMap printed;
    for (const RecordView& r : *records) {
      if (args.max >= 0 && count == args.max) break;
      format.Append(r, &out);
      ++count;
      printed[{std::string(r.topic()), r.partition()}] = {.offset = r.offset() + 1};
    }
    // Commit only what reached stdout.
    if (!WriteOut(&out) || std::fflush(stdout) != 0) break;
    for (const auto& [tp, next] : printed) started.erase(tp);
    if (!printed.empty()) {
      if (status = consumer.Commit(printed); !status.ok()) break;
    }
  }
  for (auto it = started.begin(); it != started.end();) {
    it = consumer.Committed(it->first).ok() ? started.erase(it) : std::next(it);
  }
  if (status.ok() && !started.empty()) status = consumer.Commit(started);
  signals.OnStop(nullptr);
  (void)consumer.Close();
  absl::Status closed = (*log)->Close();
  if (!status.ok()) return Fail(status);
  if (!closed.ok()) return Fail(closed);
  return kExitOk;
}

int Consume(const Context& ctx, const ConsumeArgs& args) {
  if (absl::Status s = CheckTopicName(args.topic); !s.ok()) return UsageError(s);
  absl::StatusOr<StartAt> from = ParseFrom(args.from);
  if (!from.ok()) return UsageError(from.status());
  absl::StatusOr<RecordFormat> format = RecordFormat::Parse(args.format);
  if (!format.ok()) return UsageError(format.status());
  if (!args.group.empty()) {
    if (args.partition >= 0) return UsageError("--partition and --group exclude each other");
    if (from->kind == StartAt::Kind::kOffset || from->kind == StartAt::Kind::kTime) {
      return UsageError(
          "with --group, --from is beginning or end (where a partition with no committed "
          "offset starts); move a group's offsets with `rill groups reset`");
    }
    return ConsumeInGroup(ctx, args, *from, *format);
  }

  StopSignals signals;  // Before the log starts threads: they must not take the signals.
  absl::StatusOr<std::unique_ptr<Log>> log = OpenLog(ctx, LogAccess::kExisting, 0);
  if (!log.ok()) return Fail(log.status());
  absl::StatusOr<TopicDescription> topic = (*log)->DescribeTopic(args.topic);
  if (!topic.ok()) return Fail(topic.status());
  const auto partitions = static_cast<int32_t>(topic->partitions.size());
  if (args.partition >= partitions) {
    return Fail(absl::StrCat("topic ", args.topic, " has no partition ", args.partition,
                             " (it has ", partitions, ")"));
  }
  std::vector<TopicPartition> tps;
  for (int32_t p = 0; p < partitions; ++p) {
    if (args.partition < 0 || args.partition == p) tps.push_back({args.topic, p});
  }

  Consumer consumer(**log, {.auto_offset_reset = OffsetReset::kEarliest});
  if (absl::Status s = consumer.Assign(tps); !s.ok()) return Fail(s);
  // Without --follow, read up to the end offsets of now.
  std::vector<int64_t> stop_at;
  uint64_t total = 0;
  for (const TopicPartition& tp : tps) {
    if (absl::Status s = Seek(**log, consumer, tp, *from); !s.ok()) return Fail(s);
    absl::StatusOr<int64_t> end = (*log)->EndOffset(tp);
    if (!end.ok()) return Fail(end.status());
    absl::StatusOr<int64_t> position = consumer.Position(tp);
    if (!position.ok()) return Fail(position.status());
    stop_at.push_back(*end);
    total += static_cast<uint64_t>(std::max<int64_t>(0, *end - *position));
  }
  if (args.max >= 0 && static_cast<uint64_t>(args.max) < total) total = args.max;
  signals.OnStop([&consumer] { consumer.Wakeup(); });

  ProgressBar bar("consume", args.follow ? 0 : total, ProgressBar::Unit::kRecords,
                  !StdoutIsTerminal());
  std::string out;
  int64_t count = 0;
  bool stdout_ok = true;
  absl::Status status;
  while (stdout_ok && (args.max < 0 || count < args.max)) {
    if (!args.follow) {
      bool done = true;
      for (size_t i = 0; i < tps.size() && done; ++i) {
        absl::StatusOr<int64_t> position = consumer.Position(tps[i]);
        if (!position.ok()) {
          status = position.status();
          break;
        }
        done = *position >= stop_at[i];
      }
      if (!status.ok() || done) break;
    }
    absl::StatusOr<ConsumerRecords> records = consumer.Poll(absl::Milliseconds(500));
    if (absl::IsCancelled(records.status())) break;  // Ctrl-C or SIGTERM.
    if (!records.ok()) {
      status = records.status();
      break;
    }
    // Nobody else can append while this process holds the log: nothing
    // more to come.
    if (records->empty() && !args.follow) break;
    for (const RecordView& r : *records) {
      if (args.max >= 0 && count == args.max) break;
      format->Append(r, &out);
      ++count;
      if (out.size() >= (1 << 20) && !(stdout_ok = WriteOut(&out))) break;
    }
    bar.Update(static_cast<uint64_t>(count));
    if (args.follow && stdout_ok) stdout_ok = WriteOut(&out) && std::fflush(stdout) == 0;
  }
  if (stdout_ok) stdout_ok = WriteOut(&out) && std::fflush(stdout) == 0;
  bar.Finish();
  signals.OnStop(nullptr);
  (void)consumer.Close();
  absl::Status closed = (*log)->Close();
  if (!status.ok()) return Fail(status);
  if (!closed.ok()) return Fail(closed);
  // A closed stdout (`rill consume T | head`) ends the command, not in error.
  return kExitOk;
}

}  // namespace

void AddConsumeCommand(CLI::App& app, Context& ctx) {
  auto args = std::make_shared<ConsumeArgs>();
  CLI::App* cmd = app.add_subcommand("consume", "Print the records of TOPIC");
  cmd->footer(
      "Reads every partition (or --partition P) from --from up to the end offsets of the start, "
      "or, with --follow, on until Ctrl-C or SIGTERM, and then closes the log cleanly. Records "
      "of one partition come in offset order.");
  cmd->add_option("topic", args->topic, "Topic to read")->required();
  cmd->add_option("--partition,-p", args->partition, "Read only partition P (default: all)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--from,-o", args->from,
                  "Where to start in each partition: beginning (default), end, an OFFSET, or "
                  "@UNIX_MS (the first record at or after that time)");
  cmd->add_option("--max,-c", args->max, "Stop after N records")->check(CLI::NonNegativeNumber);
  cmd->add_option("--group,-g", args->group,
                  "Read as a member of consumer group G: resume from its committed offsets "
                  "(--from says where a partition without one starts) and commit each record "
                  "once it is printed");
  cmd->add_flag("--follow,-f", args->follow,
                "At the end, wait for more records (like tail -f) until Ctrl-C");
  cmd->add_option("--format", args->format,
                  "How to print each record, with kcat's placeholders: %t topic, %p partition, "
                  "%o offset, %k key, %s value, %T timestamp (ms), %h headers (k=v,k2=v2), "
                  "%S value size, %K key size, %%; escapes \\n \\t \\r \\\\ (default: %s\\n)");
  cmd->callback([&ctx, args] { ctx.action = [&ctx, args] { return Consume(ctx, *args); }; });
}

}  // namespace rill::cli
