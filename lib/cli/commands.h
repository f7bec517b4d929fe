// The command groups of the rill tool. Each registers its subcommands on
// the top-level CLI11 app; see common.h for how they run.
#ifndef RILL_LIB_CLI_COMMANDS_H_
#define RILL_LIB_CLI_COMMANDS_H_

#include "cli/common.h"

namespace rill::cli {

void AddTopicsCommands(CLI::App& app, Context& ctx);  // topics.cc
void AddGroupsCommands(CLI::App& app, Context& ctx);  // groups.cc
void AddProduceCommand(CLI::App& app, Context& ctx);  // produce.cc
void AddConsumeCommand(CLI::App& app, Context& ctx);  // consume.cc
void AddDumpCommand(CLI::App& app, Context& ctx);     // dump.cc
void AddVerifyCommand(CLI::App& app, Context& ctx);   // verify.cc
void AddRepairCommand(CLI::App& app, Context& ctx);   // repair.cc
void AddMaintainCommand(CLI::App& app, Context& ctx); // maintain.cc
void AddStatsCommand(CLI::App& app, Context& ctx);    // stats.cc
void AddPerfCommands(CLI::App& app, Context& ctx);    // perf.cc, perf_latency.cc

}  // namespace rill::cli

#endif  // RILL_LIB_CLI_COMMANDS_H_
