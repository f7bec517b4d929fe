// rill: the command-line tool. Parses the command line, then runs the chosen
// command; see common.h and the Add*Commands functions.
#include <csignal>
#include <cstdlib>
#include <string>

#include "CLI/CLI.hpp"
#include "cli/commands.h"
#include "cli/common.h"

namespace rill::cli {
namespace {

// RunParsed(app, argc, argv, ctx): parses the command line and runs the
// chosen command; returns the exit code.
int RunParsed(CLI::App& app, int argc, char** argv, Context& ctx) {
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help and --version print and exit 0; every other parse error is a
    // usage error.
    return app.exit(e) == 0 ? kExitOk : kExitUsage;
  }
  return ctx.action ? ctx.action() : kExitUsage;
}

}  // namespace
}  // namespace rill::cli

int main(int argc, char** argv) {
  // A reader that goes away (`rill consume T | head`) is seen as a failed
  // write, which ends the command cleanly, rather than as a fatal signal.
  std::signal(SIGPIPE, SIG_IGN);

  rill::cli::Context ctx;
  if (const char* env = std::getenv("RILL_DIR"); env != nullptr && *env != '\0') ctx.dir = env;
  CLI::App app(
      "rill: Kafka's log model in a directory -- topics, producers, consumers, and "
      "tools to inspect the files.",
      "rill");
  app.add_option("--dir", ctx.dir, "The log's directory (default: $RILL_DIR, else ./rill-data)");
  app.set_version_flag("--version", "rill " RILL_VERSION);
  app.require_subcommand(1);
  app.failure_message([](const CLI::App*, const CLI::Error& e) {
    return std::string("rill: ") + e.what() + "\nRun with --help for more information.\n";
  });
  // Options of the top level may also follow the command: rill topics list --dir D.
  app.fallthrough();
  rill::cli::AddTopicsCommands(app, ctx);
  rill::cli::AddGroupsCommands(app, ctx);
  rill::cli::AddProduceCommand(app, ctx);
  rill::cli::AddConsumeCommand(app, ctx);
  rill::cli::AddDumpCommand(app, ctx);
  rill::cli::AddVerifyCommand(app, ctx);
  rill::cli::AddRepairCommand(app, ctx);
  rill::cli::AddMaintainCommand(app, ctx);
  rill::cli::AddStatsCommand(app, ctx);
  rill::cli::AddPerfCommands(app, ctx);

  // An unknown command word would otherwise be reported as a missing one.
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--dir") ++i;
    if (arg.empty() || arg[0] == '-') continue;
    std::string known;
    for (const CLI::App* sub : app.get_subcommands([](const CLI::App*) { return true; })) {
      if (sub->get_name() == arg) return rill::cli::RunParsed(app, argc, argv, ctx);
      known += (known.empty() ? "" : ", ") + sub->get_name();
    }
    return rill::cli::UsageError("unknown command \"" + arg + "\"; the commands are " + known);
  }
  return rill::cli::RunParsed(app, argc, argv, ctx);
}
