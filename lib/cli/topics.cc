// rill topics list | create | describe | delete.
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/strings/str_join.h"
#include "cli/commands.h"
#include "cli/common.h"

namespace rill::cli {
namespace {

int List(const Context& ctx, bool internal) {
  absl::StatusOr<std::unique_ptr<Log>> log = OpenLog(ctx, LogAccess::kExisting, 0);
  if (!log.ok()) return Fail(log.status());
  for (const std::string& name : (*log)->ListTopics({.include_internal = internal})) {
    std::printf("%s\n", name.c_str());
  }
  absl::Status closed = (*log)->Close();
  return closed.ok() ? kExitOk : Fail(closed);
}

struct CreateArgs {
  std::string name;
  int32_t partitions = -1;  // -1: not given.
  std::vector<std::string> configs;
};

int Create(const Context& ctx, const CreateArgs& args) {
  // Everything the command line alone can get wrong is checked before the
  // log is opened, so that a usage error leaves the disk untouched.
  if (absl::Status s = CheckTopicName(args.name); !s.ok()) return UsageError(s);
  TopicConfig config;
  for (const std::string& setting : args.configs) {
    auto kv = SplitKeyValue(setting);
    if (!kv) {
      return UsageError("--config " + setting + ": expected KEY=VALUE, e.g. retention.ms=86400000");
    }
    if (absl::Status s = config.Set(kv->first, kv->second); !s.ok()) {
      return UsageError("--config " + setting + ": " + std::string(s.message()));
    }
  }
  if (args.partitions != -1) {
    if (absl::Status s = config.Set("partitions", std::to_string(args.partitions)); !s.ok()) {
      return UsageError("--partitions: " + std::string(s.message()));
    }
  }
  absl::StatusOr<std::unique_ptr<Log>> log = OpenLog(ctx, LogAccess::kCreate, 0);
  if (!log.ok()) return Fail(log.status());
  if (absl::Status s = (*log)->CreateTopic(args.name, config); !s.ok()) return Fail(s);
  if (absl::Status s = (*log)->Close(); !s.ok()) return Fail(s);
  std::printf("created topic %s with %d partition%s\n", args.name.c_str(), config.partitions,
              config.partitions == 1 ? "" : "s");
  return kExitOk;
}

int Describe(const Context& ctx, const std::string& name) {
  if (absl::Status s = CheckTopicName(name); !s.ok()) return UsageError(s);
  absl::StatusOr<std::unique_ptr<Log>> log = OpenLog(ctx, LogAccess::kExisting, 0);
  if (!log.ok()) return Fail(log.status());
  absl::StatusOr<TopicDescription> d = (*log)->DescribeTopic(name);
  if (!d.ok()) return Fail(d.status());
  std::printf("topic: %s\npartitions: %zu\nconfig:\n", d->name.c_str(), d->partitions.size());
  for (const auto& [key, value] : d->config.ToMap()) {
    std::printf("  %s=%s\n", key.c_str(), value.c_str());
  }
  std::printf("%9s %14s %14s %9s %14s\n", "partition", "start_offset", "end_offset", "segments",
              "bytes");
  for (const PartitionDescription& p : d->partitions) {
    std::printf("%9d %14lld %14lld %9d %14llu\n", p.partition,
                static_cast<long long>(p.start_offset), static_cast<long long>(p.end_offset),
                p.segments, static_cast<unsigned long long>(p.bytes));
  }
  absl::Status closed = (*log)->Close();
  return closed.ok() ? kExitOk : Fail(closed);
}

int Delete(const Context& ctx, const std::string& name) {
  if (absl::Status s = CheckTopicName(name); !s.ok()) return UsageError(s);
  absl::StatusOr<std::unique_ptr<Log>> log = OpenLog(ctx, LogAccess::kExisting, 0);
  if (!log.ok()) return Fail(log.status());
  if (absl::Status s = (*log)->DeleteTopic(name); !s.ok()) return Fail(s);
  if (absl::Status s = (*log)->Close(); !s.ok()) return Fail(s);
  std::printf("deleted topic %s\n", name.c_str());
  return kExitOk;
}

}  // namespace

void AddTopicsCommands(CLI::App& app, Context& ctx) {
  CLI::App* topics = app.add_subcommand("topics", "List, create, describe and delete topics");
  topics->require_subcommand(1);

  auto internal = std::make_shared<bool>(false);
  CLI::App* list = topics->add_subcommand("list", "Print the names of the topics, one a line");
  list->add_flag("--internal", *internal,
                 "Also list internal topics (__consumer_offsets, where groups commit)");
  list->callback(
      [&ctx, internal] { ctx.action = [&ctx, internal] { return List(ctx, *internal); }; });

  auto create_args = std::make_shared<CreateArgs>();
  CLI::App* create = topics->add_subcommand(
      "create", "Create a topic (and the log, if the directory holds none yet)");
  create->add_option("name", create_args->name, "Topic name: [A-Za-z0-9._-], 1 to 249 characters")
      ->required();
  create->add_option("--partitions,-p", create_args->partitions,
                     "Number of partitions (default 1)");
  create
      ->add_option("--config,-c", create_args->configs,
                   "A topic setting by its Kafka name, e.g. retention.ms=86400000 "
                   "(repeatable; see `topics describe` for the names)")
      ->allow_extra_args(false);
  create->callback([&ctx, create_args] {
    ctx.action = [&ctx, create_args] { return Create(ctx, *create_args); };
  });

  auto describe_name = std::make_shared<std::string>();
  CLI::App* describe = topics->add_subcommand(
      "describe", "Print a topic's settings and, per partition, its offsets, segments and bytes");
  describe->add_option("name", *describe_name, "Topic name")->required();
  describe->callback([&ctx, describe_name] {
    ctx.action = [&ctx, describe_name] { return Describe(ctx, *describe_name); };
  });

  auto delete_name = std::make_shared<std::string>();
  CLI::App* del = topics->add_subcommand("delete", "Delete a topic and all its records");
  del->add_option("name", *delete_name, "Topic name")->required();
  del->callback([&ctx, delete_name] {
    ctx.action = [&ctx, delete_name] { return Delete(ctx, *delete_name); };
  });
}

}  // namespace rill::cli
