#pragma once
// The subcommands of `sluice`. Each returns the process exit code:
// 0 success, 1 failure at run time (or failed tests), 2 bad usage, bad
// configuration or a refused plugin.
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

#include "config/pipeline_config.hpp"
#include "config/settings.hpp"
#include "loader.hpp"

namespace sluice::app {

inline constexpr int exit_ok = 0;
inline constexpr int exit_failure = 1;
inline constexpr int exit_usage = 2;

/** Options shared by the subcommands, as parsed from the command line. */
struct CliOptions {
  std::string command;
  std::vector<std::string> args;         ///< positional arguments after the command
  std::optional<std::string> config;     ///< --config FILE (must exist)
  std::string default_config;            ///< conf/sluice.yaml when present and no --config
  std::vector<std::string> plugin_dirs;  ///< --plugin-dir DIR (repeatable)
  bool json = false;                     ///< plugins --json
  bool markdown = false;                 ///< plugins --markdown
  std::string format = "dot";            ///< graph --format dot|mermaid
  std::string kind;                      ///< new-plugin --kind source|transform|sink
  std::string dir;                       ///< new-plugin --dir DIR (absolute)
  std::string admin;                     ///< top, tap --admin HOST:PORT
  long iterations = 0;                   ///< top --iterations N (0: until quit)
  long limit = 0;                        ///< tap --limit N (0: until interrupted)
  std::string rate;                      ///< tap --rate R (events per second; the daemon checks it)
  bool meta = false;                     ///< tap --meta
};

/**
 * Loads daemon settings (--config, else conf/sluice.yaml when present) and
 * sets up logging. Prints diagnostics to @p err and returns nullopt on errors.
 */
std::optional<core::DaemonSettings> load_daemon_settings(const CliOptions& opts, std::ostream& err);

/**
 * Loads plugins from the default directories, the settings' plugin_dirs and
 * --plugin-dir. Prints the refused library and reason to @p err and returns false.
 */
bool load_plugins(const CliOptions& opts, const core::DaemonSettings& settings, core::PluginLoader& loader,
                  std::ostream& err);

/**
 * Settings, plugins and the pipeline files of opts.args, loaded and validated as `sluice validate`
 * does. Prints every diagnostic (and their count) to @p err and returns nullopt on errors.
 */
std::optional<core::ConfigSet> load_pipeline_files(const CliOptions& opts, core::PluginLoader& loader,
                                                   std::ostream& err);

int run_command(const CliOptions& opts);
int validate_command(const CliOptions& opts);
int plugins_command(const CliOptions& opts);
int test_command(const CliOptions& opts);
int version_command(const CliOptions& opts);
int graph_command(const CliOptions& opts);
/** `sluice top`: a running daemon's pipelines, from its admin endpoint (app/top_command.cpp). */
int top_command(const CliOptions& opts);
/** `sluice tap`: events passing a component of a running daemon, as JSON lines (app/tap_command.cpp). */
int tap_command(const CliOptions& opts);
int new_plugin_command(const CliOptions& opts);

}  // namespace sluice::app
