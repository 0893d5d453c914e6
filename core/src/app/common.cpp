// Pieces shared by the subcommands: settings, plugins, `validate`, `version`.
#include <iostream>

#include "app/commands.hpp"
#include "config/pipeline_config.hpp"
#include "logging.hpp"
#include "sluice/version.hpp"

namespace sluice::app {

std::optional<core::DaemonSettings> load_daemon_settings(const CliOptions& opts, std::ostream& err) {
  core::Diagnostics diags;
  const std::string path = opts.config ? *opts.config : opts.default_config;
  core::DaemonSettings settings = core::load_settings(path, opts.config.has_value(), diags);
  if (!diags.empty()) {
    err << diags.format();
    return std::nullopt;
  }
  // Only `run` talks while it works; the other commands print results, and
  // plugin chatter would get in their way.
  LogLevel level = settings.log_level;
  if (opts.command != "run" && level < LogLevel::Warn) level = LogLevel::Warn;
  core::configure_logging(level, settings.log_format);
  return settings;
}

bool load_plugins(const CliOptions& opts, const core::DaemonSettings& settings, core::PluginLoader& loader,
                  std::ostream& err) {
  std::vector<std::string> dirs = core::PluginLoader::default_directories();
  dirs.insert(dirs.end(), settings.plugin_dirs.begin(), settings.plugin_dirs.end());
  dirs.insert(dirs.end(), opts.plugin_dirs.begin(), opts.plugin_dirs.end());
  try {
    loader.load_directories(dirs);
  } catch (const core::LoadError& e) {
    err << "sluice: plugin refused: " << e.what() << "\n";
    return false;
  }
  return true;
}

std::optional<core::ConfigSet> load_pipeline_files(const CliOptions& opts, core::PluginLoader& loader,
                                                   std::ostream& err) {
  auto settings = load_daemon_settings(opts, err);
  if (!settings) return std::nullopt;
  if (!load_plugins(opts, *settings, loader, err)) return std::nullopt;
  core::Diagnostics diags;
  auto set = core::load_config(opts.args, loader, diags);
  if (!set || !diags.empty()) {
    err << diags.format();
    err << diags.items().size() << (diags.items().size() == 1 ? " error\n" : " errors\n");
    return std::nullopt;
  }
  return set;
}

int validate_command(const CliOptions& opts) {
  core::PluginLoader loader;
  const auto set = load_pipeline_files(opts, loader, std::cerr);
  if (!set) return exit_usage;
  std::cout << "ok: " << set->pipelines.size() << (set->pipelines.size() == 1 ? " pipeline" : " pipelines");
  if (!set->resources.empty()) std::cout << ", " << set->resources.size() << " resources";
  std::cout << "\n";
  return exit_ok;
}

int version_command(const CliOptions&) {
  std::cout << "sluice " << sluice::version << "\n"
            << "plugin ABI " << sluice::abi_version << "\n"
            << "build id " << sluice::build_id << "\n";
  return exit_ok;
}

}  // namespace sluice::app
